/*
 * features.c - optional features of an offline image.
 *
 * A feature is an "update" of a CBS package: the package's registry key has
 * an Updates subkey with one value per feature holding its CBS state [C],
 * and the package's manifest gives the feature's display name, description,
 * restart behaviour, parents, and whether users may select it at all.
 * Several packages (versions) may name the same feature; the newest wins [I].
 * Features only the Notifications\OptionalFeatures key knows of are reported
 * from its Selection value [C].
 */
#include "servicing.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPTIONAL_FEATURES \
    "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Notifications\\" \
    "OptionalFeatures"

typedef struct {
    char *name;
    DismPackageFeatureState state;
    const cbs_package *owner;  /* NULL for OptionalFeatures-only entries */
    bool hidden;               /* not selectable according to its manifest */
} feature_entry;

/* Entries in order of discovery, plus a hash table of their positions
 * (open addressing, twice the capacity) so that a hive with very many
 * feature values costs linear, not quadratic, time. */
typedef struct {
    cbs_table table;
    feature_entry *items;
    size_t count, capacity;
    size_t *slots;             /* position + 1, 0 = empty; 2 * capacity of them */
} feature_index;

static size_t name_hash(const char *name)
{
    size_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ (size_t)tolower(*p)) * 1099511628211u;
    return h;
}

static size_t *find_slot(const feature_index *ix, const char *name)
{
    size_t mask = 2 * ix->capacity - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask)
        if (!ix->slots[i] || !strcasecmp(ix->items[ix->slots[i] - 1].name, name))
            return &ix->slots[i];
}

static feature_entry *index_find(const feature_index *ix, const char *name)
{
    if (!ix->capacity)
        return NULL;
    size_t *slot = find_slot(ix, name);
    return *slot ? &ix->items[*slot - 1] : NULL;
}

static bool index_grow(feature_index *ix)
{
    size_t cap = ix->capacity ? ix->capacity * 2 : 64;
    feature_entry *items = realloc(ix->items, cap * sizeof *items);
    if (!items)
        return false;
    ix->items = items;
    size_t *slots = calloc(2 * cap, sizeof *slots);
    if (!slots)
        return false;
    free(ix->slots);
    ix->slots = slots;
    ix->capacity = cap;
    for (size_t i = 0; i < ix->count; i++)
        *find_slot(ix, ix->items[i].name) = i + 1;
    return true;
}

static feature_entry *index_add(feature_index *ix, const char *name)
{
    if (ix->count == ix->capacity && !index_grow(ix))
        return NULL;
    feature_entry *e = &ix->items[ix->count];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name)
        return NULL;
    *find_slot(ix, name) = ++ix->count;
    return e;
}

static void index_free(feature_index *ix)
{
    for (size_t i = 0; i < ix->count; i++)
        free(ix->items[i].name);
    free(ix->items);
    free(ix->slots);
    cbs_free(&ix->table);
    memset(ix, 0, sizeof *ix);
}

/* Adds the features one package's Updates key names. */
static bool index_package(feature_index *ix, const cbs_package *p)
{
    hive_h *h = ix->table.hive;
    hive_node_h updates = hive_lookup(h, p->node, "Updates");
    if (!updates)
        return true;
    hive_value_h *values = hivex_node_values(h, updates);
    bool ok = true;
    for (size_t i = 0; ok && values && values[i]; i++) {
        char *name = hivex_value_key(h, values[i]);
        uint32_t state = 0;
        if (name && *name && hive_value_dword(h, values[i], &state)) {
            feature_entry *e = index_find(ix, name);
            if (!e && !(e = index_add(ix, name)))
                ok = false;
            else if (!e->owner || cbs_compare_versions(e->owner->identity, p->identity) < 0) {
                e->owner = p;
                e->state = map_cbs_state(state);
            }
        }
        free(name);
    }
    free(values);
    return ok;
}

