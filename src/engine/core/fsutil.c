/*
 * fsutil.c - small file-system helpers.  Removal never follows symbolic
 * links: it works relative to directory descriptors opened with O_NOFOLLOW,
 * so a link planted in a staging tree cannot redirect it outside.
 */
#include "core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int make_private_dir(const char *path)
{
    char buf[ENGINE_PATH_MAX];
    if (path[0] != '/')
        return EINVAL; /* also refuses "", whose "first component" would lie past its end */
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return errno;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return errno;
    struct stat st;
    if (lstat(buf, &st) != 0)
        return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static int remove_at(int parent, const char *name);

static int remove_contents(int dirfd)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (remove_at(dirfd, e->d_name) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

static int remove_at(int parent, const char *name)
{
    if (unlinkat(parent, name, 0) == 0)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return errno == ENOENT ? 0 : -1;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = remove_contents(fd);
    if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int remove_tree(const char *path)
{
    return remove_at(AT_FDCWD, path);
}

bool dir_is_empty(const char *path, int *err)
{
    DIR *d = opendir(path);
    if (!d) {
        *err = errno;
        return false;
    }
    *err = 0;
    bool empty = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

bool find_child_ci(const char *dir, const char *name, char *out, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcasecmp(e->d_name, name) == 0) {
            snprintf(out, size, "%s/%s", dir, e->d_name);
            found = true;
            break;
        }
    }
    closedir(d);
    return found;
}

/* Non-blocking, so a FIFO planted in an image cannot stall the open; no
 * link at the last component; then only regular files are read, and with
 * `private_only` only files of this user that nobody else may write. */
static void *read_small_at(int dirfd, const char *path, size_t max, bool private_only,
                           size_t *len, int *err)
{
    *len = 0;
    *err = 0;
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *err = errno;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        *err = S_ISREG(st.st_mode) ? EFBIG : EISDIR;
        close(fd);
        return NULL;
    }
    if (private_only && (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
        *err = EPERM;
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    size_t size = (size_t)st.st_size;
    char *data = malloc(size + 1);
    size_t got = 0;
    while (data && got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = n < 0 ? errno : EIO;
            free(data);
            data = NULL;
            break;
        }
        got += (size_t)n;
    }
    if (!data && !*err)
        *err = ENOMEM;
    close(fd);
    if (data) {
        data[got] = '\0';
        *len = got;
    }
    return data;
}

void *read_small_file(const char *path, size_t max, size_t *len, int *err)
{
    return read_small_at(AT_FDCWD, path, max, false, len, err);
}

void *read_private_file(int dirfd, const char *name, size_t max, size_t *len, int *err)
{
    return read_small_at(dirfd, name, max, true, len, err);
}
