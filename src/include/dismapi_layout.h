/*
 * dismapi_layout.h - where every DISM structure's fields sit, for x64/ARM64
 * (8-byte pointers) and x86 (4-byte pointers), under #pragma pack(1).
 *
 * Kept apart from dismapi.h and free of types, so a translation unit can hold
 * these figures against someone else's declarations: dismapi.h checks its own
 * structures with them, and the Windows build check (tests/build_checks/test_windows_build.py)
 * checks mingw-w64's <dismapi.h> with them.  The figures were worked out from
 * the field list of the ADK header, not measured with a compiler, so a
 * compiler that lays a structure out differently fails the build.
 *
 * X(type, field, x64 offset, x86 offset) / S(type, x64 size, x86 size)
 */
#ifndef DISM_PROJECT_DISMAPI_LAYOUT_H
#define DISM_PROJECT_DISMAPI_LAYOUT_H

#define DISMAPI_FIELDS_DismPackage(X) \
    X(DismPackage, PackageName, 0, 0) \
    X(DismPackage, PackageState, 8, 4) \
    X(DismPackage, ReleaseType, 12, 8) \
    X(DismPackage, InstallTime, 16, 12)
#define DISMAPI_FIELDS_DismCustomProperty(X) \
    X(DismCustomProperty, Name, 0, 0) \
    X(DismCustomProperty, Value, 8, 4) \
    X(DismCustomProperty, Path, 16, 8)
#define DISMAPI_FIELDS_DismFeature(X) \
    X(DismFeature, FeatureName, 0, 0) \
    X(DismFeature, State, 8, 4)
#define DISMAPI_FIELDS_DismCapability(X) \
    X(DismCapability, Name, 0, 0) \
    X(DismCapability, State, 8, 4)
/* DismPackageInfoEx is DismPackageInfo with CapabilityId appended (C++
 * derives one from the other): one list of rows, taking the structure's
 * name T, states both. */
#define DISMAPI_PACKAGE_INFO_FIELDS(X, T) \
    X(T, PackageName, 0, 0) \
    X(T, PackageState, 8, 4) \
    X(T, ReleaseType, 12, 8) \
    X(T, InstallTime, 16, 12) \
    X(T, Applicable, 32, 28) \
    X(T, Copyright, 36, 32) \
    X(T, Company, 44, 36) \
    X(T, CreationTime, 52, 40) \
    X(T, DisplayName, 68, 56) \
    X(T, Description, 76, 60) \
    X(T, InstallClient, 84, 64) \
    X(T, InstallPackageName, 92, 68) \
    X(T, LastUpdateTime, 100, 72) \
    X(T, ProductName, 116, 88) \
    X(T, ProductVersion, 124, 92) \
    X(T, RestartRequired, 132, 96) \
    X(T, FullyOffline, 136, 100) \
    X(T, SupportInformation, 140, 104) \
    X(T, CustomProperty, 148, 108) \
    X(T, CustomPropertyCount, 156, 112) \
    X(T, Feature, 160, 116) \
    X(T, FeatureCount, 168, 120)
#define DISMAPI_FIELDS_DismPackageInfo(X) DISMAPI_PACKAGE_INFO_FIELDS(X, DismPackageInfo)
#define DISMAPI_FIELDS_DismPackageInfoEx(X) \
    DISMAPI_PACKAGE_INFO_FIELDS(X, DismPackageInfoEx) \
    X(DismPackageInfoEx, CapabilityId, 172, 124)
#define DISMAPI_FIELDS_DismFeatureInfo(X) \
    X(DismFeatureInfo, FeatureName, 0, 0) \
    X(DismFeatureInfo, FeatureState, 8, 4) \
    X(DismFeatureInfo, DisplayName, 12, 8) \
    X(DismFeatureInfo, Description, 20, 12) \
    X(DismFeatureInfo, RestartRequired, 28, 16) \
    X(DismFeatureInfo, CustomProperty, 32, 20) \
    X(DismFeatureInfo, CustomPropertyCount, 40, 24)
#define DISMAPI_FIELDS_DismCapabilityInfo(X) \
    X(DismCapabilityInfo, Name, 0, 0) \
    X(DismCapabilityInfo, State, 8, 4) \
    X(DismCapabilityInfo, DisplayName, 12, 8) \
    X(DismCapabilityInfo, Description, 20, 12) \
    X(DismCapabilityInfo, DownloadSize, 28, 16) \
    X(DismCapabilityInfo, InstallSize, 32, 20)
#define DISMAPI_FIELDS_DismString(X) \
    X(DismString, Value, 0, 0)
#define DISMAPI_FIELDS_DismWimCustomizedInfo(X) \
    X(DismWimCustomizedInfo, Size, 0, 0) \
    X(DismWimCustomizedInfo, DirectoryCount, 4, 4) \
    X(DismWimCustomizedInfo, FileCount, 8, 8) \
    X(DismWimCustomizedInfo, CreatedTime, 12, 12) \
    X(DismWimCustomizedInfo, ModifiedTime, 28, 28)