static bool index_notifications(feature_index *ix)
{
    hive_h *h = ix->table.hive;
    hive_node_h parent = hive_lookup(h, hivex_root(h), OPTIONAL_FEATURES);
    size_t n = 0;
    hive_node_h *children = hive_children(h, parent, &n);
    bool ok = children != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char *name = hive_name(h, children[i]);
        uint32_t selection = 0, removed = 0;
        if (name && hive_dword(h, children[i], "Selection", &selection)) {
            feature_entry *e = index_find(ix, name);
            if (!e) {
                if (!(e = index_add(ix, name)))
                    ok = false;
                else
                    e->state = map_feature_selection(selection);
            }
            /* Removed = 1: the payload was taken out of the image [C]. */
            if (e && hive_dword(h, children[i], "Removed", &removed) && removed == 1 &&
                e->state != DismStateInstalled)
                e->state = DismStateRemoved;
        }
        free(name);
    }
    free(children);
    return ok;
}

/* Reads each owning package's manifest once to hide features users cannot
 * select (no <selectable> element): DISM does not list those [I]. */
static void index_mark_hidden(offline_image *img, feature_index *ix)
{
    bool *read = calloc(ix->table.count ? ix->table.count : 1, sizeof *read);
    for (size_t i = 0; read && i < ix->count; i++) {
        const cbs_package *owner = ix->items[i].owner;
        if (!owner || read[owner - ix->table.items])
            continue;
        read[owner - ix->table.items] = true;
        char path[ENGINE_PATH_MAX];
        mum_info mum;
        if (!mum_path(img, owner->identity, path, sizeof path) ||
            FAILED(mum_read(img->function, path, &mum))) {
            engine_clear_error();
            continue;
        }
        for (size_t k = 0; k < mum.update_count; k++) {
            feature_entry *e = mum.updates[k].name ? index_find(ix, mum.updates[k].name) : NULL;
            if (e && e->owner == owner)
                e->hidden = !mum.updates[k].selectable;
        }
        mum_free(&mum);
    }
    free(read);
}

static HRESULT index_load(offline_image *img, feature_index *ix)
{
    memset(ix, 0, sizeof *ix);
    HRESULT hr = cbs_load(img, &ix->table);
    if (FAILED(hr))
        return hr;
    bool ok = true;
    for (size_t i = 0; ok && i < ix->table.count; i++)
        ok = index_package(ix, &ix->table.items[i]);
    if (ok)
        ok = index_notifications(ix);
    if (!ok) {
        index_free(ix);
        return engine_fail(E_OUTOFMEMORY, "%s: out of memory.", img->function);
    }
    index_mark_hidden(img, ix);
    return S_OK;
}

static HRESULT unknown_feature(const char *function, const char *name)
{
    return engine_fail(DISMAPI_E_UNKNOWN_FEATURE, "%s: feature name '%s' is unknown in this "
                       "image.", function, name);
}

/* The manifest <update> describing a feature, read from its owner. */
static bool feature_manifest(offline_image *img, const feature_entry *e, mum_info *mum,
                             const mum_update **update)
{
    char path[ENGINE_PATH_MAX];
    *update = NULL;
    if (!e->owner || !mum_path(img, e->owner->identity, path, sizeof path) ||
        FAILED(mum_read(img->function, path, mum))) {
        engine_clear_error();
        return false;
    }
    *update = mum_find_update(mum, e->name);
    return true;
}

/* The optional package filter of the Get functions: DismPackageNone or an
 * empty identifier means the whole image. */
static bool wants_package(const package_name *package)
{
    return package->type != DismPackageNone && package->identifier && *package->identifier;
}

/* ---- DismGetFeatures ---- */

static DismFeature *features_of_index(result_pool *pool, const feature_index *ix, UINT *count)
{
    DismFeature *out = pool_alloc(pool, (ix->count ? ix->count : 1) * sizeof *out);
    *count = 0;
    for (size_t i = 0; out && i < ix->count; i++) {
        if (ix->items[i].hidden)
            continue;
        out[*count].FeatureName = pool_wstr(pool, ix->items[i].name);
        out[*count].State = ix->items[i].state;
        (*count)++;
    }
    return out;
}

