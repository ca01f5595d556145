/*
 * edition.c - edition, product keys, reserved storage and the registry
 * mount point of an offline image.
 */
#include "servicing.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CURRENT_VERSION "Microsoft\\Windows NT\\CurrentVersion"
#define RESERVE_MANAGER "Microsoft\\Windows\\CurrentVersion\\ReserveManager"

/* Returns one DismString holding `text` from a fresh pool. */
static HRESULT publish_string(const char *function, const char *text, DismString **out)
{
    *out = pool_string_result(text);
    return *out ? S_OK : engine_fail(E_OUTOFMEMORY, "%s: out of memory.", function);
}

/* EditionID in SOFTWARE\Microsoft\Windows NT\CurrentVersion is what DISM
 * reports as the current edition [C libguestfs, wimlib, DISM output]. */
static HRESULT read_edition(offline_image *img, char **edition)
{
    hive_h *h;
    HRESULT hr = offline_require_hive(img, HIVE_SOFTWARE, &h);
    if (FAILED(hr))
        return hr;
    *edition = hive_string(h, hive_lookup(h, hivex_root(h), CURRENT_VERSION), "EditionID");
    if (!*edition || !**edition) {
        free(*edition);
        *edition = NULL;
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "%s: the image's SOFTWARE hive "
                           "records no edition (no EditionID under %s).", img->function,
                           CURRENT_VERSION);
    }
    return S_OK;
}

/* _DismGetCurrentEdition answers with the edition (`out`); for
 * _DismGetTargetEditions (`out` NULL) the image must have one before the
 * question is refused. */
typedef struct {
    DismString **out;
} edition_answer;

static HRESULT answer_edition(offline_image *img, const void *args)
{
    const edition_answer *answer = args;
    char *edition = NULL;
    HRESULT hr = read_edition(img, &edition);
    if (SUCCEEDED(hr))
        hr = answer->out ? publish_string(img->function, edition, answer->out)
                         : read_not_supported_offline(img->function,
                                                      "working out target editions");
    free(edition);
    return hr;
}

HRESULT WINAPI _DismGetCurrentEdition(DismSession Session, DismString **EditionId)
{
    if (!EditionId)
        return engine_fail(E_INVALIDARG, "_DismGetCurrentEdition: EditionId is required.");
    *EditionId = NULL;
    edition_answer answer = {EditionId};
    return servicing_check(Session, "_DismGetCurrentEdition", answer_edition, &answer);
}

/* Which editions an image can be upgraded to is decided by the edition
 * packages' upgrade rules, which the servicing stack evaluates. */
HRESULT WINAPI _DismGetTargetEditions(DismSession Session, DismString **EditionIds, UINT *Count)
{
    if (!EditionIds || !Count)
        return engine_fail(E_INVALIDARG, "_DismGetTargetEditions: EditionIds and Count are "
                           "required.");
    *EditionIds = NULL;
    *Count = 0;
    edition_answer answer = {NULL};
    return servicing_check(Session, "_DismGetTargetEditions", answer_edition, &answer);
}

/* Five groups of five letters and digits separated by dashes. */
static bool product_key_form(const char *key)
{
    if (strlen(key) != 29)
        return false;
    for (int i = 0; i < 29; i++) {
        bool dash = i % 6 == 5;
        if (dash ? key[i] != '-' : !isalnum((unsigned char)key[i]))
            return false;
    }
    return true;
}

static HRESULT check_product_key(const char *function, PCWSTR ProductKey, bool optional)
{
    if (optional && (!ProductKey || !*ProductKey))
        return S_OK;
    char *key = NULL;
    char label[96];
    snprintf(label, sizeof label, "%s: ProductKey", function);
    HRESULT hr = path_arg(ProductKey, label, &key);
    if (SUCCEEDED(hr) && !product_key_form(key))
        hr = engine_fail(DISMAPI_E_INVALID_PRODUCT_KEY, "%s: a product key has the form "
                         "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.", function);
    free(key);
    return hr;
}

