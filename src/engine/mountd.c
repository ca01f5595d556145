/*
 * mountd.c - dism-mountd, the mount server helper of the portable engine.
 *
 * wimlib_mount_image() hands the mount to FUSE, which daemonizes by forking:
 * the calling process _exit()s once the file system is mounted and a
 * detached child goes on serving it until it is unmounted.  A library cannot
 * let that happen inside its host (a Python interpreter would vanish), so the
 * engine starts this small program instead, with an argument vector and no
 * shell.  Exit status 0 means "mounted"; any other status is the wimlib
 * error code, or one of the MOUNTD_* codes below for bad arguments.  Error
 * text goes to stderr, which the engine captures for its error message.
 *
 * Usage: dism-mountd --id GUID --wim PATH --index N --dir MOUNTDIR
 *                    [--rw --staging PARENTDIR] [--pid-fd 3]
 * The --id argument is not used by the program itself: it names the mount
 * server in /proc/<pid>/cmdline, for people and for the engine's check.
 *
 * With --pid-fd 3, every child forked from here writes its pid to
 * descriptor 3 as a line: FUSE forks the server last, so the engine, which
 * reads the lines once this program has exited, takes the last one as the
 * server's pid (it records it, with the start time, to tell later whether
 * the server still runs).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <wimlib.h>

enum { MOUNTD_USAGE = 200 };
enum { PID_FD = 3 };

struct options {
    const char *id, *wim, *dir, *staging;
    int index;
    int read_write;
    int report_pid;
};

static int usage(const char *why)
{
    fprintf(stderr, "dism-mountd: %s\n", why);
    return MOUNTD_USAGE;
}

static int parse(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--rw")) {
            o->read_write = 1;
            continue;
        }
        if (!v)
            return usage("an option is missing its value");
        if (!strcmp(a, "--id"))
            o->id = v;
        else if (!strcmp(a, "--wim"))
            o->wim = v;
        else if (!strcmp(a, "--dir"))
            o->dir = v;
        else if (!strcmp(a, "--staging"))
            o->staging = v;
        else if (!strcmp(a, "--index"))
            o->index = atoi(v);
        else if (!strcmp(a, "--pid-fd") && atoi(v) == PID_FD)
            o->report_pid = 1;
        else
            return usage("unknown option");
        i++;
    }
    if (!o->id || !o->wim || !o->dir || o->index < 1)
        return usage("--id, --wim, --index and --dir are required");
    if (o->read_write && !o->staging)
        return usage("--rw needs --staging");
    return 0;
}

/* The server lives on after we exit: it must not keep descriptors it
 * inherited (a pipe would never reach EOF, a lock would never be freed). */
static void close_inherited_descriptors(int keep_pid_fd)
{
    unsigned first = keep_pid_fd ? PID_FD + 1 : PID_FD;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, first, ~0u, 0u) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = (int)first; fd < (max > 0 ? max : 1024); fd++)
        close(fd);
}

/* Runs in each child right after fork (see the top of this file). */
static void report_child_pid(void)
{
    char line[32];
    int n = snprintf(line, sizeof line, "%d\n", (int)getpid());
    if (write(PID_FD, line, (size_t)n) != n) {
        /* nothing to do: the engine then finds the server without it */
    }
    close(PID_FD);
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    close_inherited_descriptors(o.report_pid);
    if (o.report_pid) {
        /* Programs FUSE may run (fusermount3) must not keep it open. */
        fcntl(PID_FD, F_SETFD, FD_CLOEXEC);
        pthread_atfork(NULL, NULL, report_child_pid);
    }
    if (chdir("/") != 0)
        return usage("cannot change to /");
    wimlib_set_print_errors(true);

    int open_flags = o.read_write ? WIMLIB_OPEN_FLAG_WRITE_ACCESS : 0;
    WIMStruct *wim = NULL;
    rc = wimlib_open_wim(o.wim, open_flags, &wim);
    if (rc) {
        fprintf(stderr, "%s\n", wimlib_get_error_string(rc));
        return rc;
    }
    int mount_flags = o.read_write ? WIMLIB_MOUNT_FLAG_READWRITE : 0;
    rc = wimlib_mount_image(wim, o.index, o.dir, mount_flags, o.read_write ? o.staging : NULL);
    /* Reached only on failure, or in the daemon after the file system has
     * been unmounted; either way this process has nothing left to do. */
    if (rc)
        fprintf(stderr, "%s\n", wimlib_get_error_string(rc));
    wimlib_free(wim);
    _exit(rc);
}
