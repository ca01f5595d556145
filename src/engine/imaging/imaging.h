/*
 * imaging.h - what the imaging folder offers: the WIMGAPI functions of
 * src/include/wimgapi.h implemented on wimlib, for the portable engine.
 * Nothing here needs DismInitialize; wimlib is initialised once, on first
 * use (wim/wim.h: engine_wimlib_init).
 *
 * The WIMGAPI entry points are the public surface (wimgapi.h); this header
 * is what the files of the folder share:
 *   lasterror.c  GetLastError/SetLastError, the sentence behind
 *                _WIMPortableGetLastErrorMessage, LocalFree
 *   handles.c    the table of live handles (WIM files and images)
 *   create.c     WIMCreateFile, WIMCloseHandle, WIMSetTemporaryPath
 *   commit.c     writing inside the calls: a new WIM through a private
 *                temporary file renamed into place, a change to an existing
 *                WIM locked against other writers and undone byte for byte
 *                when it fails
 *   capture.c    WIMCaptureImage (a WimScript.ini is the caller's: WIM_MSG_PROCESS)
 *   apply.c      WIMApplyImage, listing (NO_APPLY, FILEINFO)
 *   applysafe.c  keeping an apply inside its target; what Linux cannot hold
 *   extract.c    WIMExtractImagePath
 *   export.c     WIMExportImage
 *   delete.c     WIMDeleteImage
 *   split.c      WIMSplitFile and its size query
 *   info.c       WIMGetImageInformation, WIMSetImageInformation
 *   attrs.c      WIMGetImageCount, WIMGetAttributes, WIMSetBootImage, WIMLoadImage
 *   refs.c       WIMSetReferenceFile
 *   messages.c   message callbacks and the translation of wimlib's progress
 *
 * Where the engine differs from wimgapi.dll (callers and docs rely on this):
 *   - Applying to a Linux directory cannot keep NTFS security descriptors,
 *     named data streams, short names, Windows attributes or reparse points
 *     other than symbolic links and junctions: each file that carries one
 *     gets a WIM_MSG_WARNING (ERROR_NOT_SUPPORTED) and a line in the log;
 *     WIM_FLAG_NO_DIRACL/NO_FILEACL say the ACLs are not wanted.  Names a
 *     WIM may hold but a directory may not ("..", "/") are skipped by wimlib.
 *   - WIM_FLAG_CHUNKED is not needed to open an ESD; with WIM_COMPRESS_LZMS
 *     it makes a new WIM solid.  WIM_FLAG_WIM_BOOT, APPLY_COMPACT and
 *     WIM_EXPORT_ONLY_RESOURCES/ONLY_METADATA are ERROR_NOT_SUPPORTED.
 *   - wimlib wants image names unique: an export whose name is taken gets
 *     " (2)", " (3)", ...; WIMSetImageInformation to a taken name is
 *     ERROR_ALREADY_EXISTS.  Captured images have no name until one is set.
 *   - A handle whose view is older than the file (another writer came
 *     between) refuses to write (ERROR_SHARING_VIOLATION) and rereads it.
 *   - WIMCloseHandle of a WIM with open image handles fails (ERROR_BUSY);
 *     WIMDeleteImage with open image handles too.
 *   - WIM_MSG_QUERY_ABORT comes with every byte count and before every
 *     write; SETRANGE, SETPOS, STEPIT, COMPRESS, ALIGNMENT, RETRY are never
 *     sent.  WIM_MSG_SPLIT cannot rename a part.
 *   - WIMGetImageInformation's size counts the BOM and the text, not the
 *     terminating NUL; the text is wchar_t (UTF-32) like every WCHAR here.
 */
#ifndef DISM_ENGINE_IMAGING_H
#define DISM_ENGINE_IMAGING_H

#include "wim/wim.h"
#include "wimgapi.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <wimlib.h>