/* The key checks beyond its form need the image's licensing data and the
 * Software Protection Platform, which only Windows has. */
typedef HRESULT refusal(const char *function, const char *what);

typedef struct {
    PCWSTR key;
    const char *what;
    refusal *refuse;
} product_key_question;

static HRESULT check_product_key_question(offline_image *img, const void *args)
{
    const product_key_question *q = args;
    HRESULT hr = check_product_key(img->function, q->key, false);
    return SUCCEEDED(hr) ? q->refuse(img->function, q->what) : hr;
}

static HRESULT product_key_call(const char *function, DismSession Session, PCWSTR ProductKey,
                                const char *what, refusal *refuse)
{
    product_key_question q = {ProductKey, what, refuse};
    return servicing_check(Session, function, check_product_key_question, &q);
}

HRESULT WINAPI _DismSetProductKey(DismSession Session, PCWSTR ProductKey)
{
    return product_key_call("_DismSetProductKey", Session, ProductKey, "setting a product key",
                            not_supported_offline);
}

HRESULT WINAPI _DismValidateProductKey(DismSession Session, PCWSTR ProductKey)
{
    return product_key_call("_DismValidateProductKey", Session, ProductKey,
                            "validating a product key", read_not_supported_offline);
}

HRESULT WINAPI _DismGetProductKeyInfo(DismSession Session, PCWSTR ProductKey,
                                      DismString **EditionId, DismString **Channel)
{
    if (!EditionId || !Channel)
        return engine_fail(E_INVALIDARG, "_DismGetProductKeyInfo: EditionId and Channel are "
                           "required.");
    *EditionId = *Channel = NULL;
    return product_key_call("_DismGetProductKeyInfo", Session, ProductKey,
                            "reading a product key's edition and channel",
                            read_not_supported_offline);
}

typedef struct {
    PCWSTR edition, key;
} edition_change;

static HRESULT check_edition_change(offline_image *img, const void *args)
{
    const edition_change *c = args;
    char *target = NULL, *current = NULL;
    HRESULT hr = path_arg(c->edition, "_DismSetEdition: EditionID", &target);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = check_product_key(img->function, c->key, true)) &&
        SUCCEEDED(hr = read_edition(img, &current))) {
        if (!strcasecmp(target, current))
            hr = engine_fail(E_INVALIDARG, "_DismSetEdition: the image already is the %s "
                             "edition.", current);
        else
            hr = not_supported_offline(img->function, "changing the edition");
    }
    free(target);
    free(current);
    return hr;
}

HRESULT WINAPI _DismSetEdition(DismSession Session, PCWSTR EditionID, PCWSTR ProductKey,
                               HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                               PVOID UserData)
{
    edition_change change = {EditionID, ProductKey};
    return servicing_check(Session, "_DismSetEdition", check_edition_change, &change);
}

/*
 * On Windows this is where DISM loaded the hive into the running registry
 * (HKLM\<something>).  The portable engine loads nothing into a registry:
 * it answers with the path of the hive file in the image, which is what a
 * caller needs to read it with hivex or regipy.
 */
typedef struct {
    const char *file; /* in System32\config; NULL for the default user's NTUSER.DAT */
    DismString **out;
} hive_question;

static HRESULT answer_hive_path(offline_image *img, const void *args)
{
    const hive_question *q = args;
    char relative[64], path[ENGINE_PATH_MAX];
    bool found;
    if (q->file) {
        snprintf(relative, sizeof relative, "System32/config/%s", q->file);
        found = offline_windows_path(img, relative, path, sizeof path);
    } else {
        /* NTUSER.DAT is the default user's hive, in Users beside the
         * Windows directory. */
        char users[ENGINE_PATH_MAX], profile[ENGINE_PATH_MAX];
        found = find_child_ci(img->root, "Users", users, sizeof users) &&
                find_child_ci(users, "Default", profile, sizeof profile) &&
                find_child_ci(profile, "NTUSER.DAT", path, sizeof path);
    }
    if (!found)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "%s: the image has no %s "
                           "hive.", img->function, q->file ? q->file : "NTUSER.DAT");
    return publish_string(img->function, path, q->out);
}

