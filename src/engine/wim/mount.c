/*
 * mount.c - DismMountImage, DismUnmountImage, DismCommitImage,
 * DismRemountImage, DismGetMountedImageInfo and DismCleanupMountpoints.
 *
 * A mount is served by a dism-mountd process (see mountd.c for why it cannot
 * be this process) and recorded in the mount registry (registry.c), so it
 * outlives the process that made it; mountlist.c decides what became of a
 * recorded mount.  Every call here that changes what is mounted at a
 * directory holds that directory's lock (state.c) from its checks to its
 * last step.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "wim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wimlib.h>

#define SERVER_EXIT_TIMEOUT_MS 30000
#define MOUNT_PROGRESS_TOTAL 100
/* FUSE delivers the release of a closed file after close() returns, so an
 * unmount right after the last close may still see it open. */
#define BUSY_RETRY_MS 3000

/* ------------------------------------------------------------------------
 * Paths and preconditions
 * ------------------------------------------------------------------------ */

/* The parent is resolved, and so is the last component when it is a link
 * (one directory must have one name: its lock and its record go by it); a
 * mount point whose server died cannot be resolved, yet must still be
 * nameable, so otherwise the last component is kept as given. */
static HRESULT canonical_mount_path(const char *function, const char *path, char *out,
                                    size_t size)
{
    char copy[ENGINE_PATH_MAX];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return engine_fail(E_INVALIDARG, "%s: the mount path is too long.", function);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    if (strchr(copy, '\n'))
        return engine_fail(E_INVALIDARG, "%s: the mount path contains a newline.", function);
    char *slash = strrchr(copy, '/');
    const char *base = slash ? slash + 1 : copy;
    char parent[ENGINE_PATH_MAX];
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else if (slash == copy)
        snprintf(parent, sizeof parent, "/");
    else
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - copy), copy);
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return engine_fail(E_INVALIDARG, "%s: '%s' cannot be used as a mount path.", function,
                           path);
    char resolved[ENGINE_PATH_MAX];
    if (!realpath(parent, resolved))
        return engine_fail(errno == ENOENT || errno == ENOTDIR
                               ? HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)
                               : engine_hresult_from_errno(errno),
                           "%s: the mount path '%s' does not exist (%s); create an empty "
                           "directory first.", function, path, strerror(errno));
    if (snprintf(out, size, "%s/%s", strcmp(resolved, "/") ? resolved : "", base) >= (int)size)
        return engine_fail(E_INVALIDARG, "%s: the mount path is too long.", function);
    struct stat st;
    if (lstat(out, &st) == 0 && S_ISLNK(st.st_mode)) {
        if (!realpath(out, resolved))
            return engine_fail_errno(errno, "%s: the mount path '%s' is a link that cannot be "
                                     "followed", function, path);
        snprintf(out, size, "%s", resolved);
    }
    return S_OK;
}

static HRESULT check_image_file(const char *path, char *absolute)
{
    if (has_suffix_ci(path, ".vhd") || has_suffix_ci(path, ".vhdx"))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                           "DismMountImage: '%s' is a virtual hard disk; the portable engine "
                           "mounts WIM files only (VHD and VHDX need Windows).", path);
    if (!has_suffix_ci(path, ".wim"))
        return engine_fail(E_INVALIDARG,
                           "DismMountImage: '%s' has no .wim file name extension, which "
                           "DISM requires.", path);
    struct stat st;
    if (!realpath(path, absolute) || stat(absolute, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR
                   ? engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
                                 "DismMountImage: the image file '%s' does not exist.", path)
                   : engine_fail_errno(errno, "DismMountImage: cannot reach the image file "
                                       "'%s'", path);
    if (S_ISDIR(st.st_mode))
        return engine_fail(E_INVALIDARG, "DismMountImage: '%s' is a directory, not a WIM file.",
                           path);
    if (!S_ISREG(st.st_mode))
        return engine_fail(E_INVALIDARG, "DismMountImage: '%s' is not a regular file (a FIFO, "
                           "socket or device); give the path of a WIM file.", path);
    if (strchr(absolute, '\n'))
        return engine_fail(E_INVALIDARG, "DismMountImage: the image path contains a newline.");
    return S_OK;
}

static HRESULT check_mount_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return engine_fail(errno == ENOENT ? HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)
                                           : engine_hresult_from_errno(errno),
                           "DismMountImage: the mount directory '%s' does not exist or cannot "
                           "be reached (%s); create an empty directory first.", dir,
                           strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return engine_fail(E_INVALIDARG, "DismMountImage: '%s' is not a directory.", dir);
    if (!strcmp(dir, "/"))
        return engine_fail(E_INVALIDARG, "DismMountImage: an image cannot be mounted at the "
                           "root of the file system.");
    if (wimfs_is_mounted_at(dir))
        return engine_fail(E_INVALIDARG, "DismMountImage: an image is already mounted at '%s'.",
                           dir);
    int err;
    if (!dir_is_empty(dir, &err))
        return err ? engine_fail_errno(err, "DismMountImage: cannot read '%s'", dir)
                   : engine_fail(E_INVALIDARG, "DismMountImage: the mount directory '%s' is not "
                                 "empty; DISM mounts only into an empty directory.", dir);
    return S_OK;
}