#ifndef ERROR_GEN_FAILURE
#  define ERROR_GEN_FAILURE 31L
#endif
#ifndef ERROR_INVALID_NAME
#  define ERROR_INVALID_NAME 123L
#endif

/* ---- lasterror.c ---- */

/* Every entry point starts with this: the thread's last error is cleared. */
void wim_begin(void);
/* Records `code` and the sentence for the calling thread; returns FALSE so
 * that failures read `return wim_fail(...)`.  The sentence is also logged
 * through the engine's error path (core/errors.c). */
BOOL wim_fail(DWORD code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a wimlib error: its Win32 code (wim/wimerr.c), wimlib's
 * words, and what to do about it. */
BOOL wim_fail_wimlib(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
BOOL wim_vfail_wimlib(int rc, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
BOOL wim_fail_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- messages.c: callbacks ---- */

typedef struct callback_entry {
    WIM_MESSAGE_CALLBACK fn;
    void *user;
} callback_entry;

typedef struct {
    callback_entry *items;
    size_t count, cap;
} callback_list;

/* One long call's view of the messages: whose callbacks hear them, and how
 * far the byte count has come (for WIM_MSG_PROGRESS percentages). */
struct wim_file;
typedef struct {
    const char *function;
    struct wim_file *files[2]; /* the handles whose callbacks are asked; [1] may be NULL */
    DWORD flags;               /* the call's WIM_FLAG_* (apply: FILEINFO) */
    bool aborted;              /* a callback answered WIM_MSG_ABORT_IMAGE */
    bool listing;              /* capture: ask WIM_MSG_PROCESS per file */
    bool partial;              /* apply: a cancel leaves what was written */
    uint64_t start_ms;
    unsigned last_percent;
    uint64_t scanned;          /* SCANNING: files and folders seen */
    uint64_t part_size;        /* SPLIT: the size asked for each part */
    char **parts;              /* SPLIT: the parts begun, to remove them on failure */
    size_t part_count;
    const char *exclude_path;  /* capture: the WIM being written is never captured */
} wim_op;

void op_init(wim_op *op, const char *function, struct wim_file *a, struct wim_file *b);
void op_free(wim_op *op);
bool op_has_callbacks(const wim_op *op);
/* Sends a message to the handles' callbacks, then to the global ones, until
 * one answers WIM_MSG_DONE; returns the first answer that is not
 * WIM_MSG_SUCCESS (WIM_MSG_SUCCESS if none). */
DWORD op_send(wim_op *op, DWORD msg, WPARAM w, LPARAM l);
/* op_send with a UTF-8 path converted to the wide string WIMGAPI sends. */
DWORD op_send_path(wim_op *op, DWORD msg, const char *path, LPARAM l);
/* WIM_MSG_PROGRESS from a byte count. */
void op_progress(wim_op *op, uint64_t done, uint64_t total);
/* wimlib_open_wim with op as its progress function (integrity checks). */
int op_open_wim(wim_op *op, const char *path, int open_flags, WIMStruct **out);
/* Registers op as the progress function of `wim` for the next call. */
void op_attach(wim_op *op, WIMStruct *wim);
void op_detach(WIMStruct *wim);
/* The failure of an operation: ERROR_REQUEST_ABORTED when a callback
 * aborted it, else the wimlib error. */
BOOL op_fail(wim_op *op, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void callback_list_free(callback_list *list);

/* ---- handles.c ---- */

typedef enum { HANDLE_WIM = 0x57494D46, HANDLE_IMAGE = 0x494D4147 } handle_kind;

typedef struct wim_file {
    handle_kind kind;
    pthread_mutex_t lock;   /* one call at a time on the WIMStruct */
    WIMStruct *wim;         /* NULL only transiently while reopening */
    char *path;             /* absolute */
    DWORD access, disposition, flags, compression;
    bool pending;           /* a new WIM not yet on disk (nothing captured yet) */
    bool replace;           /* CREATE_ALWAYS over an existing file */
    unsigned char header[208]; /* the file's header when wimlib read it (commit.c) */
    char *temp_dir;         /* WIMSetTemporaryPath (unused by wimlib) */
    char **refs;            /* WIMSetReferenceFile paths, re-referenced on reopen */
    size_t ref_count;
    DWORD ref_flags;
    unsigned open_images;
    callback_list callbacks;
} wim_file;

typedef struct {
    handle_kind kind;
    wim_file *file;
    int index;              /* 1-based */
} wim_image;

/* Adds/removes a live handle; lookups never dereference unknown pointers. */
bool handle_register(void *h);
bool handle_unregister(void *h);
/* The WIM file of a WIM handle (`allow_image`: or of an image handle). */
wim_file *handle_file(HANDLE h, bool allow_image);
wim_image *handle_image(HANDLE h);
/* The same with the file's lock taken (unlock f->lock when done); NULL with
 * the last error set for a bad handle or a file that could not be reopened. */
wim_file *file_lock(HANDLE h, bool allow_image, const char *function);
wim_image *image_lock(HANDLE h, const char *function);
/* A new image handle on image `index` of f (counted in f->open_images). */
HANDLE image_handle_new(wim_file *f, int index, const char *function);
/* Locks the handle table around a change of open_images. */
void handles_lock(void);
void handles_unlock(void);

/* ---- commit.c ---- */

/* wimlib's write flags for this handle (integrity, solid). */
int file_write_flags(const wim_file *f);
/* Writes what is in memory: a pending WIM to a private temporary file
 * renamed into place, an existing one in place (locked, restored byte for
 * byte on failure).  The WIMStruct is then reopened from disk. */
BOOL file_commit(wim_file *f, wim_op *op, int extra_write_flags);
/* Throws away the in-memory changes after a failed call (reopens the file,
 * or recreates the empty in-memory WIM). */
void file_discard(wim_file *f);
/* Opens f->path into f->wim with the handle's flags and references. */
int file_reopen(wim_file *f);
/* Notes the header of the file f->wim was read from, so that a write can
 * tell whether someone else changed the file since. */
void file_remember_header(wim_file *f);
/* The shared part of every writing call: write access, not split. */
BOOL file_require_write(const wim_file *f, const char *function);

/* ---- attrs.c ---- */
/* ERROR_INVALID_PARAMETER, with the image count, unless `index` names an
 * image of f (or is 0 when `zero_ok`: WIMSetBootImage's "no boot image").
 * Call it with f->lock held. */
BOOL file_check_index(wim_file *f, DWORD index, bool zero_ok, const char *function);

/* ---- applysafe.c ---- */
struct wimlib_dir_entry;
/* Removes, inside the target, a link or file standing where the image has a
 * folder (or a link where it has anything), never following one. */
BOOL apply_clear_entry(const char *target_path, const struct wimlib_dir_entry *d,
                       const char *function);
/* What of this file a Linux directory cannot hold, as words; "" if nothing. */
const char *apply_losses(const struct wimlib_dir_entry *d, DWORD flags, char *out, size_t size);
/* A name wimlib will not extract on Linux (one holding a '/'). */
bool apply_name_unusable(const struct wimlib_dir_entry *d);

/* ---- shared helpers ---- */
uint64_t filetime_of(int64_t sec, int32_t high, int32_t nsec);
uint64_t now_ms(void);
/* Checks a wide path argument: NULL/"" gives ERROR_INVALID_PARAMETER. */
BOOL wide_path_arg(PCWSTR w, const char *function, const char *what, char **out);
/* An absolute, normalised copy of a path (no symlink resolution). */
char *absolute_path(const char *path);
/* wide_path_arg, then absolute_path; a failure of the latter is
 * ERROR_NOT_ENOUGH_MEMORY ("<function>: out of memory."). */
BOOL wide_absolute_path_arg(PCWSTR w, const char *function, const char *what, char **out);

#endif /* DISM_ENGINE_IMAGING_H */
