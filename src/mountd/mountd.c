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
 *
 * dism-mountd --unmount DIR --flags N --server PID unmounts DIR as seen by
 * the mount namespace of the server PID (wimlib unmount flags N, without
 * progress): the way to end a mount whose maker ran in a namespace of its
 * own (a service with PrivateTmp=) and has gone, leaving nobody there.
 *
 * dism-mountd --sweep-queues removes the progress queues ("/wimfs-*") that
 * unmounting processes killed mid-commit left behind (wimlib unlinks its
 * queue only when the unmount call returns).  Queues can only be listed
 * through an mqueue file system, which this program mounts in a private
 * mount namespace of its own (root only); a queue is stale when no process
 * holds it open, since its creator does until it unlinks it.  A queue of an
 * unmounter in a pid namespace this program cannot see, in the moment
 * before its server opens it, would be taken for stale: such an unmount
 * then runs without progress reports (the engine's own falls back to that).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <wimlib.h>

enum { MOUNTD_USAGE = 200, MOUNTD_NAMESPACE = 201 };
enum { PID_FD = 3 };

struct options {
    const char *id, *wim, *dir, *staging;
    int index;
    int read_write;
    int report_pid;
    int sweep_queues;
    const char *unmount_dir;
    int unmount_flags, server;
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
        if (!strcmp(a, "--sweep-queues")) {
            o->sweep_queues = 1;
            return 0;
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
        else if (!strcmp(a, "--unmount"))
            o->unmount_dir = v;
        else if (!strcmp(a, "--flags"))
            o->unmount_flags = atoi(v);
        else if (!strcmp(a, "--server"))
            o->server = atoi(v);
        else
            return usage("unknown option");
        i++;
    }
    if (o->unmount_dir)
        return o->server > 0 ? 0 : usage("--unmount needs --server");
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

/* Set in the process that has reported, so that its own children (the
 * server forks fusermount to unmount, for a user) never write to a
 * descriptor 3 that by then may be something else. */
static int pid_reported;

/* Runs in each child right after fork (see the top of this file). */
static void report_child_pid(void)
{
    if (pid_reported)
        return;
    pid_reported = 1;
    char line[32];
    int n = snprintf(line, sizeof line, "%d\n", (int)getpid());
    if (write(PID_FD, line, (size_t)n) != n) {
        /* nothing to do: the engine then finds the server without it */
    }
    close(PID_FD);
}

/* Whether any process holds the message queue "/<name>" open. */
static int queue_held_open(const char *name)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return 1; /* cannot tell: keep it */
    int held = 0;
    struct dirent *p;
    while (!held && (p = readdir(proc)) != NULL) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9')
            continue;
        char fds[64];
        snprintf(fds, sizeof fds, "/proc/%s/fd", p->d_name);
        DIR *d = opendir(fds);
        struct dirent *f;
        while (d && !held && (f = readdir(d)) != NULL) {
            char link[300];
            ssize_t n = readlinkat(dirfd(d), f->d_name, link, sizeof link - 1);
            if (n > 1) {
                link[n] = '\0';
                held = link[0] == '/' && !strcmp(link + 1, name);
            }
        }
        if (d)
            closedir(d);
    }
    closedir(proc);
    return held;
}

static int sweep_stale_queues(void)
{
    /* /tmp of a private namespace: the queues show there, for this
     * process only, and nothing of the machine's is covered. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("mqueue", "/tmp", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        return usage("cannot list message queues (needs root)");
    DIR *d = opendir("/tmp");
    if (!d)
        return usage("cannot read the message queues");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        char name[300];
        if (strncmp(e->d_name, "wimfs-", 6) != 0 ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            st.st_uid != geteuid() || queue_held_open(e->d_name))
            continue;
        snprintf(name, sizeof name, "/%s", e->d_name);
        mq_unlink(name);
    }
    closedir(d);
    return 0;
}

static int unmount_in_namespace_of(const char *dir, int flags, int server)
{
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%d/ns/mnt", server);
    int fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNS) != 0 || chdir("/") != 0) {
        fprintf(stderr, "cannot enter the mount namespace of process %d: %s\n", server,
                strerror(errno));
        return MOUNTD_NAMESPACE;
    }
    close(fd);
    int rc = wimlib_unmount_image_with_progress(dir, flags, NULL, NULL);
    if (rc)
        fprintf(stderr, "%s\n", wimlib_get_error_string(rc));
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (o.sweep_queues)
        return sweep_stale_queues();
    if (o.unmount_dir)
        return unmount_in_namespace_of(o.unmount_dir, o.unmount_flags, o.server);
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