static bool setuid_binary(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid == 0;
}

/* Mounting needs the FUSE device and the right to use it: root, or a
 * set-uid fusermount that lets an ordinary user mount. */
static HRESULT check_fuse_rights(void)
{
    static const char *advice = "Run as root (or with CAP_SYS_ADMIN), or give this user access "
                                "to /dev/fuse and a set-uid fusermount (Debian package fuse3).";
    struct stat st;
    if (stat("/dev/fuse", &st) != 0 || !S_ISCHR(st.st_mode))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_ELEVATION_REQUIRED),
                           "Mounting needs FUSE, but /dev/fuse is not a usable FUSE device "
                           "here. %s", advice);
    if (geteuid() == 0)
        return S_OK;
    if (access("/dev/fuse", R_OK | W_OK) != 0 ||
        !(setuid_binary("/usr/bin/fusermount") || setuid_binary("/usr/bin/fusermount3") ||
          setuid_binary("/bin/fusermount") || setuid_binary("/bin/fusermount3")))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_ELEVATION_REQUIRED),
                           "Mounting needs FUSE rights this process does not have. %s", advice);
    return S_OK;
}

static enum wimlib_progress_status verify_progress(enum wimlib_progress_msg msg,
                                                   union wimlib_progress_info *info, void *ctx)
{
    const progress_sink *sink = ctx;
    if (msg == WIMLIB_PROGRESS_MSG_VERIFY_INTEGRITY)
        progress_report(sink, info->integrity.completed_bytes, info->integrity.total_bytes);
    return progress_cancelled(sink) ? WIMLIB_PROGRESS_STATUS_ABORT
                                    : WIMLIB_PROGRESS_STATUS_CONTINUE;
}

/* Opens the WIM in this process to check the request before a server is
 * started: index or name, write access, and the integrity table, which is
 * verified here so its progress and cancellation reach the caller. */
static HRESULT validate_wim(const char *wim_path, UINT index, PCWSTR name,
                            DismImageIdentifier id, DWORD flags, const progress_sink *sink,
                            int *image)
{
    int open_flags = 0;
    if (!(flags & DISM_MOUNT_READONLY))
        open_flags |= WIMLIB_OPEN_FLAG_WRITE_ACCESS;
    if (flags & DISM_MOUNT_CHECK_INTEGRITY)
        open_flags |= WIMLIB_OPEN_FLAG_CHECK_INTEGRITY;
    WIMStruct *wim = NULL;
    engine_wimlib_init();
    int rc = wimlib_open_wim_with_progress(wim_path, open_flags, &wim, verify_progress,
                                           (void *)sink);
    if (rc == WIMLIB_ERR_ABORTED_BY_PROGRESS)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_CANCELLED),
                           "DismMountImage: cancelled while verifying '%s'.", wim_path);
    if (rc == WIMLIB_ERR_WIM_IS_READONLY)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT),
                           "DismMountImage: '%s' cannot be written (file permissions, the "
                           "WIM's read-only flag, or a split WIM); mount it read-only instead.",
                           wim_path);
    if (rc)
        return engine_fail_wimlib(rc, "DismMountImage: cannot open '%s'", wim_path);
    HRESULT hr = wim_refuse_split("DismMountImage", wim, wim_path);
    if (SUCCEEDED(hr))
        hr = wim_choose_image("DismMountImage", wim, index, name, id, image);
    wimlib_free(wim);
    return hr;
}

/* ------------------------------------------------------------------------
 * The mount server
 * ------------------------------------------------------------------------ */

static HRESULT hresult_from_helper(int status, const char *err, const mount_record *rec)
{
    const char *detail = *err ? err : "no details";
    if (status == WIMLIB_ERR_ALREADY_LOCKED)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION),
                           "DismMountImage: '%s' is already mounted read-write or being "
                           "written by another process (%s).", rec->wim_path, detail);
    if (status == WIMLIB_ERR_FUSE)
        return engine_fail(strstr(err, "ermission") ? HRESULT_FROM_WIN32(ERROR_ELEVATION_REQUIRED)
                                                    : E_FAIL,
                           "DismMountImage: FUSE could not mount '%s' (%s).", rec->mount_path,
                           detail);
    if (status > 0 && status < 200)
        return engine_fail(hresult_from_wimlib(status),
                           "DismMountImage: the mount server failed for '%s': %s (wimlib error "
                           "%d).", rec->wim_path, detail, status);
    return engine_fail(E_FAIL, "DismMountImage: the mount server failed (%s).", detail);
}

static HRESULT stop_live_server(const char *function, const char *dir, DWORD flags,
                                bool read_only, pid_t server_pid, const progress_sink *sink);

/* Who makes the mount, and where: what a later status decision needs. */
static void describe_new_mount(mount_record *rec)
{
    memset(&rec->server, 0, sizeof rec->server);
    memset(&rec->unmounting, 0, sizeof rec->unmounting);
    rec->owner = process_self();
    snprintf(rec->boot_id, sizeof rec->boot_id, "%s", this_boot_id());
    rec->mnt_ns = this_namespace("mnt");
    rec->pid_ns = this_namespace("pid");
    rec->staging_dir[0] = '\0';
}

