/*
 * wim.h - what the WIM side of the engine offers: reading WIM images,
 * mounting them through the dism-mountd server, and the persistent registry
 * of mounts that lets any process see, unmount and clean them up.  It
 * builds on the core (core/core.h) and on wimlib.
 *   imageinfo.c  DismGetImageInfo
 *   mount.c      mount, unmount, commit, remount
 *   mountlist.c  what became of a recorded mount: status, listing, cleanup
 *   registry.c   the persistent registry of mounts
 *   helper.c     running dism-mountd and fusermount (never through a shell)
 *   mountinfo.c  the kernel's mount table, the wimfs servers' answers, processes
 *   wimerr.c     wimlib error codes -> Win32 errors and HRESULTs; wimlib init
 */
#ifndef DISM_ENGINE_WIM_H
#define DISM_ENGINE_WIM_H

#include "core/core.h"

/* ---- wimerr.c ---- */
DWORD win32_from_wimlib(int code); /* 0: no closer Win32 error than a failure */
HRESULT hresult_from_wimlib(int code);
/* wimlib_global_init, once per process, from whichever thread comes first;
 * every user of wimlib calls it before its first wimlib call. */
int engine_wimlib_init(void);
HRESULT engine_fail_wimlib(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- mountinfo.c: the kernel's and the wimfs servers' view of mounts ---- */

/* A process named so that a reused pid is not mistaken for it: the start
 * time is /proc/<pid>/stat's, in clock ticks since boot. */
typedef struct {
    pid_t pid; /* 0: none */
    unsigned long long start;
} process_id;

typedef struct {
    char wim_path[ENGINE_PATH_MAX];
    unsigned image_index;
    int mount_flags; /* WIMLIB_MOUNT_FLAG_* of the live mount */
} wimfs_info;

/* Mount points of every fuse.wimfs file system; *out is malloc'd. */
size_t wimfs_mount_points(char (**out)[ENGINE_PATH_MAX]);
bool wimfs_is_mounted_at(const char *dir);
/* Asks the server behind `dir`; returns 0 or an errno (ENOTCONN for a dead server). */
int wimfs_query(const char *dir, wimfs_info *info);
bool process_alive(pid_t pid);
/* The process `pid` now (with its start time); false when it does not exist
 * or has finished (a zombie). */
bool process_lookup(pid_t pid, process_id *out);
/* True while `p` runs: the same pid with the same start time. */
bool process_running(const process_id *p);
process_id process_self(void);
/* The running mount server started with "--id <id>": `reported` when it is
 * that server, else found by its command line; 0 when none runs. */
pid_t server_pid_for_id(const char *id, pid_t reported);
/* This boot's id and this process's namespace inode ("mnt", "pid"); "" and 0
 * when the kernel does not say. */
const char *this_boot_id(void);
unsigned long long this_namespace(const char *kind);

/* The "/wimfs-*" message queues this process holds open (wimlib's unmount
 * progress), and the one opened since `before`, unlinked so that a killed
 * caller cannot leak it (mountinfo.c says why). */
#define PROGRESS_QUEUES_MAX 16
typedef struct {
    char names[PROGRESS_QUEUES_MAX][40];
    int count;
} progress_queues;
void progress_queues_open(progress_queues *out);
void progress_queue_unlink_new(const progress_queues *before);

/* ---- registry.c: one file per mount under <state>/mounts ---- */

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

/* ---- mount.c and mountlist.c: what they share ---- */

typedef struct {
    DismMountStatus status;
    bool releasable; /* its server is certainly gone: cleanup may release it */
    bool finished;   /* unmounted by a process that died before forgetting it */
} mount_state;

/* What became of a recorded mount, as far as this process can see. */
mount_state mount_state_of(const mount_record *rec);
/* Recorded before its server runs, by a process that still runs. */
bool mount_in_progress(const mount_record *rec);
/* Whether its server is seen to run (same pid namespace, same process). */
bool mount_server_running(const mount_record *rec);
/* Whether the mount point is in this process's mount namespace. */
bool mount_visible_here(const mount_record *rec);
/* Detaches the wimfs mount at `dir` only if its server is dead (ENOTCONN). */
HRESULT detach_dead_mount(const char *dir);
/* Removes the record and its staging data. */
void forget_mount(const mount_record *rec);
/* Runs a program (no shell) and collects its stderr; returns its exit
 * status, or -1.  With `reported_pid`, the program gets a pipe as
 * descriptor 3 and the last pid written there is returned (dism-mountd's
 * --pid-fd). */
int run_helper(char *const argv[], char *err, size_t err_size, pid_t *reported_pid);
/* The path of dism-mountd (beside the engine, or $DISM_MOUNT_HELPER). */
HRESULT find_helper(char *out, size_t size);


#endif /* DISM_ENGINE_WIM_H */
