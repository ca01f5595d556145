/*
 * library.c - which DismApi.dll the extension talks to (Windows only).
 *
 * The extension links DismApi.dll with /DELAYLOAD, so nothing is loaded when
 * the module is imported.  Before the first DISM call the Python layer picks
 * the DLL (dism/_library.py: the in-box System32 copy, the newest ADK's, or
 * a folder the user names) and hands its full path to load_library().  The
 * delay-load hook below then gives every DISM call that module, so the
 * loader's own search (current directory, PATH) never runs: no DLL planting,
 * not even when no DLL was chosen and System32's cannot be loaded.
 *
 * wimgapi.dll (the WIMGAPI binding, src/ext/imaging/) is delay-loaded the
 * same way, with nothing to choose: the hook hands its calls the in-box
 * System32 copy, loaded with LOAD_LIBRARY_SEARCH_SYSTEM32, and never lets
 * the helper search for another.
 *
 * Like psutil's platform files, these functions return plain values (Win32
 * codes); the extension's src/ext/dll_choice.c raises OSError from them and
 * the Python layer turns that into DismLibrary and DismLibraryError.
 */
#include "library.h"

#include <delayimp.h>
#include <string.h>

/* The DLL every DISM call of this process goes to; chosen once, because the
 * delay-load thunks keep the addresses they were first bound to. */
static HMODULE chosen_dll;
static SRWLOCK choice_lock = SRWLOCK_INIT;

/* The exports the import library links (src/windows/dismapi.def); every
 * DismApi.dll since Windows 8 has them.  A DLL lacking one is refused at load
 * time, because a missing export would otherwise surface as a delay-load
 * exception in the middle of a call. */
static const char *const core_exports[] = {
    "DismInitialize", "DismShutdown", "DismMountImage", "DismUnmountImage",
    "DismOpenSession", "DismCloseSession", "DismGetLastErrorMessage", "DismRemountImage",
    "DismCommitImage", "DismGetImageInfo", "DismGetMountedImageInfo",
    "DismCleanupMountpoints", "DismCheckImageHealth", "DismRestoreImageHealth", "DismDelete",
    "DismAddPackage", "DismRemovePackage", "DismEnableFeature", "DismDisableFeature",
    "DismGetPackages", "DismGetPackageInfo", "DismGetFeatures", "DismGetFeatureInfo",
    "DismGetFeatureParent", "DismApplyUnattend", "DismAddDriver", "DismRemoveDriver",
    "DismGetDrivers", "DismGetDriverInfo",
};

/* The exports the WIMGAPI import library links (src/windows/wimgapi.def);
 * wimgapi.dll has had them all since Windows 7. */
static const char *const wimgapi_exports[] = {
    "WIMCreateFile", "WIMCloseHandle", "WIMSetTemporaryPath", "WIMSetReferenceFile",
    "WIMSplitFile", "WIMExportImage", "WIMDeleteImage", "WIMGetImageCount",
    "WIMGetAttributes", "WIMSetBootImage", "WIMCaptureImage", "WIMLoadImage",
    "WIMApplyImage", "WIMGetImageInformation", "WIMSetImageInformation",
    "WIMGetMessageCallbackCount", "WIMRegisterMessageCallback",
    "WIMUnregisterMessageCallback", "WIMExtractImagePath",
};

/* wimgapi.dll, loaded once for the process (NULL until then, or if it
 * failed: wimgapi_error says why, wimgapi_missing names a missing export). */
static HMODULE wimgapi_dll;
static DWORD wimgapi_error;
static const char *wimgapi_missing;
static INIT_ONCE wimgapi_once = INIT_ONCE_STATIC_INIT;