/* Starts a server for rec (id, paths, index and mode already set) and
 * records it.  On failure nothing is left behind. */
static HRESULT start_server(mount_record *rec)
{
    char helper[ENGINE_PATH_MAX];
    HRESULT hr = find_helper(helper, sizeof helper);
    if (FAILED(hr))
        return hr;
    describe_new_mount(rec);
    if (!rec->read_only) {
        state_staging_path(rec->id, rec->staging_dir, sizeof rec->staging_dir);
        int err = make_private_dir(rec->staging_dir);
        if (err)
            return engine_fail_errno(err, "DismMountImage: cannot create the staging directory "
                                     "'%s'", rec->staging_dir);
    }
    char index[16];
    snprintf(index, sizeof index, "%u", rec->image_index);
    char *argv[16] = {helper, "--id", rec->id, "--wim", rec->wim_path, "--index", index,
                      "--dir", rec->mount_path, "--pid-fd", "3"};
    if (!rec->read_only) {
        argv[11] = "--rw";
        argv[12] = "--staging";
        argv[13] = rec->staging_dir;
    }
    char err[1024];
    engine_log(LOG_INFO, "Mounting %s index %u at %s (%s)", rec->wim_path, rec->image_index,
               rec->mount_path, rec->read_only ? "read-only" : "read-write");
    pid_t reported = 0;
    int status = run_helper(argv, err, sizeof err, &reported);
    if (status != 0) {
        if (rec->staging_dir[0])
            remove_tree(rec->staging_dir);
        return status < 0 && *err ? engine_fail(E_FAIL, "DismMountImage: %s.", err)
                                  : hresult_from_helper(status, err, rec);
    }
    process_lookup(server_pid_for_id(rec->id, reported), &rec->server);
    if (FAILED(hr = registry_save(rec))) {
        /* An unrecorded mount could not be managed later: undo it. */
        progress_sink quiet = {NULL, NULL, NULL};
        stop_live_server("DismMountImage", rec->mount_path, DISM_DISCARD_IMAGE, rec->read_only,
                         rec->server.pid, &quiet);
        if (rec->staging_dir[0])
            remove_tree(rec->staging_dir);
    }
    return hr;
}

/* ------------------------------------------------------------------------
 * Stopping a server
 * ------------------------------------------------------------------------ */

/* wimlib returns once the server has committed; the server then unmounts and
 * exits.  Waiting for that makes unmount synchronous: afterwards the
 * directory is empty and the WIM's lock is released. */
