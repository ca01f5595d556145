/*
 * core.h - what the engine's core offers every other part of it: the
 * process-wide life of the DISM API, error reporting, the state directory,
 * the log, text conversion, the result pool, the session table,
 * filesystem helpers and the CancelEvent.
 *
 * The core is the leaf of the engine: it includes nothing from the other
 * folders, and they all build on it.  The public surface is
 * src/include/dismapi.h; nothing here is visible to a DISM caller.
 *
 * The engine's layers, from the top:
 *   session.c    DismOpenSession / DismCloseSession (uses wim/ and core/)
 *   imaging/     WIMGAPI (wimgapi.h) on wimlib: capture, apply, export, ...
 *                (imaging.h; uses wim/, formats/ and core/, needs no DismInitialize)
 *   servicing/   the servicing calls: packages, features, drivers, ... (servicing.h)
 *   offline/     read-only access to an offline image: hives, manifests (offline.h)
 *   wim/         WIM images: info, mount, unmount, the mount registry (wim.h)
 *   formats/     parsers on libc alone: INF files (inf/inf.h), XML (xml/xmlscan.h),
 *                used by offline/ and servicing/, and by wim/ for a WIM's XML
 *   core/        this header
 * Includes name the folder ("wim/wim.h") from src/engine; each folder
 * includes only the headers of the folders below it.
 * Each concern of the core has one file:
 *   lifecycle.c  initialisation, shutdown, DismGetLastErrorMessage, DismDelete
 *   errors.c     the per-thread last error and engine_fail
 *   state.c      the state directory, proof of its ownership, mount-directory locks
 *   log.c        the DISM log file
 *   text.c       wide <-> UTF-8 strings, SYSTEMTIME (utf8.h: the one UTF-8 encoder)
 *   results.c    allocations handed to the caller and freed by DismDelete
 *   sessions.c   the table of open sessions and their busy marks
 *   event.c      the POSIX CancelEvent
 *   fsutil.c     directory helpers that never follow links
 */
#ifndef DISM_ENGINE_CORE_H
#define DISM_ENGINE_CORE_H

#include "dismapi.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define ENGINE_PATH_MAX 4096

/* ---- lifecycle.c: the process-wide engine state ---- */

/* Returns S_OK when DismInitialize has been called, otherwise records the
 * error for the calling thread and returns DISMAPI_E_DISMAPI_NOT_INITIALIZED. */
HRESULT engine_require_initialized(const char *function);

/* ---- state.c: the state directory (registry, locks, logs, staging) ---- */

/* Chooses the directories (DismInitialize); nothing is created yet. */
void state_choose(const char *scratch_dir);
/* Creates the state directory when missing and proves it is this user's
 * alone; the error says why not and names DISM_STATE_DIR.  Every call that
 * keeps state calls this first. */
HRESULT state_require(const char *function);
const char *state_directory(void);
/* <state>/<name>, created and checked like the state directory itself. */
HRESULT state_subdir(const char *function, const char *name, char *out, size_t size);
/* Where a read-write mount with this id keeps its changes. */
void state_staging_path(const char *id, char *out, size_t size);
/* Copies the ScratchDirectory given to DismInitialize into `out` (under
 * the state lock, as state_staging_path does); false when none was. */
bool state_scratch_given(char *out, size_t size);
/* Takes the lock of one mount directory.  Another process's lock is waited
 * for when `wait` is set (a set `cancel` event ends the wait); a lock held
 * by this process is never waited for: ERROR_BUSY.  Without `wait`, a held
 * lock gives S_FALSE. */
typedef struct {
    int fd;
    uint64_t hash;
} mount_lock;
HRESULT state_lock_mount_path(const char *function, const char *mount_path, bool wait,
                              HANDLE cancel, mount_lock *lock);
void state_unlock(mount_lock *lock);
/* Removes the lock files nobody holds (cleanup). */
void state_sweep_locks(void);

/* ---- errors.c ---- */

/* Records the message returned by DismGetLastErrorMessage on this thread and
 * returns hr, so failures read `return engine_fail(hr, "...", ...);`. */
