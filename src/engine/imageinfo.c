/*
 * imageinfo.c - DismGetImageInfo over wimlib.
 *
 * Where each DismImageInfo field comes from (the WIM's XML, see
 * engine-facts A2); every property is optional, and a missing one gives NULL
 * or 0 rather than a guess:
 *   ImageName/ImageDescription  NAME / DESCRIPTION
 *   ImageSize                   TOTALBYTES
 *   Architecture                WINDOWS/ARCH (absent -> PROCESSOR_ARCHITECTURE_UNKNOWN)
 *   ProductName, EditionId, InstallationType, Hal, ProductType, SystemRoot
 *                               WINDOWS/<same name in upper case>
 *   ProductSuite                WINDOWS/PRODUCTSUITE
 *   Major..SpLevel              WINDOWS/VERSION/{MAJOR,MINOR,BUILD,SPBUILD,SPLEVEL}
 *   Language[], Default index   WINDOWS/LANGUAGES/LANGUAGE[n], WINDOWS/LANGUAGES/DEFAULT
 *   Bootable                    the header's boot index equals this image (inferred rule)
 *   CustomizedInfo              DIRCOUNT, FILECOUNT, CREATIONTIME, LASTMODIFICATIONTIME
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wimlib.h>

static const char *prop(WIMStruct *wim, int image, const char *name)
{
    return wimlib_get_image_property(wim, image, name);
}

static UINT prop_uint(WIMStruct *wim, int image, const char *name, UINT fallback)
{
    const char *s = prop(wim, image, name);
    if (!s || !*s)
        return fallback;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    return (errno || *end || v > UINT32_MAX) ? fallback : (UINT)v;
}

static uint64_t prop_u64(WIMStruct *wim, int image, const char *name)
{
    const char *s = prop(wim, image, name);
    if (!s || !*s)
        return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    return *end ? 0 : v;
}

/* Timestamps are stored as two hex halves of a FILETIME. */
static uint64_t prop_filetime(WIMStruct *wim, int image, const char *element)
{
    char path[64];
    snprintf(path, sizeof path, "%s/HIGHPART", element);
    uint64_t high = prop_u64(wim, image, path);
    snprintf(path, sizeof path, "%s/LOWPART", element);
    uint64_t low = prop_u64(wim, image, path);
    return (high << 32) | (low & 0xFFFFFFFFu);
}

static bool copy_prop(result_pool *pool, WIMStruct *wim, int image, const char *name,
                      PCWSTR *field)
{
    const char *s = prop(wim, image, name);
    *field = s ? pool_wstr(pool, s) : NULL;
    return !s || *field;
}

static bool fill_languages(result_pool *pool, WIMStruct *wim, int image, DismImageInfo *info)
{
    char path[64];
    UINT count = 0;
    for (;;) {
        snprintf(path, sizeof path, "WINDOWS/LANGUAGES/LANGUAGE[%u]", count + 1);
        if (!prop(wim, image, path))
            break;
        count++;
    }
    if (count == 0)
        return true;
    DismLanguage *langs = pool_alloc(pool, count * sizeof *langs);
    if (!langs)
        return false;
    const char *def = prop(wim, image, "WINDOWS/LANGUAGES/DEFAULT");
    char *default_name = def ? strdup(def) : NULL;
    for (UINT i = 0; i < count; i++) {
        snprintf(path, sizeof path, "WINDOWS/LANGUAGES/LANGUAGE[%u]", i + 1);
        const char *name = prop(wim, image, path);
        if (!(langs[i].Value = pool_wstr(pool, name))) {
            free(default_name);
            return false;
        }
        if (default_name && strcmp(name, default_name) == 0)
            info->DefaultLanguageIndex = i;
    }
    free(default_name);
    info->Language = langs;
    info->LanguageCount = count;
    return true;
}

static bool fill_customized(result_pool *pool, WIMStruct *wim, int image, DismImageInfo *info)
{
    DismWimCustomizedInfo *c = pool_alloc(pool, sizeof *c);
    if (!c)
        return false;
    c->Size = sizeof *c;
    c->DirectoryCount = prop_uint(wim, image, "DIRCOUNT", 0);
    c->FileCount = prop_uint(wim, image, "FILECOUNT", 0);
    filetime_to_systemtime(prop_filetime(wim, image, "CREATIONTIME"), &c->CreatedTime);
    filetime_to_systemtime(prop_filetime(wim, image, "LASTMODIFICATIONTIME"), &c->ModifiedTime);
    info->CustomizedInfo = c;
    return true;
}

