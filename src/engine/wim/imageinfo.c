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
 *                               (read in one pass over the raw XML, see scan_languages)
 *   Bootable                    the header's boot index equals this image (inferred rule)
 *   CustomizedInfo              DIRCOUNT, FILECOUNT, CREATIONTIME, LASTMODIFICATIONTIME
 */
#include "wim.h"

#include "formats/xml/xmlscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* ---- languages: one pass over the WIM's XML ----
 *
 * Asking wimlib for WINDOWS/LANGUAGES/LANGUAGE[n] for every n walks the list
 * from its start each time, which is quadratic in the number of languages
 * (an XML with 40,000 of them took 14 s).  Instead a long list is read by
 * scanning the raw XML once with the engine's own scanner, collecting each image's languages and
 * default; like wimlib's lookups, only the first WINDOWS of an IMAGE and the
 * first LANGUAGES of that WINDOWS count. */

enum { DEPTH_WIM = 1, DEPTH_IMAGE, DEPTH_WINDOWS, DEPTH_LANGUAGES, DEPTH_LANGUAGE };

typedef struct {
    char **names;
    size_t count, capacity;
    char *default_name;        /* the first DEFAULT, or NULL */
    unsigned long long index;  /* the INDEX attribute, 0 when absent or invalid */
    bool seen_windows, seen_languages;
} image_languages;

typedef struct {
    image_languages *images;
    size_t count, capacity;
    bool on_path[DEPTH_LANGUAGE + 1]; /* element at that depth is on WIM/IMAGE/WINDOWS/LANGUAGES */
    bool in_language, in_default;
    char *text;
    size_t text_len, text_capacity;
} language_scan;

static bool grow(void **array, size_t *capacity, size_t needed, size_t item_size)
{
    if (needed <= *capacity)
        return true;
    size_t cap = *capacity ? *capacity * 2 : 16;
    while (cap < needed)
        cap *= 2;
    void *p = realloc(*array, cap * item_size);
    if (!p)
        return false;
    *array = p;
    *capacity = cap;
    return true;
}