static HMODULE load_system_copy(void)
{
    /* System32 only: never the current directory, the application folder or
     * PATH, where a planted DismApi.dll could sit. */
    return LoadLibraryExW(L"DismApi.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
}

/* "X:\\..." or "\\\\server\\..." (either slash): a path no search order or
 * current folder can change. */
static int is_absolute(const wchar_t *path)
{
    int slash0 = path[0] == L'\\' || path[0] == L'/';
    int slash1 = path[0] && (path[1] == L'\\' || path[1] == L'/');
    int drive = ((path[0] >= L'A' && path[0] <= L'Z') || (path[0] >= L'a' && path[0] <= L'z')) &&
                path[1] == L':' && (path[2] == L'\\' || path[2] == L'/');
    return drive || (slash0 && slash1);
}

static HMODULE load_by_path(const wchar_t *path)
{
    /* The DLL's own dependencies (dismcore.dll and the providers of an ADK
     * copy) come from its folder, then the application's folder and System32,
     * never the current folder or PATH, where a planted one could sit
     * (LOAD_WITH_ALTERED_SEARCH_PATH would search both). */
    return LoadLibraryExW(path, NULL,
                          LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
}

static const char *first_missing(HMODULE dll, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!GetProcAddress(dll, names[i]))
            return names[i];
    return NULL;
}

const char *library_first_missing_export(HMODULE dll)
{
    return first_missing(dll, core_exports, sizeof core_exports / sizeof core_exports[0]);
}

/* Runs once per process, on the thread of the first WIMGAPI call. */
static BOOL CALLBACK load_wimgapi(PINIT_ONCE once, PVOID parameter, PVOID *context)
{
    (void)once, (void)parameter, (void)context;
    /* System32 only, as for DismApi.dll: a wimgapi.dll in the current folder
     * or on PATH is never loaded. */
    HMODULE dll = LoadLibraryExW(L"wimgapi.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!dll) {
        wimgapi_error = GetLastError();
        return TRUE;
    }
    /* A missing export would otherwise be a delay-load exception in the
     * middle of a call. */
    wimgapi_missing =
        first_missing(dll, wimgapi_exports, sizeof wimgapi_exports / sizeof wimgapi_exports[0]);
    if (wimgapi_missing) {
        wimgapi_error = ERROR_PROC_NOT_FOUND;
        FreeLibrary(dll);
        return TRUE;
    }
    wimgapi_dll = dll;
    return TRUE;
}

DWORD library_wimgapi(const char **missing_export)
{
    InitOnceExecuteOnce(&wimgapi_once, load_wimgapi, NULL, NULL);
    if (missing_export)
        *missing_export = wimgapi_missing;
    return wimgapi_dll ? ERROR_SUCCESS : wimgapi_error;
}

HMODULE library_choose(HMODULE dll)
{
    AcquireSRWLockExclusive(&choice_lock);
    if (!chosen_dll)
        chosen_dll = dll;
    HMODULE now = chosen_dll;
    ReleaseSRWLockExclusive(&choice_lock);
    return now;
}

HMODULE library_current(void)
{
    AcquireSRWLockShared(&choice_lock);
    HMODULE now = chosen_dll;
    ReleaseSRWLockShared(&choice_lock);
    return now;
}

/* The chosen DLL, choosing the in-box copy if nothing was chosen yet.  Runs
 * on whatever thread makes the first DISM call, without the GIL.  The in-box
 * copy exists on every Windows that runs Python 3.10+ (Windows 8.1 on), so
 * NULL here means a damaged system. */
static HMODULE chosen_or_system_copy(void)
{
    HMODULE dll = library_current();
    if (dll)
        return dll;
    HMODULE system_copy = load_system_copy();
    if (!system_copy)
        return NULL;
    dll = library_choose(system_copy);
    if (dll != system_copy)
        FreeLibrary(system_copy);
    return dll;
}

/* A reference to `dll` for the delay-load helper to own: it FreeLibrarys
 * the handle the hook returns when another thread bound the DLL first (MSVC's
 * delayhlp.cpp and mingw-w64's helper alike), which must never drop the
 * reference the chosen DLL lives on. */
static HMODULE reference_for_helper(HMODULE dll)
{
    HMODULE again = NULL;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (LPCWSTR)dll, &again))
        return NULL;
    return again;
}

