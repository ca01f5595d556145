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

HRESULT WINAPI _DismGetProvisionedAppxPackages(DismSession Session, DismAppxPackage **Package,
                                               UINT *Count)
{
    if (!Package || !Count)
        return engine_fail(E_INVALIDARG, "_DismGetProvisionedAppxPackages: Package and Count "
                           "are required.");
    *Package = NULL;
    *Count = 0;
    offline_image img;
    HRESULT hr = offline_begin(Session, "_DismGetProvisionedAppxPackages", &img);
    if (FAILED(hr))
        return hr;
    hive_h *h = NULL;
    result_pool *pool = pool_new();
    DismAppxPackage *out = NULL;
    UINT n = 0;
    if (!pool)
        hr = engine_fail(E_OUTOFMEMORY, "_DismGetProvisionedAppxPackages: out of memory.");
    else if (SUCCEEDED(hr = offline_require_hive(&img, HIVE_SOFTWARE, &h))) {
        size_t count = 0;
        hive_node_h *apps = hive_children(h, hive_lookup(h, hivex_root(h), ALL_USER_APPS), &count);
        out = apps ? pool_alloc(pool, (count ? count : 1) * sizeof *out) : NULL;
        for (size_t i = 0; out && i < count; i++) {
            char *full = hive_name(h, apps[i]);
            appx_name parsed;
            if (full && parse_full_name(full, &parsed)) {
                DismAppxPackage *a = &out[n++];
                char *manifest = hive_string(h, apps[i], "Path");
                char *location = install_location(manifest);
                a->PackageName = pool_wstr(pool, full);
                a->DisplayName = pool_wstr(pool, parsed.name);
                a->PublisherId = pool_wstr(pool, parsed.publisher);
                a->MajorVersion = parsed.version[0];
                a->MinorVersion = parsed.version[1];
                a->Build = parsed.version[2];
                a->RevisionNumber = parsed.version[3];
                a->Architecture = map_appx_architecture(parsed.arch);
                a->ResourceId = pool_wstr(pool, parsed.resource);
                a->InstallLocation = pool_wstr(pool, location);
                a->Region = NULL; /* kept in the app's provisioning data, not read [I] */
                free(manifest);
                free(location);
            }
            free(full);
        }
        if (!apps)
            hr = engine_fail_errno(errno, "_DismGetProvisionedAppxPackages: cannot list the "
                                   "provisioned apps");
        else if (!out)
            hr = engine_fail(E_OUTOFMEMORY, "_DismGetProvisionedAppxPackages: out of memory.");
        free(apps);
    }
    offline_end(&img);
    *Package = pool_finish(pool, hr, out);
    if (FAILED(hr))
        return hr;
    *Count = n;
    return S_OK;
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

HRESULT WINAPI _DismAddProvisionedAppxPackage(
    DismSession Session, PCWSTR AppPath, PCWSTR *DependencyPackages, UINT DependencyPackageCount,
    PCWSTR *OptionalPackages, UINT OptionalPackageCount, PCWSTR *LicensePaths,
    UINT LicensePathCount, BOOL SkipLicense, PCWSTR CustomDataPath, PCWSTR Region,
    DismStubPackageOption stubPackageOption)
{
    const char *fn = "_DismAddProvisionedAppxPackage";
    offline_image img;
    HRESULT hr = offline_begin(Session, fn, &img);
    if (FAILED(hr))
        return hr;
    char *app = NULL, *data = NULL;
    if (SUCCEEDED(hr = existing_path_arg(fn, AppPath, "app package", &app, NULL)) &&
        SUCCEEDED(hr = check_paths(fn, DependencyPackages, DependencyPackageCount,
                                   "dependency package")) &&
        SUCCEEDED(hr = check_paths(fn, OptionalPackages, OptionalPackageCount,
                                   "optional package")) &&
        SUCCEEDED(hr = check_paths(fn, LicensePaths, LicensePathCount, "license file")) &&
        (!CustomDataPath || !*CustomDataPath ||
         SUCCEEDED(hr = existing_path_arg(fn, CustomDataPath, "custom data file", &data, NULL)))) {
        if (!SkipLicense && LicensePathCount == 0)
            hr = engine_fail(E_INVALIDARG, "%s: give a license file, or SkipLicense.", fn);
        else if ((unsigned)stubPackageOption > DismStubPackageOptionInstallStub)
            hr = engine_fail(E_INVALIDARG, "%s: %d is not a DismStubPackageOption.", fn,
                             (int)stubPackageOption);
        else
            hr = not_supported_offline(fn, "provisioning an app package");
    }
    free(app);
    free(data);
    offline_end(&img);
    return hr;
}

HRESULT WINAPI _DismRemoveProvisionedAppxPackage(DismSession Session, PCWSTR PackageName)
{
    const char *fn = "_DismRemoveProvisionedAppxPackage";
    offline_image img;
    HRESULT hr = offline_begin(Session, fn, &img);
    if (FAILED(hr))
        return hr;
    char *name = NULL;
    hive_h *h;
    if (SUCCEEDED(hr = path_arg(PackageName, "_DismRemoveProvisionedAppxPackage: PackageName",
                                &name)) &&
        SUCCEEDED(hr = offline_require_hive(&img, HIVE_SOFTWARE, &h))) {
        hive_node_h apps = hive_lookup(h, hivex_root(h), ALL_USER_APPS);
        if (strchr(name, '\\') || !hive_lookup(h, apps, name))
            hr = engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "%s: no app package named "
                             "'%s' is provisioned in the image.", fn, name);
        else
            hr = not_supported_offline(fn, "removing a provisioned app package");
    }
    free(name);
    offline_end(&img);
    return hr;
}