static void wait_for_server_exit(pid_t pid, const char *dir)
{
    /* The server usually exits within a millisecond: poll quickly at first,
     * then back off so a slow exit does not spin. */
    long waited_us = 0, step_us = 200;
    while (waited_us < SERVER_EXIT_TIMEOUT_MS * 1000L) {
        if (!process_alive(pid) && (!dir || !wimfs_is_mounted_at(dir)))
            return;
        struct timespec ts = {0, step_us * 1000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        waited_us += step_us;
        if (step_us < 10000)
            step_us *= 2;
    }
    engine_log(LOG_WARNING, "The mount server %d did not exit in time", (int)pid);
}

typedef struct {
    const progress_sink *sink;
    bool cancelled;
    bool queue_unlinked;
    progress_queues queues_before; /* this process's queues before this unmount */
} unmount_progress_ctx;

static enum wimlib_progress_status unmount_progress(enum wimlib_progress_msg msg,
                                                    union wimlib_progress_info *info, void *ctx)
{
    unmount_progress_ctx *c = ctx;
    switch (msg) {
    case WIMLIB_PROGRESS_MSG_UNMOUNT_BEGIN:
        /* The point of no return, and the last moment wimlib offers to stop:
         * right after this message wimlib hands the unmount to the mount
         * server (setxattr wimfs.unmount_info, then getxattr wimfs.unmount),
         * and the server writes the WIM with wimlib_overwrite.  From then on
         * nothing travels back: the server's own progress function only
         * forwards reports over the message queue and always continues, and
         * the return value of this function is ignored.  Killing the server
         * would keep the WIM intact (wimlib appends and writes the header
         * last, or rebuilds into a temporary file and renames it) but would
         * lose every change of the mount, so a cancel that arrives later
         * lets the commit finish, as DISM documents, and the caller is told
         * that the changes were saved. */
        if (progress_cancelled(c->sink)) {
            c->cancelled = true;
            return WIMLIB_PROGRESS_STATUS_ABORT;
        }
        progress_queues_open(&c->queues_before);
        return WIMLIB_PROGRESS_STATUS_CONTINUE;
    default:
        break;
    }
    /* Every later message comes from the server, which has opened the queue
     * by now: its name can go (see mountinfo.c). */
    if (!c->queue_unlinked) {
        progress_queue_unlink_new(&c->queues_before);
        c->queue_unlinked = true;
    }
    switch (msg) {
    case WIMLIB_PROGRESS_MSG_WRITE_STREAMS:
        progress_report(c->sink, info->write_streams.completed_bytes,
                        info->write_streams.total_bytes);
        break;
    case WIMLIB_PROGRESS_MSG_CALC_INTEGRITY:
        progress_report(c->sink, info->integrity.completed_bytes, info->integrity.total_bytes);
        break;
    default:
        break;
    }
    return WIMLIB_PROGRESS_STATUS_CONTINUE;
}

static int wimlib_unmount_flags(DWORD flags, bool read_only)
{
    if ((flags & DISM_DISCARD_IMAGE) || read_only)
        return 0;
    int f = WIMLIB_UNMOUNT_FLAG_COMMIT;
    if (flags & DISM_COMMIT_GENERATE_INTEGRITY)
        f |= WIMLIB_UNMOUNT_FLAG_CHECK_INTEGRITY;
    if (flags & DISM_COMMIT_APPEND)
        f |= WIMLIB_UNMOUNT_FLAG_NEW_IMAGE;
    return f;
}

static HRESULT cancelled_still_mounted(const char *function, const char *dir)
{
    return engine_fail(HRESULT_FROM_WIN32(ERROR_CANCELLED), "%s: cancelled before '%s' was "
                       "unmounted; it is still mounted and nothing was saved.", function, dir);
}

/* One unmount request.  Progress travels over a POSIX message queue, which
 * some containers lack; the unmount itself does not need it.  Without a
 * progress function there is no UNMOUNT_BEGIN, so the cancel is checked
 * here for the last time. */
static int unmount_once(const char *function, const char *dir, int wflags,
                        unmount_progress_ctx *ctx)
{
    ctx->cancelled = progress_cancelled(ctx->sink);
    if (ctx->cancelled)
        return WIMLIB_ERR_ABORTED_BY_PROGRESS;
    ctx->queue_unlinked = false;
    int rc = wimlib_unmount_image_with_progress(dir, wflags, unmount_progress, ctx);
    if (rc != WIMLIB_ERR_MQUEUE)
        return rc;
    engine_log(LOG_WARNING, "%s: no message queues, unmounting without progress", function);
    ctx->cancelled = progress_cancelled(ctx->sink);
    return ctx->cancelled ? WIMLIB_ERR_ABORTED_BY_PROGRESS
                          : wimlib_unmount_image_with_progress(dir, wflags, NULL, NULL);
}

/* FUSE delivers the release of a closed file to the server after close()
 * has returned, so an unmount right after the last close can find it still
 * open: the server refuses to commit, and the request is repeated for a
 * while before "files are still open" is believed. */
static int unmount_waiting_for_releases(const char *function, const char *dir, int wflags,
                                        unmount_progress_ctx *ctx)
{
    long waited_ms = 0, step_ms = 1;
    int rc;
    while ((rc = unmount_once(function, dir, wflags, ctx)) == WIMLIB_ERR_MOUNTED_IMAGE_IS_BUSY &&
           waited_ms < BUSY_RETRY_MS) {
        struct timespec ts = {0, step_ms * 1000000L};
        nanosleep(&ts, NULL);
        waited_ms += step_ms;
        if (step_ms < 100)
            step_ms *= 2;
    }
    return rc;
}

/* Unmounts a live wimfs mount, committing per flags.  On failure or cancel
 * the image stays mounted. */
static HRESULT stop_live_server(const char *function, const char *dir, DWORD flags,
                                bool read_only, pid_t server_pid, const progress_sink *sink)
{
    progress_report(sink, 0, MOUNT_PROGRESS_TOTAL);
    int wflags = wimlib_unmount_flags(flags, read_only);
    unmount_progress_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.sink = sink;
    engine_log(LOG_INFO, "%s: unmounting %s (%s)", function, dir,
               (wflags & WIMLIB_UNMOUNT_FLAG_COMMIT) ? "commit" : "discard");
    int rc = unmount_waiting_for_releases(function, dir, wflags, &ctx);
    if (rc == WIMLIB_ERR_ABORTED_BY_PROGRESS && ctx.cancelled)
        return cancelled_still_mounted(function, dir);
    if (rc == WIMLIB_ERR_MOUNTED_IMAGE_IS_BUSY)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_BUSY),
                           "%s: files are still open inside '%s'; close them and try again "
                           "(the image is still mounted).", function, dir);
    if (rc)
        return engine_fail_wimlib(rc, "%s: cannot unmount '%s' (it is still mounted)", function,
                                  dir);
    wait_for_server_exit(server_pid, dir);
    /* wimlib ignores how the server ended: one killed mid-commit leaves its
     * mount behind, no longer served.  The record must stay then, so that
     * the mount is reported as needing a remount, not forgotten. */
    if (wimfs_is_mounted_at(dir))
        return engine_fail(DISMAPI_E_NEEDS_REMOUNT,
                           "%s: the server of the mount at '%s' ended before it had unmounted; "
                           "the mount is no longer served. Remount it, or unmount it with "
                           "DISM_DISCARD_IMAGE.", function, dir);
    progress_report(sink, MOUNT_PROGRESS_TOTAL, MOUNT_PROGRESS_TOTAL);
    return S_OK;
}

