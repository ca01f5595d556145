/* mountinfo.h - the kernel's and the wimfs servers' view of mounts. */
#ifndef DISM_ENGINE_MOUNTINFO_H
#define DISM_ENGINE_MOUNTINFO_H

#include "engine.h"

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

#endif