static unsigned long long index_attribute(const xml_attr *attrs, size_t n)
{
    const char *s = xml_attr_get(attrs, n, "INDEX");
    if (!s || *s < '0' || *s > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    return errno || *end ? 0 : v;
}

/* Whether the element `name` at `depth` continues the path to the languages,
 * updating the per-image "first WINDOWS / first LANGUAGES" bookkeeping. */
static bool continues_language_path(language_scan *scan, const char *name, unsigned depth)
{
    image_languages *image = scan->count ? &scan->images[scan->count - 1] : NULL;
    switch (depth) {
    case DEPTH_WIM:
        return strcmp(name, "WIM") == 0;
    case DEPTH_IMAGE:
        return scan->on_path[DEPTH_WIM] && strcmp(name, "IMAGE") == 0;
    case DEPTH_WINDOWS:
        if (!scan->on_path[DEPTH_IMAGE] || strcmp(name, "WINDOWS") != 0 || image->seen_windows)
            return false;
        return image->seen_windows = true;
    case DEPTH_LANGUAGES:
        if (!scan->on_path[DEPTH_WINDOWS] || strcmp(name, "LANGUAGES") != 0 ||
            image->seen_languages)
            return false;
        return image->seen_languages = true;
    default:
        return false;
    }
}

static int language_start(void *ctx, const char *name, const xml_attr *attrs, size_t n,
                          unsigned depth)
{
    language_scan *scan = ctx;
    if (depth == DEPTH_LANGUAGE && scan->on_path[DEPTH_LANGUAGES]) {
        scan->in_language = strcmp(name, "LANGUAGE") == 0;
        scan->in_default = strcmp(name, "DEFAULT") == 0;
        scan->text_len = 0;
        return 0;
    }
    if (depth > DEPTH_LANGUAGES)
        return 0;
    bool on_path = continues_language_path(scan, name, depth);
    if (on_path && depth == DEPTH_IMAGE) {
        if (!grow((void **)&scan->images, &scan->capacity, scan->count + 1, sizeof *scan->images))
            return ENOMEM;
        scan->images[scan->count++] = (image_languages){.index = index_attribute(attrs, n)};
    }
    scan->on_path[depth] = on_path;
    return 0;
}

static int language_text(void *ctx, const char *text, size_t len, unsigned depth)
{
    language_scan *scan = ctx;
    if (depth != DEPTH_LANGUAGE || !(scan->in_language || scan->in_default))
        return 0;
    if (!grow((void **)&scan->text, &scan->text_capacity, scan->text_len + len + 1, 1))
        return ENOMEM;
    memcpy(scan->text + scan->text_len, text, len);
    scan->text_len += len;
    return 0;
}

static int language_end(void *ctx, const char *name, unsigned depth)
{
    language_scan *scan = ctx;
    if (depth <= DEPTH_LANGUAGES)
        scan->on_path[depth] = false;
    if (depth != DEPTH_LANGUAGE || !(scan->in_language || scan->in_default))
        return 0;
    image_languages *image = &scan->images[scan->count - 1];
    char *value = strndup(scan->text ? scan->text : "", scan->text_len);
    if (!value)
        return ENOMEM;
    if (scan->in_default) {
        if (image->default_name)
            free(value); /* wimlib's DEFAULT is the first one */
        else
            image->default_name = value;
    } else {
        if (!grow((void **)&image->names, &image->capacity, image->count + 1, sizeof *image->names)) {
            free(value);
            return ENOMEM;
        }
        image->names[image->count++] = value;
    }
    scan->in_language = scan->in_default = false;
    return 0;
}

static void free_language_scan(language_scan *scan)
{
    for (size_t i = 0; i < scan->count; i++) {
        for (size_t k = 0; k < scan->images[i].count; k++)
            free(scan->images[i].names[k]);
        free(scan->images[i].names);
        free(scan->images[i].default_name);
    }
    free(scan->images);
    free(scan->text);
}

/* wimlib numbers the images by their INDEX attributes when those are exactly
 * 1..N, and in document order otherwise. */
static bool indexes_are_a_permutation(const language_scan *scan)
{
    bool *seen = calloc(scan->count + 1, sizeof *seen);
    bool ok = seen != NULL;
    for (size_t i = 0; ok && i < scan->count; i++) {
        unsigned long long v = scan->images[i].index;
        ok = v >= 1 && v <= scan->count && !seen[v];
        if (ok)
            seen[v] = true;
    }
    free(seen);
    return ok;
}

static void order_by_index(language_scan *scan)
{
    if (!indexes_are_a_permutation(scan))
        return;
    for (size_t i = 0; i < scan->count; i++) {
        while (scan->images[i].index != i + 1) {
            image_languages tmp = scan->images[scan->images[i].index - 1];
            scan->images[scan->images[i].index - 1] = scan->images[i];
            scan->images[i] = tmp;
        }
    }
}

/* Scans the WIM's XML (UTF-16LE, normally with a byte order mark) into
 * scan->images, one entry per image in wimlib's numbering. */
static HRESULT scan_languages(WIMStruct *wim, const char *path, uint32_t image_count,
                              language_scan *scan)
{
    void *xml = NULL;
    size_t len = 0;
    int rc = wimlib_get_xml_data(wim, &xml, &len);
    if (rc)
        return engine_fail_wimlib(rc, "DismGetImageInfo: cannot read the XML data of '%s'", path);
    const unsigned char *bytes = xml;
    unsigned char *with_bom = NULL;
    if (len >= 2 && !(bytes[0] == 0xFF && bytes[1] == 0xFE) && bytes[1] == 0) {
        /* UTF-16LE without its mark: add one so the scanner knows. */
        if (!(with_bom = malloc(len + 2))) {
            free(xml);
            return engine_fail(E_OUTOFMEMORY, "DismGetImageInfo: out of memory.");
        }
        with_bom[0] = 0xFF;
        with_bom[1] = 0xFE;
        memcpy(with_bom + 2, xml, len);
        bytes = with_bom;
        len += 2;
    }
    const xml_handler handler = {language_start, language_end, language_text};
    char message[256];
    int status = xml_scan(bytes, len, &handler, scan, message, sizeof message);
    free(with_bom);
    free(xml);
    if (status == ENOMEM)
        return engine_fail(E_OUTOFMEMORY, "DismGetImageInfo: out of memory.");
    if (status)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT),
                           "DismGetImageInfo: the XML data of '%s' cannot be read (%s); the "
                           "WIM may be damaged.", path, message);
    if (scan->count != image_count)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT),
                           "DismGetImageInfo: the XML data of '%s' describes %zu image(s) but "
                           "its header counts %u; the WIM may be damaged.", path, scan->count,
                           image_count);
    order_by_index(scan);
    return S_OK;
}

/* Short lists (every real Windows image) are read through wimlib's lookups,
 * which cost nothing next to scanning the whole XML again; only a list
 * longer than this, where those lookups turn quadratic, is scanned. */
enum { SHORT_LANGUAGE_LIST = 32 };

