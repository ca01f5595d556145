/*
 * dismapi.h - the DISM API as the dism project declares it.
 *
 * One header for both halves of the project:
 *   - on Windows it is compiled on top of <windows.h> and describes the
 *     exports of the system's DismApi.dll;
 *   - everywhere else it describes the portable engine in src/engine/, on
 *     the Windows type names win32.h maps to fixed-width types, so that a C
 *     program written for DISM (L"..." literals included) compiles unchanged.
 *
 * Layout: every structure is declared inside #pragma pack(push, 1), exactly
 * as Microsoft's header does.  The field order follows the ADK header; the
 * sizes are checked at compile time at the end of this file.
 */
#ifndef DISM_PROJECT_DISMAPI_H
#define DISM_PROJECT_DISMAPI_H

#include "win32.h"
#include "dismapi_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * DISMAPI_PROTOTYPES_ONLY: declare only the functions, on top of another
 * header's types and constants.  The Windows build check uses it to redeclare
 * every function over mingw-w64's independent <dismapi.h>, so the compiler
 * reports any parameter that differs ("conflicting types").
 */
#ifndef DISMAPI_PROTOTYPES_ONLY

/* ------------------------------------------------------------------------
 * Constants
 * ------------------------------------------------------------------------ */
#define DISM_ONLINE_IMAGE L"DISM_{53BFAE52-B167-4E2F-A258-0A37B57FF845}"
#define DISM_SESSION_DEFAULT 0

#define DISM_MOUNT_READWRITE 0x00000000
#define DISM_MOUNT_READONLY 0x00000001
#define DISM_MOUNT_OPTIMIZE 0x00000002
#define DISM_MOUNT_CHECK_INTEGRITY 0x00000004
#define DISM_MOUNT_SUPPORT_EA 0x00000008

#define DISM_COMMIT_IMAGE 0x00000000
#define DISM_DISCARD_IMAGE 0x00000001
#define DISM_COMMIT_GENERATE_INTEGRITY 0x00010000
#define DISM_COMMIT_APPEND 0x00020000
#define DISM_COMMIT_SUPPORT_EA 0x00040000
#define DISM_COMMIT_MASK 0xffff0000

#define DISM_RESERVED_STORAGE_DISABLED 0x00000000
#define DISM_RESERVED_STORAGE_ENABLED 0x00000001

/* ------------------------------------------------------------------------
 * HRESULTs defined by DISM
 * ------------------------------------------------------------------------ */
#define DISMAPI_S_RELOAD_IMAGE_SESSION_REQUIRED ((HRESULT)0x00000001L)
#define DISMAPI_E_DISMAPI_NOT_INITIALIZED ((HRESULT)0xC0040001L)
#define DISMAPI_E_SHUTDOWN_IN_PROGRESS ((HRESULT)0xC0040002L)
#define DISMAPI_E_OPEN_SESSION_HANDLES ((HRESULT)0xC0040003L)
#define DISMAPI_E_INVALID_DISM_SESSION ((HRESULT)0xC0040004L)
#define DISMAPI_E_INVALID_IMAGE_INDEX ((HRESULT)0xC0040005L)
#define DISMAPI_E_INVALID_IMAGE_NAME ((HRESULT)0xC0040006L)
#define DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH ((HRESULT)0xC0040007L)
#define DISMAPI_E_LOGGING_DISABLED ((HRESULT)0xC0040009L)
#define DISMAPI_E_OPEN_HANDLES_UNABLE_TO_UNMOUNT_IMAGE_PATH ((HRESULT)0xC004000AL)
#define DISMAPI_E_OPEN_HANDLES_UNABLE_TO_MOUNT_IMAGE_PATH ((HRESULT)0xC004000BL)
#define DISMAPI_E_OPEN_HANDLES_UNABLE_TO_REMOUNT_IMAGE_PATH ((HRESULT)0xC004000CL)
#define DISMAPI_E_PARENT_FEATURE_DISABLED ((HRESULT)0xC004000DL)
#define DISMAPI_E_MUST_SPECIFY_ONLINE_IMAGE ((HRESULT)0xC004000EL)
#define DISMAPI_E_INVALID_PRODUCT_KEY ((HRESULT)0xC004000FL)
#define DISMAPI_E_MUST_SPECIFY_INDEX_OR_NAME ((HRESULT)0xC0040020L)
#define DISMAPI_E_NEEDS_REMOUNT ((HRESULT)0xC1510114L)
#define DISMAPI_E_UNKNOWN_FEATURE ((HRESULT)0x800F080CL)
#define DISMAPI_E_BUSY ((HRESULT)0x800F0902L)
#define CBS_E_NOT_APPLICABLE ((HRESULT)0x800F081EL)
#define CBS_E_SOURCE_MISSING ((HRESULT)0x800F081FL)

