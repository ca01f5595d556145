/*
 * apply.c - WIMApplyImage, and the listing it gives with WIM_FLAG_NO_APPLY.
 *
 * One walk of the image (wimlib_iterate_dir_tree) comes before wimlib's
 * extraction, doing what wimlib's own extraction cannot:
 *   - WIM_MSG_PROCESS per file (FALSE skips it: the rest is then extracted
 *     with wimlib_extract_paths), WIM_MSG_FILEINFO with WIM_FLAG_FILEINFO;
 *   - WIM_MSG_WARNING per file a Linux directory cannot hold whole;
 *   - clearing the way in a target that is not empty (applysafe.c).
 * With WIM_FLAG_NO_APPLY the walk is all there is: a listing.  Without
 * callbacks and into an empty folder there is no walk at all.
 * A cancelled apply leaves what was already written, as WIMGAPI does.
 */
#include "imaging.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNSUPPORTED_APPLY_FLAGS (WIM_FLAG_WIM_BOOT | WIM_FLAG_APPLY_COMPACT)


typedef struct {
    char *path; /* inside the image */
    size_t depth;
    bool dir, skipped;
} walk_entry;

typedef struct {
    wim_op *op;
    const char *target;  /* NULL: a listing without a folder */
    bool messages, clear_way, no_apply;
    walk_entry *seen;    /* every entry, to extract the kept ones when one was skipped */
    size_t seen_count, seen_cap;
    bool skipped;
    size_t skip_depth;   /* inside a skipped folder while depth > this */
    bool in_skip;
    size_t lost_depth;   /* inside a folder wimlib cannot extract while depth > this */
    bool in_lost;
    BOOL failed;
} walk_ctx;

static void fill_find_data(const struct wimlib_dir_entry *d, WIN32_FIND_DATAW *fd)
{
    memset(fd, 0, sizeof *fd);
    fd->dwFileAttributes = d->attributes;
    uint64_t t[3] = {
        filetime_of(d->creation_time.tv_sec, d->creation_time_high, d->creation_time.tv_nsec),
        filetime_of(d->last_access_time.tv_sec, d->last_access_time_high,
                    d->last_access_time.tv_nsec),
        filetime_of(d->last_write_time.tv_sec, d->last_write_time_high,
                    d->last_write_time.tv_nsec),
    };
    FILETIME *ft[3] = {&fd->ftCreationTime, &fd->ftLastAccessTime, &fd->ftLastWriteTime};
    for (int i = 0; i < 3; i++) {
        ft[i]->dwLowDateTime = (DWORD)t[i];
        ft[i]->dwHighDateTime = (DWORD)(t[i] >> 32);
    }
    uint64_t size = d->streams[0].resource.uncompressed_size;
    fd->nFileSizeHigh = (DWORD)(size >> 32);
    fd->nFileSizeLow = (DWORD)size;
    fd->dwReserved0 = d->reparse_tag;
    wchar_t *name = utf8_to_wide(d->filename ? d->filename : "");
    if (name) {
        wcsncpy(fd->cFileName, name, MAX_PATH - 1);
        free(name);
    }
    wchar_t *dos = d->dos_name && *d->dos_name ? utf8_to_wide(d->dos_name) : NULL;
    if (dos) {
        wcsncpy(fd->cAlternateFileName, dos, 13);
        free(dos);
    }
}

static bool remember(walk_ctx *w, const struct wimlib_dir_entry *d, bool skipped)
{
    if (w->seen_count == w->seen_cap) {
        size_t cap = w->seen_cap ? w->seen_cap * 2 : 256;
        walk_entry *grown = realloc(w->seen, cap * sizeof *grown);
        if (!grown)
            return false;
        w->seen = grown;
        w->seen_cap = cap;
    }
    walk_entry *e = &w->seen[w->seen_count];
    e->depth = d->depth;
    e->skipped = skipped;
    e->dir = (d->attributes & (WIMLIB_FILE_ATTRIBUTE_DIRECTORY |
                               WIMLIB_FILE_ATTRIBUTE_REPARSE_POINT)) ==
             WIMLIB_FILE_ATTRIBUTE_DIRECTORY;
    if (!(e->path = strdup(d->full_path)))
        return false;
    w->seen_count++;
    return true;
}