HRESULT WINAPI _DismGetRegistryMountPoint(DismSession Session, DismRegistryHive Hive,
                                          DismString **MountPoint)
{
    if (!MountPoint)
        return engine_fail(E_INVALIDARG, "_DismGetRegistryMountPoint: MountPoint is required.");
    *MountPoint = NULL;
    static const char *const files[] = {
        [DismRegistrySoftware] = "SOFTWARE", [DismRegistrySystem] = "SYSTEM",
        [DismRegistrySecurity] = "SECURITY", [DismRegistrySAM] = "SAM",
        [DismRegistryDefault] = "DEFAULT",   [DismRegistryNTUSER] = NULL,
        [DismRegistryComponents] = "COMPONENTS", [DismRegistryDrivers] = "DRIVERS",
    };
    if ((unsigned)Hive >= sizeof files / sizeof files[0])
        return engine_fail(E_INVALIDARG, "_DismGetRegistryMountPoint: %d is not a "
                           "DismRegistryHive value.", (int)Hive);
    hive_question q = {files[Hive], MountPoint};
    return servicing_check(Session, "_DismGetRegistryMountPoint", answer_hive_path, &q);
}

/* ShippedWithReserves under ReserveManager (Windows 10 2004+): 1 when the
 * image keeps reserved storage [C; the value DISM's state mirrors is I]. */
static HRESULT answer_reserved_storage(offline_image *img, const void *args)
{
    DWORD *state = *(DWORD *const *)args;
    hive_h *h;
    uint32_t shipped = 0;
    HRESULT hr = offline_require_hive(img, HIVE_SOFTWARE, &h);
    if (FAILED(hr))
        return hr;
    if (!hive_dword(h, hive_lookup(h, hivex_root(h), RESERVE_MANAGER), "ShippedWithReserves",
                    &shipped))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED), "DismGetReservedStorage"
                           "State: the image has no reserved storage settings (it predates "
                           "Windows 10 version 2004, or is not a full installation).");
    *state = shipped == 1 ? DISM_RESERVED_STORAGE_ENABLED : DISM_RESERVED_STORAGE_DISABLED;
    return S_OK;
}

HRESULT WINAPI DismGetReservedStorageState(DismSession Session, PDWORD State)
{
    if (!State)
        return engine_fail(E_INVALIDARG, "DismGetReservedStorageState: State is required.");
    return servicing_check(Session, "DismGetReservedStorageState", answer_reserved_storage,
                           &State);
}

static HRESULT check_reserved_storage_change(offline_image *img, const void *args)
{
    DWORD state = *(const DWORD *)args;
    if (state != DISM_RESERVED_STORAGE_DISABLED && state != DISM_RESERVED_STORAGE_ENABLED)
        return engine_fail(E_INVALIDARG, "DismSetReservedStorageState: State must be "
                           "DISM_RESERVED_STORAGE_DISABLED or DISM_RESERVED_STORAGE_ENABLED.");
    return not_supported_offline(img->function, "changing reserved storage");
}

HRESULT WINAPI DismSetReservedStorageState(DismSession Session, DWORD State)
{
    return servicing_check(Session, "DismSetReservedStorageState", check_reserved_storage_change,
                           &State);
}

/* ---- _DismPortableGetSessionImageInfo ---- */

static UINT version_part(const char *dotted, int index)
{
    unsigned parts[2] = {0, 0};
    if (dotted)
        sscanf(dotted, "%u.%u", &parts[0], &parts[1]);
    return parts[index];
}

/* SYSTEM ...\Session Manager\Environment PROCESSOR_ARCHITECTURE ("AMD64")
 * [C], else the driver database's Architecture value [V]. */