/* ------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------ */
typedef enum _DismLogLevel {
    DismLogErrors = 0,
    DismLogErrorsWarnings = 1,
    DismLogErrorsWarningsInfo = 2,
    DismLogErrorsWarningsInfoDebug = 3
} DismLogLevel;

typedef enum _DismImageIdentifier {
    DismImageIndex = 0,
    DismImageName = 1,
    DismImageNone = 2
} DismImageIdentifier;

typedef enum _DismMountMode { DismReadWrite = 0, DismReadOnly = 1 } DismMountMode;

typedef enum _DismImageType {
    DismImageTypeUnsupported = -1,
    DismImageTypeWim = 0,
    DismImageTypeVhd = 1
} DismImageType;

typedef enum _DismImageBootable {
    DismImageBootableYes = 0,
    DismImageBootableNo = 1,
    DismImageBootableUnknown = 2
} DismImageBootable;

typedef enum _DismMountStatus {
    DismMountStatusOk = 0,
    DismMountStatusNeedsRemount = 1,
    DismMountStatusInvalid = 2
} DismMountStatus;

typedef enum _DismImageHealthState {
    DismImageHealthy = 0,
    DismImageRepairable = 1,
    DismImageNonRepairable = 2
} DismImageHealthState;

typedef enum _DismPackageIdentifier {
    DismPackageNone = 0,
    DismPackageName = 1,
    DismPackagePath = 2
} DismPackageIdentifier;

typedef enum _DismPackageFeatureState {
    DismStateNotPresent = 0,
    DismStateUninstallPending = 1,
    DismStateStaged = 2,
    DismStateResolved = 3,
    DismStateRemoved = DismStateResolved,
    DismStateInstalled = 4,
    DismStateInstallPending = 5,
    DismStateSuperseded = 6,
    DismStatePartiallyInstalled = 7
} DismPackageFeatureState;

typedef enum _DismReleaseType {
    DismReleaseTypeCriticalUpdate = 0,
    DismReleaseTypeDriver = 1,
    DismReleaseTypeFeaturePack = 2,
    DismReleaseTypeHotfix = 3,
    DismReleaseTypeSecurityUpdate = 4,
    DismReleaseTypeSoftwareUpdate = 5,
    DismReleaseTypeUpdate = 6,
    DismReleaseTypeUpdateRollup = 7,
    DismReleaseTypeLanguagePack = 8,
    DismReleaseTypeFoundation = 9,
    DismReleaseTypeServicePack = 10,
    DismReleaseTypeProduct = 11,
    DismReleaseTypeLocalPack = 12,
    DismReleaseTypeOther = 13,
    DismReleaseTypeOnDemandPack = 14
} DismReleaseType;

typedef enum _DismRestartType {
    DismRestartNo = 0,
    DismRestartPossible = 1,
    DismRestartRequired = 2
} DismRestartType;

typedef enum _DismDriverSignature {
    DismDriverSignatureUnknown = 0,
    DismDriverSignatureUnsigned = 1,
    DismDriverSignatureSigned = 2
} DismDriverSignature;

typedef enum _DismFullyOfflineInstallableType {
    DismFullyOfflineInstallable = 0,
    DismFullyOfflineNotInstallable = 1,
    DismFullyOfflineInstallableUndetermined = 2
} DismFullyOfflineInstallableType;

typedef enum _DismStubPackageOption {
    DismStubPackageOptionNone = 0,
    DismStubPackageOptionInstallFull = 1,
    DismStubPackageOptionInstallStub = 2
} DismStubPackageOption;

/* Not in Microsoft's header; used by _DismGetRegistryMountPoint. */
typedef enum _DismRegistryHive {
    DismRegistrySoftware = 0,
    DismRegistrySystem = 1,
    DismRegistrySecurity = 2,
    DismRegistrySAM = 3,
    DismRegistryDefault = 4,
    DismRegistryNTUSER = 5,
    DismRegistryComponents = 6,
    DismRegistryDrivers = 7
} DismRegistryHive;

