/*
 * state.c - the engine's state directory and the locks kept in it.
 *
 * The state directory holds the mount registry, the staging data of
 * read-write mounts (unless a scratch directory is given) and the default
 * log.  Whoever can write it can make this process delete or detach what a
 * record names, so it is used only when it is a real directory owned by
 * this user that nobody else may write; anything else is refused with an
 * error naming DISM_STATE_DIR.  Only calls that keep state (mount, unmount,
 * commit, remount, cleanup) need it: reading an image never does, so it is
 * prepared on first need rather than by DismInitialize.
 *
 * Calls that change what is mounted at a directory hold that directory's
 * lock (<state>/locks/<hash>.lock, flock) from their decision to their last
 * step, so a cleanup never detaches a mount that another thread or process
 * is making, and two mounts never race for one directory.  A call waits for
 * another process's lock (a long commit elsewhere) as long as it takes, but
 * for one this process holds only a few seconds: that holder may be waiting
 * for this very call (a progress callback that unmounts), so rather than
 * deadlock, the second call is then refused as busy.
 */
#include "core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_POLL_NS (5 * 1000 * 1000)
#define IN_PROCESS_WAIT_POLLS 1000 /* 5 s */

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

/* The mount directories this process holds locks on, by hash. */
typedef struct {
    uint64_t *hashes;
    size_t count, cap;
} held_locks;
static held_locks held;
static char state_dir[ENGINE_PATH_MAX];
static char scratch_dir[ENGINE_PATH_MAX];
static bool scratch_given;
static bool state_ready;

static const char *const STATE_ADVICE =
    "set DISM_STATE_DIR to a directory of your own that only you can write (mode 700)";

/* The state directory is machine-wide for root, so that every process sees
 * every mount; other users get one of their own. */
static void default_state_dir(char *out, size_t size)
{
    const char *env = getenv("DISM_STATE_DIR");
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (env && *env)
        snprintf(out, size, "%s", env);
    else if (geteuid() == 0)
        snprintf(out, size, "/var/lib/dismapi");
    else if (xdg && *xdg == '/')
        snprintf(out, size, "%s/dismapi", xdg);
    else if (home && *home == '/')
        snprintf(out, size, "%s/.local/state/dismapi", home);
    else
        out[0] = '\0';
}

void state_choose(const char *scratch)
{
    pthread_mutex_lock(&state_lock);
    default_state_dir(state_dir, sizeof state_dir);
    scratch_given = scratch != NULL;
    if (scratch)
        snprintf(scratch_dir, sizeof scratch_dir, "%s", scratch);
    else
        snprintf(scratch_dir, sizeof scratch_dir, "%s/scratch", state_dir);
    state_ready = false;
    pthread_mutex_unlock(&state_lock);
}

bool state_scratch_given(char *out, size_t size)
{
    pthread_mutex_lock(&state_lock);
    bool given = scratch_given && scratch_dir[0];
    if (given)
        snprintf(out, size, "%s", scratch_dir);
    pthread_mutex_unlock(&state_lock);
    return given;
}

/* Refuses a directory another user could change: not ours, writable by
 * group or others, or not a directory at all (a link included). */
static HRESULT check_owned_dir(const char *function, const char *path, const char *what)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return engine_fail_errno(errno, "%s: cannot use the %s '%s'; %s", function, what, path,
                                 STATE_ADVICE);
    if (!S_ISDIR(st.st_mode))
        return engine_fail(E_ACCESSDENIED, "%s: the %s '%s' is not a directory (a link or a "
                           "file is there); %s.", function, what, path, STATE_ADVICE);
    if (st.st_uid != geteuid())
        return engine_fail(E_ACCESSDENIED, "%s: the %s '%s' belongs to user %u, not to this "
                           "user (%u), so its records cannot be trusted; %s.", function, what,
                           path, (unsigned)st.st_uid, (unsigned)geteuid(), STATE_ADVICE);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return engine_fail(E_ACCESSDENIED, "%s: the %s '%s' can be written by other users "
                           "(mode %03o), so its records cannot be trusted; chmod 700 it, or %s.",
                           function, what, path, (unsigned)(st.st_mode & 0777), STATE_ADVICE);
    return S_OK;
}

