/*
 * imagefile.c - the files an unmounted-image session reads, extracted from
 * the WIM into a private area (see wim_extract_for_session in wim.h).
 *
 * The servicing calls read a handful of things from an image: the registry
 * hives, the servicing manifests (.mum), and INF files (the driver store's
 * and Windows\INF's).  Only those are extracted, found by walking the image
 * one folder at a time ignoring case as Windows does, so opening a session
 * on a 4 GB install.wim copies tens of megabytes, not the image.  Only
 * regular files are taken: a link or junction in the image is never
 * extracted, so nothing in the area can lead out of it.
 *
 * Each area is <parent>/dism-session-XXXXXX holding ".lock" (flock'd while a
 * session uses it) and "image" (the session's root).  An area whose lock
 * nobody holds belonged to a process that died without closing its session;
 * the next open sweeps such areas of this user away.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "wim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wimlib.h>

#define AREA_PREFIX "dism-session-"
#define LOCK_NAME ".lock"
#define ROOT_NAME "image"
/* An area younger than this may be one whose owner has not locked it yet. */
#define SWEEP_MIN_AGE_S 60
/* A hostile image cannot make the walk collect paths without end. */
#define MAX_PATHS 1000000

/* What the servicing calls read, relative to the image root, '/'-separated;
 * a component "*" matches any name, "*.ext" any name with that extension,
 * anything else one name ignoring case. */
static const char *const WANTED[] = {
    "Windows/System32/config/SOFTWARE",
    "Windows/System32/config/SYSTEM",
    "Windows/System32/config/DRIVERS",
    "Windows/System32/config/COMPONENTS",
    "Windows/System32/config/SECURITY",
    "Windows/System32/config/SAM",
    "Windows/System32/config/DEFAULT",
    "Users/Default/NTUSER.DAT",
    "Windows/servicing/Packages/*.mum",
    "Windows/INF/*.inf",
    "Windows/System32/DriverStore/FileRepository/*/*.inf",
};

typedef struct {
    char **items;
    size_t count, cap;
} path_list;

static void paths_free(path_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int paths_add(path_list *l, const char *path)
{
    if (l->count >= MAX_PATHS)
        return E2BIG;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **bigger = realloc(l->items, cap * sizeof *bigger);
        if (!bigger)
            return ENOMEM;
        l->items = bigger;
        l->cap = cap;
    }
    if (!(l->items[l->count] = strdup(path)))
        return ENOMEM;
    l->count++;
    return 0;
}

static bool component_matches(const char *pattern, size_t len, const char *name)
{
    if (len == 1 && pattern[0] == '*')
        return true;
    if (pattern[0] == '*') {
        size_t n = strlen(name);
        return n >= len - 1 && strncasecmp(name + n - (len - 1), pattern + 1, len - 1) == 0;
    }
    return strlen(name) == len && strncasecmp(name, pattern, len) == 0;
}

/* One folder's listing against one pattern component: matching files are
 * collected (last component), matching folders kept for the next step. */
typedef struct {
    const char *component;
    size_t len;
    bool last;
    path_list *found;   /* files, when last */
    path_list *folders; /* folders to descend into, otherwise */
    int err;
} listing;

static int on_child(const struct wimlib_dir_entry *e, void *ctx)
{
    listing *l = ctx;
    if (!e->filename || !component_matches(l->component, l->len, e->filename))
        return 0;
    if (e->attributes & WIMLIB_FILE_ATTRIBUTE_REPARSE_POINT)
        return 0; /* links and junctions are never followed nor extracted */
    if (strchr(e->filename, '\\')) {
        /* No Windows name holds one, and wimlib splits the paths it is
         * given on it, so no path reaches this file: asking for it would
         * fail the whole open. */
        engine_log(LOG_WARNING, "passed over '%s' in the image: a name holding a backslash",
                   e->full_path);
        return 0;
    }
    bool dir = (e->attributes & WIMLIB_FILE_ATTRIBUTE_DIRECTORY) != 0;
    if (l->last && !dir)
        l->err = paths_add(l->found, e->full_path);
    else if (!l->last && dir)
        l->err = paths_add(l->folders, e->full_path);
    return l->err ? WIMLIB_ERR_NOMEM : 0;
}

