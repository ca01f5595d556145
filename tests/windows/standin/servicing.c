/*
 * servicing.c - the stand-in's servicing calls on a session: packages,
 * features, drivers, capabilities, languages, provisioned apps, editions and
 * product keys, health, reserved storage, unattend.  Queries answer from
 * fixed tables; writes record their arguments (StandinLastCall) and run as
 * long operations where DISM's do.
 */
#include "standin.h"

#include <stdio.h>
#include <wchar.h>

#define FACE L"\U0001F600"
#define CLEF L"\U0001D11E"

/* The session check after the call is logged: every query starts here. */
#define ENTER(name, session, format, ...)                                                      \
    do {                                                                                       \
        HRESULT entered = enter_call(name, format, __VA_ARGS__);                               \
        if (FAILED(entered))                                                                   \
            return entered;                                                                    \
        SESSION_CHECK(name, session);                                                          \
    } while (0)

/* ---- packages -------------------------------------------------------------- */

HRESULT WINAPI DismGetPackages(DismSession Session, DismPackage **Package, UINT *Count)
{
    ENTER(L"DismGetPackages", Session, L"%u", Session);
    DismPackage *p = result_new(2 * sizeof *p);
    if (!p)
        return E_OUTOFMEMORY;
    p[0].PackageName = result_text(p, L"Package_for_KB5034441~31bf3856ad364e35~amd64~~22621.1.1");
    p[0].PackageState = DismStateInstalled;
    p[0].ReleaseType = DismReleaseTypeSecurityUpdate;
    p[0].InstallTime = when(2024, 1, 9, 18, 30, 5, 250);
    p[1].PackageName = result_text(p, L"Microsoft-Windows-" FACE L"-Package~31bf3856ad364e35~~~");
    p[1].PackageState = DismStateStaged;
    p[1].ReleaseType = DismReleaseTypeOnDemandPack;
    /* InstallTime left zero: never installed */
    *Package = p;
    *Count = 2;
    return S_OK;
}

static DismCustomProperty *custom_properties(void *result, UINT *count)
{
    /* Nested properties: DISM flattens a tree into paths. */
    DismCustomProperty *c = result_array(result, 3 * sizeof *c);
    if (!c)
        return NULL;
    c[0].Name = result_text(result, L"SupportInformation");
    c[0].Value = result_text(result, L"https://support.example/" CLEF);
    c[0].Path = result_text(result, L"");
    c[1].Name = result_text(result, L"Language");
    c[1].Value = result_text(result, L"neutral");
    c[1].Path = result_text(result, L"Properties\\Localized");
    c[2].Name = result_text(result, L"Deep" FACE);
    c[2].Value = NULL;
    c[2].Path = result_text(result, L"Properties\\Localized\\Nested\\" FACE);
    *count = 3;
    return c;
}

/* A feature list from rows of (name, state): a result of its own when
 * `owner` is NULL, else an array inside the result `owner`. */
typedef struct {
    PCWSTR name;
    DismPackageFeatureState state;
} feature_row;

static DismFeature *feature_list(void *owner, const feature_row *rows, UINT n)
{
    DismFeature *f = owner ? result_array(owner, n * sizeof *f) : result_new(n * sizeof *f);
    if (!f)
        return NULL;
    for (UINT i = 0; i < n; i++) {
        f[i].FeatureName = result_text(owner ? owner : f, rows[i].name);
        f[i].State = rows[i].state;
    }
    return f;
}

static DismFeature *package_features(void *result, UINT *count)
{
    static const feature_row rows[] = {
        {L"NetFx3", DismStateInstalled},
        {L"Feature-" FACE, DismStatePartiallyInstalled},
    };
    *count = 2;
    return feature_list(result, rows, 2);
}

/* DismPackageInfo is the first part of DismPackageInfoEx (same fields, same
 * layout): both calls answer with an Ex structure, and DismGetPackageInfo's
 * caller reads only that first part. */
