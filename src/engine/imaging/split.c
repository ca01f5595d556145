/*
 * split.c - WIMSplitFile: a WIM into parts of at most a given size
 * (name.swm, name2.swm, ... like DISM), and its size query: a size of 0,
 * or one smaller than the largest resource, fails with ERROR_MORE_DATA and
 * writes back the smallest size that works.  wimlib cannot split a WIM
 * with solid resources (an ESD): ERROR_NOT_SUPPORTED.  A failed or
 * cancelled split removes the parts it wrote.
 */
#include "imaging.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WIM_HEADER_SIZE 208

typedef struct {
    uint64_t largest;
    bool solid;
} resource_scan;

static int scan_resource(const struct wimlib_resource_entry *e, void *ctx)
{
    resource_scan *s = ctx;
    if (e->packed)
        s->solid = true;
    uint64_t size = e->is_compressed ? e->compressed_size : e->uncompressed_size;
    if (size > s->largest)
        s->largest = size;
    return 0;
}

static void remove_parts(wim_op *op)
{
    for (size_t i = 0; i < op->part_count; i++)
        unlink(op->parts[i]);
}

static BOOL split_locked(wim_file *f, const char *part, PLARGE_INTEGER size)
{
    if (f->pending)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMSplitFile: '%s' holds no image yet.",
                        f->path);
    resource_scan scan = {0};
    int rc = wimlib_iterate_lookup_table(f->wim, 0, scan_resource, &scan);
    if (rc != 0)
        return wim_fail_wimlib(rc, "WIMSplitFile: cannot read the resources of '%s'", f->path);
    if (scan.solid)
        return wim_fail(ERROR_NOT_SUPPORTED, "WIMSplitFile: '%s' has solid resources (an ESD), "
                        "which cannot be split; export it to a non-solid WIM first.", f->path);
    uint64_t minimum = scan.largest + WIM_HEADER_SIZE;
    if (size->QuadPart <= 0 || (uint64_t)size->QuadPart < minimum) {
        size->QuadPart = (int64_t)minimum;
        return wim_fail(ERROR_MORE_DATA, "WIMSplitFile: parts of '%s' must hold at least %llu "
                        "bytes (its largest resource); that size was written back.", f->path,
                        (unsigned long long)minimum);
    }
    wim_op op;
    op_init(&op, "WIMSplitFile", f, NULL);
    op.part_size = (uint64_t)size->QuadPart;
    op_attach(&op, f->wim);
    rc = wimlib_split(f->wim, part, (uint64_t)size->QuadPart, file_write_flags(f));
    op_detach(f->wim);
    BOOL ok = TRUE;
    if (rc != 0) {
        remove_parts(&op);
        ok = op_fail(&op, rc, "WIMSplitFile: cannot split '%s' into '%s'", f->path, part);
    }
    op_free(&op);
    return ok;
}

BOOL WINAPI WIMSplitFile(HANDLE Wim, PCWSTR PartPath, PLARGE_INTEGER PartSize, DWORD Flags)
{
    wim_begin();
    if (!PartSize)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMSplitFile: PartSize is required.");
    char *part;
    if (!wide_absolute_path_arg(PartPath, "WIMSplitFile", "the first part's path", &part))
        return FALSE;
    wim_file *f = file_lock(Wim, false, "WIMSplitFile");
    BOOL ok = FALSE;
    if (f) {
        ok = split_locked(f, part, PartSize);
        pthread_mutex_unlock(&f->lock);
    }
    free(part);
    return ok;
}
