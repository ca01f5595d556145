/*
 * sessions.c - the table of open sessions.
 *
 * A session names an image root (a mounted image or an offline Windows
 * directory tree) and its Windows directory.  Calls that use a session mark
 * it busy for their duration; closing one waits for them, and a call that
 * arrives once the close has begun fails with DISMAPI_E_INVALID_DISM_SESSION,
 * as the DISM documentation describes.  Opening and closing themselves
 * (checking the image path, knowing mounts) are DismOpenSession's and
 * DismCloseSession's, in ../session.c.
 */
#include "core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct session {
    DismSession id;
    session_image image;
    unsigned busy;
    bool closing;
    struct session *next;
} session;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static session *table;
static DismSession next_id = 1;

static session *lookup(DismSession id)
{
    for (session *s = table; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

unsigned sessions_open_count(void)
{
    unsigned n = 0;
    pthread_mutex_lock(&table_lock);
    for (session *s = table; s; s = s->next)
        n++;
    pthread_mutex_unlock(&table_lock);
    return n;
}

unsigned sessions_open_on(const char *mount_path)
{
    unsigned n = 0;
    pthread_mutex_lock(&table_lock);
    for (session *s = table; s; s = s->next)
        n += strcmp(s->image.root, mount_path) == 0;
    pthread_mutex_unlock(&table_lock);
    return n;
}

bool session_exists(DismSession id)
{
    pthread_mutex_lock(&table_lock);
    bool exists = lookup(id) != NULL;
    pthread_mutex_unlock(&table_lock);
    return exists;
}

bool session_add(const session_image *image, DismSession *id)
{
    session *s = calloc(1, sizeof *s);
    if (!s)
        return false;
    s->image = *image;
    pthread_mutex_lock(&table_lock);
    s->id = next_id++;
    if (next_id == DISM_SESSION_DEFAULT)
        next_id = 1;
    s->next = table;
    table = s;
    pthread_mutex_unlock(&table_lock);
    *id = s->id;
    return true;
}

HRESULT session_remove(DismSession id, const char *function)
{
    pthread_mutex_lock(&table_lock);
    session *s = lookup(id);
    if (!s || s->closing) {
        pthread_mutex_unlock(&table_lock);
        return engine_fail(DISMAPI_E_INVALID_DISM_SESSION,
                           "%s: %u is not an open DISM session.", function, (unsigned)id);
    }
    s->closing = true;
    while (s->busy > 0)
        pthread_cond_wait(&idle, &table_lock);
    for (session **p = &table; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    session_image_discard_area(&s->image);
    free(s);
    return S_OK;
}

void session_image_discard_area(session_image *image)
{
    if (!image->from_image_file)
        return;
    /* Removed while still locked, so a sweep by another process never
     * takes it for an abandoned area half-way; the image first, so that a
     * process killed meanwhile leaves its lock file, by which the next
     * open's sweep knows the rest for abandoned.  Only by the process that
     * made it: a forked child closing its copy of the session must leave
     * its parent's files (closing the shared descriptor keeps the lock). */
    if (image->private_area[0] && image->area_owner == getpid() &&
        ((image->root[0] && remove_tree(image->root) != 0) ||
         remove_tree(image->private_area) != 0))
        engine_log(LOG_WARNING, "cannot remove the private area '%s' of a closed session",
                   image->private_area);
    if (image->area_lock >= 0)
        close(image->area_lock);
    image->area_lock = -1;
    image->private_area[0] = '\0';
}

bool session_image_file(DismSession id, char *image_file, size_t size, unsigned *index)
{
    pthread_mutex_lock(&table_lock);
    session *s = lookup(id);
    bool from_file = s && s->image.from_image_file;
    if (from_file) {
        snprintf(image_file, size, "%s", s->image.image_file);
        *index = s->image.image_index;
    }
    pthread_mutex_unlock(&table_lock);
    return from_file;
}

HRESULT session_acquire(DismSession id, const char *function, char *root, size_t size)
{
    return session_acquire_image(id, function, root, NULL, size);
}

HRESULT session_acquire_image(DismSession id, const char *function, char *root, char *windows_dir,
                              size_t size)
{
    pthread_mutex_lock(&table_lock);
    session *s = lookup(id);
    /* Decided under the lock: once it is released a closing session may be
     * freed by DismCloseSession. */
    bool usable = s && !s->closing;
    if (usable && windows_dir && !s->image.windows_dir[0]) {
        char why[sizeof s->image.no_windows];
        snprintf(why, sizeof why, "%s", s->image.no_windows);
        pthread_mutex_unlock(&table_lock);
        return engine_fail(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), "%s: %s", function, why);
    }
    if (usable) {
        s->busy++;
        snprintf(root, size, "%s", s->image.root);
        if (windows_dir)
            snprintf(windows_dir, size, "%s", s->image.windows_dir);
    }
    pthread_mutex_unlock(&table_lock);
    if (usable)
        return S_OK;
    return engine_fail(DISMAPI_E_INVALID_DISM_SESSION,
                       "%s: %u is not an open DISM session (never opened, or already closed).",
                       function, (unsigned)id);
}

void session_release(DismSession id)
{
    pthread_mutex_lock(&table_lock);
    session *s = lookup(id);
    if (s && s->busy > 0 && --s->busy == 0)
        pthread_cond_broadcast(&idle);
    pthread_mutex_unlock(&table_lock);
}
