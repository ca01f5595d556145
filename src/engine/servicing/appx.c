/*
 * appx.c - provisioned appx packages of an offline image.
 *
 * Provisioned apps are listed under SOFTWARE\Microsoft\Windows\
 * CurrentVersion\Appx\AppxAllUserStore\Applications, one key per package
 * full name, whose Path value is the package's AppxManifest.xml [C: removal
 * scripts and forensic write-ups read this key].  A full name is
 * Name_Version_Architecture_ResourceId_PublisherId [D appx package naming],
 * which holds every field DISM reports except the region.
 */
#include "servicing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALL_USER_APPS "Microsoft\\Windows\\CurrentVersion\\Appx\\AppxAllUserStore\\Applications"

typedef struct {
    char name[256], arch[32], resource[128], publisher[64];
    UINT version[4];
} appx_name;

/* Splits a full name into its five '_'-separated parts. */
static bool parse_full_name(const char *full, appx_name *out)
{
    memset(out, 0, sizeof *out);
    const char *parts[5];
    size_t lens[5];
    const char *p = full;
    for (int i = 0; i < 5; i++) {
        parts[i] = p;
        lens[i] = strcspn(p, "_");
        p += lens[i];
        if (i < 4 && *p++ != '_')
            return false;
    }
    if (*p || !lens[0] || lens[0] >= sizeof out->name || lens[2] >= sizeof out->arch ||
        lens[3] >= sizeof out->resource || lens[4] >= sizeof out->publisher || !lens[4])
        return false;
    memcpy(out->name, parts[0], lens[0]);
    memcpy(out->arch, parts[2], lens[2]);
    memcpy(out->resource, parts[3], lens[3]);
    memcpy(out->publisher, parts[4], lens[4]);
    unsigned v[4] = {0};
    char version[64];
    if (lens[1] >= sizeof version)
        return false;
    memcpy(version, parts[1], lens[1]);
    version[lens[1]] = '\0';
    if (sscanf(version, "%u.%u.%u.%u", &v[0], &v[1], &v[2], &v[3]) < 1)
        return false;
    for (int i = 0; i < 4; i++)
        out->version[i] = v[i];
    return true;
}

/* C:\Program Files\WindowsApps\<full>\AppxManifest.xml -> its folder. */
static char *install_location(const char *manifest_path)
{
    if (!manifest_path)
        return NULL;
    const char *slash = strrchr(manifest_path, '\\');
    return slash ? strndup(manifest_path, (size_t)(slash - manifest_path)) : strdup(manifest_path);
}

/* One provisioned app as DISM describes it, from its full name and the
 * path of its manifest. */
static void fill_appx(result_pool *pool, const char *full, const appx_name *parsed,
                      const char *manifest, DismAppxPackage *a)
{
    char *location = install_location(manifest);
    a->PackageName = pool_wstr(pool, full);
    a->DisplayName = pool_wstr(pool, parsed->name);
    a->PublisherId = pool_wstr(pool, parsed->publisher);
    a->MajorVersion = parsed->version[0];
    a->MinorVersion = parsed->version[1];
    a->Build = parsed->version[2];
    a->RevisionNumber = parsed->version[3];
    a->Architecture = map_appx_architecture(parsed->arch);
    a->ResourceId = pool_wstr(pool, parsed->resource);
    a->InstallLocation = pool_wstr(pool, location);
    a->Region = NULL; /* kept in the app's provisioning data, not read [I] */
    free(location);
}

static HRESULT read_appx_packages(offline_image *img, result_pool *pool, const void *args,
                                  void **result, UINT *count)
{
    hive_h *h = NULL;
    HRESULT hr = offline_require_hive(img, HIVE_SOFTWARE, &h);
    if (FAILED(hr))
        return hr;
    size_t listed = 0;
    hive_node_h *apps = hive_children(h, hive_lookup(h, hivex_root(h), ALL_USER_APPS), &listed);
    if (!apps)
        return engine_fail_errno(errno, "%s: cannot list the provisioned apps", img->function);
    DismAppxPackage *out = pool_alloc(pool, (listed ? listed : 1) * sizeof *out);
    UINT n = 0;
    for (size_t i = 0; out && i < listed; i++) {
        char *full = hive_name(h, apps[i]);
        appx_name parsed;
        if (full && parse_full_name(full, &parsed)) {
            char *manifest = hive_string(h, apps[i], "Path");
            fill_appx(pool, full, &parsed, manifest, &out[n++]);
            free(manifest);
        }
        free(full);
    }
    free(apps);
    *count = n;
    *result = out;
    return S_OK;
}