/* The paths to extract once something was skipped: every kept file, and
 * every kept folder that has nothing inside it in the image (a folder with
 * content comes along with its kept content; naming it would bring its
 * skipped content too).  NULL-free array of borrowed strings. */
static const char **kept_paths(const walk_ctx *w, size_t *count)
{
    const char **out = malloc((w->seen_count + 1) * sizeof *out);
    *count = 0;
    for (size_t i = 0; out && i < w->seen_count; i++) {
        const walk_entry *e = &w->seen[i];
        bool has_content = i + 1 < w->seen_count && w->seen[i + 1].depth > e->depth;
        if (!e->skipped && (!e->dir || !has_content))
            out[(*count)++] = e->path;
    }
    return out;
}

/* PROCESS and FILEINFO; false when the callback skips this file. */
static bool announce(walk_ctx *w, const struct wimlib_dir_entry *d, const char *path)
{
    BOOL include = TRUE;
    op_send_path(w->op, WIM_MSG_PROCESS, path, (LPARAM)&include);
    if (include && (w->op->flags & WIM_FLAG_FILEINFO)) {
        WIN32_FIND_DATAW fd;
        fill_find_data(d, &fd);
        op_send_path(w->op, WIM_MSG_FILEINFO, path, (LPARAM)&fd);
    }
    return include;
}

static void warn_losses(walk_ctx *w, const struct wimlib_dir_entry *d, const char *path)
{
    char lost[160];
    if (!*apply_losses(d, w->op->flags, lost, sizeof lost))
        return;
    engine_log(LOG_WARNING, "%s: '%s' loses %s on a Linux directory", w->op->function, path,
               lost);
    op_send_path(w->op, WIM_MSG_WARNING, path, (LPARAM)ERROR_NOT_SUPPORTED);
}

/* Whether d is left out by wimlib for a name Linux cannot hold (its own or
 * a folder's above it); says so when it is. */
static bool lost_to_linux(walk_ctx *w, const struct wimlib_dir_entry *d, const char *path)
{
    if (w->in_lost && d->depth <= w->lost_depth)
        w->in_lost = false;
    if (!w->in_lost && apply_name_unusable(d)) {
        w->in_lost = true;
        w->lost_depth = d->depth;
    }
    if (!w->in_lost)
        return false;
    engine_log(LOG_WARNING, "%s: '%s' is not applied: its name (or its folder's) cannot exist "
               "on Linux", w->op->function, path);
    if (w->messages)
        op_send_path(w->op, WIM_MSG_WARNING, path, (LPARAM)ERROR_INVALID_NAME);
    return true;
}

static int visit(const struct wimlib_dir_entry *d, void *ctx)
{
    walk_ctx *w = ctx;
    if (w->in_skip && d->depth > w->skip_depth)
        return 0;
    w->in_skip = false;
    char path[ENGINE_PATH_MAX * 2];
    snprintf(path, sizeof path, "%s%s", w->target ? w->target : "",
             d->depth == 0 && w->target ? "" : d->full_path);
    bool included = !w->messages || announce(w, d, path);
    if (w->op->aborted)
        return WIMLIB_ERR_ABORTED_BY_PROGRESS;
    if (w->no_apply)
        return 0;
    bool lost = included && lost_to_linux(w, d, path);
    if (w->messages && d->depth > 0 && !remember(w, d, !included || lost))
        return WIMLIB_ERR_NOMEM;
    if (!included) {
        w->skipped = true;
        w->in_skip = true;
        w->skip_depth = d->depth;
    }
    if (!included || lost)
        return 0;
    if (w->messages)
        warn_losses(w, d, path);
    if (w->clear_way && !apply_clear_entry(path, d, w->op->function)) {
        w->failed = TRUE;
        return 1; /* w->failed holds the reason */
    }
    return 0;
}

static void free_walk(walk_ctx *w)
{
    for (size_t i = 0; i < w->seen_count; i++)
        free(w->seen[i].path);
    free(w->seen);
}

static int extract_flags_for(DWORD flags)
{
    int x = 0;
    if (flags & (WIM_FLAG_NO_DIRACL | WIM_FLAG_NO_FILEACL))
        x |= WIMLIB_EXTRACT_FLAG_NO_ACLS;
    if (flags & WIM_FLAG_NO_RP_FIX)
        x |= WIMLIB_EXTRACT_FLAG_NORPFIX;
    return x;
}

