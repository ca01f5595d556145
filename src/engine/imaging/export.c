/*
 * export.c - WIMExportImage: copies an image (from WIMLoadImage) into
 * another WIM opened for writing, and writes it there before returning
 * (commit.c).  wimlib recompresses to the destination's compression, so
 * WIM <-> ESD (solid LZMS) is an export.
 *
 * WIMGAPI refuses an image the destination already holds unless
 * WIM_EXPORT_ALLOW_DUPLICATES is given (ERROR_ALREADY_EXISTS); wimlib only
 * notices the same in-memory image twice, so the engine compares the SHA-1
 * of the image's metadata resource with those of the destination's
 * images.  wimlib also wants image names unique where WIMGAPI does not: a
 * name the destination already uses gets " (2)", " (3)", ... appended.
 */
#include "imaging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t (*hashes)[20];
    size_t count, cap;
} metadata_hashes;

static int collect_metadata(const struct wimlib_resource_entry *e, void *ctx)
{
    metadata_hashes *m = ctx;
    if (!e->is_metadata)
        return 0;
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        uint8_t(*grown)[20] = realloc(m->hashes, cap * sizeof *grown);
        if (!grown)
            return WIMLIB_ERR_NOMEM;
        m->hashes = grown;
        m->cap = cap;
    }
    memcpy(m->hashes[m->count++], e->sha1_hash, 20);
    return 0;
}

/* Whether dest already holds the image (same metadata resource). */
static int already_holds(WIMStruct *src, int index, WIMStruct *dest, bool *found)
{
    metadata_hashes s = {0}, d = {0};
    int rc = wimlib_iterate_lookup_table(src, 0, collect_metadata, &s);
    if (rc == 0)
        rc = wimlib_iterate_lookup_table(dest, 0, collect_metadata, &d);
    *found = false;
    for (size_t i = 0; rc == 0 && (size_t)index <= s.count && i < d.count; i++)
        if (memcmp(s.hashes[index - 1], d.hashes[i], 20) == 0)
            *found = true;
    free(s.hashes);
    free(d.hashes);
    return rc;
}

static bool name_in_use(WIMStruct *wim, const char *name)
{
    struct wimlib_wim_info info;
    wimlib_get_wim_info(wim, &info);
    for (int i = 1; i <= (int)info.image_count; i++) {
        const char *n = wimlib_get_image_name(wim, i);
        if (n && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

/* The source's name, or a free variation of it; NULL for an unnamed image. */
static char *dest_name(WIMStruct *src, int index, WIMStruct *dest)
{
    const char *name = wimlib_get_image_name(src, index);
    if (!name || !*name)
        return NULL;
    size_t size = strlen(name) + 24;
    char *out = malloc(size);
    if (!out)
        return NULL;
    snprintf(out, size, "%s", name);
    for (unsigned k = 2; name_in_use(dest, out); k++)
        snprintf(out, size, "%s (%u)", name, k);
    return out;
}

static BOOL export_locked(wim_image *img, wim_file *dest, DWORD flags)
{
    wim_file *src = img->file;
    if (!file_require_write(dest, "WIMExportImage"))
        return FALSE;
    if (!(flags & WIM_EXPORT_ALLOW_DUPLICATES)) {
        bool found;
        int rc = already_holds(src->wim, img->index, dest->wim, &found);
        if (rc != 0)
            return wim_fail_wimlib(rc, "WIMExportImage: cannot read the images of '%s'",
                                   dest->path);
        if (found)
            return wim_fail(ERROR_ALREADY_EXISTS, "WIMExportImage: '%s' already holds image %d "
                            "of '%s'; pass WIM_EXPORT_ALLOW_DUPLICATES to add it again.",
                            dest->path, img->index, src->path);
    }
    char *name = dest_name(src->wim, img->index, dest->wim);
    int rc = wimlib_export_image(src->wim, img->index, dest->wim, name, NULL, 0);
    free(name);
    if (rc != 0) {
        file_discard(dest);
        return wim_fail_wimlib(rc, "WIMExportImage: cannot export image %d of '%s' to '%s'",
                               img->index, src->path, dest->path);
    }
    wim_op op;
    op_init(&op, "WIMExportImage", src, dest);
    return file_commit(dest, &op, 0);
}

BOOL WINAPI WIMExportImage(HANDLE Image, HANDLE Wim, DWORD Flags)
{
    wim_begin();
    if (Flags & (WIM_EXPORT_ONLY_RESOURCES | WIM_EXPORT_ONLY_METADATA))
        return wim_fail(ERROR_NOT_SUPPORTED, "WIMExportImage: WIM_EXPORT_ONLY_RESOURCES and "
                        "WIM_EXPORT_ONLY_METADATA are not supported by the portable engine; "
                        "export whole images.");
    wim_image *img = handle_image(Image);
    wim_file *dest = handle_file(Wim, false);
    if (!img || !dest)
        return wim_fail(ERROR_INVALID_HANDLE, "WIMExportImage: give an image handle (from "
                        "WIMLoadImage) and a WIM handle opened for writing.");
    if (img->file == dest)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMExportImage: the image already is in "
                        "'%s'; export it to another WIM.", dest->path);
    /* Two locks, always taken in the same order. */
    wim_file *first = img->file < dest ? img->file : dest;
    wim_file *second = first == dest ? img->file : dest;
    if (!file_lock(first, false, "WIMExportImage"))
        return FALSE;
    if (!file_lock(second, false, "WIMExportImage")) {
        pthread_mutex_unlock(&first->lock);
        return FALSE;
    }
    BOOL ok = export_locked(img, dest, Flags);
    pthread_mutex_unlock(&second->lock);
    pthread_mutex_unlock(&first->lock);
    return ok;
}