/* ------------------------------------------------------------------------
 * Status
 * ------------------------------------------------------------------------ */

static HRESULT load_record(const char *function, const char *dir, mount_record *rec)
{
    bool found;
    HRESULT hr = registry_find_by_mount(function, dir, rec, &found);
    if (FAILED(hr) || found)
        return hr;
    return engine_fail(DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH,
                       "%s: no image is mounted at '%s'.", function, dir);
}

/* A mount point in another mount namespace cannot be reached from here. */
static HRESULT refuse_unseen_mount(const char *function, const mount_record *rec)
{
    if (mount_visible_here(rec))
        return S_OK;
    return engine_fail(DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH,
                       "%s: '%s' was mounted in another mount namespace (a container, or a "
                       "service with its own /tmp), where it still is (server process %d, made "
                       "by process %d, which still runs); use it from there.", function,
                       rec->mount_path, (int)rec->server.pid, (int)rec->owner.pid);
}

/* Unmounts a mount made in another mount namespace whose maker has gone,
 * leaving nobody there to unmount it: from inside the namespace its server
 * runs in (dism-mountd --unmount).  No progress crosses. */
static HRESULT stop_server_elsewhere(const char *function, const mount_record *rec, DWORD flags,
                                     const progress_sink *sink)
{
    char helper[ENGINE_PATH_MAX], err[1024], wflags[16], server[16];
    /* Only a mount whose maker is gone: while it runs, the mount is its own
     * to use and end.  And only with a server seen to run: otherwise its
     * pid would name some other process. */
    if (!mount_server_running(rec) || process_running(&rec->owner))
        return refuse_unseen_mount(function, rec);
    HRESULT hr = find_helper(helper, sizeof helper);
    if (FAILED(hr))
        return hr;
    if (progress_cancelled(sink))
        return cancelled_still_mounted(function, rec->mount_path);
    snprintf(wflags, sizeof wflags, "%d", wimlib_unmount_flags(flags, rec->read_only));
    snprintf(server, sizeof server, "%d", (int)rec->server.pid);
    char *argv[] = {helper, "--unmount", (char *)rec->mount_path, "--flags", wflags,
                    "--server", server, NULL};
    progress_report(sink, 0, MOUNT_PROGRESS_TOTAL);
    int status = run_helper(argv, err, sizeof err, NULL);
    if (status == WIMLIB_ERR_MOUNTED_IMAGE_IS_BUSY)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_BUSY), "%s: files are still open inside "
                           "'%s' (in another mount namespace); close them and try again.",
                           function, rec->mount_path);
    if (status != 0)
        return engine_fail(status > 0 && status < 200 ? hresult_from_wimlib(status) : E_FAIL,
                           "%s: cannot unmount '%s' in the mount namespace of its server "
                           "(process %d): %s. It is still mounted.", function, rec->mount_path,
                           (int)rec->server.pid, *err ? err : "no details");
    wait_for_server_exit(rec->server.pid, NULL);
    progress_report(sink, MOUNT_PROGRESS_TOTAL, MOUNT_PROGRESS_TOTAL);
    return S_OK;
}

/* Marks the record while an unmount runs, so that if this process dies
 * mid-way the record is known to describe an unmount that went on without
 * it (mountlist.c).  Best effort: the unmount itself does not depend on it. */
static void mark_unmounting(mount_record *rec, bool unmounting)
{
    if (unmounting)
        rec->unmounting = process_self();
    else
        memset(&rec->unmounting, 0, sizeof rec->unmounting);
    if (FAILED(registry_save(rec)))
        engine_clear_error();
}

/* Stops the server of a recorded mount and forgets the mount; on failure
 * the mount and its record stay as they were. */
static HRESULT end_recorded_mount(const char *function, mount_record *rec, DWORD flags,
                                  const progress_sink *sink)
{
    mark_unmounting(rec, true);
    HRESULT hr = mount_visible_here(rec)
                     ? stop_live_server(function, rec->mount_path, flags, rec->read_only,
                                        rec->server.pid, sink)
                     : stop_server_elsewhere(function, rec, flags, sink);
    if (SUCCEEDED(hr))
        forget_mount(rec);
    else
        mark_unmounting(rec, false);
    return hr;
}

/* A record left at `dir` by an unmount whose process died is forgotten;
 * any other record there means the directory is still in use. */
static HRESULT check_no_record_at(const char *dir)
{
    mount_record rec;
    bool found;
    HRESULT hr = registry_find_by_mount("DismMountImage", dir, &rec, &found);
    if (FAILED(hr) || !found)
        return hr;
    if (mount_state_of(&rec).finished) {
        forget_mount(&rec);
        return S_OK;
    }
    return engine_fail(E_INVALIDARG, "DismMountImage: an image (%s) is still recorded as mounted "
                       "at '%s'; unmount it, remount it, or clean up mount points first.",
                       rec.wim_path, dir);
}

/* ------------------------------------------------------------------------
 * The API
 * ------------------------------------------------------------------------ */