#pragma pack(push, 1)

typedef struct _DismPackage {
    PCWSTR PackageName;
    DismPackageFeatureState PackageState;
    DismReleaseType ReleaseType;
    SYSTEMTIME InstallTime;
} DismPackage;

typedef struct _DismCustomProperty {
    PCWSTR Name;
    PCWSTR Value;
    PCWSTR Path;
} DismCustomProperty;

typedef struct _DismFeature {
    PCWSTR FeatureName;
    DismPackageFeatureState State;
} DismFeature;

typedef struct _DismCapability {
    PCWSTR Name;
    DismPackageFeatureState State;
} DismCapability;

typedef struct _DismPackageInfo {
    PCWSTR PackageName;
    DismPackageFeatureState PackageState;
    DismReleaseType ReleaseType;
    SYSTEMTIME InstallTime;
    BOOL Applicable;
    PCWSTR Copyright;
    PCWSTR Company;
    SYSTEMTIME CreationTime;
    PCWSTR DisplayName;
    PCWSTR Description;
    PCWSTR InstallClient;
    PCWSTR InstallPackageName;
    SYSTEMTIME LastUpdateTime;
    PCWSTR ProductName;
    PCWSTR ProductVersion;
    DismRestartType RestartRequired;
    DismFullyOfflineInstallableType FullyOffline;
    PCWSTR SupportInformation;
    DismCustomProperty *CustomProperty;
    UINT CustomPropertyCount;
    DismFeature *Feature;
    UINT FeatureCount;
} DismPackageInfo;

/* C++ derives this from _DismPackageInfo; C spells the fields out so the
 * layout is the same without the anonymous-member extension. */
typedef struct _DismPackageInfoEx {
    PCWSTR PackageName;
    DismPackageFeatureState PackageState;
    DismReleaseType ReleaseType;
    SYSTEMTIME InstallTime;
    BOOL Applicable;
    PCWSTR Copyright;
    PCWSTR Company;
    SYSTEMTIME CreationTime;
    PCWSTR DisplayName;
    PCWSTR Description;
    PCWSTR InstallClient;
    PCWSTR InstallPackageName;
    SYSTEMTIME LastUpdateTime;
    PCWSTR ProductName;
    PCWSTR ProductVersion;
    DismRestartType RestartRequired;
    DismFullyOfflineInstallableType FullyOffline;
    PCWSTR SupportInformation;
    DismCustomProperty *CustomProperty;
    UINT CustomPropertyCount;
    DismFeature *Feature;
    UINT FeatureCount;
    PCWSTR CapabilityId;
} DismPackageInfoEx;

typedef struct _DismFeatureInfo {
    PCWSTR FeatureName;
    DismPackageFeatureState FeatureState;
    PCWSTR DisplayName;
    PCWSTR Description;
    DismRestartType RestartRequired;
    DismCustomProperty *CustomProperty;
    UINT CustomPropertyCount;
} DismFeatureInfo;

typedef struct _DismCapabilityInfo {
    PCWSTR Name;
    DismPackageFeatureState State;
    PCWSTR DisplayName;
    PCWSTR Description;
    DWORD DownloadSize;
    DWORD InstallSize;
} DismCapabilityInfo;

typedef struct _DismString {
    PCWSTR Value;
} DismString;

typedef DismString DismLanguage;

typedef struct _DismWimCustomizedInfo {
    UINT Size;
    UINT DirectoryCount;
    UINT FileCount;
    SYSTEMTIME CreatedTime;
    SYSTEMTIME ModifiedTime;
} DismWimCustomizedInfo;

typedef struct _DismImageInfo {
    DismImageType ImageType;
    UINT ImageIndex;
    PCWSTR ImageName;
    PCWSTR ImageDescription;
    UINT64 ImageSize;
    UINT Architecture;
    PCWSTR ProductName;
    PCWSTR EditionId;
    PCWSTR InstallationType;
    PCWSTR Hal;
    PCWSTR ProductType;
    PCWSTR ProductSuite;
    UINT MajorVersion;
    UINT MinorVersion;
    UINT Build;
    UINT SpBuild;
    UINT SpLevel;
    DismImageBootable Bootable;
    PCWSTR SystemRoot;
    DismLanguage *Language;
    UINT LanguageCount;
    UINT DefaultLanguageIndex;
    VOID *CustomizedInfo;
} DismImageInfo;

