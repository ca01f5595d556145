/*
 * drivers.c - the driver store of an offline image.
 *
 * Windows 8 and later index the store in a DriverDatabase key: at the root
 * of the DRIVERS hive on Windows 10+, at the root of SYSTEM on 8/8.1 [C].
 * Each DriverPackages\<inf>_<arch>_<hash> entry names the package's folder
 * in System32\DriverStore\FileRepository, its published name (oemN.inf for
 * third-party drivers), provider, catalog and a binary Version value with
 * class, date and version [V].  Both hives are read and merged.  Windows 7
 * has no such index; there the published copies in Windows\INF\oem*.inf are
 * parsed instead [C].  Device lists always come from the INF itself.
 */
#include "formats/inf/inf.h"
#include "servicing.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DRIVER_PACKAGES "DriverDatabase\\DriverPackages"

typedef struct {
    char *folder;     /* key name = FileRepository folder */
    char *published;  /* default value */
    char *inf_name, *provider, *catalog, *signer;
    driver_version_blob blob;
    hive_h *hive;
    hive_node_h node;
} store_entry;

typedef struct {
    store_entry *items;
    size_t count;
    bool indexed;     /* a DriverDatabase was found in some hive */
    /* Looked up once per call rather than once per package: */
    offline_image *img;
    char **boot_services;        /* services with Start = 0, sorted ignoring case */
    size_t boot_count;
    bool boot_listed;
    char repository[ENGINE_PATH_MAX]; /* System32\DriverStore\FileRepository */
    int repository_state;        /* 0 not looked for, 1 found, -1 absent */
} driver_store;

static void store_free(driver_store *s)
{
    for (size_t i = 0; i < s->count; i++) {
        store_entry *e = &s->items[i];
        FREE_STRINGS(e->folder, e->published, e->inf_name, e->provider, e->catalog, e->signer);
    }
    free(s->items);
    for (size_t i = 0; i < s->boot_count; i++)
        free(s->boot_services[i]);
    free(s->boot_services);
    memset(s, 0, sizeof *s);
}

static bool store_has(const driver_store *s, const char *folder)
{
    for (size_t i = 0; i < s->count; i++)
        if (!strcasecmp(s->items[i].folder, folder))
            return true;
    return false;
}

static void read_entry(hive_h *h, hive_node_h node, store_entry *e)
{
    e->hive = h;
    e->node = node;
    e->published = hive_string(h, node, "");
    e->inf_name = hive_string(h, node, "InfName");
    e->provider = hive_string(h, node, "Provider");
    e->catalog = hive_string(h, node, "Catalog");
    e->signer = hive_string(h, node, "SignerName");
    size_t len = 0;
    uint8_t *blob = hive_binary(h, node, "Version", 256, &len);
    map_driver_version_blob(blob, len, &e->blob);
    free(blob);
    /* In-box entries carry no InfName: the folder name starts with it. */
    if (!e->inf_name && e->folder) {
        const char *dot = strcasestr(e->folder, ".inf_");
        if (dot)
            e->inf_name = strndup(e->folder, (size_t)(dot - e->folder) + 4);
    }
}

static HRESULT store_add_hive(offline_image *img, hive_h *h, driver_store *s)
{
    hive_node_h packages = hive_lookup(h, hivex_root(h), DRIVER_PACKAGES);
    if (!packages)
        return S_OK;
    s->indexed = true;
    size_t n = 0;
    hive_node_h *children = hive_children(h, packages, &n);
    if (!children)
        return engine_fail_errno(errno, "%s: cannot list the driver database", img->function);
    store_entry *items = realloc(s->items, (s->count + n + 1) * sizeof *items);
    if (!items) {
        free(children);
        return engine_fail(E_OUTOFMEMORY, "%s: out of memory.", img->function);
    }
    s->items = items;
    for (size_t i = 0; i < n; i++) {
        char *folder = hive_name(h, children[i]);
        if (!folder || store_has(s, folder)) {
            free(folder);
            continue;
        }
        store_entry *e = &s->items[s->count++];
        memset(e, 0, sizeof *e);
        e->folder = folder;
        read_entry(h, children[i], e);
    }
    free(children);
    return S_OK;
}

