/*
 * mountlist.c - what became of each recorded mount, DismGetMountedImageInfo
 * and DismCleanupMountpoints.
 *
 * A record's status is decided from what this process can see:
 *   - made in an earlier boot: no server of that boot exists any more;
 *   - server in another pid namespace: its liveness cannot be seen, so the
 *     mount is taken as healthy and never released from here;
 *   - mount point in another mount namespace: the server's liveness
 *     decides (pid and start time);
 *   - otherwise the mount point is asked (wimfs.* attributes): ENOTCONN
 *     means the server died with the mount attached.
 * Cleanup releases only records whose server is certainly gone, each under
 * its mount directory's lock and after reading the record again, and
 * detaches only a mount point whose server is dead (ENOTCONN) - never a
 * live mount, whoever made it.
 */
#include "wim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wimlib.h>

#define STAGING_GRACE_SECONDS 60

static bool seen_from_here(unsigned long long recorded_ns, const char *kind)
{
    return recorded_ns == 0 || recorded_ns == this_namespace(kind);
}

bool mount_in_progress(const mount_record *rec)
{
    return rec->server.pid == 0 && rec->owner.pid != getpid() && process_running(&rec->owner);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static mount_state gone_state(const mount_record *rec)
{
    mount_state st = {file_exists(rec->wim_path) ? DismMountStatusNeedsRemount
                                                 : DismMountStatusInvalid,
                      true, false};
    return st;
}

/* The mount point is in this mount namespace: ask it. */
static mount_state state_at_mount_point(const mount_record *rec, bool server_up)
{
    mount_state st = {DismMountStatusOk, false, false};
    wimfs_info live;
    int err = wimfs_query(rec->mount_path, &live);
    if (err == 0) {
        bool ours = !strcmp(live.wim_path, rec->wim_path) && live.image_index == rec->image_index;
        st.status = ours ? DismMountStatusOk : DismMountStatusInvalid;
        /* Another image at the path: this record's server may be gone, but
         * the live mount there is someone else's and is never touched. */
        st.releasable = !ours && !server_up;
        return st;
    }
    /* A record is written only once its mount exists, so a server that runs
     * while nothing is mounted there any more is exiting after an unmount. */
    bool attached = err == ENOTCONN || wimfs_is_mounted_at(rec->mount_path);
    if (server_up && attached) /* answering slowly (busy committing) */
        return st;
    st = gone_state(rec);
    if (!attached && !file_exists(rec->mount_path))
        st.status = DismMountStatusInvalid;
    /* Unmounted by a process that is finishing, or died before forgetting
     * the record: the unmount itself is over (saved or not). */
    st.finished = !attached && rec->unmounting.pid;
    return st;
}

/* Both boot ids known and different.  An unknown one (a process that
 * cannot read /proc/sys) proves nothing. */
static bool made_in_another_boot(const mount_record *rec)
{
    const char *now = this_boot_id();
    return rec->boot_id[0] && now[0] && strcmp(rec->boot_id, now) != 0;
}

mount_state mount_state_of(const mount_record *rec)
{
    mount_state healthy = {DismMountStatusOk, false, false};
    if (made_in_another_boot(rec))
        return gone_state(rec);
    bool pids_visible = seen_from_here(rec->pid_ns, "pid");
    bool server_up = pids_visible && rec->server.pid && process_running(&rec->server);
    /* The mount point, when this process can see it, is the best witness:
     * it answers, is dead (ENOTCONN), or is not mounted at all. */
    if (seen_from_here(rec->mnt_ns, "mnt"))
        return state_at_mount_point(rec, server_up);
    /* Out of sight: only a server seen to be gone proves the mount dead. */
    if (!pids_visible || server_up || rec->server.pid == 0)
        return healthy;
    return gone_state(rec);
}

bool mount_server_running(const mount_record *rec)
{
    return seen_from_here(rec->pid_ns, "pid") && rec->server.pid &&
           process_running(&rec->server);
}

bool mount_visible_here(const mount_record *rec)
{
    return seen_from_here(rec->mnt_ns, "mnt");
}

/* ------------------------------------------------------------------------
 * Releasing what is certainly dead
 * ------------------------------------------------------------------------ */

HRESULT detach_dead_mount(const char *dir)
{
    wimfs_info live;
    if (!wimfs_is_mounted_at(dir) || wimfs_query(dir, &live) != ENOTCONN)
        return S_OK; /* nothing there, or a live server: not ours to detach */
    if (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
        return S_OK;
    int umount_err = errno;
    char err[512];
    /* The path is canonical, so it starts with '/' and cannot pass as an option. */
    char *fusermount3[] = {"/usr/bin/fusermount3", "-u", "-z", (char *)dir, NULL};
    char *fusermount[] = {"/usr/bin/fusermount", "-u", "-z", (char *)dir, NULL};
    if (run_helper(fusermount3, err, sizeof err, NULL) == 0 ||
        run_helper(fusermount, err, sizeof err, NULL) == 0)
        return S_OK;
    return engine_fail(engine_hresult_from_errno(umount_err),
                       "Cannot detach the stale mount point '%s' (%s; %s).", dir,
                       strerror(umount_err), err);
}

/* Deletes the staging directory only if it is a real directory of this
 * user inside a "dism-staging" folder of this user (the record was checked
 * for the shape when it was read). */
static void remove_staging(const char *staging)
{
    char parent[ENGINE_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", staging);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return;
    *slash = '\0';
    struct stat pst, st;
    if (lstat(parent, &pst) != 0 || !S_ISDIR(pst.st_mode) || pst.st_uid != geteuid() ||
        (pst.st_mode & (S_IWGRP | S_IWOTH)))
        return;
    if (lstat(staging, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return;
    remove_tree(staging);
}

void forget_mount(const mount_record *rec)
{
    if (rec->staging_dir[0])
        remove_staging(rec->staging_dir);
    registry_remove(rec->id);
}

typedef struct {
    unsigned released, left;
} cleanup_tally;

/* One record, decided and released under its directory's lock. */
static void cleanup_record(mount_record rec, cleanup_tally *tally)
{
    mount_lock lock;
    HRESULT hr = state_lock_mount_path("DismCleanupMountpoints", rec.mount_path, false, NULL,
                                       &lock);
    if (hr != S_OK) { /* busy: someone is mounting or unmounting it now */
        tally->left++;
        return;
    }
    if (!registry_reload("DismCleanupMountpoints", &rec)) {
        state_unlock(&lock);
        return;
    }
    mount_state st = mount_state_of(&rec);
    bool release = !mount_in_progress(&rec) && st.releasable &&
                   sessions_open_on(rec.mount_path) == 0;
    if (release && mount_visible_here(&rec))
        release = SUCCEEDED(detach_dead_mount(rec.mount_path));
    if (release) {
        engine_log(LOG_INFO, "Cleanup: released the mount of %s at %s", rec.wim_path,
                   rec.mount_path);
        forget_mount(&rec);
        tally->released++;
    } else if (st.status != DismMountStatusOk || st.releasable) {
        tally->left++;
    }
    state_unlock(&lock);
}

static bool recorded(const mount_record *recs, size_t n, const char *dir)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(recs[i].mount_path, dir))
            return true;
    return false;
}

/* Dead wimfs mounts no record names (another tool's, or an engine mount
 * whose record was lost): detached under the directory's lock, so an engine
 * mount being made there is never touched. */
static void cleanup_unrecorded_dead_mounts(const mount_record *recs, size_t n,
                                           cleanup_tally *tally)
{
    char(*points)[ENGINE_PATH_MAX] = NULL;
    size_t npoints = wimfs_mount_points(&points);
    for (size_t i = 0; i < npoints; i++) {
        wimfs_info live;
        mount_lock lock;
        if (recorded(recs, n, points[i]) || wimfs_query(points[i], &live) != ENOTCONN)
            continue;
        if (state_lock_mount_path("DismCleanupMountpoints", points[i], false, NULL, &lock) !=
            S_OK) {
            tally->left++;
            continue;
        }
        engine_log(LOG_INFO, "Cleanup: detaching dead wimfs mount at %s", points[i]);
        if (SUCCEEDED(detach_dead_mount(points[i])))
            tally->released++;
        else
            tally->left++;
        state_unlock(&lock);
    }
    free(points);
}

/* Staging directories are named after their mount's id; one without a
 * record belongs to a mount that no longer exists.  A mount being made
 * records itself only once its server runs, so a young one is spared. */
static void cleanup_orphan_staging(const mount_record *recs, size_t n, cleanup_tally *tally)
{
    char root[ENGINE_PATH_MAX];
    state_staging_path("", root, sizeof root);
    DIR *d = opendir(root);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        bool owned = false;
        for (size_t i = 0; i < n && !owned; i++)
            owned = !strcmp(recs[i].id, e->d_name);
        char path[ENGINE_PATH_MAX + 256];
        snprintf(path, sizeof path, "%s%s", root, e->d_name);
        struct stat st;
        if (owned || lstat(path, &st) != 0 || time(NULL) - st.st_mtime < STAGING_GRACE_SECONDS)
            continue;
        /* A server still using it (its maker died before recording it). */
        if (server_pid_for_id(e->d_name, 0) != 0)
            continue;
        engine_log(LOG_INFO, "Cleanup: removing orphaned staging directory %s", path);
        remove_staging(path);
        tally->released++;
    }
    closedir(d);
}

/* Progress queues of unmounts whose caller was killed (dism-mountd says
 * how it finds them).  Best effort: it needs root, and a leftover queue
 * costs a little kernel memory, nothing else. */
static void cleanup_stale_progress_queues(void)
{
    char helper[ENGINE_PATH_MAX], err[512];
    if (FAILED(find_helper(helper, sizeof helper))) {
        engine_clear_error();
        return;
    }
    char *argv[] = {helper, "--sweep-queues", NULL};
    if (run_helper(argv, err, sizeof err, NULL) != 0)
        engine_log(LOG_INFO, "Cleanup: stale progress queues not swept (%s)", err);
}

HRESULT WINAPI DismCleanupMountpoints(void)
{
    static const char *fn = "DismCleanupMountpoints";
    mount_record *recs = NULL;
    size_t n = 0;
    HRESULT hr = engine_require_initialized(fn);
    if (FAILED(hr) || FAILED(hr = state_require(fn)) ||
        FAILED(hr = registry_load_all(fn, &recs, &n)))
        return hr;
    cleanup_tally tally = {0, 0};
    for (size_t i = 0; i < n; i++)
        cleanup_record(recs[i], &tally);
    cleanup_unrecorded_dead_mounts(recs, n, &tally);
    free(recs);
    /* Reload: the records released above no longer own their staging. */
    if (FAILED(hr = registry_load_all(fn, &recs, &n)))
        return hr;
    cleanup_orphan_staging(recs, n, &tally);
    free(recs);
    cleanup_stale_progress_queues();
    registry_sweep_temporaries();
    state_sweep_locks();
    engine_log(LOG_INFO, "%s: %u item(s) released, %u left", fn, tally.released, tally.left);
    return S_OK;
}

/* ------------------------------------------------------------------------
 * Listing
 * ------------------------------------------------------------------------ */

static bool add_entry(result_pool *pool, DismMountedImageInfo *e, const char *dir,
                      const char *wim, unsigned index, bool read_only, DismMountStatus status)
{
    e->MountPath = pool_wstr(pool, dir);
    e->ImageFilePath = pool_wstr(pool, wim);
    e->ImageIndex = index;
    e->MountMode = read_only ? DismReadOnly : DismReadWrite;
    e->MountStatus = status;
    return e->MountPath && e->ImageFilePath;
}

static bool add_recorded(result_pool *pool, DismMountedImageInfo *list, UINT *n,
                         const mount_record *rec)
{
    if (mount_in_progress(rec))
        return true;
    mount_state st = mount_state_of(rec);
    if (st.finished)
        return true; /* unmounted; cleanup forgets the record */
    return add_entry(pool, &list[(*n)++], rec->mount_path, rec->wim_path, rec->image_index,
                     rec->read_only, st.status);
}

static bool add_unrecorded(result_pool *pool, DismMountedImageInfo *list, UINT *n,
                           const char *dir)
{
    wimfs_info live;
    if (wimfs_query(dir, &live) == 0)
        return add_entry(pool, &list[(*n)++], dir, live.wim_path, live.image_index,
                         !(live.mount_flags & WIMLIB_MOUNT_FLAG_READWRITE), DismMountStatusOk);
    return add_entry(pool, &list[(*n)++], dir, "", 0, true, DismMountStatusInvalid);
}

HRESULT WINAPI DismGetMountedImageInfo(DismMountedImageInfo **MountedImageInfo, UINT *Count)
{
    static const char *fn = "DismGetMountedImageInfo";
    if (!MountedImageInfo || !Count)
        return engine_fail(E_INVALIDARG, "%s: both out pointers are required.", fn);
    *MountedImageInfo = NULL;
    *Count = 0;
    mount_record *recs = NULL;
    size_t nrec = 0;
    HRESULT hr = engine_require_initialized(fn);
    if (FAILED(hr))
        return hr;
    /* Listing is a read: without a usable state directory there are no
     * records to trust, and the kernel's mount table still answers. */
    if (FAILED(registry_load_all(fn, &recs, &nrec)))
        engine_clear_error();
    char(*points)[ENGINE_PATH_MAX] = NULL;
    size_t npoints = wimfs_mount_points(&points);

    result_pool *pool = pool_new();
    DismMountedImageInfo *list = pool ? pool_alloc(pool, (nrec + npoints + 1) * sizeof *list) : NULL;
    bool ok = list != NULL;
    UINT n = 0;
    for (size_t i = 0; ok && i < nrec; i++)
        ok = add_recorded(pool, list, &n, &recs[i]);
    for (size_t i = 0; ok && i < npoints; i++)
        if (!recorded(recs, nrec, points[i]))
            ok = add_unrecorded(pool, list, &n, points[i]);
    free(recs);
    free(points);
    if (!ok) {
        pool_discard(pool);
        return engine_fail(E_OUTOFMEMORY, "%s: out of memory.", fn);
    }
    if (n == 0) {
        pool_discard(pool);
        return S_OK;
    }
    *MountedImageInfo = pool_publish(pool, list);
    *Count = n;
    return S_OK;
}