typedef struct _DismMountedImageInfo {
    PCWSTR MountPath;
    PCWSTR ImageFilePath;
    UINT ImageIndex;
    DismMountMode MountMode;
    DismMountStatus MountStatus;
} DismMountedImageInfo;

typedef struct _DismDriverPackage {
    PCWSTR PublishedName;
    PCWSTR OriginalFileName;
    BOOL InBox;
    PCWSTR CatalogFile;
    PCWSTR ClassName;
    PCWSTR ClassGuid;
    PCWSTR ClassDescription;
    BOOL BootCritical;
    DismDriverSignature DriverSignature;
    PCWSTR ProviderName;
    SYSTEMTIME Date;
    UINT MajorVersion;
    UINT MinorVersion;
    UINT Build;
    UINT Revision;
} DismDriverPackage;

typedef struct _DismDriver {
    PCWSTR ManufacturerName;
    PCWSTR HardwareDescription;
    PCWSTR HardwareId;
    UINT Architecture;
    PCWSTR ServiceName;
    PCWSTR CompatibleIds;
    PCWSTR ExcludeIds;
} DismDriver;

typedef struct _DismAppxPackage {
    PCWSTR PackageName;
    PCWSTR DisplayName;
    PCWSTR PublisherId;
    UINT MajorVersion;
    UINT MinorVersion;
    UINT Build;
    UINT RevisionNumber;
    UINT Architecture;
    PCWSTR ResourceId;
    PCWSTR InstallLocation;
    _Maybenull_ PCWSTR Region;
} DismAppxPackage;

#pragma pack(pop)

#endif /* !DISMAPI_PROTOTYPES_ONLY */

/* C11 allows repeating a typedef with the same type, so these stay visible in
 * DISMAPI_PROTOTYPES_ONLY mode and are compared there too. */
typedef UINT DismSession;

typedef void(CALLBACK *DISM_PROGRESS_CALLBACK)(_In_ UINT Current, _In_ UINT Total,
                                               _In_opt_ PVOID UserData);

/* ------------------------------------------------------------------------
 * Functions: the documented API
 * ------------------------------------------------------------------------ */
HRESULT WINAPI DismInitialize(_In_ DismLogLevel LogLevel, _In_opt_ PCWSTR LogFilePath,
                              _In_opt_ PCWSTR ScratchDirectory);
HRESULT WINAPI DismShutdown(void);
HRESULT WINAPI DismMountImage(_In_ PCWSTR ImageFilePath, _In_ PCWSTR MountPath,
                              _In_ UINT ImageIndex, _In_opt_ PCWSTR ImageName,
                              _In_ DismImageIdentifier ImageIdentifier, _In_ DWORD Flags,
                              _In_opt_ HANDLE CancelEvent,
                              _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                              _In_opt_ PVOID UserData);
HRESULT WINAPI DismUnmountImage(_In_ PCWSTR MountPath, _In_ DWORD Flags,
                                _In_opt_ HANDLE CancelEvent,
                                _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                _In_opt_ PVOID UserData);
HRESULT WINAPI DismOpenSession(_In_ PCWSTR ImagePath, _In_opt_ PCWSTR WindowsDirectory,
                               _In_opt_ PCWSTR SystemDrive, _Out_ DismSession *Session);
HRESULT WINAPI DismCloseSession(_In_ DismSession Session);
HRESULT WINAPI DismGetLastErrorMessage(_Out_ DismString **ErrorMessage);
HRESULT WINAPI DismRemountImage(_In_ PCWSTR MountPath);
HRESULT WINAPI DismCommitImage(_In_ DismSession Session, _In_ DWORD Flags,
                               _In_opt_ HANDLE CancelEvent,
                               _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                               _In_opt_ PVOID UserData);
HRESULT WINAPI DismGetImageInfo(_In_ PCWSTR ImageFilePath,
                                _Outptr_result_buffer_(*Count) DismImageInfo **ImageInfo,
                                _Out_ UINT *Count);
HRESULT WINAPI DismGetMountedImageInfo(
    _Outptr_result_buffer_(*Count) DismMountedImageInfo **MountedImageInfo, _Out_ UINT *Count);
