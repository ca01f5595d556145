/*
 * mountinfo.c - what the kernel and the wimfs servers say about mounts:
 * /proc/self/mountinfo for which directories carry a wimfs file system, and
 * the wimfs.* extended attributes its server answers on the mount point.
 */
#include "mountinfo.h"

#include <errno.h>
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

bool process_alive(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
        return false;
    /* A zombie has finished; it only waits for a parent that may never reap it. */
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    char *close_paren = strrchr(buf, ')');
    return !(close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z');
}