/* DRIVERS first (Windows 10+), then SYSTEM (Windows 8/8.1) [C]. */
static HRESULT store_load(offline_image *img, driver_store *s)
{
    memset(s, 0, sizeof *s);
    s->img = img;
    HRESULT hr;
    hive_h *drivers = offline_hive(img, HIVE_DRIVERS, &hr);
    if (FAILED(hr) || (drivers && FAILED(hr = store_add_hive(img, drivers, s))))
        return hr;
    hive_h *system = offline_hive(img, HIVE_SYSTEM, &hr);
    if (FAILED(hr) || (system && FAILED(hr = store_add_hive(img, system, s)))) {
        store_free(s);
        return hr;
    }
    return S_OK;
}

/* ---- facts from SYSTEM ---- */

/* Control\Class\{guid}: "Class" is the class name, the default value its
 * description [C].  An indirect "@file,-id" description is a resource
 * reference the engine cannot resolve: it is left out rather than shown. */
static void class_facts(offline_image *img, const char *guid, char **name, char **description)
{
    *name = *description = NULL;
    HRESULT hr;
    hive_h *h = offline_hive(img, HIVE_SYSTEM, &hr);
    hive_node_h set = offline_control_set(img);
    if (!h || !set || !guid || !*guid)
        return;
    char path[96];
    snprintf(path, sizeof path, "Control\\Class\\%s", guid);
    hive_node_h key = hive_lookup(h, set, path);
    *name = hive_string(h, key, "Class");
    *description = hive_string(h, key, "");
    if (!*description)
        *description = hive_string(h, key, "ClassDesc");
    if (*description && (*description)[0] == '@') {
        free(*description);
        *description = NULL;
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* One pass over the control set's Services key instead of a lookup among
 * hundreds of services per package. */
static void list_boot_services(driver_store *s)
{
    s->boot_listed = true;
    HRESULT hr;
    hive_h *h = offline_hive(s->img, HIVE_SYSTEM, &hr);
    size_t n = 0;
    hive_node_h *services =
        hive_children(h, hive_lookup(h, offline_control_set(s->img), "Services"), &n);
    s->boot_services = services ? calloc(n ? n : 1, sizeof *s->boot_services) : NULL;
    for (size_t i = 0; s->boot_services && i < n; i++) {
        uint32_t start;
        if (hive_dword(h, services[i], "Start", &start) && map_boot_critical(start)) {
            char *name = hive_name(h, services[i]);
            if (name)
                s->boot_services[s->boot_count++] = name;
        }
    }
    free(services);
    if (s->boot_count)
        qsort(s->boot_services, s->boot_count, sizeof *s->boot_services, compare_names);
}

static bool service_is_boot_start(driver_store *s, const char *service)
{
    if (!service || !*service)
        return false;
    if (!s->boot_listed)
        list_boot_services(s);
    return s->boot_count && bsearch(&service, s->boot_services, s->boot_count,
                                    sizeof *s->boot_services, compare_names);
}

/* A package is boot-critical when a service one of its configurations
 * installs starts with the boot loader [I]. */
static bool entry_boot_critical(driver_store *s, const store_entry *e)
{
    hive_node_h configs = hive_lookup(e->hive, e->node, "Configurations");
    size_t n = 0;
    hive_node_h *children = hive_children(e->hive, configs, &n);
    bool critical = false;
    for (size_t i = 0; children && i < n && !critical; i++) {
        char *service = hive_string(e->hive, children[i], "Service");
        critical = service_is_boot_start(s, service);
        free(service);
    }
    free(children);
    return critical;
}

/* ---- paths ---- */

/* The INF of a package in the FileRepository.  The folder is listed once;
 * each package's folder is tried by its exact name first (the usual case)
 * and only then searched ignoring case. */
static bool repository_inf(driver_store *s, const char *folder, const char *inf_name, char *out,
                           size_t size)
{
    if (!folder || !inf_name || strchr(folder, '/') || strchr(inf_name, '/') ||
        !strcmp(folder, "..") || !strcmp(inf_name, ".."))
        return false;
    if (!s->repository_state)
        s->repository_state = offline_windows_path(s->img, "System32/DriverStore/FileRepository",
                                                   s->repository, sizeof s->repository)
                                  ? 1 : -1;
    if (s->repository_state < 0)
        return false;
    char dir[ENGINE_PATH_MAX], path[ENGINE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/%s", s->repository, folder, inf_name);
    if (access(path, F_OK) != 0) {
        snprintf(dir, sizeof dir, "%s/%s", s->repository, folder);
        if (access(dir, F_OK) != 0 && !find_child_ci(s->repository, folder, dir, sizeof dir))
            return false;
        if (!find_child_ci(dir, inf_name, path, sizeof path))
            return false;
    }
    return offline_inside_image(s->img, path, out, size);
}

static void repository_display_path(driver_store *s, const store_entry *e, char *out,
                                    size_t size)
{
    if (!repository_inf(s, e->folder, e->inf_name, out, size))
        snprintf(out, size, "%s/System32/DriverStore/FileRepository/%s/%s", s->img->windows_dir,
                 e->folder, e->inf_name ? e->inf_name : "");
}

/* ---- filling DismDriverPackage ---- */

static void fill_from_entry(result_pool *pool, driver_store *s, const store_entry *e,
                            DismDriverPackage *d)
{
    offline_image *img = s->img;
    char path[ENGINE_PATH_MAX];
    repository_display_path(s, e, path, sizeof path);
    d->PublishedName = pool_wstr(pool, e->published ? e->published : e->inf_name);
    d->OriginalFileName = pool_wstr(pool, path);
    d->InBox = map_inbox_driver(e->published);
    d->CatalogFile = pool_wstr(pool, e->catalog);
    d->ProviderName = pool_wstr(pool, e->provider);
    d->DriverSignature = map_driver_signature(e->signer);
    d->BootCritical = entry_boot_critical(s, e);
    if (e->blob.valid) {
        char *class_name, *class_description;
        class_facts(img, e->blob.class_guid, &class_name, &class_description);
        d->ClassGuid = pool_wstr(pool, e->blob.class_guid);
        d->ClassName = pool_wstr(pool, class_name);
        d->ClassDescription = pool_wstr(pool, class_description);
        free(class_name);
        free(class_description);
        d->Date = systemtime_from_filetime(e->blob.date_filetime);
        d->MajorVersion = e->blob.version[0];
        d->MinorVersion = e->blob.version[1];
        d->Build = e->blob.version[2];
        d->Revision = e->blob.version[3];
    }
}

static void date_to_systemtime(const inf_driver *inf, SYSTEMTIME *out)
{
    memset(out, 0, sizeof *out);
    if (!inf->has_date)
        return;
    out->wYear = (WORD)inf->year;
    out->wMonth = (WORD)inf->month;
    out->wDay = (WORD)inf->day;
    /* Day of the week by Zeller's congruence, as SYSTEMTIME carries one. */
    int y = (int)inf->year, m = (int)inf->month, d = (int)inf->day;
    if (m < 3) {
        m += 12;
        y--;
    }
    int h = (d + 13 * (m + 1) / 5 + y + y / 4 - y / 100 + y / 400) % 7;
    out->wDayOfWeek = (WORD)((h + 6) % 7);
}

static UINT image_architecture(offline_image *img)
{
    HRESULT hr;
    hive_h *h = offline_hive(img, HIVE_DRIVERS, &hr);
    uint32_t arch = 0;
    if (h && hive_dword(h, hive_lookup(h, hivex_root(h), "DriverDatabase"), "Architecture", &arch))
        return arch;
    h = offline_hive(img, HIVE_SYSTEM, &hr);
    if (h && hive_dword(h, hive_lookup(h, hivex_root(h), "DriverDatabase"), "Architecture", &arch))
        return arch;
    return PROCESSOR_ARCHITECTURE_AMD64;
}

static void fill_from_inf(result_pool *pool, offline_image *img, const inf_driver *inf,
                          const char *published, const char *path, DismDriverPackage *d)
{
    char *class_name, *class_description;
    class_facts(img, inf->class_guid, &class_name, &class_description);
    d->PublishedName = pool_wstr(pool, published);
    d->OriginalFileName = pool_wstr(pool, path);
    d->InBox = map_inbox_driver(published);
    d->CatalogFile = pool_wstr(pool, inf->catalog_file);
    d->ClassName = pool_wstr(pool, inf->class_name ? inf->class_name : class_name);
    d->ClassGuid = pool_wstr(pool, inf->class_guid);
    d->ClassDescription = pool_wstr(pool, class_description);
    d->BootCritical = inf->boot_critical;
    d->DriverSignature = DismDriverSignatureUnknown;
    d->ProviderName = pool_wstr(pool, inf->provider);
    date_to_systemtime(inf, &d->Date);
    if (inf->has_version) {
        d->MajorVersion = inf->version[0];
        d->MinorVersion = inf->version[1];
        d->Build = inf->version[2];
        d->Revision = inf->version[3];
    }
    free(class_name);
    free(class_description);
}

static HRESULT parse_inf(offline_image *img, const char *path, inf_driver *out)
{
    char message[256] = "";
    int err = 0;
    memset(out, 0, sizeof *out);
    inf_file *inf = inf_load(path, message, sizeof message, &err);
    if (!inf)
        return err ? engine_fail_errno(err, "%s: cannot read the INF '%s'", img->function, path)
                   : engine_fail(HRESULT_FROM_WIN32(ERROR_BAD_FORMAT), "%s: '%s' is not a "
                                 "valid INF file: %s.", img->function, path, message);
    int rc = inf_read_driver(inf, image_architecture(img), out, message, sizeof message);
    inf_free(inf);
    if (rc != 0)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_BAD_FORMAT), "%s: '%s' does not describe a "
                           "driver: %s.", img->function, path, message);
    return S_OK;
}

/* ---- DismGetDrivers ---- */

static bool is_oem_inf(const char *name)
{
    return !strncasecmp(name, "oem", 3) && has_suffix_ci(name, ".inf");
}

/* Windows 7: every published third-party INF, parsed [C]. */
static HRESULT legacy_drivers(result_pool *pool, offline_image *img, DismDriverPackage **out,
                              UINT *count)
{
    char dir[ENGINE_PATH_MAX];
    *out = NULL;
    *count = 0;
    if (!offline_windows_path(img, "INF", dir, sizeof dir))
        return S_OK;
    DIR *d = opendir(dir);
    if (!d)
        return S_OK;
    size_t capacity = 16;
    DismDriverPackage *list = pool_alloc(pool, capacity * sizeof *list);
    struct dirent *ent;
    HRESULT hr = list ? S_OK : E_OUTOFMEMORY;
    while (SUCCEEDED(hr) && (ent = readdir(d)) != NULL) {
        if (!is_oem_inf(ent->d_name))
            continue;
        char path[ENGINE_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        inf_driver inf;
        if (FAILED(parse_inf(img, path, &inf))) {
            engine_log(LOG_WARNING, "%s", engine_last_error());
            engine_clear_error();
            continue; /* one broken INF does not hide the others */
        }
        if (*count == capacity) {
            DismDriverPackage *bigger = pool_alloc(pool, capacity * 2 * sizeof *bigger);
            if (bigger)
                memcpy(bigger, list, capacity * sizeof *list);
            list = bigger;
            capacity *= 2;
        }
        if (list)
            fill_from_inf(pool, img, &inf, ent->d_name, path, &list[(*count)++]);
        else
            hr = E_OUTOFMEMORY;
        inf_driver_free(&inf);
    }
    closedir(d);
    if (FAILED(hr))
        return engine_fail(hr, "%s: out of memory.", img->function);
    *out = list;
    return S_OK;
}

static HRESULT read_drivers(offline_image *img, result_pool *pool, const void *all_drivers,
                            void **result, UINT *count)
{
    driver_store store = {0};
    DismDriverPackage *out = NULL;
    HRESULT hr = store_load(img, &store);
    if (SUCCEEDED(hr) && !store.indexed) {
        /* An empty list is still a result the caller frees. */
        if (SUCCEEDED(hr = legacy_drivers(pool, img, &out, count)) && !out)
            out = pool_alloc(pool, sizeof *out);
    } else if (SUCCEEDED(hr)) {
        out = pool_alloc(pool, (store.count ? store.count : 1) * sizeof *out);
        for (size_t i = 0; out && i < store.count; i++) {
            const store_entry *e = &store.items[i];
            if (!*(const BOOL *)all_drivers && map_inbox_driver(e->published))
                continue;
            fill_from_entry(pool, &store, e, &out[(*count)++]);
        }
    }
    store_free(&store);
    *result = out;
    return hr;
}

HRESULT WINAPI DismGetDrivers(DismSession Session, BOOL AllDrivers,
                              DismDriverPackage **DriverPackage, UINT *Count)
{
    if (!DriverPackage || !Count)
        return engine_fail(E_INVALIDARG, "DismGetDrivers: DriverPackage and Count are required.");
    return servicing_read(Session, "DismGetDrivers", read_drivers, &AllDrivers,
                          (void **)DriverPackage, Count);
}

/* ---- DismGetDriverInfo ---- */

typedef struct {
    char path[ENGINE_PATH_MAX];   /* the INF to parse */
    const store_entry *entry;     /* the store's record, when published */
    char published[256];
} driver_target;

static const store_entry *store_find_published(const driver_store *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->items[i].published && !strcasecmp(s->items[i].published, name))
            return &s->items[i];
    return NULL;
}

/* The driver database lists `e`, but neither its INF in the driver store
 * nor the published copy in Windows\INF can be read: say so, with the path
 * the INF should have, rather than that no such driver is published. */
static HRESULT published_inf_missing(driver_store *s, const store_entry *e)
{
    char expected[ENGINE_PATH_MAX];
    repository_display_path(s, e, expected, sizeof expected);
    /* repository_inf also refuses a path that leads out of the image. */
    const char *why = access(expected, F_OK) == 0
                          ? "leads out of the image through a link, so it is not read"
                          : "does not exist";
    return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "%s: the driver '%s' (%s, "
                       "driver store folder %s) is published in the image, but its INF is "
                       "missing from the driver store: '%s' %s.  Add the driver package to "
                       "the image again, or remove the driver.",
                       s->img->function, e->published, e->inf_name ? e->inf_name : "no INF name",
                       e->folder, expected, why);
}