#define DISMAPI_FIELDS_DismImageInfo(X) \
    X(DismImageInfo, ImageType, 0, 0) \
    X(DismImageInfo, ImageIndex, 4, 4) \
    X(DismImageInfo, ImageName, 8, 8) \
    X(DismImageInfo, ImageDescription, 16, 12) \
    X(DismImageInfo, ImageSize, 24, 16) \
    X(DismImageInfo, Architecture, 32, 24) \
    X(DismImageInfo, ProductName, 36, 28) \
    X(DismImageInfo, EditionId, 44, 32) \
    X(DismImageInfo, InstallationType, 52, 36) \
    X(DismImageInfo, Hal, 60, 40) \
    X(DismImageInfo, ProductType, 68, 44) \
    X(DismImageInfo, ProductSuite, 76, 48) \
    X(DismImageInfo, MajorVersion, 84, 52) \
    X(DismImageInfo, MinorVersion, 88, 56) \
    X(DismImageInfo, Build, 92, 60) \
    X(DismImageInfo, SpBuild, 96, 64) \
    X(DismImageInfo, SpLevel, 100, 68) \
    X(DismImageInfo, Bootable, 104, 72) \
    X(DismImageInfo, SystemRoot, 108, 76) \
    X(DismImageInfo, Language, 116, 80) \
    X(DismImageInfo, LanguageCount, 124, 84) \
    X(DismImageInfo, DefaultLanguageIndex, 128, 88) \
    X(DismImageInfo, CustomizedInfo, 132, 92)
#define DISMAPI_FIELDS_DismMountedImageInfo(X) \
    X(DismMountedImageInfo, MountPath, 0, 0) \
    X(DismMountedImageInfo, ImageFilePath, 8, 4) \
    X(DismMountedImageInfo, ImageIndex, 16, 8) \
    X(DismMountedImageInfo, MountMode, 20, 12) \
    X(DismMountedImageInfo, MountStatus, 24, 16)
#define DISMAPI_FIELDS_DismDriverPackage(X) \
    X(DismDriverPackage, PublishedName, 0, 0) \
    X(DismDriverPackage, OriginalFileName, 8, 4) \
    X(DismDriverPackage, InBox, 16, 8) \
    X(DismDriverPackage, CatalogFile, 20, 12) \
    X(DismDriverPackage, ClassName, 28, 16) \
    X(DismDriverPackage, ClassGuid, 36, 20) \
    X(DismDriverPackage, ClassDescription, 44, 24) \
    X(DismDriverPackage, BootCritical, 52, 28) \
    X(DismDriverPackage, DriverSignature, 56, 32) \
    X(DismDriverPackage, ProviderName, 60, 36) \
    X(DismDriverPackage, Date, 68, 40) \
    X(DismDriverPackage, MajorVersion, 84, 56) \
    X(DismDriverPackage, MinorVersion, 88, 60) \
    X(DismDriverPackage, Build, 92, 64) \
    X(DismDriverPackage, Revision, 96, 68)
#define DISMAPI_FIELDS_DismDriver(X) \
    X(DismDriver, ManufacturerName, 0, 0) \
    X(DismDriver, HardwareDescription, 8, 4) \
    X(DismDriver, HardwareId, 16, 8) \
    X(DismDriver, Architecture, 24, 12) \
    X(DismDriver, ServiceName, 28, 16) \
    X(DismDriver, CompatibleIds, 36, 20) \
    X(DismDriver, ExcludeIds, 44, 24)
#define DISMAPI_FIELDS_DismAppxPackage(X) \
    X(DismAppxPackage, PackageName, 0, 0) \
    X(DismAppxPackage, DisplayName, 8, 4) \
    X(DismAppxPackage, PublisherId, 16, 8) \
    X(DismAppxPackage, MajorVersion, 24, 12) \
    X(DismAppxPackage, MinorVersion, 28, 16) \
    X(DismAppxPackage, Build, 32, 20) \
    X(DismAppxPackage, RevisionNumber, 36, 24) \
    X(DismAppxPackage, Architecture, 40, 28) \
    X(DismAppxPackage, ResourceId, 44, 32) \
    X(DismAppxPackage, InstallLocation, 52, 36) \
    X(DismAppxPackage, Region, 60, 40)

/* Each structure's size (the stride of DISM's result arrays). */
#define DISMAPI_STRUCT_SIZES(S) \
    S(DismPackage, 32, 28) \
    S(DismCustomProperty, 24, 12) \
    S(DismFeature, 12, 8) \
    S(DismCapability, 12, 8) \
    S(DismPackageInfo, 172, 124) \
    S(DismPackageInfoEx, 180, 128) \
    S(DismFeatureInfo, 44, 28) \
    S(DismCapabilityInfo, 36, 24) \
    S(DismString, 8, 4) \
    S(DismWimCustomizedInfo, 44, 44) \
    S(DismImageInfo, 140, 96) \
    S(DismMountedImageInfo, 28, 20) \
    S(DismDriverPackage, 100, 72) \
    S(DismDriver, 52, 28) \
    S(DismAppxPackage, 68, 44)

#define DISMAPI_ALL_FIELDS(X) \
    DISMAPI_FIELDS_DismPackage(X) \
    DISMAPI_FIELDS_DismCustomProperty(X) \
    DISMAPI_FIELDS_DismFeature(X) \
    DISMAPI_FIELDS_DismCapability(X) \
    DISMAPI_FIELDS_DismPackageInfo(X) \
    DISMAPI_FIELDS_DismPackageInfoEx(X) \
    DISMAPI_FIELDS_DismFeatureInfo(X) \
    DISMAPI_FIELDS_DismCapabilityInfo(X) \
    DISMAPI_FIELDS_DismString(X) \
    DISMAPI_FIELDS_DismWimCustomizedInfo(X) \
    DISMAPI_FIELDS_DismImageInfo(X) \
    DISMAPI_FIELDS_DismMountedImageInfo(X) \
    DISMAPI_FIELDS_DismDriverPackage(X) \
    DISMAPI_FIELDS_DismDriver(X) \
    DISMAPI_FIELDS_DismAppxPackage(X)

#endif /* DISM_PROJECT_DISMAPI_LAYOUT_H */