static HRESULT walk(const char *function, WIMStruct *wim, int image, const char *folder,
                    const char *pattern, path_list *found)
{
    size_t len = strcspn(pattern, "/");
    path_list folders = {0};
    listing l = {pattern, len, pattern[len] == '\0', found, &folders, 0};
    int rc = wimlib_iterate_dir_tree(wim, image, folder, WIMLIB_ITERATE_DIR_TREE_FLAG_CHILDREN,
                                     on_child, &l);
    HRESULT hr = S_OK;
    if (l.err)
        hr = l.err == E2BIG ? engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT), "%s: the "
                                          "image names more than %d files to read.", function,
                                          MAX_PATHS)
                            : engine_fail(E_OUTOFMEMORY, "%s: out of memory.", function);
    else if (rc)
        hr = engine_fail_wimlib(rc, "%s: cannot list '%s' in the image", function, folder);
    for (size_t i = 0; SUCCEEDED(hr) && i < folders.count; i++)
        hr = walk(function, wim, image, folders.items[i], pattern + len + 1, found);
    paths_free(&folders);
    return hr;
}

static HRESULT wanted_paths(const char *function, WIMStruct *wim, int image, path_list *found)
{
    HRESULT hr = S_OK;
    for (size_t i = 0; SUCCEEDED(hr) && i < sizeof WANTED / sizeof WANTED[0]; i++)
        hr = walk(function, wim, image, WIMLIB_WIM_ROOT_PATH, WANTED[i], found);
    return hr;
}

/* ---- the private area ---- */

static void area_parent(char *out, size_t size)
{
    if (state_scratch_given(out, size))
        return;
    const char *tmp = getenv("TMPDIR");
    if (tmp && tmp[0] == '/')
        snprintf(out, size, "%s", tmp);
    else
        snprintf(out, size, "/tmp");
}

#define AREA_ADVICE "set TMPDIR, or give DismInitialize a ScratchDirectory"

/* One directory on the way to the area: another user must not be able to
 * rename or replace what it holds, so it belongs to root or to this user and
 * is writable by nobody else unless it is sticky (as /tmp is). */
static HRESULT check_trusted_dir(const char *function, const char *dir, const char *parent)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return engine_fail_errno(errno, "%s: cannot use the temporary directory '%s' (%s)",
                                 function, parent, AREA_ADVICE);
    if (!S_ISDIR(st.st_mode))
        return engine_fail(E_ACCESSDENIED, "%s: '%s', on the way to the temporary directory "
                           "'%s', changed while it was checked; %s.", function, dir, parent,
                           AREA_ADVICE);
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return engine_fail(E_ACCESSDENIED, "%s: the temporary directory '%s' is not safe: '%s' "
                           "belongs to user %u, who could replace the private area with a "
                           "link; %s.", function, parent, dir, (unsigned)st.st_uid,
                           AREA_ADVICE);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return engine_fail(E_ACCESSDENIED, "%s: the temporary directory '%s' is not safe: '%s' "
                           "can be written by other users and has no sticky bit (mode %04o), "
                           "so they could replace the private area with a link; %s.", function,
                           parent, dir, (unsigned)(st.st_mode & 07777), AREA_ADVICE);
    return S_OK;
}

/* The parent of the areas, canonical, every directory from / down to it
 * checked: the area is later reached, read and removed by its path. */
static HRESULT trusted_area_parent(const char *function, char *out, size_t size)
{
    char given[ENGINE_PATH_MAX], resolved[PATH_MAX];
    area_parent(given, sizeof given);
    if (!realpath(given, resolved))
        return engine_fail_errno(errno, "%s: cannot use the temporary directory '%s' (%s)",
                                 function, given, AREA_ADVICE);
    if (snprintf(out, size, "%s", resolved) >= (int)size)
        return engine_fail(E_INVALIDARG, "%s: the temporary directory path '%s' is too long.",
                           function, resolved);
    HRESULT hr = check_trusted_dir(function, "/", resolved);
    for (char *p = resolved + 1; SUCCEEDED(hr) && *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        hr = check_trusted_dir(function, resolved, out);
        *p = '/';
    }
    if (SUCCEEDED(hr) && strcmp(resolved, "/") != 0)
        hr = check_trusted_dir(function, resolved, out);
    return hr;
}

