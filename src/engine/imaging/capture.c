/*
 * capture.c - WIMCaptureImage: scans a folder into a new image with
 * wimlib_add_image and writes it before returning (a new WIM through its
 * temporary file, an append in place; commit.c), then hands back the new
 * image's handle.  WIMGAPI's capture takes no name: callers set NAME with
 * WIMSetImageInformation afterwards, so the image is captured unnamed.
 *
 * Every file is offered to the exclusion test: the WIM being written is
 * never captured into itself, and with callbacks registered each path is
 * sent as WIM_MSG_PROCESS, where FALSE skips it.  WIMCaptureImage takes no
 * WimScript.ini; a caller applies one through those answers, as DISM.exe
 * does (dism/imaging/_config.py).
 */
#include "imaging.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define UNSUPPORTED_CAPTURE_FLAGS (WIM_FLAG_WIM_BOOT)

static int add_flags_for(DWORD flags)
{
    int add = WIMLIB_ADD_FLAG_TEST_FILE_EXCLUSION;
    if (flags & (WIM_FLAG_NO_DIRACL | WIM_FLAG_NO_FILEACL))
        add |= WIMLIB_ADD_FLAG_NO_ACLS;
    add |= (flags & WIM_FLAG_NO_RP_FIX) ? WIMLIB_ADD_FLAG_NORPFIX : WIMLIB_ADD_FLAG_RPFIX;
    /* SCAN_DENTRY: WIM_MSG_SCANNING, and the special files left out (a
     * warning in the log even when nobody listens for messages) */
    add |= WIMLIB_ADD_FLAG_VERBOSE;
    return add;
}

static BOOL check_source(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? wim_fail(ERROR_PATH_NOT_FOUND, "WIMCaptureImage: the folder "
                                          "'%s' does not exist.", dir)
                               : wim_fail_errno(errno, "WIMCaptureImage: cannot read '%s'", dir);
    if (!S_ISDIR(st.st_mode))
        return wim_fail(ERROR_DIRECTORY, "WIMCaptureImage: '%s' is not a folder.", dir);
    return TRUE;
}

/* Scans and writes; the new image's index, or 0 with the last error set. */
static int capture_into(wim_file *f, const char *source, DWORD flags)
{
    wim_op op;
    op_init(&op, "WIMCaptureImage", f, NULL);
    op.flags = flags;
    op.listing = op_has_callbacks(&op);
    op.exclude_path = f->path;
    op_attach(&op, f->wim);
    int rc = wimlib_add_image(f->wim, source, NULL, NULL, add_flags_for(flags));
    op_detach(f->wim);
    if (rc != 0) {
        op_fail(&op, rc, "WIMCaptureImage: cannot capture '%s'", source);
        return 0;
    }
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    if (!file_commit(f, &op, 0))
        return 0;
    return (int)info.image_count;
}

HANDLE WINAPI WIMCaptureImage(HANDLE Wim, PCWSTR Path, DWORD CaptureFlags)
{
    wim_begin();
    if (CaptureFlags & UNSUPPORTED_CAPTURE_FLAGS)
        return wim_fail(ERROR_NOT_SUPPORTED, "WIMCaptureImage: WIM_FLAG_WIM_BOOT needs Windows; "
                        "the portable engine captures ordinary images only."), NULL;
    char *source;
    if (!wide_absolute_path_arg(Path, "WIMCaptureImage", "the folder to capture", &source))
        return NULL;
    HANDLE image = NULL;
    wim_file *f = check_source(source) ? file_lock(Wim, false, "WIMCaptureImage") : NULL;
    if (f) {
        int index = file_require_write(f, "WIMCaptureImage") ? capture_into(f, source,
                                                                            CaptureFlags)
                                                             : 0;
        pthread_mutex_unlock(&f->lock);
        if (index)
            image = image_handle_new(f, index, "WIMCaptureImage");
    }
    free(source);
    return image;
}