static DismFeature *features_of_package(result_pool *pool, const feature_index *ix,
                                        const package_ref *ref, UINT *count)
{
    *count = 0;
    size_t capacity = ix->count + (ref->has_mum ? ref->mum.update_count : 0);
    DismFeature *out = pool_alloc(pool, (capacity ? capacity : 1) * sizeof *out);
    if (!out)
        return NULL;
    if (ref->installed) {
        hive_h *h = ix->table.hive;
        hive_node_h updates = hive_lookup(h, ref->installed->node, "Updates");
        for (size_t i = 0; i < ix->count; i++) {
            uint32_t state;
            if (hive_dword(h, updates, ix->items[i].name, &state)) {
                out[*count].FeatureName = pool_wstr(pool, ix->items[i].name);
                out[*count].State = map_cbs_state(state);
                (*count)++;
            }
        }
    } else {
        for (size_t i = 0; ref->has_mum && i < ref->mum.update_count; i++) {
            if (!ref->mum.updates[i].name)
                continue;
            out[*count].FeatureName = pool_wstr(pool, ref->mum.updates[i].name);
            out[*count].State = DismStateNotPresent;
            (*count)++;
        }
    }
    return out;
}

/* Which features a call is about: a feature name (NULL for a list), and
 * the package it is to be found in, when one is named. */
typedef struct {
    PCWSTR feature;
    package_name package;
} feature_args;

static HRESULT read_features(offline_image *img, result_pool *pool, const void *args,
                             void **result, UINT *count)
{
    const feature_args *a = args;
    feature_index ix = {0};
    package_ref ref = {0};
    HRESULT hr = index_load(img, &ix);
    if (SUCCEEDED(hr) && !wants_package(&a->package))
        *result = features_of_index(pool, &ix, count);
    else if (SUCCEEDED(hr) &&
             SUCCEEDED(hr = package_resolve(img, &ix.table, &a->package, &ref)))
        *result = features_of_package(pool, &ix, &ref, count);
    package_ref_free(&ref);
    index_free(&ix);
    return hr;
}

HRESULT WINAPI DismGetFeatures(DismSession Session, PCWSTR Identifier,
                               DismPackageIdentifier PackageIdentifier, DismFeature **Feature,
                               UINT *Count)
{
    if (!Feature || !Count)
        return engine_fail(E_INVALIDARG, "DismGetFeatures: Feature and Count are required.");
    feature_args args = {NULL, {Identifier, PackageIdentifier}};
    return servicing_read(Session, "DismGetFeatures", read_features, &args, (void **)Feature,
                          Count);
}

/* ---- finding one feature, optionally within one package ---- */

typedef struct {
    feature_index ix;
    package_ref ref;
    feature_entry *entry;
    char *name;
} feature_lookup;

static void lookup_free(feature_lookup *l)
{
    package_ref_free(&l->ref);
    index_free(&l->ix);
    free(l->name);
}

static HRESULT lookup_feature(offline_image *img, PCWSTR FeatureName,
                              const package_name *package, feature_lookup *l)
{
    memset(l, 0, sizeof *l);
    char label[96];
    snprintf(label, sizeof label, "%s: FeatureName", img->function);
    HRESULT hr = path_arg(FeatureName, label, &l->name);
    if (FAILED(hr) || FAILED(hr = index_load(img, &l->ix)))
        return hr;
    if (wants_package(package) && FAILED(hr = package_resolve(img, &l->ix.table, package, &l->ref)))
        return hr;
    l->entry = index_find(&l->ix, l->name);
    /* With a package, the feature must be one of that package's. */
    if (l->entry && l->ref.identity) {
        bool in_package = l->ref.installed
                              ? l->entry->owner == l->ref.installed
                              : l->ref.has_mum && mum_find_update(&l->ref.mum, l->name);
        if (!in_package)
            l->entry = NULL;
    }
    return l->entry ? S_OK : unknown_feature(img->function, l->name);
}

