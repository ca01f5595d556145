/*
 * capabilities.c - capabilities (Features on Demand) and languages.
 *
 * A capability is a CBS package whose manifest declares it:
 * <declareCapability><capability><capabilityIdentity name= language=
 * version=/>, identified to users as "Name~~~Language~Version" [C].  No
 * registry index of capabilities was found, so the manifests in
 * Windows\servicing\Packages are scanned and each joined to its package's
 * CurrentState [I: the weakest mapping here; the state of a capability whose
 * package is absent from the registry is NotPresent].
 */
#include "servicing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *name;          /* Name~~~Language~Version */
    char *identity;      /* the declaring package */
    char *display_name, *description;
    DismPackageFeatureState state;
} capability_entry;

typedef struct {
    capability_entry *items;
    size_t count, capacity;
} capability_list;

static void list_free(capability_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].name);
        free(l->items[i].identity);
        free(l->items[i].display_name);
        free(l->items[i].description);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static bool list_add(capability_list *l, mum_info *mum, const cbs_table *t, const char *file)
{
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? l->capacity * 2 : 16;
        capability_entry *items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return false;
        l->items = items;
        l->capacity = cap;
    }
    capability_entry *e = &l->items[l->count];
    memset(e, 0, sizeof *e);
    /* The file name is the identity the registry knows the package by. */
    e->identity = strndup(file, strlen(file) - 4);
    e->name = mum->capability;
    mum->capability = NULL;
    e->display_name = mum->capability_display_name ? mum->capability_display_name
                                                   : mum->display_name;
    e->description = mum->capability_description ? mum->capability_description
                                                  : mum->description;
    /* Ownership moved to the entry. */
    if (e->display_name == mum->capability_display_name)
        mum->capability_display_name = NULL;
    else
        mum->display_name = NULL;
    if (e->description == mum->capability_description)
        mum->capability_description = NULL;
    else
        mum->description = NULL;
    const cbs_package *p = e->identity ? cbs_find(t, e->identity) : NULL;
    e->state = p ? map_cbs_state(p->state) : DismStateNotPresent;
    l->count++;
    return e->identity != NULL;
}

/* Most manifests declare nothing; parsing is the slow part, so only those
 * whose bytes mention a capability identity are parsed. */
static bool mentions_capability(const char *data, size_t len)
{
    static const char utf16[] = "c\0a\0p\0a\0b\0i\0l\0i\0t\0y\0I\0d\0e\0n\0t\0i\0t\0y";
    return memmem(data, len, "capabilityIdentity", 18) ||
           memmem(data, len, utf16, sizeof utf16 - 1);
}

/* Reads one manifest and adds the capability it declares, if any.  A
 * damaged manifest is logged and skipped: it does not hide the others. */
