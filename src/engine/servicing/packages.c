/*
 * packages.c - CBS packages of an offline image.
 *
 * The registry (SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based
 * Servicing\Packages\<identity>) says which packages the image holds and in
 * which state; the package's manifest says what it is.  Reading both is
 * faithful.  Adding or removing a package is not: that is the servicing
 * stack's work (component store, transactions, pending operations), so those
 * calls check their arguments as DISM would and then refuse.
 */
#include "servicing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CBS_PACKAGES \
    "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages"

/* ---- the table ---- */

static void read_package(hive_h *h, hive_node_h node, cbs_package *p)
{
    p->node = node;
    p->has_state = hive_dword(h, node, "CurrentState", &p->state);
    if (!hive_dword(h, node, "Visibility", &p->visibility))
        p->visibility = 1;
    uint32_t high = 0, low = 0;
    /* InstallTimeHigh/Low are the halves of a FILETIME [C]. */
    if (hive_dword(h, node, "InstallTimeHigh", &high) && hive_dword(h, node, "InstallTimeLow", &low))
        p->install_time = (uint64_t)high << 32 | low;
    p->install_client = hive_string(h, node, "InstallClient");
    p->install_name = hive_string(h, node, "InstallName");
}

HRESULT cbs_load(offline_image *img, cbs_table *out)
{
    memset(out, 0, sizeof *out);
    HRESULT hr = offline_require_hive(img, HIVE_SOFTWARE, &out->hive);
    if (FAILED(hr))
        return hr;
    hive_node_h packages = hive_lookup(out->hive, hivex_root(out->hive), CBS_PACKAGES);
    size_t n = 0;
    hive_node_h *children = hive_children(out->hive, packages, &n);
    if (!children)
        return engine_fail_errno(errno, "%s: cannot list the image's CBS packages",
                                 img->function);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) {
        free(children);
        return engine_fail(E_OUTOFMEMORY, "%s: out of memory.", img->function);
    }
    for (size_t i = 0; i < n; i++) {
        cbs_package *p = &out->items[out->count];
        p->identity = hive_name(out->hive, children[i]);
        if (!p->identity)
            continue; /* a damaged key: skipped, not guessed at */
        read_package(out->hive, children[i], p);
        out->count++;
    }
    free(children);
    return S_OK;
}

void cbs_free(cbs_table *t)
{
    for (size_t i = 0; i < t->count; i++)
        FREE_STRINGS(t->items[i].identity, t->items[i].install_client,
                     t->items[i].install_name);
    free(t->items);
    memset(t, 0, sizeof *t);
}

const cbs_package *cbs_find(const cbs_table *t, const char *identity)
{
    for (size_t i = 0; identity && i < t->count; i++)
        if (!strcasecmp(t->items[i].identity, identity))
            return &t->items[i];
    return NULL;
}

/* The version is the last '~' field: "10.0.19041.1" compares part by part. */
int cbs_compare_versions(const char *a, const char *b)
{
    const char *va = strrchr(a, '~'), *vb = strrchr(b, '~');
    va = va ? va + 1 : a;
    vb = vb ? vb + 1 : b;
    while (*va || *vb) {
        unsigned long x = strtoul(va, (char **)&va, 10), y = strtoul(vb, (char **)&vb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        va += *va == '.';
        vb += *vb == '.';
        if ((*va && (*va < '0' || *va > '9')) || (*vb && (*vb < '0' || *vb > '9')))
            break;
    }
    return 0;
}

/* ---- resolving a package named by the caller ---- */

static HRESULT resolve_by_name(offline_image *img, const cbs_table *t, const char *name,
                               package_ref *ref)
{
    ref->installed = cbs_find(t, name);
    if (!ref->installed)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_FOUND),
                           "%s: the image holds no package named '%s'.", img->function, name);
    ref->identity = strdup(ref->installed->identity);
    char path[ENGINE_PATH_MAX];
    /* A package the registry lists may have lost its manifest (cleanup,
     * damage): its registry facts are still reported. */
    if (mum_path(img, ref->installed->identity, path, sizeof path)) {
        HRESULT hr = mum_read(img->function, path, &ref->mum);
        if (FAILED(hr))
            return hr;
        ref->has_mum = true;
    }
    return ref->identity ? S_OK : engine_fail(E_OUTOFMEMORY, "%s: out of memory.", img->function);
}