/* DriverPath is an INF file, or the published name of an installed driver. */
static HRESULT resolve_driver(offline_image *img, driver_store *s, PCWSTR DriverPath,
                              driver_target *t)
{
    memset(t, 0, sizeof *t);
    char *arg = NULL;
    char label[96];
    snprintf(label, sizeof label, "%s: DriverPath", img->function);
    HRESULT hr = path_arg(DriverPath, label, &arg);
    if (FAILED(hr))
        return hr;
    if (!strchr(arg, '/') && !strchr(arg, '\\')) {
        const store_entry *e = store_find_published(s, arg);
        snprintf(t->published, sizeof t->published, "%s", arg);
        t->entry = e;
        char relative[300];
        snprintf(relative, sizeof relative, "INF/%s", arg);
        if ((e && repository_inf(s, e->folder, e->inf_name, t->path,
                                 sizeof t->path)) ||
            (has_suffix_ci(arg, ".inf") && offline_windows_path(img, relative, t->path,
                                                                sizeof t->path))) {
            free(arg);
            return S_OK;
        }
        if (access(arg, F_OK) != 0) {
            hr = e ? published_inf_missing(s, e)
                   : engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "%s: no driver is "
                                 "published as '%s' in the image, and no such file exists.",
                                 img->function, arg);
            free(arg);
            return hr;
        }
    }
    bool is_dir = false;
    char *path = NULL;
    if (SUCCEEDED(hr = existing_path_arg(img->function, DriverPath, "driver", &path, &is_dir))) {
        if (is_dir || !has_suffix_ci(path, ".inf"))
            hr = engine_fail(E_INVALIDARG, "%s: '%s' is not an .inf file.", img->function, path);
        else {
            snprintf(t->path, sizeof t->path, "%s", path);
            const char *base = strrchr(path, '/');
            snprintf(t->published, sizeof t->published, "%s", base ? base + 1 : path);
        }
    }
    free(path);
    free(arg);
    return hr;
}