/* ---- DismGetFeatureInfo ---- */

static HRESULT read_feature_info(offline_image *img, result_pool *pool, const void *args,
                                 void **result, UINT *count)
{
    const feature_args *a = args;
    feature_lookup l;
    DismFeatureInfo *info = pool_alloc(pool, sizeof *info);
    HRESULT hr = lookup_feature(img, a->feature, &a->package, &l);
    if (SUCCEEDED(hr) && info) {
        info->FeatureName = pool_wstr(pool, l.entry->name);
        info->FeatureState = l.entry->state;
        info->RestartRequired = map_restart(NULL);
        mum_info mum;
        const mum_update *u;
        if (feature_manifest(img, l.entry, &mum, &u)) {
            if (u) {
                info->DisplayName = pool_wstr(pool, u->display_name);
                info->Description = pool_wstr(pool, u->description);
                info->RestartRequired = map_restart(u->restart ? u->restart : mum.restart);
            }
            mum_free(&mum);
        }
        /* Custom properties of a feature are not in any file found [I]. */
        info->CustomProperty = NULL;
        info->CustomPropertyCount = 0;
    }
    lookup_free(&l);
    *result = info;
    return hr;
}

HRESULT WINAPI DismGetFeatureInfo(DismSession Session, PCWSTR FeatureName, PCWSTR Identifier,
                                  DismPackageIdentifier PackageIdentifier,
                                  DismFeatureInfo **FeatureInfo)
{
    if (!FeatureInfo)
        return engine_fail(E_INVALIDARG, "DismGetFeatureInfo: FeatureInfo is required.");
    feature_args args = {FeatureName, {Identifier, PackageIdentifier}};
    return servicing_read(Session, "DismGetFeatureInfo", read_feature_info, &args,
                          (void **)FeatureInfo, NULL);
}

/* ---- DismGetFeatureParent ---- */

static HRESULT read_feature_parents(offline_image *img, result_pool *pool, const void *args,
                                    void **result, UINT *count)
{
    const feature_args *a = args;
    feature_lookup l;
    HRESULT hr = lookup_feature(img, a->feature, &a->package, &l);
    if (SUCCEEDED(hr)) {
        mum_info mum;
        const mum_update *u = NULL;
        bool have = feature_manifest(img, l.entry, &mum, &u);
        size_t parents = u ? u->parent_count : 0;
        DismFeature *out = pool_alloc(pool, (parents ? parents : 1) * sizeof *out);
        for (size_t i = 0; out && i < parents; i++) {
            const feature_entry *p = index_find(&l.ix, u->parents[i]);
            out[i].FeatureName = pool_wstr(pool, u->parents[i]);
            out[i].State = p ? p->state : DismStateNotPresent;
        }
        *count = (UINT)parents;
        *result = out;
        if (have)
            mum_free(&mum);
    }
    lookup_free(&l);
    return hr;
}

HRESULT WINAPI DismGetFeatureParent(DismSession Session, PCWSTR FeatureName, PCWSTR Identifier,
                                    DismPackageIdentifier PackageIdentifier, DismFeature **Feature,
                                    UINT *Count)
{
    if (!Feature || !Count)
        return engine_fail(E_INVALIDARG, "DismGetFeatureParent: Feature and Count are required.");
    feature_args args = {FeatureName, {Identifier, PackageIdentifier}};
    return servicing_read(Session, "DismGetFeatureParent", read_feature_parents, &args,
                          (void **)Feature, Count);
}

/* ---- writes: validated, then refused ---- */

static bool is_enabled(DismPackageFeatureState s)
{
    return s == DismStateInstalled || s == DismStateInstallPending;
}

