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

/* The package table and the capability list read with it: loaded and
 * freed together. */
typedef struct {
    cbs_table table;
    capability_list list;
} capability_view;

static HRESULT view_load(offline_image *img, capability_view *v)
{
    HRESULT hr = cbs_load(img, &v->table);
    if (SUCCEEDED(hr) && FAILED(hr = scan_capabilities(img, &v->table, &v->list)))
        cbs_free(&v->table);
    return hr;
}

static void view_free(capability_view *v)
{
    list_free(&v->list);
    cbs_free(&v->table);
}

static HRESULT read_capabilities(offline_image *img, result_pool *pool, const void *args,
                                 void **result, UINT *count)
{
    capability_view v = {0};
    HRESULT hr = view_load(img, &v);
    if (FAILED(hr))
        return hr;
    const capability_list *l = &v.list;
    DismCapability *out = pool_alloc(pool, (l->count ? l->count : 1) * sizeof *out);
    for (size_t i = 0; out && i < l->count; i++) {
        out[i].Name = pool_wstr(pool, l->items[i].name);
        out[i].State = l->items[i].state;
    }
    *count = (UINT)l->count;
    *result = out;
    view_free(&v);
    return S_OK;
}

HRESULT WINAPI DismGetCapabilities(DismSession Session, DismCapability **Capability, UINT *Count)
{
    if (!Capability || !Count)
        return engine_fail(E_INVALIDARG, "DismGetCapabilities: Capability and Count are "
                           "required.");
    return servicing_read(Session, "DismGetCapabilities", read_capabilities, NULL,
                          (void **)Capability, Count);
}

/* Finds one capability by name; an unknown one is DISM's "not applicable"
 * (the capability is not offered for this image). */
static HRESULT find_capability(offline_image *img, PCWSTR Name, capability_view *v,
                               const capability_entry **out)
{
    char *name = NULL;
    char label[96];
    snprintf(label, sizeof label, "%s: Name", img->function);
    HRESULT hr = path_arg(Name, label, &name);
    if (FAILED(hr) || FAILED(hr = view_load(img, v))) {
        free(name);
        return hr;
    }
    *out = list_find(&v->list, name);
    if (!*out)
        hr = engine_fail(CBS_E_NOT_APPLICABLE, "%s: the image declares no capability named "
                         "'%s' (names look like OpenSSH.Client~~~~0.0.1.0).", img->function, name);
    free(name);
    return hr;
}

static HRESULT read_capability_info(offline_image *img, result_pool *pool, const void *name,
                                    void **result, UINT *count)
{
    capability_view v = {0};
    const capability_entry *e = NULL;
    DismCapabilityInfo *info = pool_alloc(pool, sizeof *info);
    HRESULT hr = info ? find_capability(img, name, &v, &e) : S_OK;
    if (info && SUCCEEDED(hr)) {
        info->Name = pool_wstr(pool, e->name);
        info->State = e->state;
        info->DisplayName = pool_wstr(pool, e->display_name);
        info->Description = pool_wstr(pool, e->description);
        /* Sizes come from the capability's source (Windows Update or a FoD
         * repository), which an offline image does not carry. */
        info->DownloadSize = 0;
        info->InstallSize = 0;
    }
    view_free(&v);
    *result = info;
    return hr;
}

HRESULT WINAPI DismGetCapabilityInfo(DismSession Session, PCWSTR Name, DismCapabilityInfo **Info)
{
    if (!Info)
        return engine_fail(E_INVALIDARG, "DismGetCapabilityInfo: Info is required.");
    return servicing_read(Session, "DismGetCapabilityInfo", read_capability_info, Name,
                          (void **)Info, NULL);
}

static HRESULT check_add_capability(offline_image *img, const void *args)
{
    const write_args *a = args;
    char *name = NULL;
    /* A capability not yet in the image comes from a source, so only the
     * name's form can be checked here. */
    HRESULT hr = path_arg(a->name, "DismAddCapability: Name", &name);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = source_paths_arg(img->function, a->sources,
                                                          a->source_count))) {
        if (!strstr(name, "~"))
            hr = engine_fail(E_INVALIDARG, "DismAddCapability: '%s' is not a capability name "
                             "(Name~~~Language~Version).", name);
        else
            hr = not_supported_offline(img->function, "adding a capability");
    }
    free(name);
    return hr;
}

HRESULT WINAPI DismAddCapability(DismSession Session, PCWSTR Name, BOOL LimitAccess,
                                 PCWSTR *SourcePaths, UINT SourcePathCount, HANDLE CancelEvent,
                                 DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    write_args args = {Name, SourcePaths, SourcePathCount};
    return servicing_check(Session, "DismAddCapability", check_add_capability, &args);
}

static HRESULT check_remove_capability(offline_image *img, const void *name)
{
    capability_view v = {0};
    const capability_entry *e = NULL;
    HRESULT hr = find_capability(img, name, &v, &e);
    if (SUCCEEDED(hr))
        hr = e->state == DismStateInstalled || e->state == DismStateInstallPending
                 ? not_supported_offline(img->function, "removing a capability")
                 : engine_fail(CBS_E_NOT_APPLICABLE, "DismRemoveCapability: '%s' is not "
                               "installed in the image.", e->name);
    view_free(&v);
    return hr;
}

HRESULT WINAPI DismRemoveCapability(DismSession Session, PCWSTR Name, HANDLE CancelEvent,
                                    DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    return servicing_check(Session, "DismRemoveCapability", check_remove_capability, Name);
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

/* Adding or removing a language: its name checked, and the sources when
 * they are given (NULL sources with a count of 0 for a removal). */
static HRESULT check_language_change(offline_image *img, const void *args)
{
    const write_args *a = args;
    char *name = NULL;
    HRESULT hr = check_language(img->function, a->name, &name);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = source_paths_arg(img->function, a->sources,
                                                          a->source_count)))
        hr = not_supported_offline(img->function, a->what);
    free(name);
    return hr;
}

HRESULT WINAPI DismAddLanguage(DismSession Session, PCWSTR LanguageName, BOOL PreventPending,
                               BOOL LimitAccess, PCWSTR *SourcePaths, UINT SourcePathCount,
                               HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                               PVOID UserData)
{
    write_args args = {LanguageName, SourcePaths, SourcePathCount, "adding a language"};
    return servicing_check(Session, "DismAddLanguage", check_language_change, &args);
}

HRESULT WINAPI DismRemoveLanguage(DismSession Session, PCWSTR LanguageName, HANDLE CancelEvent,
                                  DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    write_args args = {LanguageName, NULL, 0, "removing a language"};
    return servicing_check(Session, "DismRemoveLanguage", check_language_change, &args);
}
