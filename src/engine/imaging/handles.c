/*
 * handles.c - the table of live WIMGAPI handles.  A HANDLE is a pointer to
 * a wim_file or a wim_image; every entry point looks it up here first, so a
 * stale or foreign pointer gives ERROR_INVALID_HANDLE instead of being
 * dereferenced.  Also the small helpers the folder shares.
 */
#include "imaging.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static void **live;
static size_t live_count, live_cap;

void handles_lock(void) { pthread_mutex_lock(&table_lock); }
void handles_unlock(void) { pthread_mutex_unlock(&table_lock); }

bool handle_register(void *h)
{
    bool ok = true;
    handles_lock();
    if (live_count == live_cap) {
        size_t cap = live_cap ? live_cap * 2 : 16;
        void **grown = realloc(live, cap * sizeof *grown);
        if (grown) {
            live = grown;
            live_cap = cap;
        } else {
            ok = false;
        }
    }
    if (ok)
        live[live_count++] = h;
    handles_unlock();
    return ok;
}

static ssize_t find_locked(const void *h)
{
    for (size_t i = 0; i < live_count; i++)
        if (live[i] == h)
            return (ssize_t)i;
    return -1;
}

bool handle_unregister(void *h)
{
    handles_lock();
    ssize_t i = find_locked(h);
    if (i >= 0)
        live[i] = live[--live_count];
    handles_unlock();
    return i >= 0;
}

static handle_kind kind_of(HANDLE h)
{
    handles_lock();
    handle_kind k = find_locked(h) >= 0 ? *(handle_kind *)h : 0;
    handles_unlock();
    return k;
}

wim_file *handle_file(HANDLE h, bool allow_image)
{
    handle_kind k = h ? kind_of(h) : 0;
    if (k == HANDLE_WIM)
        return h;
    if (k == HANDLE_IMAGE && allow_image)
        return ((wim_image *)h)->file;
    return NULL;
}

wim_image *handle_image(HANDLE h)
{
    return h && kind_of(h) == HANDLE_IMAGE ? h : NULL;
}

wim_file *file_lock(HANDLE h, bool allow_image, const char *function)
{
    wim_file *f = handle_file(h, allow_image);
    if (!f) {
        wim_fail(ERROR_INVALID_HANDLE, "%s: the handle is not an open WIM%s handle.", function,
                 allow_image ? " or image" : "");
        return NULL;
    }
    pthread_mutex_lock(&f->lock);
    if (!f->wim) {
        pthread_mutex_unlock(&f->lock);
        wim_fail(ERROR_INVALID_HANDLE, "%s: '%s' could not be opened again after an earlier "
                 "failure; close the handle and open the file again.", function, f->path);
        return NULL;
    }
    return f;
}

wim_image *image_lock(HANDLE h, const char *function)
{
    wim_image *img = handle_image(h);
    if (!img) {
        wim_fail(ERROR_INVALID_HANDLE, "%s: the handle is not an open image handle (from "
                 "WIMLoadImage or WIMCaptureImage).", function);
        return NULL;
    }
    return file_lock(img->file, false, function) ? img : NULL;
}

HANDLE image_handle_new(wim_file *f, int index, const char *function)
{
    wim_image *img = calloc(1, sizeof *img);
    if (img) {
        img->kind = HANDLE_IMAGE;
        img->file = f;
        img->index = index;
    }
    if (!img || !handle_register(img)) {
        free(img);
        return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "%s: out of memory.", function), NULL;
    }
    handles_lock();
    f->open_images++;
    handles_unlock();
    return img;
}

/* ---- shared helpers ---- */

/* Seconds since 1970 (plus wimlib's high bits) -> 100 ns since 1601. */
uint64_t filetime_of(int64_t sec, int32_t high, int32_t nsec)
{
    int64_t s = (int64_t)(((uint64_t)(uint32_t)high << 32) | (uint64_t)(uint32_t)sec);
    if (high == 0)
        s = sec;
    return (uint64_t)(s + 11644473600LL) * 10000000ULL + (uint64_t)nsec / 100;
}

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

BOOL wide_path_arg(PCWSTR w, const char *function, const char *what, char **out)
{
    *out = NULL;
    if (!w || !*w)
        return wim_fail(ERROR_INVALID_PARAMETER, "%s: %s is required and must not be empty.",
                        function, what);
    *out = wide_to_utf8(w);
    if (!*out)
        return errno == ENOMEM ? wim_fail(ERROR_NOT_ENOUGH_MEMORY, "%s: out of memory.", function)
                               : wim_fail(ERROR_INVALID_NAME, "%s: %s is not a valid Unicode "
                                          "string.", function, what);
    return TRUE;
}

/* Joins the working directory and drops "." and ".." textually; symlinks
 * are left alone (the path names the link the caller meant). */
char *absolute_path(const char *path)
{
    char cwd[PATH_MAX];
    size_t need = strlen(path) + 2;
    if (path[0] != '/') {
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        need += strlen(cwd);
    }
    char *joined = malloc(need), *out = malloc(need);
    if (!joined || !out) {
        free(joined);
        free(out);
        return NULL;
    }
    snprintf(joined, need, "%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/", path);
    size_t len = 0;
    for (char *part = strtok(joined, "/"); part; part = strtok(NULL, "/")) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, part, strlen(part));
        len += strlen(part);
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    free(joined);
    return out;
}

BOOL wide_absolute_path_arg(PCWSTR w, const char *function, const char *what, char **out)
{
    char *given;
    if (!wide_path_arg(w, function, what, &given))
        return *out = NULL, FALSE;
    *out = absolute_path(given);
    free(given);
    if (!*out)
        return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "%s: out of memory.", function);
    return TRUE;
}
