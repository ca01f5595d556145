/*
 * choose.c - which image of a WIM a call means (by index or by name), and
 * the refusal of a split WIM's part, shared by DismMountImage and the
 * unmounted-image session (imagefile.c).
 */
#include "wim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wimlib.h>

static HRESULT find_image_by_name(const char *function, WIMStruct *wim, int count,
                                  const char *name, int *index)
{
    /* wimlib_resolve_image would take "1" as an index; DISM means a name. */
    int folded = 0, folded_matches = 0;
    for (int i = 1; i <= count; i++) {
        const char *n = wimlib_get_image_name(wim, i);
        if (n && strcmp(n, name) == 0) {
            *index = i;
            return S_OK;
        }
        if (n && strcasecmp(n, name) == 0) {
            folded = i;
            folded_matches++;
        }
    }
    if (folded_matches == 1) {
        *index = folded;
        return S_OK;
    }
    if (folded_matches > 1)
        return engine_fail(DISMAPI_E_INVALID_IMAGE_NAME, "%s: %d images of the WIM are named "
                           "'%s' ignoring case, none exactly; give the exact name or the "
                           "index.", function, folded_matches, name);
    return engine_fail(DISMAPI_E_INVALID_IMAGE_NAME, "%s: the WIM has no image named '%s'.",
                       function, name);
}

HRESULT wim_choose_image(const char *function, WIMStruct *wim, UINT index, PCWSTR wname,
                         DismImageIdentifier id, int *out)
{
    struct wimlib_wim_info wi;
    wimlib_get_wim_info(wim, &wi);
    if (id == DismImageIndex) {
        if (index < 1 || index > wi.image_count)
            return engine_fail(DISMAPI_E_INVALID_IMAGE_INDEX,
                               "%s: image index %u does not exist; the WIM holds %u image(s), "
                               "numbered from 1.", function, index, wi.image_count);
        *out = (int)index;
        return S_OK;
    }
    if (id == DismImageNone)
        return engine_fail(DISMAPI_E_MUST_SPECIFY_INDEX_OR_NAME,
                           "%s: the image must be given by index or by name.", function);
    if (id != DismImageName)
        return engine_fail(E_INVALIDARG, "%s: %d is not a DismImageIdentifier.", function,
                           (int)id);
    if (!wname || !*wname)
        return engine_fail(DISMAPI_E_INVALID_IMAGE_NAME,
                           "%s: DismImageName was given but ImageName is empty.", function);
    char *name = wide_to_utf8(wname);
    if (!name)
        return engine_fail(DISMAPI_E_INVALID_IMAGE_NAME,
                           "%s: ImageName is not a valid Unicode string.", function);
    HRESULT hr = find_image_by_name(function, wim, (int)wi.image_count, name, out);
    free(name);
    return hr;
}

/* DISM mounts whole WIMs only: a part of a split WIM holds only some of the
 * image's files, and every other file would fail to read. */
HRESULT wim_refuse_split(const char *function, WIMStruct *wim, const char *wim_path)
{
    struct wimlib_wim_info wi;
    wimlib_get_wim_info(wim, &wi);
    if (wi.total_parts <= 1)
        return S_OK;
    return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                       "%s: '%s' is part %u of a split WIM of %u parts, which DISM cannot "
                       "mount; export the image into a single WIM first (DISM /Export-Image "
                       "with /SWMFile, or wimlib-imagex export / join).", function, wim_path,
                       (unsigned)wi.part_number, (unsigned)wi.total_parts);
}