HRESULT WINAPI _DismGetProvisionedAppxPackages(DismSession Session, DismAppxPackage **Package,
                                               UINT *Count)
{
    if (!Package || !Count)
        return engine_fail(E_INVALIDARG, "_DismGetProvisionedAppxPackages: Package and Count "
                           "are required.");
    return servicing_read(Session, "_DismGetProvisionedAppxPackages", read_appx_packages, NULL,
                          (void **)Package, Count);
}

static HRESULT check_paths(const char *function, PCWSTR *paths, UINT count, const char *what)
{
    if (count && !paths)
        return engine_fail(E_INVALIDARG, "%s: a %s count of %u was given without the array.",
                           function, what, count);
    for (UINT i = 0; i < count; i++) {
        char *path = NULL;
        HRESULT hr = existing_path_arg(function, paths[i], what, &path, NULL);
        free(path);
        if (FAILED(hr))
            return hr;
    }
    return S_OK;
}

typedef struct {
    PCWSTR app, custom_data;
    PCWSTR *dependencies, *optionals, *licenses;
    UINT dependency_count, optional_count, license_count;
    bool skip_license;
    DismStubPackageOption stub_option;
} appx_addition;

static HRESULT check_appx_addition(offline_image *img, const void *args)
{
    const appx_addition *a = args;
    const char *fn = img->function;
    char *app = NULL, *data = NULL;
    HRESULT hr = existing_path_arg(fn, a->app, "app package", &app, NULL);
    if (SUCCEEDED(hr) &&
        SUCCEEDED(hr = check_paths(fn, a->dependencies, a->dependency_count,
                                   "dependency package")) &&
        SUCCEEDED(hr = check_paths(fn, a->optionals, a->optional_count, "optional package")) &&
        SUCCEEDED(hr = check_paths(fn, a->licenses, a->license_count, "license file")) &&
        (!a->custom_data || !*a->custom_data ||
         SUCCEEDED(hr = existing_path_arg(fn, a->custom_data, "custom data file", &data, NULL)))) {
        if (!a->skip_license && a->license_count == 0)
            hr = engine_fail(E_INVALIDARG, "%s: give a license file, or SkipLicense.", fn);
        else if ((unsigned)a->stub_option > DismStubPackageOptionInstallStub)
            hr = engine_fail(E_INVALIDARG, "%s: %d is not a DismStubPackageOption.", fn,
                             (int)a->stub_option);
        else
            hr = not_supported_offline(fn, "provisioning an app package");
    }
    free(app);
    free(data);
    return hr;
}

HRESULT WINAPI _DismAddProvisionedAppxPackage(
    DismSession Session, PCWSTR AppPath, PCWSTR *DependencyPackages, UINT DependencyPackageCount,
    PCWSTR *OptionalPackages, UINT OptionalPackageCount, PCWSTR *LicensePaths,
    UINT LicensePathCount, BOOL SkipLicense, PCWSTR CustomDataPath, PCWSTR Region,
    DismStubPackageOption stubPackageOption)
{
    appx_addition addition = {
        .app = AppPath, .custom_data = CustomDataPath,
        .dependencies = DependencyPackages, .dependency_count = DependencyPackageCount,
        .optionals = OptionalPackages, .optional_count = OptionalPackageCount,
        .licenses = LicensePaths, .license_count = LicensePathCount,
        .skip_license = SkipLicense, .stub_option = stubPackageOption,
    };
    return servicing_check(Session, "_DismAddProvisionedAppxPackage", check_appx_addition,
                           &addition);
}

static HRESULT check_appx_removal(offline_image *img, const void *package_name)
{
    const char *fn = img->function;
    char *name = NULL;
    hive_h *h;
    HRESULT hr = path_arg(package_name, "_DismRemoveProvisionedAppxPackage: PackageName", &name);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = offline_require_hive(img, HIVE_SOFTWARE, &h))) {
        hive_node_h apps = hive_lookup(h, hivex_root(h), ALL_USER_APPS);
        if (strchr(name, '\\') || !hive_lookup(h, apps, name))
            hr = engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "%s: no app package named "
                             "'%s' is provisioned in the image.", fn, name);
        else
            hr = not_supported_offline(fn, "removing a provisioned app package");
    }
    free(name);
    return hr;
}

HRESULT WINAPI _DismRemoveProvisionedAppxPackage(DismSession Session, PCWSTR PackageName)
{
    return servicing_check(Session, "_DismRemoveProvisionedAppxPackage", check_appx_removal,
                           PackageName);
}