static HRESULT package_info(PCWSTR call, DismSession Session, PCWSTR Identifier,
                            DismPackageIdentifier PackageIdentifier, DismPackageInfoEx **out)
{
    ENTER(call, Session, L"%u|%ls|%d", Session, shown(Identifier), (int)PackageIdentifier);
    DismPackageInfoEx *r = result_new(sizeof *r);
    if (!r)
        return E_OUTOFMEMORY;
    r->PackageName = result_text(r, Identifier);
    r->PackageState = DismStateInstallPending;
    r->ReleaseType = DismReleaseTypeUpdate;
    r->InstallTime = when(2023, 6, 15, 12, 0, 0, 1);
    r->Applicable = TRUE;
    r->Copyright = result_text(r, L"\u00A9 Microsoft Corporation");
    r->Company = result_text(r, L"Microsoft Corporation");
    r->CreationTime = when(2023, 5, 1, 1, 2, 3, 4);
    r->DisplayName = result_text(r, L"Display " CLEF);
    r->Description = result_text(r, L"A package " FACE);
    r->InstallClient = result_text(r, L"DISM Package Manager Provider");
    r->InstallPackageName = result_text(r, L"update.mum");
    r->LastUpdateTime = when(2024, 12, 31, 23, 59, 59, 998);
    r->ProductName = result_text(r, L"Microsoft-Windows-Product");
    r->ProductVersion = result_text(r, L"10.0.22621.3007");
    r->RestartRequired = DismRestartRequired;
    r->FullyOffline = DismFullyOfflineInstallableUndetermined;
    r->SupportInformation = result_text(r, L"https://support.example/kb");
    r->CustomProperty = custom_properties(r, &r->CustomPropertyCount);
    r->Feature = package_features(r, &r->FeatureCount);
    r->CapabilityId = result_text(r, L"Capability." FACE L"~~~~0.0.1.0");
    *out = r;
    return S_OK;
}

HRESULT WINAPI DismGetPackageInfo(DismSession Session, PCWSTR Identifier,
                                  DismPackageIdentifier PackageIdentifier,
                                  DismPackageInfo **PackageInfo)
{
    return package_info(L"DismGetPackageInfo", Session, Identifier, PackageIdentifier,
                        (DismPackageInfoEx **)PackageInfo);
}

HRESULT WINAPI DismGetPackageInfoEx(DismSession Session, PCWSTR Identifier,
                                    DismPackageIdentifier PackageIdentifier,
                                    DismPackageInfoEx **PackageInfoEx)
{
    return package_info(L"DismGetPackageInfoEx", Session, Identifier, PackageIdentifier,
                        PackageInfoEx);
}