HRESULT WINAPI DismCleanupMountpoints(void);
HRESULT WINAPI DismCheckImageHealth(_In_ DismSession Session, _In_ BOOL ScanImage,
                                    _In_opt_ HANDLE CancelEvent,
                                    _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                    _In_opt_ PVOID UserData,
                                    _Out_ DismImageHealthState *ImageHealth);
HRESULT WINAPI DismRestoreImageHealth(_In_ DismSession Session,
                                      _In_reads_opt_(SourcePathCount) PCWSTR *SourcePaths,
                                      _In_opt_ UINT SourcePathCount, _In_ BOOL LimitAccess,
                                      _In_opt_ HANDLE CancelEvent,
                                      _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                      _In_opt_ PVOID UserData);
HRESULT WINAPI DismDelete(_In_ VOID *DismStructure);
HRESULT WINAPI DismAddPackage(_In_ DismSession Session, _In_ PCWSTR PackagePath,
                              _In_ BOOL IgnoreCheck, _In_ BOOL PreventPending,
                              _In_opt_ HANDLE CancelEvent,
                              _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                              _In_opt_ PVOID UserData);
HRESULT WINAPI DismRemovePackage(_In_ DismSession Session, _In_ PCWSTR Identifier,
                                 _In_ DismPackageIdentifier PackageIdentifier,
                                 _In_opt_ HANDLE CancelEvent,
                                 _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                 _In_opt_ PVOID UserData);
HRESULT WINAPI DismEnableFeature(_In_ DismSession Session, _In_ PCWSTR FeatureName,
                                 _In_opt_ PCWSTR Identifier,
                                 _In_opt_ DismPackageIdentifier PackageIdentifier,
                                 _In_ BOOL LimitAccess,
                                 _In_reads_opt_(SourcePathCount) PCWSTR *SourcePaths,
                                 _In_opt_ UINT SourcePathCount, _In_ BOOL EnableAll,
                                 _In_opt_ HANDLE CancelEvent,
                                 _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                 _In_opt_ PVOID UserData);
HRESULT WINAPI DismDisableFeature(_In_ DismSession Session, _In_ PCWSTR FeatureName,
                                  _In_opt_ PCWSTR PackageName, _In_ BOOL RemovePayload,
                                  _In_opt_ HANDLE CancelEvent,
                                  _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                  _In_opt_ PVOID UserData);
HRESULT WINAPI DismGetPackages(_In_ DismSession Session,
                               _Outptr_result_buffer_(*Count) DismPackage **Package,
                               _Out_ UINT *Count);
HRESULT WINAPI DismGetPackageInfo(_In_ DismSession Session, _In_ PCWSTR Identifier,
                                  _In_ DismPackageIdentifier PackageIdentifier,
                                  _Out_ DismPackageInfo **PackageInfo);
HRESULT WINAPI DismGetPackageInfoEx(_In_ DismSession Session, _In_ PCWSTR Identifier,
                                    _In_ DismPackageIdentifier PackageIdentifier,
                                    _Out_ DismPackageInfoEx **PackageInfoEx);
HRESULT WINAPI DismGetFeatures(_In_ DismSession Session, _In_opt_ PCWSTR Identifier,
                               _In_opt_ DismPackageIdentifier PackageIdentifier,
                               _Outptr_result_buffer_(*Count) DismFeature **Feature,
                               _Out_ UINT *Count);
HRESULT WINAPI DismGetFeatureInfo(_In_ DismSession Session, _In_ PCWSTR FeatureName,
                                  _In_opt_ PCWSTR Identifier,
                                  _In_opt_ DismPackageIdentifier PackageIdentifier,
                                  _Out_ DismFeatureInfo **FeatureInfo);
HRESULT WINAPI DismGetFeatureParent(_In_ DismSession Session, _In_ PCWSTR FeatureName,
                                    _In_opt_ PCWSTR Identifier,
                                    _In_opt_ DismPackageIdentifier PackageIdentifier,
                                    _Outptr_result_buffer_(*Count) DismFeature **Feature,
                                    _Out_ UINT *Count);
HRESULT WINAPI DismApplyUnattend(_In_ DismSession Session, _In_ PCWSTR UnattendFile,
                                 _In_ BOOL SingleSession);
HRESULT WINAPI DismAddDriver(_In_ DismSession Session, _In_ PCWSTR DriverPath,
                             _In_ BOOL ForceUnsigned);
