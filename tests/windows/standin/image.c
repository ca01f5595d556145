/*
 * image.c - the stand-in's image calls: image information (two images, with
 * languages, 64-bit sizes and WIM times), the mount list, mount, unmount,
 * remount, commit and cleanup.
 */
#include "standin.h"

/* Outside the Basic Multilingual Plane: UTF-16 surrogate pairs. */
#define CLEF L"\U0001D11E"
#define FACE L"\U0001F600"

static void fill_image(void *result, DismImageInfo *info, UINT index)
{
    static const PCWSTR languages[] = {L"en-US", L"de-DE", L"ja-JP"};
    info->ImageType = DismImageTypeWim;
    info->ImageIndex = index;
    info->ImageName = result_text(result, index == 1 ? L"Windows " CLEF L" Pro" : L"Second");
    info->ImageDescription = result_text(result, index == 1 ? L"Description " FACE : NULL);
    info->ImageSize = 0x123456789ULL * index; /* above 4 GiB */
    info->Architecture = index == 1 ? 9 : 12;  /* AMD64, ARM64 */
    info->ProductName = result_text(result, L"Microsoft" L"\u00AE Windows\u00AE Operating System");
    info->EditionId = result_text(result, L"Professional");
    info->InstallationType = result_text(result, L"Client");
    info->Hal = result_text(result, L"acpiapic");
    info->ProductType = result_text(result, L"WinNT");
    info->ProductSuite = result_text(result, L"Terminal Server");
    info->MajorVersion = 10;
    info->MinorVersion = 0;
    info->Build = 22631;
    info->SpBuild = 4000 + index;
    info->SpLevel = 0;
    info->Bootable = index == 1 ? DismImageBootableNo : DismImageBootableYes;
    info->SystemRoot = result_text(result, L"WINDOWS");
    UINT count = index == 1 ? 3 : 1;
    DismLanguage *language = result_array(result, count * sizeof *language);
    for (UINT i = 0; language && i < count; i++)
        language[i].Value = result_text(result, languages[i]);
    info->Language = language;
    info->LanguageCount = count;
    info->DefaultLanguageIndex = index == 1 ? 1 : 0;
    if (index == 1) {
        DismWimCustomizedInfo *wim = result_array(result, sizeof *wim);
        if (wim) {
            wim->Size = sizeof *wim;
            wim->DirectoryCount = 17000;
            wim->FileCount = 90001;
            wim->CreatedTime = when(2024, 2, 29, 23, 59, 58, 999);
            wim->ModifiedTime = when(2025, 12, 31, 0, 0, 1, 7);
        }
        info->CustomizedInfo = wim;
    }
}

HRESULT WINAPI DismGetImageInfo(PCWSTR ImageFilePath, DismImageInfo **ImageInfo, UINT *Count)
{
    HRESULT hr = enter_call(L"DismGetImageInfo", L"%ls", shown(ImageFilePath));
    if (FAILED(hr))
        return hr;
    DismImageInfo *images = result_new(2 * sizeof *images);
    if (!images)
        return E_OUTOFMEMORY;
    fill_image(images, &images[0], 1);
    fill_image(images, &images[1], 2);
    *ImageInfo = images;
    *Count = 2;
    return S_OK;
}

HRESULT WINAPI DismGetMountedImageInfo(DismMountedImageInfo **MountedImageInfo, UINT *Count)
{
    HRESULT hr = enter_call(L"DismGetMountedImageInfo", L"");
    if (FAILED(hr))
        return hr;
    DismMountedImageInfo *mounts = result_new(2 * sizeof *mounts);
    if (!mounts)
        return E_OUTOFMEMORY;
    mounts[0].MountPath = result_text(mounts, L"C:\\mounts\\" FACE);
    mounts[0].ImageFilePath = result_text(mounts, L"C:\\images\\install.wim");
    mounts[0].ImageIndex = 1;
    mounts[0].MountMode = DismReadWrite;
    mounts[0].MountStatus = DismMountStatusOk;
    mounts[1].MountPath = result_text(mounts, L"D:\\offline");
    mounts[1].ImageFilePath = result_text(mounts, L"D:\\boot.wim");
    mounts[1].ImageIndex = 2;
    mounts[1].MountMode = DismReadOnly;
    mounts[1].MountStatus = DismMountStatusNeedsRemount;
    *MountedImageInfo = mounts;
    *Count = 2;
    return S_OK;
}

HRESULT WINAPI DismMountImage(PCWSTR ImageFilePath, PCWSTR MountPath, UINT ImageIndex,
                              PCWSTR ImageName, DismImageIdentifier ImageIdentifier, DWORD Flags,
                              HANDLE CancelEvent, DISM_PROGRESS_CALLBACK Progress,
                              PVOID UserData)
{
    HRESULT hr = enter_call(L"DismMountImage", L"%ls|%ls|%u|%ls|%d|%lu", shown(ImageFilePath),
                            shown(MountPath), ImageIndex, shown(ImageName),
                            (int)ImageIdentifier, (unsigned long)Flags);
    return FAILED(hr) ? hr : long_operation(ImageFilePath, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismUnmountImage(PCWSTR MountPath, DWORD Flags, HANDLE CancelEvent,
                                DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    HRESULT hr = enter_call(L"DismUnmountImage", L"%ls|%lu", shown(MountPath),
                            (unsigned long)Flags);
    return FAILED(hr) ? hr : long_operation(MountPath, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismRemountImage(PCWSTR MountPath)
{
    return enter_call(L"DismRemountImage", L"%ls", shown(MountPath));
}

HRESULT WINAPI DismCommitImage(DismSession Session, DWORD Flags, HANDLE CancelEvent,
                               DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    HRESULT hr = enter_call(L"DismCommitImage", L"%u|%lu", Session, (unsigned long)Flags);
    if (FAILED(hr))
        return hr;
    SESSION_CHECK(L"DismCommitImage", Session);
    return long_operation(NULL, CancelEvent, Progress, UserData);
}

HRESULT WINAPI DismCleanupMountpoints(void)
{
    return enter_call(L"DismCleanupMountpoints", L"");
}