#define KNOWN_MOUNT_FLAGS (DISM_MOUNT_READONLY | DISM_MOUNT_OPTIMIZE | DISM_MOUNT_CHECK_INTEGRITY)

static HRESULT mount_args(PCWSTR ImageFilePath, PCWSTR MountPath, DWORD Flags, char *wim,
                          char *dir)
{
    if (Flags & ~(DWORD)(KNOWN_MOUNT_FLAGS | DISM_MOUNT_SUPPORT_EA))
        return engine_fail(E_INVALIDARG, "DismMountImage: unknown flags 0x%08X.",
                           (unsigned)(Flags & ~(DWORD)(KNOWN_MOUNT_FLAGS | DISM_MOUNT_SUPPORT_EA)));
    if (Flags & DISM_MOUNT_SUPPORT_EA)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                           "DismMountImage: DISM_MOUNT_SUPPORT_EA is not supported by the "
                           "portable engine.");
    char *wim_arg = NULL, *dir_arg = NULL;
    HRESULT hr = path_arg(ImageFilePath, "DismMountImage: ImageFilePath", &wim_arg);
    if (SUCCEEDED(hr))
        hr = path_arg(MountPath, "DismMountImage: MountPath", &dir_arg);
    if (SUCCEEDED(hr))
        hr = check_image_file(wim_arg, wim);
    if (SUCCEEDED(hr))
        hr = canonical_mount_path("DismMountImage", dir_arg, dir, ENGINE_PATH_MAX);
    free(wim_arg);
    free(dir_arg);
    return hr;
}

/* The part of a mount that must not interleave with another call on the
 * same directory: checking it is free, starting the server, recording it. */
static HRESULT mount_locked(mount_record *rec, const progress_sink *sink)
{
    HRESULT hr;
    if (FAILED(hr = check_mount_dir(rec->mount_path)) ||
        FAILED(hr = check_no_record_at(rec->mount_path)) || FAILED(hr = start_server(rec)))
        return hr;
    /* A mount is cheap to undo, so a cancel that arrives while the server
     * starts, or at the final report, is honoured rather than leaving a
     * mount nobody wanted: a mount is never "cancelled too late". */
    progress_report(sink, MOUNT_PROGRESS_TOTAL, MOUNT_PROGRESS_TOTAL);
    if (progress_cancelled(sink)) {
        progress_sink quiet = {NULL, NULL, NULL};
        if (SUCCEEDED(stop_live_server("DismMountImage", rec->mount_path, DISM_DISCARD_IMAGE,
                                       rec->read_only, rec->server.pid, &quiet))) {
            forget_mount(rec);
            return engine_fail(HRESULT_FROM_WIN32(ERROR_CANCELLED),
                               "DismMountImage: cancelled; the image was unmounted again.");
        }
        /* Could not be undone (a file was opened in it at once): the mount
         * stands, recorded, and the caller hears the cancel came too late. */
        engine_clear_error();
    }
    engine_log(LOG_INFO, "Mounted %s index %u at %s, server pid %d", rec->wim_path,
               rec->image_index, rec->mount_path, (int)rec->server.pid);
    return S_OK;
}

HRESULT WINAPI DismMountImage(PCWSTR ImageFilePath, PCWSTR MountPath, UINT ImageIndex,
                              PCWSTR ImageName, DismImageIdentifier ImageIdentifier, DWORD Flags,
                              HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                              PVOID UserData)
{
    progress_sink sink = {CancelEvent, Progress, UserData};
    HRESULT hr = engine_require_initialized("DismMountImage");
    if (FAILED(hr))
        return hr;
    mount_record rec;
    memset(&rec, 0, sizeof rec);
    if (FAILED(hr = mount_args(ImageFilePath, MountPath, Flags, rec.wim_path, rec.mount_path)) ||
        FAILED(hr = check_fuse_rights()))
        return hr;

    progress_report(&sink, 0, MOUNT_PROGRESS_TOTAL);
    int image = 0;
    if (FAILED(hr = validate_wim(rec.wim_path, ImageIndex, ImageName, ImageIdentifier, Flags,
                                 &sink, &image)))
        return hr;
    if (progress_cancelled(&sink))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_CANCELLED),
                           "DismMountImage: cancelled; nothing was mounted.");

    registry_new_id(rec.id);
    rec.image_index = (unsigned)image;
    rec.read_only = (Flags & DISM_MOUNT_READONLY) != 0;
    rec.created = (long long)time(NULL);
    mount_lock lock;
    if (FAILED(hr = state_lock_mount_path("DismMountImage", rec.mount_path, true, CancelEvent,
                                          &lock)))
        return hr;
    hr = mount_locked(&rec, &sink);
    state_unlock(&lock);
    return hr;
}

