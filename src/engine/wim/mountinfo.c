/*
 * mountinfo.c - what the kernel and the wimfs servers say about mounts:
 * /proc/self/mountinfo for which directories carry a wimfs file system, and
 * the wimfs.* extended attributes its server answers on the mount point.
 */
#include "wim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* Fields: id parent major:minor root mountpoint options [optional...] - fstype ... */
static bool parse_line(char *line, char *mount_point, size_t size, char **fstype)
{
    char *save = NULL;
    char *field = strtok_r(line, " ", &save);
    for (int i = 0; field && i < 4; i++)
        field = strtok_r(NULL, " ", &save);
    if (!field)
        return false;
    snprintf(mount_point, size, "%s", field);
    unescape_octal(mount_point);
    while ((field = strtok_r(NULL, " ", &save)) && strcmp(field, "-") != 0)
        ;
    *fstype = field ? strtok_r(NULL, " ", &save) : NULL;
    return *fstype != NULL;
}

size_t wimfs_mount_points(char (**out)[ENGINE_PATH_MAX])
{
    *out = NULL;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return 0;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t len = 0;
    while (getline(&line, &len, f) > 0) {
        char mp[ENGINE_PATH_MAX], *fstype;
        if (!parse_line(line, mp, sizeof mp, &fstype) || strcmp(fstype, "fuse.wimfs") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            char(*grown)[ENGINE_PATH_MAX] = realloc(*out, cap * sizeof **out);
            if (!grown)
                break;
            *out = grown;
        }
        memcpy((*out)[n++], mp, sizeof mp);
    }
    free(line);
    fclose(f);
    return n;
}

bool wimfs_is_mounted_at(const char *dir)
{
    char(*points)[ENGINE_PATH_MAX];
    size_t n = wimfs_mount_points(&points);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = strcmp(points[i], dir) == 0;
    free(points);
    return found;
}

int wimfs_query(const char *dir, wimfs_info *info)
{
    memset(info, 0, sizeof *info);
    ssize_t n = getxattr(dir, "wimfs.wim_filename", info->wim_path, sizeof info->wim_path - 1);
    if (n < 0)
        return errno;
    info->wim_path[n] = '\0';
    int32_t v;
    if (getxattr(dir, "wimfs.mounted_image", &v, sizeof v) != sizeof v)
        return errno ? errno : EIO;
    info->image_index = (unsigned)v;
    if (getxattr(dir, "wimfs.mount_flags", &v, sizeof v) != sizeof v)
        return errno ? errno : EIO;
    info->mount_flags = v;
    return 0;
}

/* /proc/<pid>/<name> into buf, NUL-terminated; its length, or -1. */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, buf, size - 1);
    close(fd);
    if (got <= 0)
        return -1;
    buf[got] = '\0';
    return got;
}

/* Field 3 (state) and field 22 (start time) of /proc/<pid>/stat; the
 * command name before them may hold spaces and parentheses, so fields are
 * counted from the last ')'. */
static bool read_proc_stat(pid_t pid, char *state, unsigned long long *start)
{
    char buf[1024];
    if (read_proc_file(pid, "stat", buf, sizeof buf) < 0)
        return false;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return false;
    *state = p[2];
    p += 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return false;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return true;
}

bool process_lookup(pid_t pid, process_id *out)
{
    char state;
    out->pid = 0;
    out->start = 0;
    /* A zombie has finished; it only waits for a parent that may never reap it. */
    if (pid <= 0 || !read_proc_stat(pid, &state, &out->start) || state == 'Z' || state == 'X')
        return false;
    out->pid = pid;
    return true;
}

bool process_running(const process_id *p)
{
    process_id now;
    return p->pid > 0 && process_lookup(p->pid, &now) && (p->start == 0 || now.start == p->start);
}

bool process_alive(pid_t pid)
{
    process_id p = {pid, 0};
    return process_running(&p);
}

process_id process_self(void)
{
    process_id me;
    process_lookup(getpid(), &me);
    return me;
}

static char boot_id[40];
static pthread_once_t boot_id_once = PTHREAD_ONCE_INIT;

static void read_boot_id(void)
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, boot_id, sizeof boot_id - 1);
    close(fd);
    boot_id[n > 0 ? n : 0] = '\0';
    boot_id[strcspn(boot_id, "\n")] = '\0';
}

const char *this_boot_id(void)
{
    pthread_once(&boot_id_once, read_boot_id);
    return boot_id;
}

unsigned long long this_namespace(const char *kind)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", kind);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return 0;
    link[n] = '\0';
    const char *open_bracket = strchr(link, '[');
    return open_bracket ? strtoull(open_bracket + 1, NULL, 10) : 0;
}

/* Whether /proc/<pid>/cmdline carries "--id <id>". */
static bool process_serves_id(pid_t pid, const char *id)
{
    char buf[8192];
    ssize_t n = read_proc_file(pid, "cmdline", buf, sizeof buf);
    if (n < 0)
        return false;
    for (const char *p = buf; p < buf + n; p += strlen(p) + 1)
        if (!strcmp(p, "--id") && p + strlen(p) + 1 < buf + n && !strcmp(p + 5, id))
            return true;
    return false;
}

/* The server is the helper's daemonized child, which reports its pid; a
 * helper that could not (an older one) is found by its command line. */
pid_t server_pid_for_id(const char *id, pid_t reported)
{
    if (reported > 0 && process_serves_id(reported, id))
        return reported;
    DIR *proc = opendir("/proc");
    if (!proc)
        return 0;
    pid_t found = 0;
    struct dirent *e;
    while (!found && (e = readdir(proc)) != NULL)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && process_serves_id(atoi(e->d_name), id))
            found = (pid_t)atoi(e->d_name);
    closedir(proc);
    return found;
}

/* ---- wimlib's progress queues ----
 * An unmount with progress creates a POSIX message queue named "/wimfs-..."
 * and unlinks it when it returns; a caller killed in between leaves it
 * behind for good.  The name is nowhere but in /proc/self/fd (this process
 * holds the queue open), so it is found there and unlinked as soon as the
 * server has opened it too: both ends keep working, and nothing is left to
 * leak. */

void progress_queues_open(progress_queues *out)
{
    out->count = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && out->count < PROGRESS_QUEUES_MAX) {
        char path[64], link[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (!strncmp(link, "/wimfs-", 7))
            snprintf(out->names[out->count++], sizeof out->names[0], "%s", link);
    }
    closedir(d);
}

static bool listed(const progress_queues *q, const char *name)
{
    for (int i = 0; i < q->count; i++)
        if (!strcmp(q->names[i], name))
            return true;
    return false;
}

void progress_queue_unlink_new(const progress_queues *before)
{
    progress_queues now;
    progress_queues_open(&now);
    const char *fresh = NULL;
    for (int i = 0; i < now.count; i++) {
        if (listed(before, now.names[i]))
            continue;
        if (fresh)
            return; /* another thread's unmount too: which is ours is unknown */
        fresh = now.names[i];
    }
    if (fresh)
        mq_unlink(fresh);
}