static bool name_in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ";");
        if (n == len && !strncasecmp(p, name, len))
            return true;
        p += n + (p[n] == ';');
    }
    return false;
}

/* Checks each ';'-separated feature as DISM does before changing anything:
 * it must exist and, when enabling without EnableAll, its parents must be
 * enabled or enabled by the same call. */
static HRESULT check_feature_list(offline_image *img, const feature_index *ix, const char *list,
                                  bool enabling, bool enable_all)
{
    char name[512];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ";");
        if (n == 0 || n >= sizeof name)
            return engine_fail(E_INVALIDARG, "%s: the feature list '%s' has an empty or "
                               "over-long name.", img->function, list);
        memcpy(name, p, n);
        name[n] = '\0';
        p += n + (p[n] == ';');
        const feature_entry *e = index_find(ix, name);
        if (!e || e->hidden)
            return unknown_feature(img->function, name);
        mum_info mum;
        const mum_update *u;
        if (!enabling || enable_all || !feature_manifest(img, e, &mum, &u))
            continue;
        HRESULT hr = S_OK;
        for (size_t i = 0; u && i < u->parent_count && SUCCEEDED(hr); i++) {
            const feature_entry *parent = index_find(ix, u->parents[i]);
            if (parent && !is_enabled(parent->state) && !name_in_list(list, u->parents[i]))
                hr = engine_fail(DISMAPI_E_PARENT_FEATURE_DISABLED, "%s: the parent feature "
                                 "'%s' of '%s' is not enabled; enable it too, or pass "
                                 "EnableAll.", img->function, u->parents[i], name);
        }
        mum_free(&mum);
        if (FAILED(hr))
            return hr;
    }
    return S_OK;
}

/* A feature list to enable or disable, optionally within one package. */
typedef struct {
    PCWSTR names;
    package_name package;
    PCWSTR *sources;
    UINT source_count;
    bool enabling, enable_all;
} feature_change;

static HRESULT check_feature_change(offline_image *img, const void *args)
{
    const feature_change *c = args;
    feature_index ix = {0};
    package_ref ref = {0};
    char *names = NULL;
    char label[96];
    snprintf(label, sizeof label, "%s: FeatureName", img->function);
    HRESULT hr = path_arg(c->names, label, &names);
    if (SUCCEEDED(hr) &&
        SUCCEEDED(hr = source_paths_arg(img->function, c->sources, c->source_count)) &&
        SUCCEEDED(hr = index_load(img, &ix)) &&
        (!wants_package(&c->package) ||
         SUCCEEDED(hr = package_resolve(img, &ix.table, &c->package, &ref))) &&
        SUCCEEDED(hr = check_feature_list(img, &ix, names, c->enabling, c->enable_all)))
        hr = not_supported_offline(img->function,
                                   c->enabling ? "enabling a feature" : "disabling a feature");
    free(names);
    package_ref_free(&ref);
    index_free(&ix);
    return hr;
}

HRESULT WINAPI DismEnableFeature(DismSession Session, PCWSTR FeatureName, PCWSTR Identifier,
                                 DismPackageIdentifier PackageIdentifier, BOOL LimitAccess,
                                 PCWSTR *SourcePaths, UINT SourcePathCount, BOOL EnableAll,
                                 HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                                 PVOID UserData)
{
    feature_change change = {FeatureName, {Identifier, PackageIdentifier}, SourcePaths,
                             SourcePathCount, true, EnableAll};
    return servicing_check(Session, "DismEnableFeature", check_feature_change, &change);
}

/* The package of a feature being disabled is named by its name alone. */
HRESULT WINAPI DismDisableFeature(DismSession Session, PCWSTR FeatureName, PCWSTR PackageName,
                                  BOOL RemovePayload, HANDLE CancelEvent,
                                  DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    feature_change change = {FeatureName, {PackageName, DismPackageName}, NULL, 0, false,
                             false};
    return servicing_check(Session, "DismDisableFeature", check_feature_change, &change);
}