static HRESULT resolve_by_path(offline_image *img, const cbs_table *t, PCWSTR identifier,
                               package_ref *ref)
{
    char *path = NULL;
    bool is_dir = false;
    HRESULT hr = existing_path_arg(img->function, identifier, "package path", &path, &is_dir);
    if (FAILED(hr))
        return hr;
    char mum[ENGINE_PATH_MAX];
    if (!is_dir) {
        hr = has_suffix_ci(path, ".cab") || has_suffix_ci(path, ".msu")
                 ? engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                               "%s: reading the cabinet '%s' is not supported by the portable "
                               "DISM engine; expand it (for example with cabextract) and pass "
                               "the folder instead.", img->function, path)
                 : engine_fail(E_INVALIDARG, "%s: '%s' is not a package: expected a .cab, a "
                               ".msu or a folder holding an expanded package.", img->function,
                               path);
    } else if (!find_child_ci(path, "update.mum", mum, sizeof mum)) {
        hr = engine_fail(E_INVALIDARG, "%s: the folder '%s' holds no update.mum, so it is not "
                         "an expanded package.", img->function, path);
    } else if (SUCCEEDED(hr = mum_read(img->function, mum, &ref->mum))) {
        ref->has_mum = true;
        ref->identity = mum_identity(&ref->mum);
        if (!ref->identity)
            hr = engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT), "%s: '%s' has no "
                             "assemblyIdentity.", img->function, mum);
        else
            ref->installed = cbs_find(t, ref->identity);
    }
    free(path);
    return hr;
}

HRESULT package_resolve(offline_image *img, const cbs_table *t, const package_name *package,
                        package_ref *ref)
{
    PCWSTR identifier = package->identifier;
    DismPackageIdentifier type = package->type;
    memset(ref, 0, sizeof *ref);
    if (type != DismPackageName && type != DismPackagePath)
        return engine_fail(E_INVALIDARG, "%s: PackageIdentifier must be DismPackageName or "
                           "DismPackagePath.", img->function);
    if (type == DismPackagePath)
        return resolve_by_path(img, t, identifier, ref);
    char *name = NULL;
    HRESULT hr = path_arg(identifier, "package name", &name);
    if (SUCCEEDED(hr))
        hr = resolve_by_name(img, t, name, ref);
    free(name);
    return hr;
}

void package_ref_free(package_ref *ref)
{
    free(ref->identity);
    if (ref->has_mum)
        mum_free(&ref->mum);
    memset(ref, 0, sizeof *ref);
}

/* ---- DismGetPackages ---- */

static HRESULT read_packages(offline_image *img, result_pool *pool, const void *args,
                             void **result, UINT *count)
{
    cbs_table t;
    HRESULT hr = cbs_load(img, &t);
    if (FAILED(hr))
        return hr;
    DismPackage *out = pool_alloc(pool, (t.count ? t.count : 1) * sizeof *out);
    UINT n = 0;
    /* DISM lists the packages marked visible [C]; hidden ones are the
     * servicing stack's internal parts. */
    for (size_t i = 0; out && i < t.count; i++) {
        const cbs_package *p = &t.items[i];
        if (p->visibility == 2)
            continue;
        DismPackage *d = &out[n++];
        d->PackageName = pool_wstr(pool, p->identity);
        d->PackageState = map_cbs_state(p->state);
        d->ReleaseType = DismReleaseTypeOther;
        char path[ENGINE_PATH_MAX];
        mum_info mum;
        /* Release type lives only in the manifest. */
        if (mum_path(img, p->identity, path, sizeof path) &&
            SUCCEEDED(mum_read(img->function, path, &mum))) {
            d->ReleaseType = map_release_type(mum.release_type);
            mum_free(&mum);
        } else {
            engine_clear_error();
        }
        d->InstallTime = systemtime_from_filetime(p->install_time);
    }
    cbs_free(&t);
    *count = n;
    *result = out;
    return S_OK;
}

