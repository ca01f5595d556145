/*
 * delete.c - WIMDeleteImage, like DISM's /Delete-Image: the image's
 * metadata and XML entry go, its file data stays (wimlib's soft delete: no
 * rebuild), written before the call returns.  The last image of a WIM
 * cannot be deleted (ERROR_ACCESS_DENIED, as WIMGAPI), nor an image of a
 * WIM with open image handles (their indexes would move).
 */
#include "imaging.h"

BOOL WINAPI WIMDeleteImage(HANDLE Wim, DWORD ImageIndex)
{
    wim_begin();
    wim_file *f = file_lock(Wim, false, "WIMDeleteImage");
    if (!f)
        return FALSE;
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    handles_lock();
    unsigned images = f->open_images;
    handles_unlock();
    BOOL ok = file_require_write(f, "WIMDeleteImage") &&
              file_check_index(f, ImageIndex, false, "WIMDeleteImage");
    if (ok && info.image_count == 1)
        ok = wim_fail(ERROR_ACCESS_DENIED, "WIMDeleteImage: image %u is the only image of '%s', "
                      "and a WIM keeps at least one; delete the file instead.",
                      (unsigned)ImageIndex, f->path);
    else if (ok && images)
        ok = wim_fail(ERROR_BUSY, "WIMDeleteImage: %u image handle(s) of '%s' are open; close "
                      "them first.", images, f->path);
    if (ok) {
        int rc = wimlib_delete_image(f->wim, (int)ImageIndex);
        wim_op op;
        op_init(&op, "WIMDeleteImage", f, NULL);
        ok = rc == 0 ? file_commit(f, &op, WIMLIB_WRITE_FLAG_SOFT_DELETE)
                     : wim_fail_wimlib(rc, "WIMDeleteImage: cannot delete image %u of '%s'",
                                       (unsigned)ImageIndex, f->path);
        if (rc != 0)
            file_discard(f);
    }
    pthread_mutex_unlock(&f->lock);
    return ok;
}