HRESULT WINAPI DismRemoveDriver(_In_ DismSession Session, _In_ PCWSTR DriverPath);
HRESULT WINAPI DismGetDrivers(_In_ DismSession Session, _In_ BOOL AllDrivers,
                              _Outptr_result_buffer_(*Count) DismDriverPackage **DriverPackage,
                              _Out_ UINT *Count);
HRESULT WINAPI DismGetDriverInfo(_In_ DismSession Session, _In_ PCWSTR DriverPath,
                                 _Outptr_result_buffer_(*Count) DismDriver **Driver,
                                 _Out_ UINT *Count,
                                 _Out_opt_ DismDriverPackage **DriverPackage);
HRESULT WINAPI DismGetCapabilities(_In_ DismSession Session,
                                   _Outptr_result_buffer_(*Count) DismCapability **Capability,
                                   _Out_ UINT *Count);
HRESULT WINAPI DismGetCapabilityInfo(_In_ DismSession Session, _In_ PCWSTR Name,
                                     _Out_ DismCapabilityInfo **Info);
HRESULT WINAPI DismAddCapability(_In_ DismSession Session, _In_ PCWSTR Name,
                                 _In_ BOOL LimitAccess,
                                 _In_reads_opt_(SourcePathCount) PCWSTR *SourcePaths,
                                 _In_opt_ UINT SourcePathCount, _In_opt_ HANDLE CancelEvent,
                                 _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                 _In_opt_ PVOID UserData);
HRESULT WINAPI DismRemoveCapability(_In_ DismSession Session, _In_ PCWSTR Name,
                                    _In_opt_ HANDLE CancelEvent,
                                    _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                    _In_opt_ PVOID UserData);
HRESULT WINAPI DismGetReservedStorageState(_In_ DismSession Session, _Out_ PDWORD State);
HRESULT WINAPI DismSetReservedStorageState(_In_ DismSession Session, _In_ DWORD State);
HRESULT WINAPI DismAddLanguage(_In_ DismSession Session, _In_ PCWSTR LanguageName,
                               _In_ BOOL PreventPending, _In_ BOOL LimitAccess,
                               _In_reads_opt_(SourcePathCount) PCWSTR *SourcePaths,
                               _In_opt_ UINT SourcePathCount, _In_opt_ HANDLE CancelEvent,
                               _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                               _In_opt_ PVOID UserData);
HRESULT WINAPI DismRemoveLanguage(_In_ DismSession Session, _In_ PCWSTR LanguageName,
                                  _In_opt_ HANDLE CancelEvent,
                                  _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                                  _In_opt_ PVOID UserData);

#ifndef DISMAPI_PROTOTYPES_ONLY
/* ------------------------------------------------------------------------
 * Functions: undocumented exports stable enough to bind.  Windows builds of
 * the extension resolve these at run time; older DLLs may lack them.
 * ------------------------------------------------------------------------ */
HRESULT WINAPI _DismGetProvisionedAppxPackages(
    _In_ DismSession Session, _Outptr_result_buffer_(*Count) DismAppxPackage **Package,
    _Out_ UINT *Count);
HRESULT WINAPI _DismAddProvisionedAppxPackage(
    _In_ DismSession Session, _In_ PCWSTR AppPath,
    _In_reads_opt_(DependencyPackageCount) PCWSTR *DependencyPackages,
    _In_ UINT DependencyPackageCount,
    _In_reads_opt_(OptionalPackageCount) PCWSTR *OptionalPackages,
    _In_ UINT OptionalPackageCount, _In_reads_opt_(LicensePathCount) PCWSTR *LicensePaths,
    _In_ UINT LicensePathCount, _In_ BOOL SkipLicense, _In_opt_ PCWSTR CustomDataPath,
    _In_opt_ PCWSTR Region, _In_ DismStubPackageOption stubPackageOption);
HRESULT WINAPI _DismRemoveProvisionedAppxPackage(_In_ DismSession Session,
                                                 _In_ PCWSTR PackageName);
HRESULT WINAPI _DismGetCurrentEdition(_In_ DismSession Session, _Out_ DismString **EditionId);
HRESULT WINAPI _DismGetTargetEditions(_In_ DismSession Session, _Out_ DismString **EditionIds,
                                      _Out_ UINT *Count);
HRESULT WINAPI _DismSetEdition(_In_ DismSession Session, _In_ PCWSTR EditionID,
                               _In_opt_ PCWSTR ProductKey, _In_opt_ HANDLE CancelEvent,
                               _In_opt_ DISM_PROGRESS_CALLBACK Progress,
                               _In_opt_ PVOID UserData);
