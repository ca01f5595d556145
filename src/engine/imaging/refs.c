/*
 * refs.c - WIMSetReferenceFile: other WIM files (the parts 2..n of a split
 * WIM, usually) whose resources an apply or export may read.  wimlib
 * cannot forget a reference, so the list is kept on the handle: REPLACE
 * reopens the WIM and references the new list, and every reopen after a
 * write references it again (commit.c: file_reopen).
 */
#include "imaging.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void clear_refs(wim_file *f)
{
    for (size_t i = 0; i < f->ref_count; i++)
        free(f->refs[i]);
    free(f->refs);
    f->refs = NULL;
    f->ref_count = 0;
}

static BOOL add_ref(wim_file *f, char *path, DWORD flags)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return wim_fail(ERROR_FILE_NOT_FOUND, "WIMSetReferenceFile: '%s' is not an existing "
                        "file.", path);
    int open_flags = (flags & WIM_FLAG_VERIFY) ? WIMLIB_OPEN_FLAG_CHECK_INTEGRITY : 0;
    const char *one[1] = {path};
    int rc = wimlib_reference_resource_files(f->wim, one, 1, 0, open_flags);
    if (rc != 0)
        return wim_fail_wimlib(rc, "WIMSetReferenceFile: cannot use '%s' as a reference of '%s'",
                               path, f->path);
    char **grown = realloc(f->refs, (f->ref_count + 1) * sizeof *grown);
    char *copy = strdup(path);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            f->refs = grown;
        return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMSetReferenceFile: out of memory.");
    }
    f->refs = grown;
    f->refs[f->ref_count++] = copy;
    f->ref_flags |= flags;
    return TRUE;
}

BOOL WINAPI WIMSetReferenceFile(HANDLE Wim, PCWSTR Path, DWORD Flags)
{
    wim_begin();
    DWORD mode = Flags & (WIM_REFERENCE_APPEND | WIM_REFERENCE_REPLACE);
    if (mode != WIM_REFERENCE_APPEND && mode != WIM_REFERENCE_REPLACE)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMSetReferenceFile: give exactly one of "
                        "WIM_REFERENCE_APPEND and WIM_REFERENCE_REPLACE.");
    char *path = NULL;
    if (!(mode == WIM_REFERENCE_REPLACE && (!Path || !*Path)) &&
        !wide_absolute_path_arg(Path, "WIMSetReferenceFile", "the reference file", &path))
        return FALSE;
    wim_file *f = file_lock(Wim, false, "WIMSetReferenceFile");
    BOOL ok = f != NULL;
    if (f && mode == WIM_REFERENCE_REPLACE) {
        clear_refs(f);
        file_discard(f); /* a fresh WIMStruct, referencing nothing */
        if (!f->wim)
            ok = wim_fail(ERROR_INVALID_HANDLE, "WIMSetReferenceFile: '%s' cannot be opened "
                          "again.", f->path);
    }
    if (ok && path)
        ok = add_ref(f, path, Flags & ~mode);
    if (f)
        pthread_mutex_unlock(&f->lock);
    free(path);
    return ok;
}