/* Whether `name` in `parent` is an area of this user that nobody uses and
 * that is old enough not to be one being made right now. */
static bool abandoned_area(int parent, const char *name)
{
    int dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0)
        return false;
    struct stat st;
    bool mine = fstat(dir, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 0777) == 0700;
    int lock = mine ? openat(dir, LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    close(dir);
    if (lock < 0)
        return false;
    bool abandoned = fstat(lock, &st) == 0 && S_ISREG(st.st_mode) &&
                     time(NULL) - st.st_mtime > SWEEP_MIN_AGE_S &&
                     flock(lock, LOCK_EX | LOCK_NB) == 0;
    close(lock); /* the lock goes with it; a new owner would take it first */
    return abandoned;
}

/* Removes this user's areas whose sessions died with their process. */
static void sweep_areas(const char *parent_path)
{
    int parent = open(parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = parent >= 0 ? fdopendir(parent) : NULL;
    if (!d) {
        if (parent >= 0)
            close(parent);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, AREA_PREFIX, strlen(AREA_PREFIX)) != 0 ||
            !abandoned_area(parent, e->d_name))
            continue;
        char path[ENGINE_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", parent_path, e->d_name);
        if (remove_tree(path) == 0)
            engine_log(LOG_INFO, "removed the abandoned session area %s", path);
    }
    closedir(d);
}

static HRESULT make_area(const char *function, session_image *image)
{
    char parent[ENGINE_PATH_MAX];
    HRESULT hr = trusted_area_parent(function, parent, sizeof parent);
    if (FAILED(hr))
        return hr;
    sweep_areas(parent);
    if (snprintf(image->private_area, sizeof image->private_area, "%s/" AREA_PREFIX "XXXXXX",
                 parent) >= (int)sizeof image->private_area)
        return engine_fail(E_INVALIDARG, "%s: the temporary directory path '%s' is too long.",
                           function, parent);
    if (!mkdtemp(image->private_area)) {
        int err = errno;
        image->private_area[0] = '\0';
        return engine_fail_errno(err, "%s: cannot make a private directory in '%s' ("
                                 AREA_ADVICE ")", function, parent);
    }
    image->from_image_file = true; /* from here on, failures remove the area */
    image->area_owner = getpid();
    int dir = open(image->private_area, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    image->area_lock = dir < 0 ? -1 : openat(dir, LOCK_NAME, O_RDWR | O_CREAT | O_EXCL |
                                             O_NOFOLLOW | O_CLOEXEC, 0600);
    int err = errno;
    if (dir >= 0)
        close(dir);
    if (image->area_lock < 0 || flock(image->area_lock, LOCK_EX) != 0)
        return engine_fail_errno(image->area_lock < 0 ? err : errno, "%s: cannot prepare the "
                                 "private directory '%s'", function, image->private_area);
    snprintf(image->root, sizeof image->root, "%s/" ROOT_NAME, image->private_area);
    if (mkdir(image->root, 0700) != 0)
        return engine_fail_errno(errno, "%s: cannot prepare the private directory '%s'",
                                 function, image->private_area);
    return S_OK;
}

/* ---- reading the WIM ---- */

static HRESULT unreachable_image_file(const char *function, const char *path, int err)
{
    if (err == ENOENT || err == ENOTDIR)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
                           "%s: the image file '%s' does not exist.", function, path);
    return engine_fail_errno(err, "%s: cannot open the image file '%s'", function, path);
}

/* The WIM's canonical path, opened and share-locked.  What is checked is
 * what was opened (O_NONBLOCK, then fstat): a FIFO renamed over the path
 * after a check by name would block the open for ever. */
