/*
 * extract.c - WIMExtractImagePath: one file of an image to a destination
 * file.  wimlib extracts it into a private folder made beside the
 * destination, and it is renamed over the destination from there, so
 * neither a link standing at the destination nor the image's own names
 * can make it write anywhere else, and a failed extraction leaves nothing.
 */
#include "imaging.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "Windows\\System32\\x" or "\\Windows/x" -> "/Windows/System32/x". */
static char *image_path_of(const char *given)
{
    size_t n = strlen(given);
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t k = 0;
    if (given[0] != '\\' && given[0] != '/')
        out[k++] = '/';
    for (size_t i = 0; i < n; i++)
        out[k++] = given[i] == '\\' ? '/' : given[i];
    while (k > 1 && out[k - 1] == '/') /* "Windows\\" names the folder */
        k--;
    out[k] = '\0';
    return out;
}

/* The one entry wimlib extracted into `dir`, under the name the image gives
 * it (which may differ in case from the one asked for). */
static bool only_entry(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(out, size, "%s/%s", dir, e->d_name);
        found = true;
        break;
    }
    closedir(d);
    return found;
}

static BOOL extract_locked(wim_image *img, const char *inside, const char *dest)
{
    char *copy = strdup(dest);
    if (!copy)
        return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMExtractImagePath: out of memory.");
    char staging[ENGINE_PATH_MAX + 32];
    snprintf(staging, sizeof staging, "%s/.dism-extract-XXXXXX", dirname(copy));
    free(copy);
    if (!mkdtemp(staging))
        return wim_fail_errno(errno, "WIMExtractImagePath: cannot create a folder beside '%s'",
                              dest);
    wim_op op;
    op_init(&op, "WIMExtractImagePath", img->file, NULL);
    op_attach(&op, img->file->wim);
    const char *paths[1] = {inside};
    int rc = wimlib_extract_paths(img->file->wim, img->index, staging, paths, 1,
                                  WIMLIB_EXTRACT_FLAG_NO_PRESERVE_DIR_STRUCTURE);
    op_detach(img->file->wim);
    char got[ENGINE_PATH_MAX * 2];
    BOOL ok = TRUE;
    if (rc == 0 && !only_entry(staging, got, sizeof got))
        ok = wim_fail(ERROR_PATH_NOT_FOUND, "WIMExtractImagePath: '%s' of image %d of '%s' "
                      "extracted to nothing (its name cannot exist on Linux?).", inside,
                      img->index, img->file->path);
    else if (rc != 0)
        ok = op_fail(&op, rc, "WIMExtractImagePath: cannot extract '%s' from image %d of '%s'",
                     inside, img->index, img->file->path);
    else if (rename(got, dest) != 0)
        ok = wim_fail_errno(errno, "WIMExtractImagePath: cannot move '%s' to '%s'", inside,
                            dest);
    remove_tree(staging);
    return ok;
}

BOOL WINAPI WIMExtractImagePath(HANDLE Image, PCWSTR ImagePath, PCWSTR DestinationPath,
                                DWORD ExtractFlags)
{
    wim_begin();
    char *given = NULL, *dest = NULL;
    if (!wide_path_arg(ImagePath, "WIMExtractImagePath", "the path in the image", &given))
        return FALSE;
    if (!wide_absolute_path_arg(DestinationPath, "WIMExtractImagePath", "the destination file",
                                &dest)) {
        free(given);
        return FALSE;
    }
    char *inside = image_path_of(given);
    free(given);
    BOOL ok = FALSE;
    if (!inside) {
        ok = wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMExtractImagePath: out of memory.");
    } else if (strcmp(inside, "/") == 0) {
        ok = wim_fail(ERROR_INVALID_PARAMETER, "WIMExtractImagePath: give a file inside the "
                      "image, not its root (WIMApplyImage applies the whole image).");
    } else {
        wim_image *img = image_lock(Image, "WIMExtractImagePath");
        if (img) {
            ok = extract_locked(img, inside, dest);
            pthread_mutex_unlock(&img->file->lock);
        }
    }
    free(inside);
    free(dest);
    return ok;
}