static DismDriver *driver_list(result_pool *pool, const inf_driver *inf, UINT *count)
{
    DismDriver *list = pool_alloc(pool, (inf->device_count ? inf->device_count : 1) * sizeof *list);
    *count = 0;
    for (size_t i = 0; list && i < inf->device_count; i++) {
        const inf_device *dev = &inf->devices[i];
        DismDriver *d = &list[(*count)++];
        d->ManufacturerName = pool_wstr(pool, dev->manufacturer);
        d->HardwareDescription = pool_wstr(pool, dev->description);
        d->HardwareId = pool_wstr(pool, dev->hardware_id);
        d->Architecture = dev->architecture;
        d->ServiceName = pool_wstr(pool, dev->service);
        d->CompatibleIds = pool_wstr(pool, dev->compatible_ids);
        d->ExcludeIds = pool_wstr(pool, dev->exclude_ids);
    }
    return list;
}

HRESULT WINAPI DismGetDriverInfo(DismSession Session, PCWSTR DriverPath, DismDriver **Driver,
                                 UINT *Count, DismDriverPackage **DriverPackage)
{
    if (!Driver || !Count)
        return engine_fail(E_INVALIDARG, "DismGetDriverInfo: Driver and Count are required.");
    *Driver = NULL;
    *Count = 0;
    if (DriverPackage)
        *DriverPackage = NULL;
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismGetDriverInfo", &img);
    if (FAILED(hr))
        return hr;
    driver_store store = {0};
    driver_target target;
    inf_driver inf = {0};
    bool parsed = false;
    /* Two results, two pools: DISM's callers DismDelete each separately. */
    result_pool *drivers_pool = pool_new(), *package_pool = DriverPackage ? pool_new() : NULL;
    DismDriver *list = NULL;
    DismDriverPackage *package = NULL;
    UINT n = 0;
    if (!drivers_pool || (DriverPackage && !package_pool))
        hr = engine_fail(E_OUTOFMEMORY, "DismGetDriverInfo: out of memory.");
    else if (SUCCEEDED(hr = store_load(&img, &store)) &&
             SUCCEEDED(hr = resolve_driver(&img, &store, DriverPath, &target)) &&
             SUCCEEDED(hr = parse_inf(&img, target.path, &inf))) {
        parsed = true;
        list = driver_list(drivers_pool, &inf, &n);
        if (package_pool && (package = pool_alloc(package_pool, sizeof *package)) != NULL) {
            if (target.entry)
                fill_from_entry(package_pool, &store, target.entry, package);
            else
                fill_from_inf(package_pool, &img, &inf, target.published, target.path, package);
        }
        if (!list || (package_pool && !package))
            hr = engine_fail(E_OUTOFMEMORY, "DismGetDriverInfo: out of memory.");
    }
    if (parsed)
        inf_driver_free(&inf);
    store_free(&store);
    offline_end(&img);
    *Driver = pool_finish(drivers_pool, hr, list);
    if (DriverPackage)
        *DriverPackage = pool_finish(package_pool, hr, package);
    if (FAILED(hr))
        return hr;
    *Count = n;
    return S_OK;
}