HRESULT engine_fail(HRESULT hr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<what the caller says>: <strerror(err)>." with the HRESULT closest to err. */
HRESULT engine_fail_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* engine_fail of "<what the caller says>: <cause>.", for the failures of a
 * library whose own sentence says why (errno, wimlib). */
HRESULT engine_vfail_because(HRESULT hr, const char *cause, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
HRESULT engine_hresult_from_errno(int err);
void engine_clear_error(void);
/* The calling thread's last message (for wrapping it in a wider one). */
const char *engine_last_error(void);

/* ---- log.c ---- */
typedef enum { LOG_ERROR = 0, LOG_WARNING = 1, LOG_INFO = 2, LOG_DEBUG = 3 } log_level;
/* Opens (appends to) the log file; 0 or an errno, which the caller reports. */
int engine_log_open(DismLogLevel level, const char *path);
void engine_log_close(void);
void engine_log(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- text.c ---- */
/* Both return malloc'd strings, or NULL (errno EILSEQ or ENOMEM). */
char *wide_to_utf8(const wchar_t *w);
wchar_t *utf8_to_wide(const char *s);
/* Converts a wide path argument; NULL or "" gives E_INVALIDARG naming `what`. */
HRESULT path_arg(const wchar_t *w, const char *what, char **out);
/* Returned by value, so that it can be assigned to a member of a packed
 * DISM structure without a misaligned pointer. */
SYSTEMTIME systemtime_from_filetime(uint64_t filetime);
bool has_suffix_ci(const char *s, const char *suffix);
/* free()s each of `count` strings; FREE_STRINGS(a, b, ...) counts them
 * itself, so the fields of a record are freed in one line. */
void free_string_array(char *const *strings, size_t count);
#define FREE_STRINGS(...)                                                                      \
    free_string_array((char *const[]){__VA_ARGS__},                                            \
                      sizeof((char *const[]){__VA_ARGS__}) / sizeof(char *))

/* ---- results.c ---- */
typedef struct result_pool result_pool;
result_pool *pool_new(void);
void *pool_alloc(result_pool *pool, size_t size);  /* zeroed */
PCWSTR pool_wstr(result_pool *pool, const char *utf8); /* NULL in, NULL out */
/* Hands `result` (allocated from the pool) to the caller: DismDelete(result)
 * frees the whole pool.  Returns result, or NULL when pool is NULL. */
void *pool_publish(result_pool *pool, void *result);
void pool_discard(result_pool *pool);
/* The end of a call that built a result: on success publishes `result`
 * and returns it, on failure (hr) frees the whole pool and returns NULL. */
void *pool_finish(result_pool *pool, HRESULT hr, void *result);
/* One DismString in a pool of its own, or NULL when out of memory. */
DismString *pool_string_result(const char *utf8);
HRESULT results_delete(void *result);

/* ---- event.c ---- */
bool event_is_set(HANDLE event);

/* ---- progress: one operation's view of CancelEvent and the callback ---- */
typedef struct {
    HANDLE cancel;
    DISM_PROGRESS_CALLBACK callback;
    void *user_data;
} progress_sink;

static inline void progress_report(const progress_sink *sink, uint64_t current, uint64_t total)
{
    if (!sink->callback)
        return;
    /* DISM reports UINTs; scale large byte counts down so they still fit. */
    while (total > UINT32_MAX) {
        current >>= 10;
        total >>= 10;
    }
    if (current > total)
        current = total;
    sink->callback((UINT)current, (UINT)total, sink->user_data);
}

static inline bool progress_cancelled(const progress_sink *sink)
{
    return sink->cancel && event_is_set(sink->cancel);
}

/* ---- sessions.c: the table of open sessions ---- */

/* What DismOpenSession found: the image root and its Windows directory
 * (absolute).  Empty windows_dir: a mounted image that holds no Windows
 * installation.  It can still be committed; servicing it fails with the
 * sentence in no_windows. */
typedef struct {
    char root[ENGINE_PATH_MAX];
    char windows_dir[ENGINE_PATH_MAX];
    char system_drive[8];
    char no_windows[ENGINE_PATH_MAX + 160];
    /* An unmounted-image session (_DismPortableOpenImageFileSession): root
     * lies inside `private_area`, a directory of this process's alone that
     * closing the session removes; `area_lock` is the descriptor whose flock
     * marks the area as in use (-1 when none); `area_owner` is the process
     * that made it, the only one that removes it (a forked child that
     * closes its copy of the session leaves its parent's area alone);
     * `image_file` and `image_index` say which image it holds, for
     * messages. */
    bool from_image_file;
    char private_area[ENGINE_PATH_MAX];
    int area_lock;
    pid_t area_owner;
    char image_file[ENGINE_PATH_MAX];
    unsigned image_index;
} session_image;

bool session_exists(DismSession session);
/* Adds an open session on `image` and gives its id; false when out of memory. */
bool session_add(const session_image *image, DismSession *session);
/* Begins the close, waits for the calls that use the session, and removes
 * it; DISMAPI_E_INVALID_DISM_SESSION when it is not open (or already closing). */
HRESULT session_remove(DismSession session, const char *function);
/* Number of open sessions whose image root is `mount_path`. */
unsigned sessions_open_on(const char *mount_path);
unsigned sessions_open_count(void);
/* Copies the image root of a session; DISMAPI_E_INVALID_DISM_SESSION if none.
 * On success the session is marked busy until session_release is called, so
 * DismCloseSession waits for the caller to finish with it. */
HRESULT session_acquire(DismSession session, const char *function, char *root, size_t size);
/* The same, also copying the session's Windows directory (absolute). */
HRESULT session_acquire_image(DismSession session, const char *function, char *root,
                              char *windows_dir, size_t size);
void session_release(DismSession session);
/* Whether the session was opened on an image file without mounting; if so
 * its WIM path and image index are copied out (for a refusal's sentence). */
bool session_image_file(DismSession session, char *image_file, size_t size, unsigned *index);
/* Removes an unmounted-image session's private area and drops its lock;
 * also the cleanup of a failed open. */
void session_image_discard_area(session_image *image);

/* ---- filesystem helpers (fsutil.c) ---- */
/* mkdir -p of an absolute path, mode 0700 on the last part; 0 or an errno. */
int make_private_dir(const char *path);
int remove_tree(const char *path);          /* rm -rf without following links */
bool dir_is_empty(const char *path, int *err);
/* Finds `name` inside `dir` ignoring case; writes the joined path. */
bool find_child_ci(const char *dir, const char *name, char *out, size_t size);
/* Reads a whole regular file of at most `max` bytes (NUL-terminated for
 * convenience); NULL with *err set otherwise (EFBIG when too large). */
void *read_small_file(const char *path, size_t max, size_t *len, int *err);
/* The same for `name` in the directory `dirfd`, and only for a file of this
 * user that nobody else may write (EPERM otherwise). */
void *read_private_file(int dirfd, const char *name, size_t max, size_t *len, int *err);

#endif /* DISM_ENGINE_CORE_H */
