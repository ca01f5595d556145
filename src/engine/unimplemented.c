/*
 * unimplemented.c - the servicing functions of the DISM API that the
 * portable engine does not implement yet (issue "Servicing" adds the offline
 * read side).  Each exists so that every program written for DISM links, and
 * answers E_NOTIMPL with a last-error message naming itself.
 */
#include "engine.h"

static HRESULT not_implemented(const char *function)
{
    return engine_fail(E_NOTIMPL, "%s is not implemented by the portable DISM engine yet.",
                       function);
}

#define NOT_IMPLEMENTED(name, ...) \
    HRESULT WINAPI name(__VA_ARGS__) { return not_implemented(#name); }

NOT_IMPLEMENTED(DismCheckImageHealth, DismSession s, BOOL scan, HANDLE c,
                DISM_PROGRESS_CALLBACK p, PVOID u, DismImageHealthState *h)
NOT_IMPLEMENTED(DismRestoreImageHealth, DismSession s, PCWSTR *src, UINT n, BOOL limit,
                HANDLE c, DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(DismAddPackage, DismSession s, PCWSTR path, BOOL ignore, BOOL prevent, HANDLE c,
                DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(DismRemovePackage, DismSession s, PCWSTR id, DismPackageIdentifier t, HANDLE c,
                DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(DismEnableFeature, DismSession s, PCWSTR f, PCWSTR id, DismPackageIdentifier t,
                BOOL limit, PCWSTR *src, UINT n, BOOL all, HANDLE c, DISM_PROGRESS_CALLBACK p,
                PVOID u)
NOT_IMPLEMENTED(DismDisableFeature, DismSession s, PCWSTR f, PCWSTR pkg, BOOL rm, HANDLE c,
                DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(DismGetPackages, DismSession s, DismPackage **out, UINT *n)
NOT_IMPLEMENTED(DismGetPackageInfo, DismSession s, PCWSTR id, DismPackageIdentifier t,
                DismPackageInfo **out)
NOT_IMPLEMENTED(DismGetPackageInfoEx, DismSession s, PCWSTR id, DismPackageIdentifier t,
                DismPackageInfoEx **out)
NOT_IMPLEMENTED(DismGetFeatures, DismSession s, PCWSTR id, DismPackageIdentifier t,
                DismFeature **out, UINT *n)
NOT_IMPLEMENTED(DismGetFeatureInfo, DismSession s, PCWSTR f, PCWSTR id, DismPackageIdentifier t,
                DismFeatureInfo **out)
NOT_IMPLEMENTED(DismGetFeatureParent, DismSession s, PCWSTR f, PCWSTR id,
                DismPackageIdentifier t, DismFeature **out, UINT *n)
NOT_IMPLEMENTED(DismApplyUnattend, DismSession s, PCWSTR file, BOOL single)
NOT_IMPLEMENTED(DismAddDriver, DismSession s, PCWSTR path, BOOL force)
NOT_IMPLEMENTED(DismRemoveDriver, DismSession s, PCWSTR path)
NOT_IMPLEMENTED(DismGetDrivers, DismSession s, BOOL all, DismDriverPackage **out, UINT *n)
NOT_IMPLEMENTED(DismGetDriverInfo, DismSession s, PCWSTR path, DismDriver **out, UINT *n,
                DismDriverPackage **pkg)
NOT_IMPLEMENTED(DismGetCapabilities, DismSession s, DismCapability **out, UINT *n)
NOT_IMPLEMENTED(DismGetCapabilityInfo, DismSession s, PCWSTR name, DismCapabilityInfo **out)
NOT_IMPLEMENTED(DismAddCapability, DismSession s, PCWSTR name, BOOL limit, PCWSTR *src, UINT n,
                HANDLE c, DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(DismRemoveCapability, DismSession s, PCWSTR name, HANDLE c,
                DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(DismGetReservedStorageState, DismSession s, PDWORD state)
NOT_IMPLEMENTED(DismSetReservedStorageState, DismSession s, DWORD state)
NOT_IMPLEMENTED(DismAddLanguage, DismSession s, PCWSTR lang, BOOL prevent, BOOL limit,
                PCWSTR *src, UINT n, HANDLE c, DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(DismRemoveLanguage, DismSession s, PCWSTR lang, HANDLE c,
                DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(_DismGetProvisionedAppxPackages, DismSession s, DismAppxPackage **out, UINT *n)
NOT_IMPLEMENTED(_DismAddProvisionedAppxPackage, DismSession s, PCWSTR app, PCWSTR *deps,
                UINT ndeps, PCWSTR *opts, UINT nopts, PCWSTR *lic, UINT nlic, BOOL skip,
                PCWSTR data, PCWSTR region, DismStubPackageOption stub)
NOT_IMPLEMENTED(_DismRemoveProvisionedAppxPackage, DismSession s, PCWSTR name)
NOT_IMPLEMENTED(_DismGetCurrentEdition, DismSession s, DismString **edition)
NOT_IMPLEMENTED(_DismGetTargetEditions, DismSession s, DismString **editions, UINT *n)
NOT_IMPLEMENTED(_DismSetEdition, DismSession s, PCWSTR edition, PCWSTR key, HANDLE c,
                DISM_PROGRESS_CALLBACK p, PVOID u)
NOT_IMPLEMENTED(_DismSetProductKey, DismSession s, PCWSTR key)
NOT_IMPLEMENTED(_DismValidateProductKey, DismSession s, PCWSTR key)
NOT_IMPLEMENTED(_DismGetProductKeyInfo, DismSession s, PCWSTR key, DismString **edition,
                DismString **channel)
NOT_IMPLEMENTED(_DismGetRegistryMountPoint, DismSession s, DismRegistryHive hive,
                DismString **mount_point)
