/*
 * imaging.h - the one header of src/ext/imaging/, the extension's binding of
 * WIMGAPI (wimgapi.h): Microsoft's wimgapi.dll on Windows, the portable
 * engine's implementation (src/engine/imaging/) elsewhere.  One source for
 * both; nothing here knows which one it calls.
 *
 *   handle.c     the WimHandle type: a WIM file or an image in one, its lock,
 *                close, the handle arguments of the functions (wim_arg,
 *                wim_lock)
 *   messages.c   the WIM_MSG_* trampoline of the long calls and what each
 *                message hands the Python callback
 *   lasterror.c  the error of a failed call: GetLastError() and its sentence,
 *                read at once, raised as the typed DismError
 *   calls.c      the short calls (create, attributes, info, load, ...)
 *   operations.c the long calls (capture, apply, export, delete, split,
 *                extract), run by long_call.c
 *   constants.c  the WIM_* constants, straight from wimgapi.h
 *
 * Locking: an image shares the lock of its WIM file, because WIMGAPI
 * delivers an image's messages to the callbacks registered on its file, and
 * a call registers its trampoline there for its duration.  A call on two
 * files (export) takes both locks in address order.
 */
#ifndef DISM_EXT_IMAGING_H
#define DISM_EXT_IMAGING_H

#include "../ext.h"
#include "wimgapi.h"

typedef struct wim_object {
    PyObject_HEAD
    HANDLE handle;           /* NULL once closed */
    struct wim_object *file; /* self for a WIM file; a strong reference for an image */
    PyThread_type_lock lock; /* a file's own; NULL in an image (it uses its file's) */
    long_call *active_call;  /* on a file: the long call holding its lock */
    /* On a file: its first open image; on an image: the next open one. */
    struct wim_object *next_image;
    PyObject *module; /* keeps the module state alive for the methods */
} WimObject;

/* The DWORD arguments' range error, as WIMGAPI's own. */
#define HR_INVALID_PARAMETER HR_WIN32(87) /* ERROR_INVALID_PARAMETER */

/* A DWORD argument of a WIMGAPI function, checked like DISM's UINTs. */
#define DWORD_ARG(module, function, param) \
    {get_state(module), HR_INVALID_PARAMETER, function ": " param, 0}

static inline int wim_is_image(const WimObject *w) { return w->file != w; }

extern PyType_Spec wim_handle_spec;
extern PyMethodDef wim_call_methods[];      /* calls.c */
extern PyMethodDef wim_operation_methods[]; /* operations.c */
int add_wim_constants(PyObject *module);    /* constants.c */

/* ------------------------------------------------------------------------
 * handle.c
 * ------------------------------------------------------------------------ */

/* What a handle argument may be. */
enum wim_kind { WIM_KIND_FILE, WIM_KIND_IMAGE, WIM_KIND_ANY };

/* A new WimHandle owning `handle`: a WIM file (file == NULL) or an image of
 * `file`, linked into its open images.  On failure `handle` is closed. */
PyObject *wim_new_handle(PyObject *module, HANDLE handle, WimObject *file);

/* Checks that obj is a WimHandle of that kind, or sets TypeError. */
WimObject *wim_arg(PyObject *module, PyObject *obj, enum wim_kind kind, const char *what);
/* Takes the lock(s) of one or two handles' files (two: in address order,
 * once if they share a file), then checks that both are open; returns -1
 * with the error set (nothing locked) if not.  `b` may be NULL. */
int wim_lock(WimObject *a, WimObject *b);
void wim_unlock(WimObject *a, WimObject *b);

/* ------------------------------------------------------------------------
 * lasterror.c: GetLastError() read at once, on the failing thread
 * ------------------------------------------------------------------------ */

/* Reads GetLastError() (before anything else can change it) and the
 * sentence that goes with it, prefixed with the WIMGAPI function's name;
 * returns HRESULT_FROM_WIN32 of the code.  No GIL needed. */
HRESULT wim_capture_error(const char *function, captured_message *out);
/* Raises the typed DismError for hr with the captured sentence. */
PyObject *wim_raise(PyObject *module, HRESULT hr, captured_message *msg);

/* ------------------------------------------------------------------------
 * messages.c
 * ------------------------------------------------------------------------ */

/* Registered (user data: the long_call) on the file whose operation runs;
 * calls the long call's `progress` (the messages callable) if any and
 * returns WIM_MSG_ABORT_IMAGE once a cancel was requested. */
DWORD CALLBACK wim_message_trampoline(DWORD message, WPARAM wparam, LPARAM lparam, PVOID user);

#endif /* DISM_EXT_IMAGING_H */