static UINT session_architecture(offline_image *img)
{
    HRESULT hr;
    hive_h *h = offline_hive(img, HIVE_SYSTEM, &hr);
    hive_node_h set = offline_control_set(img);
    char *name = hive_string(h, hive_lookup(h, set, "Control\\Session Manager\\Environment"),
                             "PROCESSOR_ARCHITECTURE");
    UINT arch = map_architecture_name(name);
    free(name);
    uint32_t db = 0;
    if (arch == PROCESSOR_ARCHITECTURE_UNKNOWN && h &&
        hive_dword(h, hive_lookup(h, hivex_root(h), "DriverDatabase"), "Architecture", &db))
        arch = db;
    return arch;
}

/*
 * SOFTWARE Microsoft\Windows NT\CurrentVersion [C libguestfs, wimlib]:
 * ProductName, EditionID, InstallationType, CurrentMajorVersionNumber and
 * CurrentMinorVersionNumber (Windows 10+; "CurrentVersion" x.y before),
 * CurrentBuildNumber, UBR.  SYSTEM ProductOptions\ProductType [C].
 */
static void fill_session_image_info(result_pool *pool, offline_image *img, hive_h *sw,
                                    DismImageInfo *info)
{
    hive_node_h cv = hive_lookup(sw, hivex_root(sw), CURRENT_VERSION);
    char *product = hive_string(sw, cv, "ProductName");
    char *edition = hive_string(sw, cv, "EditionID");
    char *installation = hive_string(sw, cv, "InstallationType");
    char *build = hive_string(sw, cv, "CurrentBuildNumber");
    char *legacy = hive_string(sw, cv, "CurrentVersion");
    uint32_t major = 0, minor = 0, ubr = 0;
    if (!hive_dword(sw, cv, "CurrentMajorVersionNumber", &major) ||
        !hive_dword(sw, cv, "CurrentMinorVersionNumber", &minor)) {
        major = version_part(legacy, 0);
        minor = version_part(legacy, 1);
    }
    hive_dword(sw, cv, "UBR", &ubr);
    HRESULT hr;
    hive_h *sys = offline_hive(img, HIVE_SYSTEM, &hr);
    char *product_type = hive_string(sys, hive_lookup(sys, offline_control_set(img),
                                                      "Control\\ProductOptions"), "ProductType");
    const char *root = strrchr(img->windows_dir, '/');
    info->ImageType = DismImageTypeUnsupported; /* a directory, not a WIM or VHD */
    info->ProductName = pool_wstr(pool, product);
    info->EditionId = pool_wstr(pool, edition);
    info->InstallationType = pool_wstr(pool, installation);
    info->ProductType = pool_wstr(pool, product_type);
    info->MajorVersion = major;
    info->MinorVersion = minor;
    info->Build = build ? (UINT)strtoul(build, NULL, 10) : 0;
    info->SpBuild = ubr;
    info->Architecture = session_architecture(img);
    info->Bootable = DismImageBootableUnknown;
    info->SystemRoot = pool_wstr(pool, root ? root + 1 : img->windows_dir);
    free(product);
    free(edition);
    free(installation);
    free(build);
    free(legacy);
    free(product_type);
}

static HRESULT read_session_image_info(offline_image *img, result_pool *pool, const void *args,
                                       void **result, UINT *count)
{
    hive_h *sw;
    DismImageInfo *info = pool_alloc(pool, sizeof *info);
    HRESULT hr = info ? offline_require_hive(img, HIVE_SOFTWARE, &sw) : S_OK;
    if (info && SUCCEEDED(hr))
        fill_session_image_info(pool, img, sw, info);
    *result = info;
    return hr;
}

HRESULT WINAPI _DismPortableGetSessionImageInfo(DismSession Session, DismImageInfo **ImageInfo)
{
    const char *fn = "_DismPortableGetSessionImageInfo";
    if (!ImageInfo)
        return engine_fail(E_INVALIDARG, "%s: ImageInfo is required.", fn);
    return servicing_read(Session, fn, read_session_image_info, NULL, (void **)ImageInfo, NULL);
}