HRESULT WINAPI DismAddPackage(DismSession Session, PCWSTR PackagePath, BOOL IgnoreCheck,
                              BOOL PreventPending, HANDLE CancelEvent,
                              DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    ENTER(L"DismAddPackage", Session, L"%u|%ls|%d|%d", Session, shown(PackagePath), IgnoreCheck,
          PreventPending);
    return long_operation(PackagePath, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismRemovePackage(DismSession Session, PCWSTR Identifier,
                                 DismPackageIdentifier PackageIdentifier, HANDLE CancelEvent,
                                 DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    ENTER(L"DismRemovePackage", Session, L"%u|%ls|%d", Session, shown(Identifier),
          (int)PackageIdentifier);
    return long_operation(Identifier, CancelEvent, Progress, UserData);
}

/* ---- features --------------------------------------------------------------- */

HRESULT WINAPI DismGetFeatures(DismSession Session, PCWSTR Identifier,
                               DismPackageIdentifier PackageIdentifier, DismFeature **Feature,
                               UINT *Count)
{
    ENTER(L"DismGetFeatures", Session, L"%u|%ls|%d", Session, shown(Identifier),
          (int)PackageIdentifier);
    static const feature_row rows[] = {
        {L"NetFx3", DismStateStaged},
        {L"Microsoft-Hyper-V-" CLEF, DismStateInstalled},
        {L"TelnetClient", DismStateRemoved},
    };
    DismFeature *f = feature_list(NULL, rows, 3);
    if (!f)
        return E_OUTOFMEMORY;
    *Feature = f;
    *Count = 3;
    return S_OK;
}

HRESULT WINAPI DismGetFeatureInfo(DismSession Session, PCWSTR FeatureName, PCWSTR Identifier,
                                  DismPackageIdentifier PackageIdentifier,
                                  DismFeatureInfo **FeatureInfo)
{
    ENTER(L"DismGetFeatureInfo", Session, L"%u|%ls|%ls|%d", Session, shown(FeatureName),
          shown(Identifier), (int)PackageIdentifier);
    DismFeatureInfo *info = result_new(sizeof *info);
    if (!info)
        return E_OUTOFMEMORY;
    info->FeatureName = result_text(info, FeatureName);
    info->FeatureState = DismStateInstallPending;
    info->DisplayName = result_text(info, L"Feature " FACE);
    info->Description = result_text(info, L"What it does " CLEF);
    info->RestartRequired = DismRestartPossible;
    info->CustomProperty = custom_properties(info, &info->CustomPropertyCount);
    *FeatureInfo = info;
    return S_OK;
}

HRESULT WINAPI DismGetFeatureParent(DismSession Session, PCWSTR FeatureName, PCWSTR Identifier,
                                    DismPackageIdentifier PackageIdentifier,
                                    DismFeature **Feature, UINT *Count)
{
    ENTER(L"DismGetFeatureParent", Session, L"%u|%ls|%ls|%d", Session, shown(FeatureName),
          shown(Identifier), (int)PackageIdentifier);
    static const feature_row rows[] = {{L"Parent-" FACE, DismStateUninstallPending}};
    DismFeature *f = feature_list(NULL, rows, 1);
    if (!f)
        return E_OUTOFMEMORY;
    *Feature = f;
    *Count = 1;
    return S_OK;
}

/* "a|b|c" for the call log of a path list. */
static PCWSTR joined(WCHAR *buf, size_t size, PCWSTR *items, UINT count)
{
    buf[0] = 0;
    for (UINT i = 0; i < count && items; i++) {
        wcsncat(buf, i ? L";" : L"", size - wcslen(buf) - 1);
        wcsncat(buf, shown(items[i]), size - wcslen(buf) - 1);
    }
    return items ? buf : L"<null>";
}

HRESULT WINAPI DismEnableFeature(DismSession Session, PCWSTR FeatureName, PCWSTR Identifier,
                                 DismPackageIdentifier PackageIdentifier, BOOL LimitAccess,
                                 PCWSTR *SourcePaths, UINT SourcePathCount, BOOL EnableAll,
                                 HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                                 PVOID UserData)
{
    WCHAR sources[512];
    ENTER(L"DismEnableFeature", Session, L"%u|%ls|%ls|%d|%d|%ls|%u|%d", Session,
          shown(FeatureName), shown(Identifier), (int)PackageIdentifier, LimitAccess,
          joined(sources, 512, SourcePaths, SourcePathCount), SourcePathCount, EnableAll);
    return long_operation(FeatureName, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismDisableFeature(DismSession Session, PCWSTR FeatureName, PCWSTR PackageName,
                                  BOOL RemovePayload, HANDLE CancelEvent,
                                  DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    ENTER(L"DismDisableFeature", Session, L"%u|%ls|%ls|%d", Session, shown(FeatureName),
          shown(PackageName), RemovePayload);
    return long_operation(FeatureName, CancelEvent, Progress, UserData);
}

/* ---- drivers ---------------------------------------------------------------- */

static void fill_driver_package(void *result, DismDriverPackage *d, PCWSTR published)
{
    d->PublishedName = result_text(result, published);
    d->OriginalFileName = result_text(result, L"C:\\drivers\\" FACE L"\\net.inf");
    d->InBox = FALSE;
    d->CatalogFile = result_text(result, L"net.cat");
    d->ClassName = result_text(result, L"Net");
    d->ClassGuid = result_text(result, L"{4D36E972-E325-11CE-BFC1-08002BE10318}");
    d->ClassDescription = result_text(result, L"Network adapters");
    d->BootCritical = TRUE;
    d->DriverSignature = DismDriverSignatureSigned;
    d->ProviderName = result_text(result, L"Provider " CLEF);
    d->Date = when(2021, 7, 4, 0, 0, 0, 0);
    d->MajorVersion = 12;
    d->MinorVersion = 34;
    d->Build = 5678;
    d->Revision = 65535;
}

HRESULT WINAPI DismGetDrivers(DismSession Session, BOOL AllDrivers,
                              DismDriverPackage **DriverPackage, UINT *Count)
{
    ENTER(L"DismGetDrivers", Session, L"%u|%d", Session, AllDrivers);
    UINT n = AllDrivers ? 2 : 1;
    DismDriverPackage *d = result_new(n * sizeof *d);
    if (!d)
        return E_OUTOFMEMORY;
    fill_driver_package(d, &d[0], L"oem0.inf");
    if (AllDrivers) {
        fill_driver_package(d, &d[1], L"netrtl.inf");
        d[1].InBox = TRUE;
        d[1].DriverSignature = DismDriverSignatureUnsigned;
    }
    *DriverPackage = d;
    *Count = n;
    return S_OK;
}

HRESULT WINAPI DismGetDriverInfo(DismSession Session, PCWSTR DriverPath, DismDriver **Driver,
                                 UINT *Count, DismDriverPackage **DriverPackage)
{
    ENTER(L"DismGetDriverInfo", Session, L"%u|%ls", Session, shown(DriverPath));
    DismDriver *d = result_new(2 * sizeof *d);
    if (!d)
        return E_OUTOFMEMORY;
    for (int i = 0; i < 2; i++) {
        d[i].ManufacturerName = result_text(d, i ? L"Other" : L"Maker " FACE);
        d[i].HardwareDescription = result_text(d, L"Ethernet Adapter");
        d[i].HardwareId = result_text(d, i ? L"PCI\\VEN_10EC&DEV_8168" : L"PCI\\VEN_8086");
        d[i].Architecture = i ? 12 : 9;
        d[i].ServiceName = result_text(d, L"rtl8168");
        d[i].CompatibleIds = result_text(d, i ? NULL : L"PCI\\CC_0200");
        d[i].ExcludeIds = NULL;
    }
    *Driver = d;
    *Count = 2;
    if (DriverPackage) {
        DismDriverPackage *p = result_new(sizeof *p);
        if (!p)
            return E_OUTOFMEMORY;
        fill_driver_package(p, p, DriverPath);
        *DriverPackage = p;
    }
    return S_OK;
}

HRESULT WINAPI DismAddDriver(DismSession Session, PCWSTR DriverPath, BOOL ForceUnsigned)
{
    ENTER(L"DismAddDriver", Session, L"%u|%ls|%d", Session, shown(DriverPath), ForceUnsigned);
    return S_OK;
}

HRESULT WINAPI DismRemoveDriver(DismSession Session, PCWSTR DriverPath)
{
    ENTER(L"DismRemoveDriver", Session, L"%u|%ls", Session, shown(DriverPath));
    return S_OK;
}

/* ---- capabilities and languages ---------------------------------------------- */

HRESULT WINAPI DismGetCapabilities(DismSession Session, DismCapability **Capability,
                                   UINT *Count)
{
    ENTER(L"DismGetCapabilities", Session, L"%u", Session);
    DismCapability *c = result_new(2 * sizeof *c);
    if (!c)
        return E_OUTOFMEMORY;
    c[0].Name = result_text(c, L"Language.Basic~~~en-US~0.0.1.0");
    c[0].State = DismStateInstalled;
    c[1].Name = result_text(c, L"Tools." FACE L"~~~~0.0.1.0");
    c[1].State = DismStateNotPresent;
    *Capability = c;
    *Count = 2;
    return S_OK;
}

HRESULT WINAPI DismGetCapabilityInfo(DismSession Session, PCWSTR Name,
                                     DismCapabilityInfo **Info)
{
    ENTER(L"DismGetCapabilityInfo", Session, L"%u|%ls", Session, shown(Name));
    DismCapabilityInfo *c = result_new(sizeof *c);
    if (!c)
        return E_OUTOFMEMORY;
    c->Name = result_text(c, Name);
    c->State = DismStateSuperseded;
    c->DisplayName = result_text(c, L"Capability " CLEF);
    c->Description = result_text(c, L"Installs " FACE);
    c->DownloadSize = 0xFFFFFFF0u;
    c->InstallSize = 123456789u;
    *Info = c;
    return S_OK;
}

HRESULT WINAPI DismAddCapability(DismSession Session, PCWSTR Name, BOOL LimitAccess,
                                 PCWSTR *SourcePaths, UINT SourcePathCount, HANDLE CancelEvent,
                                 DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    WCHAR sources[512];
    ENTER(L"DismAddCapability", Session, L"%u|%ls|%d|%ls|%u", Session, shown(Name), LimitAccess,
          joined(sources, 512, SourcePaths, SourcePathCount), SourcePathCount);
    return long_operation(Name, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismRemoveCapability(DismSession Session, PCWSTR Name, HANDLE CancelEvent,
                                    DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    ENTER(L"DismRemoveCapability", Session, L"%u|%ls", Session, shown(Name));
    return long_operation(Name, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismAddLanguage(DismSession Session, PCWSTR LanguageName, BOOL PreventPending,
                               BOOL LimitAccess, PCWSTR *SourcePaths, UINT SourcePathCount,
                               HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                               PVOID UserData)
{
    WCHAR sources[512];
    ENTER(L"DismAddLanguage", Session, L"%u|%ls|%d|%d|%ls|%u", Session, shown(LanguageName),
          PreventPending, LimitAccess, joined(sources, 512, SourcePaths, SourcePathCount),
          SourcePathCount);
    return long_operation(LanguageName, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismRemoveLanguage(DismSession Session, PCWSTR LanguageName, HANDLE CancelEvent,
                                  DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    ENTER(L"DismRemoveLanguage", Session, L"%u|%ls", Session, shown(LanguageName));
    return long_operation(LanguageName, CancelEvent, Progress, UserData);
}

/* ---- provisioned apps ---------------------------------------------------------- */

HRESULT WINAPI _DismGetProvisionedAppxPackages(DismSession Session, DismAppxPackage **Package,
                                               UINT *Count)
{
    ENTER(L"_DismGetProvisionedAppxPackages", Session, L"%u", Session);
    DismAppxPackage *a = result_new(2 * sizeof *a);
    if (!a)
        return E_OUTOFMEMORY;
    for (UINT i = 0; i < 2; i++) {
        a[i].PackageName = result_text(a, i ? L"Microsoft.Other_1.0.0.0_neutral__8wekyb3d8bbwe"
                                            : L"Microsoft." FACE L"_2.3.4.5_x64__8wekyb3d8bbwe");
        a[i].DisplayName = result_text(a, i ? L"Other" : L"App " CLEF);
        a[i].PublisherId = result_text(a, L"8wekyb3d8bbwe");
        a[i].MajorVersion = 2 + i;
        a[i].MinorVersion = 3;
        a[i].Build = 4;
        a[i].RevisionNumber = 5;
        a[i].Architecture = i ? 11 : 9;
        a[i].ResourceId = result_text(a, i ? L"~" : NULL);
        a[i].InstallLocation = result_text(a, L"C:\\Program Files\\WindowsApps\\App");
        a[i].Region = i ? NULL : result_text(a, L"all");
    }
    *Package = a;
    *Count = 2;
    return S_OK;
}

HRESULT WINAPI _DismAddProvisionedAppxPackage(
    DismSession Session, PCWSTR AppPath, PCWSTR *DependencyPackages, UINT DependencyPackageCount,
    PCWSTR *OptionalPackages, UINT OptionalPackageCount, PCWSTR *LicensePaths,
    UINT LicensePathCount, BOOL SkipLicense, PCWSTR CustomDataPath, PCWSTR Region,
    DismStubPackageOption stubPackageOption)
{
    WCHAR deps[512], optional[512], licenses[512];
    ENTER(L"_DismAddProvisionedAppxPackage", Session,
          L"%u|%ls|%ls|%u|%ls|%u|%ls|%u|%d|%ls|%ls|%d", Session, shown(AppPath),
          joined(deps, 512, DependencyPackages, DependencyPackageCount), DependencyPackageCount,
          joined(optional, 512, OptionalPackages, OptionalPackageCount), OptionalPackageCount,
          joined(licenses, 512, LicensePaths, LicensePathCount), LicensePathCount, SkipLicense,
          shown(CustomDataPath), shown(Region), (int)stubPackageOption);
    return S_OK;
}

HRESULT WINAPI _DismRemoveProvisionedAppxPackage(DismSession Session, PCWSTR PackageName)
{
    ENTER(L"_DismRemoveProvisionedAppxPackage", Session, L"%u|%ls", Session, shown(PackageName));
    return S_OK;
}

/* ---- editions and product keys --------------------------------------------------- */

HRESULT WINAPI _DismGetCurrentEdition(DismSession Session, DismString **EditionId)
{
    ENTER(L"_DismGetCurrentEdition", Session, L"%u", Session);
    *EditionId = string_result(L"Professional" FACE);
    return *EditionId ? S_OK : E_OUTOFMEMORY;
}

HRESULT WINAPI _DismGetTargetEditions(DismSession Session, DismString **EditionIds, UINT *Count)
{
    ENTER(L"_DismGetTargetEditions", Session, L"%u", Session);
    static const PCWSTR editions[] = {L"Enterprise", L"Education" CLEF, NULL};
    DismString *s = strings_result(editions, 3);
    if (!s)
        return E_OUTOFMEMORY;
    *EditionIds = s;
    *Count = 3;
    return S_OK;
}

HRESULT WINAPI _DismSetEdition(DismSession Session, PCWSTR EditionID, PCWSTR ProductKey,
                               HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                               PVOID UserData)
{
    ENTER(L"_DismSetEdition", Session, L"%u|%ls|%ls", Session, shown(EditionID),
          shown(ProductKey));
    return long_operation(EditionID, CancelEvent, Progress, UserData);
}

HRESULT WINAPI _DismSetProductKey(DismSession Session, PCWSTR ProductKey)
{
    ENTER(L"_DismSetProductKey", Session, L"%u|%ls", Session, shown(ProductKey));
    return S_OK;
}

HRESULT WINAPI _DismValidateProductKey(DismSession Session, PCWSTR ProductKey)
{
    ENTER(L"_DismValidateProductKey", Session, L"%u|%ls", Session, shown(ProductKey));
    return S_OK;
}

HRESULT WINAPI _DismGetProductKeyInfo(DismSession Session, PCWSTR ProductKey,
                                      DismString **EditionId, DismString **Channel)
{
    ENTER(L"_DismGetProductKeyInfo", Session, L"%u|%ls", Session, shown(ProductKey));
    *EditionId = string_result(L"Core" CLEF);
    *Channel = string_result(L"Retail");
    return *EditionId && *Channel ? S_OK : E_OUTOFMEMORY;
}

HRESULT WINAPI _DismGetRegistryMountPoint(DismSession Session, DismRegistryHive Hive,
                                          DismString **MountPoint)
{
    ENTER(L"_DismGetRegistryMountPoint", Session, L"%u|%d", Session, (int)Hive);
    WCHAR point[64];
    _snwprintf(point, 63, L"HKLM\\{bf1a281b-ad7b-4476-ac95-f47682990ce7}hive%d", (int)Hive);
    point[63] = 0;
    *MountPoint = string_result(point);
    return *MountPoint ? S_OK : E_OUTOFMEMORY;
}

/* ---- health, reserved storage, unattend -------------------------------------------- */

HRESULT WINAPI DismCheckImageHealth(DismSession Session, BOOL ScanImage, HANDLE CancelEvent,
                                    DISM_PROGRESS_CALLBACK Progress, PVOID UserData,
                                    DismImageHealthState *ImageHealth)
{
    ENTER(L"DismCheckImageHealth", Session, L"%u|%d", Session, ScanImage);
    HRESULT hr = long_operation(NULL, CancelEvent, Progress, UserData);
    if (SUCCEEDED(hr))
        *ImageHealth = ScanImage ? DismImageRepairable : DismImageHealthy;
    return hr;
}

HRESULT WINAPI DismRestoreImageHealth(DismSession Session, PCWSTR *SourcePaths,
                                      UINT SourcePathCount, BOOL LimitAccess, HANDLE CancelEvent,
                                      DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    WCHAR sources[512];
    ENTER(L"DismRestoreImageHealth", Session, L"%u|%ls|%u|%d", Session,
          joined(sources, 512, SourcePaths, SourcePathCount), SourcePathCount, LimitAccess);
    return long_operation(SourcePaths && SourcePathCount ? SourcePaths[0] : NULL, CancelEvent,
                          Progress, UserData);
}

static DWORD reserved_storage = DISM_RESERVED_STORAGE_ENABLED;

HRESULT WINAPI DismGetReservedStorageState(DismSession Session, PDWORD State)
{
    ENTER(L"DismGetReservedStorageState", Session, L"%u", Session);
    *State = reserved_storage;
    return S_OK;
}

HRESULT WINAPI DismSetReservedStorageState(DismSession Session, DWORD State)
{
    ENTER(L"DismSetReservedStorageState", Session, L"%u|%lu", Session, (unsigned long)State);
    reserved_storage = State;
    return S_OK;
}

HRESULT WINAPI DismApplyUnattend(DismSession Session, PCWSTR UnattendFile, BOOL SingleSession)
{
    ENTER(L"DismApplyUnattend", Session, L"%u|%ls|%d", Session, shown(UnattendFile),
          SingleSession);
    return S_OK;
}