/* Creates `path` (mode 700, parents 755) when missing, then checks it. */
static HRESULT prepare_owned_dir(const char *function, const char *path, const char *what)
{
    if (path[0] != '/')
        return engine_fail(E_INVALIDARG, "%s: the %s '%s' is not an absolute path; %s.",
                           function, what, path, STATE_ADVICE);
    if (strchr(path, '\n'))
        return engine_fail(E_INVALIDARG, "%s: the %s path contains a newline; %s.", function,
                           what, STATE_ADVICE);
    int err = make_private_dir(path);
    if (err == ENOTDIR || err == EEXIST)
        return check_owned_dir(function, path, what); /* says what is there instead */
    if (err)
        return engine_fail_errno(err, "%s: cannot create the %s '%s'; %s", function, what, path,
                                 STATE_ADVICE);
    return check_owned_dir(function, path, what);
}

/* Records name paths below these directories and are read back only in
 * canonical form ("..", "." and links resolved), so they are kept that way. */
static HRESULT canonicalize(const char *function, char *dir)
{
    char resolved[PATH_MAX];
    if (!realpath(dir, resolved))
        return engine_fail_errno(errno, "%s: cannot resolve '%s'", function, dir);
    if (strchr(resolved, '\n'))
        return engine_fail(E_INVALIDARG, "%s: the path '%s' contains a newline; %s.", function,
                           resolved, STATE_ADVICE);
    snprintf(dir, ENGINE_PATH_MAX, "%s", resolved);
    return S_OK;
}

HRESULT state_require(const char *function)
{
    pthread_mutex_lock(&state_lock);
    HRESULT hr = S_OK;
    if (!state_ready) {
        char staging[ENGINE_PATH_MAX];
        snprintf(staging, sizeof staging, "%s/dism-staging", scratch_dir);
        if (!state_dir[0])
            hr = engine_fail(E_INVALIDARG, "%s: there is no place for the DISM state (HOME is "
                             "not set); %s.", function, STATE_ADVICE);
        if (SUCCEEDED(hr))
            hr = prepare_owned_dir(function, state_dir, "state directory (DISM_STATE_DIR)");
        if (SUCCEEDED(hr))
            hr = canonicalize(function, state_dir);
        if (SUCCEEDED(hr) && !scratch_given) {
            snprintf(scratch_dir, sizeof scratch_dir, "%s/scratch", state_dir);
            hr = prepare_owned_dir(function, scratch_dir, "scratch directory");
        }
        if (SUCCEEDED(hr))
            hr = canonicalize(function, scratch_dir);
        if (SUCCEEDED(hr))
            hr = prepare_owned_dir(function, staging, "staging directory");
        state_ready = SUCCEEDED(hr);
    }
    pthread_mutex_unlock(&state_lock);
    return hr;
}

/* The names change when the first call that needs them makes them
 * canonical, so every reader copies them under the lock. */
const char *state_directory(void) { return state_dir; } /* for the log line of DismInitialize */

void state_staging_path(const char *id, char *out, size_t size)
{
    pthread_mutex_lock(&state_lock);
    snprintf(out, size, "%s/dism-staging/%s", scratch_dir, id);
    pthread_mutex_unlock(&state_lock);
}

HRESULT state_subdir(const char *function, const char *name, char *out, size_t size)
{
    HRESULT hr = state_require(function);
    if (FAILED(hr))
        return hr;
    pthread_mutex_lock(&state_lock);
    int n = snprintf(out, size, "%s/%s", state_dir, name);
    pthread_mutex_unlock(&state_lock);
    if (n >= (int)size)
        return engine_fail(E_INVALIDARG, "%s: the state directory path is too long.", function);
    return prepare_owned_dir(function, out, "state directory (DISM_STATE_DIR)");
}

/* FNV-1a: lock files only need distinct names for distinct paths; a
 * collision would merely serialize two unrelated directories. */
static uint64_t path_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int open_lock_file(const char *function, const char *mount_path, char *path,
                          size_t size, HRESULT *hr)
{
    char dir[ENGINE_PATH_MAX];
    if (FAILED(*hr = state_subdir(function, "locks", dir, sizeof dir)))
        return -1;
    snprintf(path, size, "%s/%016llx.lock", dir, (unsigned long long)path_hash(mount_path));
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *hr = engine_fail_errno(errno, "%s: cannot open the lock file '%s'", function, path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(fd);
        *hr = engine_fail(E_ACCESSDENIED, "%s: the lock file '%s' is not a file of this user; "
                          "%s.", function, path, STATE_ADVICE);
        return -1;
    }
    return fd;
}

