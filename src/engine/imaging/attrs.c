/*
 * attrs.c - what a WIM handle says about its file: WIMGetImageCount,
 * WIMGetAttributes (WIM_INFO), WIMSetBootImage (written before returning),
 * and WIMLoadImage, which makes an image handle.
 */
#include "imaging.h"

#include <stdlib.h>
#include <string.h>

DWORD WINAPI WIMGetImageCount(HANDLE Wim)
{
    wim_begin();
    wim_file *f = file_lock(Wim, false, "WIMGetImageCount");
    if (!f)
        return 0;
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    pthread_mutex_unlock(&f->lock);
    return info.image_count;
}

BOOL file_check_index(wim_file *f, DWORD index, bool zero_ok, const char *function)
{
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    if ((index >= 1 || zero_ok) && index <= info.image_count)
        return TRUE;
    return wim_fail(ERROR_INVALID_PARAMETER, "%s: '%s' has %u image(s); there is no image %u.",
                    function, f->path, info.image_count, (unsigned)index);
}

static DWORD attributes_of(const struct wimlib_wim_info *info)
{
    DWORD a = WIM_ATTRIBUTE_NORMAL;
    if (info->resource_only)
        a |= WIM_ATTRIBUTE_RESOURCE_ONLY;
    if (info->metadata_only)
        a |= WIM_ATTRIBUTE_METADATA_ONLY;
    if (info->has_integrity_table)
        a |= WIM_ATTRIBUTE_VERIFY_DATA;
    if (info->has_rpfix)
        a |= WIM_ATTRIBUTE_RP_FIX;
    if (info->spanned || info->total_parts > 1)
        a |= WIM_ATTRIBUTE_SPANNED;
    if (info->is_marked_readonly)
        a |= WIM_ATTRIBUTE_READONLY;
    return a;
}

BOOL WINAPI WIMGetAttributes(HANDLE Wim, PWIM_INFO WimInfo, DWORD cbWimInfo)
{
    wim_begin();
    if (!WimInfo || cbWimInfo < sizeof(WIM_INFO))
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMGetAttributes: the WIM_INFO buffer must "
                        "hold %zu bytes.", sizeof(WIM_INFO));
    wim_file *f = file_lock(Wim, false, "WIMGetAttributes");
    if (!f)
        return FALSE;
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    memset(WimInfo, 0, sizeof *WimInfo);
    wchar_t *w = utf8_to_wide(f->path);
    if (w) {
        wcsncpy(WimInfo->WimPath, w, MAX_PATH - 1);
        free(w);
    }
    /* The GUID's bytes as stored in the header, which is GUID's own
     * little-endian layout on every platform the engine runs on. */
    memcpy(&WimInfo->Guid, info.guid, sizeof WimInfo->Guid);
    WimInfo->ImageCount = info.image_count;
    WimInfo->CompressionType = (DWORD)info.compression_type;
    WimInfo->PartNumber = (USHORT)info.part_number;
    WimInfo->TotalParts = (USHORT)info.total_parts;
    WimInfo->BootIndex = info.boot_index;
    WimInfo->WimAttributes = attributes_of(&info);
    WimInfo->WimFlagsAndAttr = f->flags;
    pthread_mutex_unlock(&f->lock);
    return TRUE;
}

BOOL WINAPI WIMSetBootImage(HANDLE Wim, DWORD ImageIndex)
{
    wim_begin();
    wim_file *f = file_lock(Wim, false, "WIMSetBootImage");
    if (!f)
        return FALSE;
    BOOL ok = file_require_write(f, "WIMSetBootImage") &&
              file_check_index(f, ImageIndex, true, "WIMSetBootImage");
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    if (ok && info.boot_index != ImageIndex) {
        info.boot_index = ImageIndex;
        int rc = wimlib_set_wim_info(f->wim, &info, WIMLIB_CHANGE_BOOT_INDEX);
        wim_op op;
        op_init(&op, "WIMSetBootImage", f, NULL);
        ok = rc == 0 ? (f->pending ? TRUE : file_commit(f, &op, 0))
                     : wim_fail_wimlib(rc, "WIMSetBootImage: cannot change '%s'", f->path);
    }
    pthread_mutex_unlock(&f->lock);
    return ok;
}

HANDLE WINAPI WIMLoadImage(HANDLE Wim, DWORD ImageIndex)
{
    wim_begin();
    wim_file *f = file_lock(Wim, false, "WIMLoadImage");
    if (!f)
        return NULL;
    BOOL ok = file_check_index(f, ImageIndex, false, "WIMLoadImage");
    pthread_mutex_unlock(&f->lock);
    return ok ? image_handle_new(f, (int)ImageIndex, "WIMLoadImage") : NULL;
}