static bool fill_image(result_pool *pool, WIMStruct *wim, const struct wimlib_wim_info *wi,
                       int image, DismImageInfo *info)
{
    info->ImageType = DismImageTypeWim;
    info->ImageIndex = (UINT)image;
    info->ImageSize = prop_u64(wim, image, "TOTALBYTES");
    info->Architecture = prop_uint(wim, image, "WINDOWS/ARCH", PROCESSOR_ARCHITECTURE_UNKNOWN);
    info->MajorVersion = prop_uint(wim, image, "WINDOWS/VERSION/MAJOR", 0);
    info->MinorVersion = prop_uint(wim, image, "WINDOWS/VERSION/MINOR", 0);
    info->Build = prop_uint(wim, image, "WINDOWS/VERSION/BUILD", 0);
    info->SpBuild = prop_uint(wim, image, "WINDOWS/VERSION/SPBUILD", 0);
    info->SpLevel = prop_uint(wim, image, "WINDOWS/VERSION/SPLEVEL", 0);
    info->Bootable = wi->boot_index == (uint32_t)image ? DismImageBootableYes : DismImageBootableNo;
    return copy_prop(pool, wim, image, "NAME", &info->ImageName) &&
           copy_prop(pool, wim, image, "DESCRIPTION", &info->ImageDescription) &&
           copy_prop(pool, wim, image, "WINDOWS/PRODUCTNAME", &info->ProductName) &&
           copy_prop(pool, wim, image, "WINDOWS/EDITIONID", &info->EditionId) &&
           copy_prop(pool, wim, image, "WINDOWS/INSTALLATIONTYPE", &info->InstallationType) &&
           copy_prop(pool, wim, image, "WINDOWS/HAL", &info->Hal) &&
           copy_prop(pool, wim, image, "WINDOWS/PRODUCTTYPE", &info->ProductType) &&
           copy_prop(pool, wim, image, "WINDOWS/PRODUCTSUITE", &info->ProductSuite) &&
           copy_prop(pool, wim, image, "WINDOWS/SYSTEMROOT", &info->SystemRoot) &&
           fill_languages(pool, wim, image, info) && fill_customized(pool, wim, image, info);
}

HRESULT WINAPI DismGetImageInfo(PCWSTR ImageFilePath, DismImageInfo **ImageInfo, UINT *Count)
{
    if (!ImageInfo || !Count)
        return engine_fail(E_INVALIDARG, "DismGetImageInfo: ImageInfo and Count are required.");
    *ImageInfo = NULL;
    *Count = 0;
    HRESULT hr = engine_require_initialized("DismGetImageInfo");
    char *path = NULL;
    if (FAILED(hr) || FAILED(hr = path_arg(ImageFilePath, "DismGetImageInfo: ImageFilePath", &path)))
        return hr;
    if (has_suffix_ci(path, ".vhd") || has_suffix_ci(path, ".vhdx")) {
        hr = engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                         "DismGetImageInfo: '%s' is a virtual hard disk; the portable engine "
                         "reads WIM files only (VHD and VHDX need Windows).", path);
        free(path);
        return hr;
    }

    WIMStruct *wim = NULL;
    int rc = wimlib_open_wim(path, 0, &wim);
    if (rc) {
        hr = engine_fail_wimlib(rc, "DismGetImageInfo: cannot open '%s'", path);
        free(path);
        return hr;
    }
    struct wimlib_wim_info wi;
    wimlib_get_wim_info(wim, &wi);

    result_pool *pool = pool_new();
    DismImageInfo *infos = NULL;
    if (pool && wi.image_count > 0)
        infos = pool_alloc(pool, wi.image_count * sizeof *infos);
    bool ok = pool && (wi.image_count == 0 || infos);
    for (uint32_t i = 0; ok && i < wi.image_count; i++)
        ok = fill_image(pool, wim, &wi, (int)i + 1, &infos[i]);
    wimlib_free(wim);

    if (!ok) {
        pool_discard(pool);
        free(path);
        return engine_fail(E_OUTOFMEMORY, "DismGetImageInfo: out of memory.");
    }
    if (wi.image_count == 0) {
        pool_discard(pool);
    } else {
        *ImageInfo = pool_publish(pool, infos);
        *Count = wi.image_count;
    }
    engine_log(LOG_INFO, "DismGetImageInfo: %s has %u image(s)", path, wi.image_count);
    free(path);
    return S_OK;
}