HRESULT WINAPI DismGetPackages(DismSession Session, DismPackage **Package, UINT *Count)
{
    if (!Package || !Count)
        return engine_fail(E_INVALIDARG, "DismGetPackages: Package and Count are required.");
    return servicing_read(Session, "DismGetPackages", read_packages, NULL, (void **)Package,
                          Count);
}

/* ---- DismGetPackageInfo(Ex) ---- */

static DismCustomProperty *custom_properties(result_pool *pool, const mum_info *mum, UINT *count)
{
    *count = 0;
    if (!mum || !mum->property_count)
        return NULL;
    DismCustomProperty *props = pool_alloc(pool, mum->property_count * sizeof *props);
    for (size_t i = 0; props && i < mum->property_count; i++) {
        props[i].Name = pool_wstr(pool, mum->properties[i].name);
        props[i].Value = pool_wstr(pool, mum->properties[i].value);
        props[i].Path = pool_wstr(pool, mum->properties[i].path);
    }
    *count = props ? (UINT)mum->property_count : 0;
    return props;
}

/* Features of one package: its Updates values when installed [C], else the
 * updates its manifest declares, not present in the image. */
static DismFeature *package_features(result_pool *pool, hive_h *h, const package_ref *ref,
                                     UINT *count)
{
    *count = 0;
    if (ref->installed) {
        hive_node_h updates = hive_lookup(h, ref->installed->node, "Updates");
        hive_value_h *values = updates ? hivex_node_values(h, updates) : NULL;
        size_t n = 0;
        while (values && values[n])
            n++;
        DismFeature *features = pool_alloc(pool, (n ? n : 1) * sizeof *features);
        for (size_t i = 0; features && i < n; i++) {
            char *name = hivex_value_key(h, values[i]);
            uint32_t state = 0;
            if (!name || !*name) {
                free(name);
                continue;
            }
            hive_value_dword(h, values[i], &state);
            features[*count].FeatureName = pool_wstr(pool, name);
            features[*count].State = map_cbs_state(state);
            (*count)++;
            free(name);
        }
        free(values);
        return features;
    }
    if (!ref->has_mum || !ref->mum.update_count)
        return NULL;
    DismFeature *features = pool_alloc(pool, ref->mum.update_count * sizeof *features);
    for (size_t i = 0; features && i < ref->mum.update_count; i++) {
        features[i].FeatureName = pool_wstr(pool, ref->mum.updates[i].name);
        features[i].State = DismStateNotPresent;
    }
    *count = features ? (UINT)ref->mum.update_count : 0;
    return features;
}

static void fill_package_info(result_pool *pool, hive_h *h, const package_ref *ref,
                              DismPackageInfoEx *info)
{
    const mum_info *mum = ref->has_mum ? &ref->mum : NULL;
    const cbs_package *p = ref->installed;
    info->PackageName = pool_wstr(pool, ref->identity);
    info->PackageState = p ? map_cbs_state(p->state) : DismStateNotPresent;
    info->ReleaseType = map_release_type(mum ? mum->release_type : NULL);
    info->InstallTime = systemtime_from_filetime(p ? p->install_time : 0);
    /* The image holds the package, so it applied to it [I]; a package read
     * from a folder is checked against the image's architecture only. */
    info->Applicable = p != NULL;
    if (mum) {
        info->Copyright = pool_wstr(pool, mum->copyright);
        info->Company = pool_wstr(pool, mum->company);
        info->DisplayName = pool_wstr(pool, mum->display_name);
        info->Description = pool_wstr(pool, mum->description);
        info->SupportInformation = pool_wstr(pool, mum->support_information);
        info->CreationTime = map_manifest_time(mum->creation_time);
        info->LastUpdateTime = map_manifest_time(mum->last_update_time);
        info->CapabilityId = pool_wstr(pool, mum->capability);
    }
    info->RestartRequired = map_restart(mum ? mum->restart : NULL);
    info->InstallClient = p ? pool_wstr(pool, p->install_client) : NULL;
    info->InstallPackageName = p ? pool_wstr(pool, p->install_name) : NULL;
    /* Whether a package installs fully offline is decided by the servicing
     * stack at install time; the image does not record it [I]. */
    info->FullyOffline = DismFullyOfflineInstallableUndetermined;
    info->CustomProperty = custom_properties(pool, mum, &info->CustomPropertyCount);
    info->Feature = package_features(pool, h, ref, &info->FeatureCount);
}