static HRESULT open_locked(const char *function, const char *path, session_image *image,
                           int *fd)
{
    struct stat st;
    if (!realpath(path, image->image_file))
        return unreachable_image_file(function, path, errno);
    *fd = open(image->image_file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0)
        return unreachable_image_file(function, path, errno);
    if (fstat(*fd, &st) != 0)
        return engine_fail_errno(errno, "%s: cannot open the image file '%s'", function, path);
    if (!S_ISREG(st.st_mode))
        return engine_fail(E_INVALIDARG, "%s: '%s' is not a WIM file (a directory or another "
                           "kind of file).", function, path);
    if (flock(*fd, LOCK_SH | LOCK_NB) != 0)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION), "%s: '%s' is being "
                           "written (or is mounted read-write) by another process; try again "
                           "once it is done.", function, path);
    return S_OK;
}

/* Opens the WIM through the locked descriptor, so that the file read is the
 * one locked even if another is renamed over the path meanwhile. */
static HRESULT open_wim(const char *function, const char *path, int fd, WIMStruct **wim)
{
    char by_fd[64];
    snprintf(by_fd, sizeof by_fd, "/proc/self/fd/%d", fd);
    int rc = wimlib_open_wim(access(by_fd, R_OK) == 0 ? by_fd : path, 0, wim);
    if (rc)
        return engine_fail_wimlib(rc, "%s: cannot open '%s' as a WIM", function, path);
    struct wimlib_wim_info wi;
    wimlib_get_wim_info(*wim, &wi);
    if (wi.write_in_progress)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION), "%s: '%s' is marked "
                           "as being written (a writer is at work, or died half-way); it is "
                           "not read.", function, path);
    return wim_refuse_split(function, *wim, path);
}

static HRESULT extract(const char *function, WIMStruct *wim, session_image *image)
{
    path_list paths = {0};
    HRESULT hr = wanted_paths(function, wim, (int)image->image_index, &paths);
    if (SUCCEEDED(hr) && paths.count) {
        int rc = wimlib_extract_paths(wim, (int)image->image_index, image->root,
                                      (const char *const *)paths.items, paths.count,
                                      WIMLIB_EXTRACT_FLAG_NO_ACLS);
        if (rc)
            hr = engine_fail_wimlib(rc, "%s: cannot read the servicing files of image %u of "
                                    "'%s'", function, image->image_index, image->image_file);
    }
    if (SUCCEEDED(hr))
        engine_log(LOG_INFO, "%s: %zu files of image %u of %s read into %s", function,
                   paths.count, image->image_index, image->image_file, image->private_area);
    paths_free(&paths);
    return hr;
}

/* As DismMountImage chooses, except that a WIM of one image needs no
 * choice: reading it, unlike mounting it, cannot surprise anyone. */
static HRESULT choose(const char *function, WIMStruct *wim, UINT index, PCWSTR name,
                      DismImageIdentifier id, int *chosen)
{
    struct wimlib_wim_info wi;
    wimlib_get_wim_info(wim, &wi);
    if (id == DismImageNone && wi.image_count == 1) {
        *chosen = 1;
        return S_OK;
    }
    if (id == DismImageNone && wi.image_count == 0) /* no index or name would help */
        return engine_fail(DISMAPI_E_INVALID_IMAGE_INDEX, "%s: the WIM holds no image.",
                           function);
    return wim_choose_image(function, wim, index, name, id, chosen);
}

HRESULT wim_extract_for_session(const char *function, PCWSTR path_arg_w, UINT index,
                                PCWSTR name, DismImageIdentifier id, session_image *image)
{
    image->area_lock = -1;
    char *path = NULL;
    char label[128];
    snprintf(label, sizeof label, "%s: ImageFilePath", function);
    HRESULT hr = path_arg(path_arg_w, label, &path);
    if (FAILED(hr))
        return hr;
    int fd = -1, chosen = 0;
    WIMStruct *wim = NULL;
    if (SUCCEEDED(hr = open_locked(function, path, image, &fd)) &&
        SUCCEEDED(hr = open_wim(function, path, fd, &wim)) &&
        SUCCEEDED(hr = choose(function, wim, index, name, id, &chosen))) {
        image->image_index = (unsigned)chosen;
        if (SUCCEEDED(hr = make_area(function, image)))
            hr = extract(function, wim, image);
    }
    wimlib_free(wim);
    if (fd >= 0)
        close(fd); /* drops the shared lock: the copy is complete */
    free(path);
    if (FAILED(hr))
        session_image_discard_area(image);
    return hr;
}