static HRESULT check_unmount_flags(const char *function, DWORD flags)
{
    /* DISM_COMMIT_MASK is a mask to test flags with, never a flag itself. */
    DWORD known = DISM_DISCARD_IMAGE | DISM_COMMIT_GENERATE_INTEGRITY | DISM_COMMIT_APPEND |
                  DISM_COMMIT_SUPPORT_EA;
    if (flags & ~known)
        return engine_fail(E_INVALIDARG, "%s: unknown flags 0x%08X.", function,
                           (unsigned)(flags & ~known));
    if (flags & DISM_COMMIT_SUPPORT_EA)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                           "%s: DISM_COMMIT_SUPPORT_EA is not supported by the portable engine.",
                           function);
    if ((flags & DISM_DISCARD_IMAGE) && (flags & DISM_COMMIT_MASK))
        return engine_fail(E_INVALIDARG, "%s: commit flags cannot be combined with "
                           "DISM_DISCARD_IMAGE.", function);
    return S_OK;
}

/* Unmounts a mount the registry does not know: one made by another tool. */
static HRESULT unmount_foreign(const char *dir, DWORD flags, const progress_sink *sink)
{
    wimfs_info live;
    int err = wimfs_query(dir, &live);
    if (err == ENOTCONN) {
        if (!(flags & DISM_DISCARD_IMAGE))
            return engine_fail(DISMAPI_E_NEEDS_REMOUNT,
                               "DismUnmountImage: the server of '%s' is gone; its changes are "
                               "lost. Unmount with DISM_DISCARD_IMAGE to clean it up.", dir);
        return detach_dead_mount(dir);
    }
    if (err != 0)
        return engine_fail(DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH,
                           "DismUnmountImage: no image is mounted at '%s'.", dir);
    return stop_live_server("DismUnmountImage", dir, flags,
                            !(live.mount_flags & WIMLIB_MOUNT_FLAG_READWRITE), 0, sink);
}

static HRESULT unmount_locked(const char *dir, DWORD flags, const progress_sink *sink)
{
    mount_record rec;
    bool found;
    HRESULT hr = registry_find_by_mount("DismUnmountImage", dir, &rec, &found);
    if (FAILED(hr))
        return hr;
    if (!found)
        return unmount_foreign(dir, flags, sink);
    mount_state st = mount_state_of(&rec);
    if (st.status == DismMountStatusOk) {
        return end_recorded_mount("DismUnmountImage", &rec, flags, sink);
    }
    if (!(flags & DISM_DISCARD_IMAGE) && !rec.read_only && !st.finished)
        return engine_fail(DISMAPI_E_NEEDS_REMOUNT,
                           "DismUnmountImage: the mount at '%s' is %s; its uncommitted changes "
                           "are lost. Remount it, or unmount with DISM_DISCARD_IMAGE.", dir,
                           st.status == DismMountStatusInvalid ? "invalid" : "no longer served");
    if (mount_visible_here(&rec) && FAILED(hr = detach_dead_mount(dir)))
        return hr;
    forget_mount(&rec);
    return S_OK;
}

HRESULT WINAPI DismUnmountImage(PCWSTR MountPath, DWORD Flags, HANDLE CancelEvent,
                                DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    progress_sink sink = {CancelEvent, Progress, UserData};
    HRESULT hr = engine_require_initialized("DismUnmountImage");
    char *arg = NULL, dir[ENGINE_PATH_MAX];
    if (FAILED(hr) || FAILED(hr = check_unmount_flags("DismUnmountImage", Flags)) ||
        FAILED(hr = path_arg(MountPath, "DismUnmountImage: MountPath", &arg)))
        return hr;
    hr = canonical_mount_path("DismUnmountImage", arg, dir, sizeof dir);
    if (FAILED(hr))
        hr = engine_fail(DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH,
                         "DismUnmountImage: no image is mounted at '%s'.", arg);
    free(arg);
    if (FAILED(hr))
        return hr;
    if (sessions_open_on(dir) > 0)
        return engine_fail(DISMAPI_E_OPEN_HANDLES_UNABLE_TO_UNMOUNT_IMAGE_PATH,
                           "DismUnmountImage: %u DISM session(s) are open on '%s'; close them "
                           "first.", sessions_open_on(dir), dir);
    mount_lock lock;
    if (FAILED(hr = state_lock_mount_path("DismUnmountImage", dir, true, CancelEvent, &lock)))
        return hr;
    hr = unmount_locked(dir, Flags, &sink);
    state_unlock(&lock);
    return hr;
}

/* Index of the last image, which is where DISM_COMMIT_APPEND put the changes. */
static HRESULT last_image_index(const char *wim_path, unsigned *index)
{
    WIMStruct *wim;
    engine_wimlib_init();
    int rc = wimlib_open_wim(wim_path, 0, &wim);
    if (rc)
        return engine_fail_wimlib(rc, "DismCommitImage: cannot reopen '%s'", wim_path);
    struct wimlib_wim_info wi;
    wimlib_get_wim_info(wim, &wi);
    wimlib_free(wim);
    *index = wi.image_count;
    return S_OK;
}