/* Which package DismGetPackageInfo(Ex) describes, and in which form. */
typedef struct {
    package_name package;
    bool extended;
} package_info_args;

static HRESULT read_package_info(offline_image *img, result_pool *pool, const void *args,
                                 void **result, UINT *count)
{
    const package_info_args *a = args;
    cbs_table t = {0};
    package_ref ref = {0};
    DismPackageInfoEx *info = pool_alloc(pool, sizeof *info);
    HRESULT hr = S_OK;
    if (info && SUCCEEDED(hr = cbs_load(img, &t)) &&
        SUCCEEDED(hr = package_resolve(img, &t, &a->package, &ref)))
        fill_package_info(pool, t.hive, &ref, info);
    *result = info;
    if (info && SUCCEEDED(hr) && !a->extended) {
        /* DismPackageInfo is DismPackageInfoEx without its last field. */
        *result = pool_alloc(pool, sizeof(DismPackageInfo));
        if (*result)
            memcpy(*result, info, sizeof(DismPackageInfo));
    }
    package_ref_free(&ref);
    cbs_free(&t);
    return hr;
}

static HRESULT get_package_info(const char *function, DismSession Session, PCWSTR Identifier,
                                DismPackageIdentifier type, bool extended, void **out)
{
    if (!out)
        return engine_fail(E_INVALIDARG, "%s: the output pointer is required.", function);
    package_info_args args = {{Identifier, type}, extended};
    return servicing_read(Session, function, read_package_info, &args, out, NULL);
}

HRESULT WINAPI DismGetPackageInfo(DismSession Session, PCWSTR Identifier,
                                  DismPackageIdentifier PackageIdentifier,
                                  DismPackageInfo **PackageInfo)
{
    return get_package_info("DismGetPackageInfo", Session, Identifier, PackageIdentifier, false,
                            (void **)PackageInfo);
}

HRESULT WINAPI DismGetPackageInfoEx(DismSession Session, PCWSTR Identifier,
                                    DismPackageIdentifier PackageIdentifier,
                                    DismPackageInfoEx **PackageInfoEx)
{
    return get_package_info("DismGetPackageInfoEx", Session, Identifier, PackageIdentifier, true,
                            (void **)PackageInfoEx);
}

/* ---- writes: validated, then refused ---- */

/* A package to add or remove, named by the caller. */
typedef struct {
    package_name package;
    bool removing;
} package_change;

static HRESULT check_removable(const package_ref *ref)
{
    if (!ref->installed)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "DismRemovePackage: the "
                           "package '%s' is not installed in the image.", ref->identity);
    if (ref->installed->state == 0x80)
        return engine_fail(E_ACCESSDENIED, "DismRemovePackage: '%s' is a permanent package "
                           "and cannot be removed.", ref->identity);
    return S_OK;
}

static HRESULT check_package_change(offline_image *img, const void *args)
{
    const package_change *c = args;
    cbs_table t = {0};
    package_ref ref = {0};
    HRESULT hr = cbs_load(img, &t);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = package_resolve(img, &t, &c->package, &ref)) &&
        SUCCEEDED(hr = c->removing ? check_removable(&ref) : S_OK))
        hr = not_supported_offline(img->function,
                                   c->removing ? "removing a package" : "adding a package");
    package_ref_free(&ref);
    cbs_free(&t);
    return hr;
}

HRESULT WINAPI DismAddPackage(DismSession Session, PCWSTR PackagePath, BOOL IgnoreCheck,
                              BOOL PreventPending, HANDLE CancelEvent,
                              DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    package_change change = {{PackagePath, DismPackagePath}, false};
    return servicing_check(Session, "DismAddPackage", check_package_change, &change);
}

HRESULT WINAPI DismRemovePackage(DismSession Session, PCWSTR Identifier,
                                 DismPackageIdentifier PackageIdentifier, HANDLE CancelEvent,
                                 DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    package_change change = {{Identifier, PackageIdentifier}, true};
    return servicing_check(Session, "DismRemovePackage", check_package_change, &change);
}