HRESULT WINAPI _DismSetProductKey(_In_ DismSession Session, _In_ PCWSTR ProductKey);
HRESULT WINAPI _DismValidateProductKey(_In_ DismSession Session, _In_ PCWSTR ProductKey);
HRESULT WINAPI _DismGetProductKeyInfo(_In_ DismSession Session, _In_ PCWSTR ProductKey,
                                      _Out_ DismString **EditionId, _Out_ DismString **Channel);
HRESULT WINAPI _DismGetRegistryMountPoint(_In_ DismSession Session,
                                          _In_ DismRegistryHive Hive,
                                          _Out_ DismString **MountPoint);

#ifndef _WIN32
/* ------------------------------------------------------------------------
 * Portable engine only (no DismApi.dll has it): what DismGetImageInfo says
 * about a WIM's image, read from the image a session is open on (product
 * name, edition, installation and product type, version with the UBR in
 * SpBuild as DISM.exe shows it, architecture, system root).  Free with
 * DismDelete.
 * ------------------------------------------------------------------------ */
HRESULT WINAPI _DismPortableGetSessionImageInfo(_In_ DismSession Session,
                                                _Out_ DismImageInfo **ImageInfo);

/* ------------------------------------------------------------------------
 * Portable engine only: a read-only session on one image of a WIM or ESD
 * without mounting it (no FUSE, no root).  The image is chosen as
 * DismMountImage chooses it (ImageIdentifier with ImageIndex or ImageName;
 * DismImageNone takes the only image of a one-image WIM).
 * The hives, servicing manifests and INF files the servicing calls read are
 * copied into a private temporary directory (mode 0700; in DismInitialize's
 * ScratchDirectory, else $TMPDIR or /tmp) that DismCloseSession removes;
 * paths the calls return point into it.  Every read works as on a mounted
 * image; writes are refused as on a read-only mount (DismCommitImage:
 * ERROR_WRITE_PROTECT).  A WIM that a wimlib writer holds is refused with
 * ERROR_SHARING_VIOLATION.  Close with DismCloseSession.
 * ------------------------------------------------------------------------ */
HRESULT WINAPI _DismPortableOpenImageFileSession(_In_ PCWSTR ImageFilePath,
                                                 _In_ UINT ImageIndex,
                                                 _In_opt_ PCWSTR ImageName,
                                                 _In_ DismImageIdentifier ImageIdentifier,
                                                 _Out_ DismSession *Session);
#endif

/* ------------------------------------------------------------------------
 * Layout checks (pack 1).  Figures from the ADK header layout: x64 and
 * ARM64 with 8-byte pointers, x86 with 4-byte pointers.
 * ------------------------------------------------------------------------ */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#  define DISMAPI_LAYOUT_CHECK(cond, msg) _Static_assert(cond, msg)
#elif defined(__cplusplus) && __cplusplus >= 201103L
#  define DISMAPI_LAYOUT_CHECK(cond, msg) static_assert(cond, msg)
#else
#  define DISMAPI_LAYOUT_CHECK(cond, msg)
#endif

#define DISMAPI_P(n64, n32) (sizeof(void *) == 8 ? (n64) : (n32))
#define DISMAPI_CHECK_OFFSET(type, field, off64, off32) \
    DISMAPI_LAYOUT_CHECK(offsetof(type, field) == DISMAPI_P(off64, off32), \
                         "offset of " #type "." #field);
#define DISMAPI_CHECK_SIZE(type, size64, size32) \
    DISMAPI_LAYOUT_CHECK(sizeof(type) == DISMAPI_P(size64, size32), "size of " #type);
DISMAPI_LAYOUT_CHECK(sizeof(SYSTEMTIME) == 16, "size of SYSTEMTIME");
DISMAPI_ALL_FIELDS(DISMAPI_CHECK_OFFSET)
DISMAPI_STRUCT_SIZES(DISMAPI_CHECK_SIZE)
#undef DISMAPI_CHECK_OFFSET
#undef DISMAPI_CHECK_SIZE
#undef DISMAPI_P

#endif /* !DISMAPI_PROTOTYPES_ONLY */

#ifdef __cplusplus
}
#endif

#endif /* DISM_PROJECT_DISMAPI_H */
