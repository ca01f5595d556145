/*
 * mounts.h - what mount.c (making and ending mounts) and mountlist.c
 * (status, listing, cleanup) share.
 */
#ifndef DISM_ENGINE_MOUNTS_H
#define DISM_ENGINE_MOUNTS_H

#include "engine.h"
#include "mountinfo.h"

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

#endif