static HRESULT scan_manifest(offline_image *img, const cbs_table *t, const char *name,
                             capability_list *l)
{
    char path[ENGINE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", img->manifest_dir, name);
    size_t len;
    HRESULT hr;
    mum_info mum;
    char *data = mum_load(img->function, path, &len, &hr);
    if (data && !mentions_capability(data, len)) {
        free(data);
        return S_OK;
    }
    if (data)
        hr = mum_parse(img->function, path, data, len, &mum);
    free(data);
    if (FAILED(hr)) {
        engine_log(LOG_WARNING, "%s", engine_last_error());
        engine_clear_error();
        return S_OK;
    }
    if (mum.capability && !list_add(l, &mum, t, name))
        hr = engine_fail(E_OUTOFMEMORY, "%s: out of memory.", img->function);
    mum_free(&mum);
    return hr;
}

static HRESULT scan_capabilities(offline_image *img, const cbs_table *t, capability_list *l)
{
    memset(l, 0, sizeof *l);
    size_t n = mum_listing(img);
    HRESULT hr = S_OK;
    for (size_t i = 0; i < n && SUCCEEDED(hr); i++)
        hr = scan_manifest(img, t, img->manifests[i], l);
    if (FAILED(hr))
        list_free(l);
    return hr;
}

static const capability_entry *list_find(const capability_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (!strcasecmp(l->items[i].name, name))
            return &l->items[i];
    return NULL;
}

/* Loads the package table and the capability list together. */
static HRESULT load_all(offline_image *img, cbs_table *t, capability_list *l)
{
    HRESULT hr = cbs_load(img, t);
    if (SUCCEEDED(hr) && FAILED(hr = scan_capabilities(img, t, l)))
        cbs_free(t);
    return hr;
}

HRESULT WINAPI DismGetCapabilities(DismSession Session, DismCapability **Capability, UINT *Count)
{
    if (!Capability || !Count)
        return engine_fail(E_INVALIDARG, "DismGetCapabilities: Capability and Count are "
                           "required.");
    *Capability = NULL;
    *Count = 0;
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismGetCapabilities", &img);
    if (FAILED(hr))
        return hr;
    cbs_table t = {0};
    capability_list l = {0};
    result_pool *pool = pool_new();
    DismCapability *out = NULL;
    UINT n = 0;
    if (!pool)
        hr = engine_fail(E_OUTOFMEMORY, "DismGetCapabilities: out of memory.");
    else if (SUCCEEDED(hr = load_all(&img, &t, &l))) {
        n = (UINT)l.count;
        out = pool_alloc(pool, (l.count ? l.count : 1) * sizeof *out);
        for (size_t i = 0; out && i < l.count; i++) {
            out[i].Name = pool_wstr(pool, l.items[i].name);
            out[i].State = l.items[i].state;
        }
        if (!out)
            hr = engine_fail(E_OUTOFMEMORY, "DismGetCapabilities: out of memory.");
        list_free(&l);
        cbs_free(&t);
    }
    offline_end(&img);
    *Capability = pool_finish(pool, hr, out);
    if (FAILED(hr))
        return hr;
    *Count = n;
    return S_OK;
}

/* Finds one capability by name; an unknown one is DISM's "not applicable"
 * (the capability is not offered for this image). */
static HRESULT find_capability(offline_image *img, PCWSTR Name, cbs_table *t,
                               capability_list *l, const capability_entry **out)
{
    char *name = NULL;
    char label[96];
    snprintf(label, sizeof label, "%s: Name", img->function);
    HRESULT hr = path_arg(Name, label, &name);
    if (FAILED(hr) || FAILED(hr = load_all(img, t, l))) {
        free(name);
        return hr;
    }
    *out = list_find(l, name);
    if (!*out)
        hr = engine_fail(CBS_E_NOT_APPLICABLE, "%s: the image declares no capability named "
                         "'%s' (names look like OpenSSH.Client~~~~0.0.1.0).", img->function, name);
    free(name);
    return hr;
}

HRESULT WINAPI DismGetCapabilityInfo(DismSession Session, PCWSTR Name, DismCapabilityInfo **Info)
{
    if (!Info)
        return engine_fail(E_INVALIDARG, "DismGetCapabilityInfo: Info is required.");
    *Info = NULL;
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismGetCapabilityInfo", &img);
    if (FAILED(hr))
        return hr;
    cbs_table t = {0};
    capability_list l = {0};
    const capability_entry *e = NULL;
    result_pool *pool = pool_new();
    DismCapabilityInfo *info = pool ? pool_alloc(pool, sizeof *info) : NULL;
    if (!info)
        hr = engine_fail(E_OUTOFMEMORY, "DismGetCapabilityInfo: out of memory.");
    else if (SUCCEEDED(hr = find_capability(&img, Name, &t, &l, &e))) {
        info->Name = pool_wstr(pool, e->name);
        info->State = e->state;
        info->DisplayName = pool_wstr(pool, e->display_name);
        info->Description = pool_wstr(pool, e->description);
        /* Sizes come from the capability's source (Windows Update or a FoD
         * repository), which an offline image does not carry. */
        info->DownloadSize = 0;
        info->InstallSize = 0;
    }
    list_free(&l);
    cbs_free(&t);
    offline_end(&img);
    *Info = pool_finish(pool, hr, info);
    if (FAILED(hr))
        return hr;
    return S_OK;
}

HRESULT WINAPI DismAddCapability(DismSession Session, PCWSTR Name, BOOL LimitAccess,
                                 PCWSTR *SourcePaths, UINT SourcePathCount, HANDLE CancelEvent,
                                 DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismAddCapability", &img);
    if (FAILED(hr))
        return hr;
    char *name = NULL;
    /* A capability not yet in the image comes from a source, so only the
     * name's form can be checked here. */
    if (SUCCEEDED(hr = path_arg(Name, "DismAddCapability: Name", &name)) &&
        SUCCEEDED(hr = source_paths_arg("DismAddCapability", SourcePaths, SourcePathCount))) {
        if (!strstr(name, "~"))
            hr = engine_fail(E_INVALIDARG, "DismAddCapability: '%s' is not a capability name "
                             "(Name~~~Language~Version).", name);
        else
            hr = not_supported_offline("DismAddCapability", "adding a capability");
    }
    free(name);
    offline_end(&img);
    return hr;
}

HRESULT WINAPI DismRemoveCapability(DismSession Session, PCWSTR Name, HANDLE CancelEvent,
                                    DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismRemoveCapability", &img);
    if (FAILED(hr))
        return hr;
    cbs_table t = {0};
    capability_list l = {0};
    const capability_entry *e = NULL;
    if (SUCCEEDED(hr = find_capability(&img, Name, &t, &l, &e)))
        hr = e->state == DismStateInstalled || e->state == DismStateInstallPending
                 ? not_supported_offline("DismRemoveCapability", "removing a capability")
                 : engine_fail(CBS_E_NOT_APPLICABLE, "DismRemoveCapability: '%s' is not "
                               "installed in the image.", e->name);
    list_free(&l);
    cbs_free(&t);
    offline_end(&img);
    return hr;
}

/* Languages are capabilities and language packs; the checks are the same
 * as for capabilities: a well-formed name (ll-CC) and consistent sources. */
static HRESULT check_language(const char *function, PCWSTR LanguageName, char **name)
{
    char label[96];
    snprintf(label, sizeof label, "%s: LanguageName", function);
    HRESULT hr = path_arg(LanguageName, label, name);
    if (FAILED(hr))
        return hr;
    size_t len = strlen(*name);
    bool ok = len >= 2 && len <= 16;
    for (size_t i = 0; ok && i < len; i++) {
        char c = (*name)[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-';
    }
    if (!ok)
        hr = engine_fail(E_INVALIDARG, "%s: '%s' is not a language name such as \"de-DE\".",
                         function, *name);
    return hr;
}

HRESULT WINAPI DismAddLanguage(DismSession Session, PCWSTR LanguageName, BOOL PreventPending,
                               BOOL LimitAccess, PCWSTR *SourcePaths, UINT SourcePathCount,
                               HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                               PVOID UserData)
{
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismAddLanguage", &img);
    if (FAILED(hr))
        return hr;
    char *name = NULL;
    if (SUCCEEDED(hr = check_language("DismAddLanguage", LanguageName, &name)) &&
        SUCCEEDED(hr = source_paths_arg("DismAddLanguage", SourcePaths, SourcePathCount)))
        hr = not_supported_offline("DismAddLanguage", "adding a language");
    free(name);
    offline_end(&img);
    return hr;
}

HRESULT WINAPI DismRemoveLanguage(DismSession Session, PCWSTR LanguageName, HANDLE CancelEvent,
                                  DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismRemoveLanguage", &img);
    if (FAILED(hr))
        return hr;
    char *name = NULL;
    if (SUCCEEDED(hr = check_language("DismRemoveLanguage", LanguageName, &name)))
        hr = not_supported_offline("DismRemoveLanguage", "removing a language");
    free(name);
    offline_end(&img);
    return hr;
}