static HRESULT commit_and_remount(mount_record *rec, DWORD flags, const progress_sink *sink)
{
    HRESULT hr = end_recorded_mount("DismCommitImage", rec, flags, sink);
    if (FAILED(hr))
        return hr;
    if ((flags & DISM_COMMIT_APPEND) && !(flags & DISM_DISCARD_IMAGE) &&
        FAILED(hr = last_image_index(rec->wim_path, &rec->image_index)))
        return hr;
    /* wimlib has no "save and stay mounted": the image is mounted again
     * under the same id, now showing the committed state. */
    if (FAILED(hr = start_server(rec))) {
        char cause[1024]; /* the message is rewritten below, so keep a copy */
        snprintf(cause, sizeof cause, "%s", engine_last_error());
        return engine_fail(hr, "DismCommitImage: the changes were saved to '%s', but mounting "
                           "it again at '%s' failed: %s", rec->wim_path, rec->mount_path,
                           cause);
    }
    return S_OK;
}

static HRESULT commit_locked(const char *root, DWORD flags, const progress_sink *sink);

HRESULT WINAPI DismCommitImage(DismSession Session, DWORD Flags, HANDLE CancelEvent,
                               DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    progress_sink sink = {CancelEvent, Progress, UserData};
    HRESULT hr = engine_require_initialized("DismCommitImage");
    char root[ENGINE_PATH_MAX];
    if (FAILED(hr) || FAILED(hr = check_unmount_flags("DismCommitImage", Flags)) ||
        FAILED(hr = session_acquire(Session, "DismCommitImage", root, sizeof root)))
        return hr;
    char wim[ENGINE_PATH_MAX];
    unsigned index;
    if (session_image_file(Session, wim, sizeof wim, &index)) {
        session_release(Session);
        /* Read-only, as a read-only mount: nothing to save, nothing to discard. */
        if (Flags & DISM_DISCARD_IMAGE)
            return S_OK;
        return engine_fail(HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT), "DismCommitImage: the "
                           "session is on image %u of '%s', opened without mounting, which is "
                           "read-only; mount the image read-write to save changes.", index,
                           wim);
    }
    mount_lock lock;
    if (SUCCEEDED(hr = state_lock_mount_path("DismCommitImage", root, true, CancelEvent, &lock))) {
        hr = commit_locked(root, Flags, &sink);
        state_unlock(&lock);
    }
    session_release(Session);
    return hr;
}

static HRESULT commit_locked(const char *root, DWORD flags, const progress_sink *sink)
{
    mount_record rec;
    bool found;
    HRESULT hr = registry_find_by_mount("DismCommitImage", root, &rec, &found);
    if (FAILED(hr))
        return hr;
    if (!found) {
        hr = engine_fail(E_INVALIDARG, "DismCommitImage: the session's image '%s' was not "
                         "mounted with DismMountImage, so there is nothing to commit to.", root);
    } else if (rec.read_only && !(flags & DISM_DISCARD_IMAGE)) {
        hr = engine_fail(HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT),
                         "DismCommitImage: '%s' is mounted read-only; remount it read-write "
                         "to save changes.", root);
    } else if (mount_state_of(&rec).status != DismMountStatusOk) {
        hr = engine_fail(DISMAPI_E_NEEDS_REMOUNT,
                         "DismCommitImage: the mount at '%s' is not served any more; remount "
                         "it first.", root);
    } else if (SUCCEEDED(hr = refuse_unseen_mount("DismCommitImage", &rec))) {
        hr = commit_and_remount(&rec, flags, sink);
    }
    return hr;
}

static HRESULT remount_locked(const char *dir)
{
    mount_record rec;
    HRESULT hr = load_record("DismRemountImage", dir, &rec);
    if (FAILED(hr))
        return hr;
    if (sessions_open_on(dir) > 0)
        return engine_fail(DISMAPI_E_OPEN_HANDLES_UNABLE_TO_REMOUNT_IMAGE_PATH,
                           "DismRemountImage: DISM sessions are open on '%s'; close them first.",
                           dir);
    mount_state st = mount_state_of(&rec);
    if (st.status == DismMountStatusOk)
        return S_OK;
    if (st.status == DismMountStatusInvalid)
        return engine_fail(E_INVALIDARG,
                           "DismRemountImage: the mount at '%s' is invalid (its WIM or directory "
                           "is gone, or another image is mounted there); unmount it with "
                           "DISM_DISCARD_IMAGE or run DismCleanupMountpoints.", dir);
    if (FAILED(hr = refuse_unseen_mount("DismRemountImage", &rec)) ||
        FAILED(hr = check_fuse_rights()) || FAILED(hr = detach_dead_mount(dir)))
        return hr;
    forget_mount(&rec); /* the dead server's uncommitted data goes with its record */
    return start_server(&rec);
}

HRESULT WINAPI DismRemountImage(PCWSTR MountPath)
{
    HRESULT hr = engine_require_initialized("DismRemountImage");
    char *arg = NULL, dir[ENGINE_PATH_MAX];
    if (FAILED(hr) || FAILED(hr = path_arg(MountPath, "DismRemountImage: MountPath", &arg)))
        return hr;
    hr = canonical_mount_path("DismRemountImage", arg, dir, sizeof dir);
    free(arg);
    mount_lock lock;
    if (FAILED(hr) ||
        FAILED(hr = state_lock_mount_path("DismRemountImage", dir, true, NULL, &lock)))
        return hr;
    hr = remount_locked(dir);
    state_unlock(&lock);
    return hr;
}