/* What the helper itself raises when a DLL cannot be loaded. */
static void fail_delay_load(PDelayLoadInfo info)
{
    info->dwLastError = ERROR_MOD_NOT_FOUND;
    ULONG_PTR argument = (ULONG_PTR)info;
    RaiseException(VcppException(ERROR_SEVERITY_ERROR, ERROR_MOD_NOT_FOUND), 0, 1, &argument);
}

static FARPROC WINAPI delay_load_hook(unsigned notification, PDelayLoadInfo info)
{
    if (notification != dliNotePreLoadLibrary)
        return NULL; /* everything else as the delay-load helper does it by default */
    HMODULE dll;
    if (_stricmp(info->szDll, "DismApi.dll") == 0)
        dll = chosen_or_system_copy();
    else if (_stricmp(info->szDll, "wimgapi.dll") == 0)
        dll = library_wimgapi(NULL) == ERROR_SUCCESS ? wimgapi_dll : NULL;
    else
        return NULL; /* not ours (the extension delay-loads no other DLL) */
    HMODULE owned = dll ? reference_for_helper(dll) : NULL;
    /* Returning NULL would let the helper LoadLibrary the bare name through
     * the normal search order (current folder, PATH): a planted copy.  The
     * import fails instead, as the helper fails a DLL it cannot load.  The
     * Python layer loads DismApi.dll before any call, and the WIMGAPI binding
     * calls library_wimgapi() before its first call, so each reports this as
     * an exception; only a direct call of the extension gets here. */
    if (!owned)
        fail_delay_load(info);
    return (FARPROC)owned;
}

/* MSVC's delayimp.h declares the hook const (read-only hooks); mingw-w64's
 * does not. */
#if defined(_MSC_VER)
const PfnDliHook __pfnDliNotifyHook2 = delay_load_hook;
#else
PfnDliHook __pfnDliNotifyHook2 = delay_load_hook;
#endif

FARPROC dism_library_symbol(const char *name)
{
    HMODULE dll = chosen_or_system_copy();
    return dll ? GetProcAddress(dll, name) : NULL;
}

DWORD library_load(const wchar_t *path, HMODULE *dll)
{
    *dll = NULL;
    if (path && !is_absolute(path))
        return ERROR_BAD_PATHNAME; /* a relative path is resolved by a search order */
    *dll = path ? load_by_path(path) : load_system_copy();
    return *dll ? ERROR_SUCCESS : GetLastError();
}

DWORD library_module_path(HMODULE dll, wchar_t *buf, DWORD size)
{
    DWORD n = GetModuleFileNameW(dll, buf, size);
    if (n >= size) {
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    return n;
}

DWORD library_file_version(const wchar_t *path, unsigned version[4])
{
    DWORD ignored = 0;
    DWORD size = GetFileVersionInfoSizeW(path, &ignored);
    if (!size)
        return GetLastError();
    void *data = HeapAlloc(GetProcessHeap(), 0, size);
    if (!data)
        return ERROR_NOT_ENOUGH_MEMORY;
    VS_FIXEDFILEINFO *info = NULL;
    UINT info_size = 0;
    DWORD error = ERROR_SUCCESS;
    if (GetFileVersionInfoW(path, 0, size, data) &&
        VerQueryValueW(data, L"\\", (void **)&info, &info_size) && info_size >= sizeof *info) {
        version[0] = HIWORD(info->dwFileVersionMS);
        version[1] = LOWORD(info->dwFileVersionMS);
        version[2] = HIWORD(info->dwFileVersionLS);
        version[3] = LOWORD(info->dwFileVersionLS);
    } else {
        error = GetLastError();
    }
    HeapFree(GetProcessHeap(), 0, data);
    return error;
}

DWORD library_is_elevated(int *elevated)
{
    HANDLE token = NULL;
    TOKEN_ELEVATION elevation = {0};
    DWORD size = 0;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return GetLastError();
    BOOL ok = GetTokenInformation(token, TokenElevation, &elevation, sizeof elevation, &size);
    DWORD error = ok ? ERROR_SUCCESS : GetLastError();
    CloseHandle(token);
    *elevated = elevation.TokenIsElevated != 0;
    return error;
}