static bool has_long_language_list(WIMStruct *wim, uint32_t image_count)
{
    char path[64];
    snprintf(path, sizeof path, "WINDOWS/LANGUAGES/LANGUAGE[%d]", SHORT_LANGUAGE_LIST + 1);
    for (uint32_t i = 1; i <= image_count; i++)
        if (prop(wim, (int)i, path))
            return true;
    return false;
}

static bool look_up_short_list(WIMStruct *wim, int image, image_languages *out)
{
    char path[64];
    out->names = calloc(SHORT_LANGUAGE_LIST, sizeof *out->names);
    if (!out->names)
        return false;
    for (int n = 1; n <= SHORT_LANGUAGE_LIST; n++) {
        snprintf(path, sizeof path, "WINDOWS/LANGUAGES/LANGUAGE[%d]", n);
        const char *name = prop(wim, image, path);
        if (!name)
            break;
        if (!(out->names[out->count] = strdup(name)))
            return false;
        out->count++;
    }
    const char *def = prop(wim, image, "WINDOWS/LANGUAGES/DEFAULT");
    return !def || (out->default_name = strdup(def)) != NULL;
}

static HRESULT collect_languages(WIMStruct *wim, const char *path, uint32_t image_count,
                                 language_scan *scan)
{
    if (has_long_language_list(wim, image_count))
        return scan_languages(wim, path, image_count, scan);
    scan->images = image_count ? calloc(image_count, sizeof *scan->images) : NULL;
    if (image_count && !scan->images)
        return engine_fail(E_OUTOFMEMORY, "DismGetImageInfo: out of memory.");
    scan->count = scan->capacity = image_count;
    for (uint32_t i = 0; i < image_count; i++)
        if (!look_up_short_list(wim, (int)i + 1, &scan->images[i]))
            return engine_fail(E_OUTOFMEMORY, "DismGetImageInfo: out of memory.");
    return S_OK;
}

static bool fill_languages(result_pool *pool, const image_languages *found, DismImageInfo *info)
{
    if (found->count == 0)
        return true;
    if (found->count > UINT32_MAX)
        return false;
    DismLanguage *langs = pool_alloc(pool, found->count * sizeof *langs);
    if (!langs)
        return false;
    for (size_t i = 0; i < found->count; i++) {
        if (!(langs[i].Value = pool_wstr(pool, found->names[i])))
            return false;
    }
    /* The first language equal to DEFAULT; the index stays 0 without one. */
    for (size_t i = 0; found->default_name && i < found->count; i++) {
        if (strcmp(found->names[i], found->default_name) == 0) {
            info->DefaultLanguageIndex = (UINT)i;
            break;
        }
    }
    info->Language = langs;
    info->LanguageCount = (UINT)found->count;
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
    c->CreatedTime = systemtime_from_filetime(prop_filetime(wim, image, "CREATIONTIME"));
    c->ModifiedTime =
        systemtime_from_filetime(prop_filetime(wim, image, "LASTMODIFICATIONTIME"));
    info->CustomizedInfo = c;
    return true;
}

/* The string fields, by offset: DismImageInfo is packed, so a pointer to one
 * of its members may be misaligned and must not be written through. */
static const struct {
    const char *property;
    size_t offset;
} STRING_FIELDS[] = {
    {"NAME", offsetof(DismImageInfo, ImageName)},
    {"DESCRIPTION", offsetof(DismImageInfo, ImageDescription)},
    {"WINDOWS/PRODUCTNAME", offsetof(DismImageInfo, ProductName)},
    {"WINDOWS/EDITIONID", offsetof(DismImageInfo, EditionId)},
    {"WINDOWS/INSTALLATIONTYPE", offsetof(DismImageInfo, InstallationType)},
    {"WINDOWS/HAL", offsetof(DismImageInfo, Hal)},
    {"WINDOWS/PRODUCTTYPE", offsetof(DismImageInfo, ProductType)},
    {"WINDOWS/PRODUCTSUITE", offsetof(DismImageInfo, ProductSuite)},
    {"WINDOWS/SYSTEMROOT", offsetof(DismImageInfo, SystemRoot)},
};

static bool fill_strings(result_pool *pool, WIMStruct *wim, int image, DismImageInfo *info)
{
    for (size_t i = 0; i < sizeof STRING_FIELDS / sizeof *STRING_FIELDS; i++) {
        const char *s = prop(wim, image, STRING_FIELDS[i].property);
        PCWSTR value = s ? pool_wstr(pool, s) : NULL;
        if (s && !value)
            return false;
        memcpy((char *)info + STRING_FIELDS[i].offset, &value, sizeof value);
    }
    return true;
}