/* Claims `hash` for this process; false when a thread of it holds it. */
static bool claim_in_process(uint64_t hash)
{
    bool claimed = false;
    pthread_mutex_lock(&state_lock);
    size_t i = 0;
    while (i < held.count && held.hashes[i] != hash)
        i++;
    if (i == held.count) {
        if (held.count == held.cap) {
            size_t cap = held.cap ? held.cap * 2 : 8;
            uint64_t *grown = realloc(held.hashes, cap * sizeof *grown);
            if (grown) {
                held.hashes = grown;
                held.cap = cap;
            }
        }
        if (held.count < held.cap) {
            held.hashes[held.count++] = hash;
            claimed = true;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return claimed;
}

static void release_in_process(uint64_t hash)
{
    pthread_mutex_lock(&state_lock);
    for (size_t i = 0; i < held.count; i++) {
        if (held.hashes[i] == hash) {
            held.hashes[i] = held.hashes[--held.count];
            break;
        }
    }
    pthread_mutex_unlock(&state_lock);
}

static void pause_briefly(void)
{
    struct timespec ts = {0, LOCK_POLL_NS};
    nanosleep(&ts, NULL);
}

static HRESULT cancelled_waiting(const char *function, const char *mount_path)
{
    return engine_fail(HRESULT_FROM_WIN32(ERROR_CANCELLED), "%s: cancelled while another "
                       "operation on '%s' was still running; nothing was changed.", function,
                       mount_path);
}

/* A lock file is removed by a sweep only while the sweep holds its lock,
 * so a lock taken on a file that no longer has its name is worthless:
 * false, errno ESTALE (and the lock dropped) in that case. */
static bool still_named(int fd, const char *path)
{
    struct stat held, named;
    if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev)
        return true;
    flock(fd, LOCK_UN);
    errno = ESTALE;
    return false;
}

static HRESULT lock_file(const char *function, const char *mount_path, bool wait,
                         HANDLE cancel, int *fd_out)
{
    HRESULT hr;
    char path[ENGINE_PATH_MAX + 32];
    int fd = open_lock_file(function, mount_path, path, sizeof path, &hr);
    if (fd < 0)
        return hr;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0 || !still_named(fd, path)) {
        if (errno == EINTR)
            continue;
        if (errno == ESTALE) { /* swept while we waited: take the new file */
            close(fd);
            if ((fd = open_lock_file(function, mount_path, path, sizeof path, &hr)) < 0)
                return hr;
            continue;
        }
        if (errno != EWOULDBLOCK) {
            hr = engine_fail_errno(errno, "%s: cannot lock the mount directory '%s'", function,
                                   mount_path);
            close(fd);
            return hr;
        }
        if (!wait) {
            close(fd);
            return S_FALSE;
        }
        if (cancel && event_is_set(cancel)) {
            close(fd);
            return cancelled_waiting(function, mount_path);
        }
        pause_briefly();
    }
    *fd_out = fd;
    return S_OK;
}

HRESULT state_lock_mount_path(const char *function, const char *mount_path, bool wait,
                              HANDLE cancel, mount_lock *lock)
{
    lock->fd = -1;
    lock->hash = path_hash(mount_path);
    HRESULT hr = state_require(function);
    if (FAILED(hr))
        return hr;
    for (int polls = 0; !claim_in_process(lock->hash); polls++) {
        if (!wait)
            return S_FALSE;
        if (polls == IN_PROCESS_WAIT_POLLS)
            return engine_fail(HRESULT_FROM_WIN32(ERROR_BUSY), "%s: another call of this "
                               "process is mounting or unmounting '%s'; wait for it to finish, "
                               "then try again.", function, mount_path);
        if (cancel && event_is_set(cancel))
            return cancelled_waiting(function, mount_path);
        pause_briefly();
    }
    hr = lock_file(function, mount_path, wait, cancel, &lock->fd);
    if (hr != S_OK)
        release_in_process(lock->hash);
    return hr;
}

void state_sweep_locks(void)
{
    char dir[ENGINE_PATH_MAX];
    if (FAILED(state_subdir("DismCleanupMountpoints", "locks", dir, sizeof dir))) {
        engine_clear_error();
        return;
    }
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[ENGINE_PATH_MAX + 300];
        if (!has_suffix_ci(e->d_name, ".lock"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = openat(dirfd(d), e->d_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        /* Unlinked only while locked here, so a holder is never cut off. */
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && still_named(fd, path))
            unlinkat(dirfd(d), e->d_name, 0);
        if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
}

void state_unlock(mount_lock *lock)
{
    if (lock->fd < 0)
        return;
    /* Explicitly: a child forked meanwhile shares the open file description,
     * and closing our descriptor alone would leave the lock held by it. */
    flock(lock->fd, LOCK_UN);
    close(lock->fd);
    lock->fd = -1;
    release_in_process(lock->hash);
}