static BOOL prepare_target(const char *target, bool *empty)
{
    struct stat st;
    if (stat(target, &st) != 0) {
        if (errno != ENOENT)
            return wim_fail_errno(errno, "WIMApplyImage: cannot use '%s'", target);
        *empty = true;
        return TRUE;
    }
    if (!S_ISDIR(st.st_mode))
        return wim_fail(ERROR_DIRECTORY, "WIMApplyImage: '%s' is not a folder.", target);
    /* wimlib resolves every file's path from the target again: whoever else
     * may write to the target can swap a folder the apply just made for a
     * link to anywhere (between wimlib's mkdir and its opens below it), and
     * this process would write the image there.  Only the caller (and its
     * own group) may write to the target. */
    if (st.st_uid != geteuid() || (st.st_mode & S_IWOTH) ||
        ((st.st_mode & S_IWGRP) && st.st_gid != getegid()))
        return wim_fail(ERROR_ACCESS_DENIED, "WIMApplyImage: '%s' can be written by other "
                        "users, who could redirect the files being applied out of it through "
                        "links; apply into a folder only you can write to.", target);
    int err = 0;
    *empty = dir_is_empty(target, &err);
    if (err)
        return wim_fail_errno(err, "WIMApplyImage: cannot read '%s'", target);
    return TRUE;
}

static int extract_kept(const walk_ctx *w, WIMStruct *wim, int index, const char *target,
                        int flags)
{
    size_t n;
    const char **paths = kept_paths(w, &n);
    if (!paths)
        return WIMLIB_ERR_NOMEM;
    int rc = n ? wimlib_extract_paths(wim, index, target, paths, n, flags) : 0;
    free(paths);
    return rc;
}

static BOOL run_apply(wim_image *img, const char *target, DWORD flags, wim_op *op)
{
    WIMStruct *wim = img->file->wim;
    walk_ctx w = {.op = op, .target = target, .no_apply = (flags & WIM_FLAG_NO_APPLY) != 0};
    w.messages = op_has_callbacks(op);
    bool empty = true;
    if (!w.no_apply && !prepare_target(target, &empty))
        return FALSE;
    w.clear_way = !w.no_apply && !empty;
    int rc = 0;
    if (w.messages || w.clear_way || w.no_apply)
        rc = wimlib_iterate_dir_tree(wim, img->index, "/", WIMLIB_ITERATE_DIR_TREE_FLAG_RECURSIVE,
                                     visit, &w);
    if (rc == 0 && !w.no_apply) {
        op_attach(op, wim);
        if (w.skipped)
            rc = extract_kept(&w, wim, img->index, target, extract_flags_for(flags));
        else
            rc = wimlib_extract_image(wim, img->index, target, extract_flags_for(flags));
        op_detach(wim);
    }
    free_walk(&w);
    if (w.failed)
        return FALSE;
    if (rc != 0)
        return op_fail(op, rc, "WIMApplyImage: cannot apply image %d of '%s'%s%s", img->index,
                       img->file->path, target ? " to " : "", target ? target : "");
    return TRUE;
}

BOOL WINAPI WIMApplyImage(HANDLE Image, PCWSTR Path, DWORD ApplyFlags)
{
    wim_begin();
    if (ApplyFlags & UNSUPPORTED_APPLY_FLAGS)
        return wim_fail(ERROR_NOT_SUPPORTED, "WIMApplyImage: WIM_FLAG_WIM_BOOT and "
                        "WIM_FLAG_APPLY_COMPACT need Windows (WOF); apply without them.");
    char *target = NULL;
    if (Path && *Path &&
        !wide_absolute_path_arg(Path, "WIMApplyImage", "the target folder", &target))
        return FALSE;
    if (!target && !(ApplyFlags & WIM_FLAG_NO_APPLY))
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMApplyImage: a target folder is required "
                        "unless WIM_FLAG_NO_APPLY is given.");
    wim_image *img = image_lock(Image, "WIMApplyImage");
    BOOL ok = FALSE;
    if (img) {
        wim_op op;
        op_init(&op, "WIMApplyImage", img->file, NULL);
        op.flags = ApplyFlags;
        op.partial = !(ApplyFlags & WIM_FLAG_NO_APPLY);
        ok = run_apply(img, target, ApplyFlags, &op);
        pthread_mutex_unlock(&img->file->lock);
    }
    free(target);
    return ok;
}