static bool fill_image(result_pool *pool, WIMStruct *wim, const struct wimlib_wim_info *wi,
                       int image, const image_languages *languages, DismImageInfo *info)
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
    return fill_strings(pool, wim, image, info) && fill_languages(pool, languages, info) &&
           fill_customized(pool, wim, image, info);
}

static HRESULT refuse_unless_regular(const char *path, mode_t mode)
{
    if (S_ISDIR(mode))
        return engine_fail(E_INVALIDARG, "DismGetImageInfo: '%s' is a directory; give the path "
                           "of a .wim file.", path);
    if (!S_ISREG(mode))
        return engine_fail(E_INVALIDARG, "DismGetImageInfo: '%s' is not a regular file (a FIFO, "
                           "socket or device); give the path of a .wim file.", path);
    return S_OK;
}

/* A FIFO would block wimlib's open forever and a directory would read as a
 * damaged WIM: anything but a regular file is refused before wimlib sees it.
 * The file is stat'ed first (a FIFO or device is never opened at all), then
 * opened without blocking and checked again through the descriptor, and
 * wimlib opens that same file through /proc/self/fd: a path swapped for a
 * FIFO between the check and the open cannot make the call hang.  On
 * success *fd is open and `through` is the path to hand to wimlib. */
static HRESULT open_regular_image(const char *path, int *fd, char *through, size_t size)
{
    struct stat st;
    *fd = -1;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return engine_fail(HRESULT_FROM_WIN32(errno == ENOENT ? ERROR_FILE_NOT_FOUND
                                                                  : ERROR_PATH_NOT_FOUND),
                               "DismGetImageInfo: the image file '%s' does not exist.", path);
        return engine_fail_errno(errno, "DismGetImageInfo: cannot read the image file '%s'", path);
    }
    HRESULT hr = refuse_unless_regular(path, st.st_mode);
    if (FAILED(hr))
        return hr;
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return engine_fail_errno(errno, "DismGetImageInfo: cannot open the image file '%s'", path);
    if (fstat(*fd, &st) != 0)
        hr = engine_fail_errno(errno, "DismGetImageInfo: cannot read the image file '%s'", path);
    else
        hr = refuse_unless_regular(path, st.st_mode);
    if (FAILED(hr)) {
        close(*fd);
        *fd = -1;
        return hr;
    }
    snprintf(through, size, "/proc/self/fd/%d", *fd);
    if (access(through, R_OK) != 0) /* no /proc: the checked path is the best left */
        snprintf(through, size, "%s", path);
    return S_OK;
}

static HRESULT read_image_infos(const char *path, DismImageInfo **out, UINT *count)
{
    int fd;
    char through[ENGINE_PATH_MAX];
    HRESULT hr = open_regular_image(path, &fd, through, sizeof through);
    if (FAILED(hr))
        return hr;
    WIMStruct *wim = NULL;
    engine_wimlib_init();
    int rc = wimlib_open_wim(through, 0, &wim);
    close(fd);
    if (rc)
        return engine_fail_wimlib(rc, "DismGetImageInfo: cannot open '%s'", path);
    struct wimlib_wim_info wi;
    wimlib_get_wim_info(wim, &wi);

    language_scan languages = {0};
    hr = collect_languages(wim, path, wi.image_count, &languages);
    result_pool *pool = SUCCEEDED(hr) ? pool_new() : NULL;
    DismImageInfo *infos = NULL;
    if (pool && wi.image_count > 0)
        infos = pool_alloc(pool, wi.image_count * sizeof *infos);
    bool ok = pool && (wi.image_count == 0 || infos);
    for (uint32_t i = 0; ok && i < wi.image_count; i++)
        ok = fill_image(pool, wim, &wi, (int)i + 1, &languages.images[i], &infos[i]);
    wimlib_free(wim);
    free_language_scan(&languages);
    if (FAILED(hr))
        return hr;
    if (!ok) {
        pool_discard(pool);
        return engine_fail(E_OUTOFMEMORY, "DismGetImageInfo: out of memory.");
    }
    if (wi.image_count == 0) {
        pool_discard(pool);
    } else {
        *out = pool_publish(pool, infos);
        *count = wi.image_count;
    }
    engine_log(LOG_INFO, "DismGetImageInfo: %s has %u image(s)", path, wi.image_count);
    return S_OK;
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
    if (has_suffix_ci(path, ".vhd") || has_suffix_ci(path, ".vhdx"))
        hr = engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                         "DismGetImageInfo: '%s' is a virtual hard disk; the portable engine "
                         "reads WIM files only (VHD and VHDX need Windows).", path);
    else
        hr = read_image_infos(path, ImageInfo, Count);
    free(path);
    return hr;
}