/* ---- writes: validated, then refused ---- */

static HRESULT check_add_driver(offline_image *img, const void *driver_path)
{
    char *path = NULL;
    bool is_dir = false;
    inf_driver inf;
    HRESULT hr = existing_path_arg(img->function, driver_path, "driver", &path, &is_dir);
    if (SUCCEEDED(hr)) {
        if (is_dir || !has_suffix_ci(path, ".inf"))
            hr = engine_fail(E_INVALIDARG, "DismAddDriver: '%s' is not an .inf file; DISM adds "
                             "one INF per call (the dism package adds folders).", path);
        else if (SUCCEEDED(hr = parse_inf(img, path, &inf))) {
            inf_driver_free(&inf);
            hr = not_supported_offline(img->function, "adding a driver");
        }
    }
    free(path);
    return hr;
}

HRESULT WINAPI DismAddDriver(DismSession Session, PCWSTR DriverPath, BOOL ForceUnsigned)
{
    return servicing_check(Session, "DismAddDriver", check_add_driver, DriverPath);
}

static HRESULT check_remove_driver(offline_image *img, const void *driver_path)
{
    driver_store store = {0};
    char *name = NULL;
    HRESULT hr = path_arg(driver_path, "DismRemoveDriver: DriverPath", &name);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = store_load(img, &store))) {
        const store_entry *e = store_find_published(&store, name);
        if (!e)
            hr = engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "DismRemoveDriver: no "
                             "driver is published as '%s' in the image.", name);
        else if (map_inbox_driver(e->published))
            hr = engine_fail(E_INVALIDARG, "DismRemoveDriver: '%s' is an in-box driver; only "
                             "third-party drivers (oemN.inf) can be removed.", name);
        else
            hr = not_supported_offline(img->function, "removing a driver");
    }
    free(name);
    store_free(&store);
    return hr;
}

HRESULT WINAPI DismRemoveDriver(DismSession Session, PCWSTR DriverPath)
{
    return servicing_check(Session, "DismRemoveDriver", check_remove_driver, DriverPath);
}
