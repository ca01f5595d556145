/*
 * standin_wim.h - what the files of the stand-in wimgapi.dll offer each other.
 *
 * Test infrastructure for the Windows lane (scripts/test-windows.sh), never
 * shipped: a DLL built with mingw-w64 that exports every WIMGAPI function the
 * extension's binding calls (src/windows/wimgapi.def), by plain name and
 * WINAPI, so that the binding's Windows code runs for real under Wine.  It
 * reads and writes no file: each WIM handle holds an in-memory WIM (three
 * images when opened, none when created), and every call is written to a
 * call log the tests read back with the arguments the DLL received.
 *
 *   handles.c   handles (counted: each must come back through WIMCloseHandle),
 *               the WIM's state, WIM_INFO, the XML (BOM first, LocalAlloc'd),
 *               callback registration, the call log, the Standin* exports
 *   work.c      the long calls (capture, apply, export, delete, split,
 *               extract): messages sent from a thread the DLL owns,
 *               WIM_MSG_ABORT_IMAGE honoured (ERROR_REQUEST_ABORTED)
 *   watch.c     counts what the extension gives back through LocalFree (it
 *               patches the extension's import of kernel32!LocalFree when a
 *               test asks)
 *
 * A path argument starting with "fail:" followed by a Win32 error in decimal
 * makes the call fail with that error (GetLastError, on the calling thread);
 * one containing "slow" makes a long call take about four seconds (time to
 * cancel it).
 */
#ifndef STANDIN_WIM_H
#define STANDIN_WIM_H

#include <windows.h>

#include "wimgapi.h"

#ifndef STANDIN_IDENTITY
#  define STANDIN_IDENTITY L"system32"
#endif

#define STANDIN_IMAGES_WHEN_OPENED 3
#define STANDIN_MAX_IMAGES 16
#define STANDIN_MAX_CALLBACKS 8

typedef struct wim_state {
    WCHAR path[MAX_PATH];
    DWORD access, flags, compression;
    DWORD image_count, boot_index;
    WCHAR *xml[STANDIN_MAX_IMAGES + 1]; /* [0]: the WIM's; NULL: the default text */
    struct {
        FARPROC proc;
        PVOID user_data;
    } callbacks[STANDIN_MAX_CALLBACKS];
} wim_state;

typedef struct wim_object {
    DWORD magic;       /* WIM_MAGIC or IMAGE_MAGIC while open, 0 once closed */
    wim_state *wim;    /* a WIM: its own; an image: its WIM's */
    struct wim_object *parent; /* an image: its WIM handle */
    DWORD index;       /* an image: its 1-based index */
    LONG open_images;  /* a WIM: its images not closed yet */
} wim_object;

#define WIM_MAGIC 0x4D495757u   /* "WWIM" */
#define IMAGE_MAGIC 0x474D4957u /* "WIMG" */

/* ---- handles.c ---- */
/* The object behind a handle of the expected kind (WIM_MAGIC, IMAGE_MAGIC or
 * 0 for either), or NULL with ERROR_INVALID_HANDLE set. */
wim_object *object_of(HANDLE handle, DWORD magic);
/* A new image handle of `wim` at `index`. */
wim_object *image_new(wim_object *wim, DWORD index);
/* Appends one line to the call log ("Name|arg|arg..."). */
void log_call(PCWSTR format, ...);
/* Copies the callbacks that see the messages of `wim` and `also` (may be
 * NULL): their own, then those registered without a handle, each once, into
 * procs/user_data; returns how many. */
DWORD callbacks_for(wim_state *wim, wim_state *also, FARPROC *procs, PVOID *user_data,
                    DWORD size);
/* The Win32 error a "fail:NNN" path asks for, or 0. */
DWORD requested_failure(PCWSTR path);
/* Fails a call: sets the calling thread's last error, returns FALSE. */
BOOL fail(DWORD error);
/* The text a path argument is logged as. */
PCWSTR shown(PCWSTR text);

/* ---- work.c ---- */
/* Runs a long call's messages on a thread the DLL owns and waits for it:
 * ERROR_SUCCESS, ERROR_REQUEST_ABORTED when a callback answered
 * WIM_MSG_ABORT_IMAGE, or the error a callback did not skip.  The messages
 * go to the callbacks of `object`'s WIM and of `also` (export: the
 * destination; Microsoft does not say which file's callbacks see them);
 * `subject` (a path that may hold "slow" or "errors") sets what is sent. */
typedef enum { WORK_CAPTURE, WORK_APPLY, WORK_EXPORT, WORK_DELETE, WORK_SPLIT, WORK_EXTRACT } work_kind;
DWORD run_work(work_kind kind, wim_object *object, wim_state *also, PCWSTR subject, DWORD flags);

/* ---- watch.c ---- */
/* Remembers an XML buffer handed out, so a LocalFree of it is counted. */
void watch_buffer(void *buffer);

#endif /* STANDIN_WIM_H */
