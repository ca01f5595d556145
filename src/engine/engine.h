/*
 * engine.h - internals shared by the files of the portable DISM engine.
 *
 * The public surface is src/include/dismapi.h; nothing here is visible to a
 * DISM caller.  Each concern has one file:
 *   api.c        initialisation, shutdown, last error, DismDelete
 *   state.c      the state directory, proof of its ownership, mount-directory locks
 *   log.c        the DISM log file
 *   text.c       wide <-> UTF-8 strings, SYSTEMTIME
 *   results.c    allocations handed to the caller and freed by DismDelete
 *   event.c      the POSIX CancelEvent
 *   wimerr.c     wimlib error codes -> HRESULT
 *   imageinfo.c  DismGetImageInfo
 *   registry.c   the persistent registry of mounts
 *   mount.c      mount, unmount, commit, remount (mounts.h: what it shares)
 *   mountlist.c  what became of a recorded mount: status, listing, cleanup
 *   helper.c     running dism-mountd and fusermount (never through a shell)
 *   mountinfo.c  the kernel's mount table, the wimfs servers' answers, processes
 *   fsutil.c     directory helpers that never follow links
 *   session.c    DismOpenSession / DismCloseSession and the session table
 *   hive.c       hivex accessors and the per-call view of an offline image
 *   mappings.c   raw image data -> DISM values, each with its source
 *   mum.c        servicing manifests (.mum)
 *   xmlscan.c    the small XML scanner mum.c uses
 *   inf.c        INF files
 *   packages.c   CBS packages: list, info, add/remove validation
 *   features.c   optional features
 *   capabilities.c  capabilities (Features on Demand) and languages
 *   drivers.c    the driver store
 *   edition.c    edition, product key, reserved storage, registry paths
 *   appx.c       provisioned appx packages
 *   health.c     image health, unattend
 *   (offline.h declares the servicing side's internals)
 *   mountd.c     the mount server helper executable (its own program)
 */
#ifndef DISM_ENGINE_H
#define DISM_ENGINE_H

#include "dismapi.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define ENGINE_PATH_MAX 4096

/* ---- api.c: the process-wide engine state ---- */

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

/* ---- errors (api.c) ---- */

/* Records the message returned by DismGetLastErrorMessage on this thread and
 * returns hr, so failures read `return engine_fail(hr, "...", ...);`. */
HRESULT engine_fail(HRESULT hr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
HRESULT engine_fail_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
HRESULT engine_hresult_from_errno(int err);
void engine_clear_error(void);
/* The calling thread's last message (for wrapping it in a wider one). */
const char *engine_last_error(void);

/* ---- log.c ---- */
typedef enum { LOG_ERROR = 0, LOG_WARNING = 1, LOG_INFO = 2, LOG_DEBUG = 3 } log_level;
HRESULT engine_log_open(DismLogLevel level, const char *path);
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

/* ---- wimerr.c ---- */
HRESULT hresult_from_wimlib(int code);
HRESULT engine_fail_wimlib(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* ---- registry.c: one file per mount under <state>/mounts ---- */

/* A process named so that a reused pid is not mistaken for it: the start
 * time is /proc/<pid>/stat's, in clock ticks since boot. */
typedef struct {
    pid_t pid; /* 0: none */
    unsigned long long start;
} process_id;

typedef struct {
    char id[40];                  /* mount GUID, also the file name */
    char mount_path[ENGINE_PATH_MAX];
    char wim_path[ENGINE_PATH_MAX];
    char staging_dir[ENGINE_PATH_MAX]; /* empty for read-only mounts */
    unsigned image_index;
    bool read_only;
    process_id server;            /* the wimfs server serving the mount */
    process_id owner;             /* the process that made the mount */
    process_id unmounting;        /* set while a process unmounts it */
    /* Where the mount was made: a process in another mount namespace cannot
     * see the mount point, one in another pid namespace cannot see the
     * server, and after a reboot no server of the record's boot exists. */
    char boot_id[40];
    unsigned long long mnt_ns, pid_ns;
    long long created;
} mount_record;

HRESULT registry_save(const mount_record *rec);
HRESULT registry_remove(const char *id);
/* Loads every record that can be trusted; *out is malloc'd. */
HRESULT registry_load_all(const char *function, mount_record **out, size_t *count);
/* The record whose mount_path equals `mount_path` (already canonical). */
HRESULT registry_find_by_mount(const char *function, const char *mount_path, mount_record *out,
                               bool *found);
/* Reads `rec` again (by mount path and id); false when it is gone. */
bool registry_reload(const char *function, mount_record *rec);
void registry_new_id(char out[40]);
/* Removes the temporary files of record writers that died mid-write. */
void registry_sweep_temporaries(void);

/* ---- session.c, used by mount.c ---- */
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

#endif /* DISM_ENGINE_H */
