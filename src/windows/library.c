/*
 * library.c - which DismApi.dll the extension talks to (Windows only).
 *
 * The extension links DismApi.dll with /DELAYLOAD, so nothing is loaded when
 * the module is imported.  Before the first DISM call the Python layer picks
 * the DLL (dism/_library.py: the in-box System32 copy, the newest ADK's, or
 * a folder the user names) and hands its full path to load_library().  The
 * delay-load hook below then gives every DISM call that module, so the
 * loader's own search (current directory, PATH) never runs: no DLL planting.
 *
 * Like psutil's platform files, these functions return plain values and raise
 * OSError; the Python layer turns them into DismLibrary and DismLibraryError.
 */
#include "_dism.h"
#include "_dism_library.h"

#include <delayimp.h>

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

static HMODULE load_system_copy(void)
{
    /* System32 only: never the current directory, the application folder or
     * PATH, where a planted DismApi.dll could sit. */
    return LoadLibraryExW(L"DismApi.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
}

static HMODULE load_by_path(const wchar_t *path)
{
    /* The altered search path makes the DLL's own dependencies (dismcore.dll
     * and the providers of an ADK copy) resolve from its folder first. */
    return LoadLibraryExW(path, NULL, LOAD_WITH_ALTERED_SEARCH_PATH);
}

static const char *first_missing_export(HMODULE dll)
{
    for (size_t i = 0; i < sizeof core_exports / sizeof core_exports[0]; i++)
        if (!GetProcAddress(dll, core_exports[i]))
            return core_exports[i];
    return NULL;
}

/* Makes `dll` the process's choice unless another one was chosen first;
 * returns the module that is now chosen. */
static HMODULE choose(HMODULE dll)
{
    AcquireSRWLockExclusive(&choice_lock);
    if (!chosen_dll)
        chosen_dll = dll;
    HMODULE now = chosen_dll;
    ReleaseSRWLockExclusive(&choice_lock);
    return now;
}

static HMODULE current_choice(void)
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
    HMODULE dll = current_choice();
    if (dll)
        return dll;
    HMODULE system_copy = load_system_copy();
    if (!system_copy)
        return NULL;
    dll = choose(system_copy);
    if (dll != system_copy)
        FreeLibrary(system_copy);
    return dll;
}

static FARPROC WINAPI delay_load_hook(unsigned notification, PDelayLoadInfo info)
{
    if (notification == dliNotePreLoadLibrary && _stricmp(info->szDll, "DismApi.dll") == 0)
        return (FARPROC)chosen_or_system_copy();
    return NULL; /* everything else as the delay-load helper does it by default */
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

/* ------------------------------------------------------------------------
 * Python functions
 * ------------------------------------------------------------------------ */

static PyObject *module_path(HMODULE dll)
{
    wchar_t path[32768];
    DWORD n = GetModuleFileNameW(dll, path, (DWORD)(sizeof path / sizeof path[0]));
    if (n == 0 || n >= sizeof path / sizeof path[0])
        return PyErr_SetFromWindowsErr(0);
    return PyUnicode_FromWideChar(path, (Py_ssize_t)n);
}

/* OSError with .winerror = code, so the Python layer reports the HRESULT. */
static PyObject *raise_windows_error(DWORD code, PyObject *message)
{
    if (!message)
        return NULL;
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "iOOk", 0, message, Py_None,
                                          (unsigned long)code);
    Py_DECREF(message);
    if (exc) {
        PyErr_SetObject(PyExc_OSError, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *refuse_other_choice(HMODULE chosen)
{
    PyObject *path = module_path(chosen);
    if (!path)
        return NULL;
    PyObject *message = PyUnicode_FromFormat(
        "this process already uses %S; the DISM library can be chosen only once per "
        "process (start a new process to use another)", path);
    Py_DECREF(path);
    return raise_windows_error(ERROR_ALREADY_INITIALIZED, message);
}

static PyObject *refuse_missing_export(HMODULE dll, const char *name)
{
    PyObject *path = module_path(dll);
    FreeLibrary(dll);
    if (!path)
        return NULL;
    PyObject *message = PyUnicode_FromFormat(
        "%S lacks %s, which every DismApi.dll since Windows 8 exports: it is not a DISM "
        "API library", path, name);
    Py_DECREF(path);
    return raise_windows_error(ERROR_PROC_NOT_FOUND, message);
}

PyDoc_STRVAR(load_library_doc,
"load_library(path=None)\n--\n\n"
"Load DismApi.dll from `path` (a full path) or, for None, the in-box\n"
"System32 copy, and make it the DLL of every DISM call of this process.\n"
"Raises OSError if it cannot be loaded, lacks a core export, or another DLL\n"
"was chosen before.");

static PyObject *load_library(PyObject *module, PyObject *args)
{
    PyObject *path_obj = Py_None;
    if (!PyArg_ParseTuple(args, "|O:load_library", &path_obj))
        return NULL;
    wchar_t *path = NULL;
    if (path_obj != Py_None && !(path = PyUnicode_AsWideCharString(path_obj, NULL)))
        return NULL;
    HMODULE dll;
    Py_BEGIN_ALLOW_THREADS
    dll = path ? load_by_path(path) : load_system_copy();
    Py_END_ALLOW_THREADS
    if (!dll) {
        PyErr_SetExcFromWindowsErrWithFilenameObject(PyExc_OSError, 0, path_obj);
        PyMem_Free(path);
        return NULL;
    }
    PyMem_Free(path);
    const char *missing = first_missing_export(dll);
    if (missing)
        return refuse_missing_export(dll, missing);
    HMODULE before = current_choice();
    HMODULE chosen = choose(dll);
    if (chosen != dll) {
        FreeLibrary(dll);
        return refuse_other_choice(chosen);
    }
    /* Loading the chosen DLL again added a reference it does not need: the
     * first one lasts for the life of the process, since bound thunks use it. */
    if (before == dll)
        FreeLibrary(dll);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(library_path_doc,
"library_path()\n--\n\n"
"The full path of the DismApi.dll this process uses, or None if none is\n"
"loaded yet.");

static PyObject *library_path(PyObject *module, PyObject *unused)
{
    HMODULE dll = current_choice();
    if (!dll)
        Py_RETURN_NONE;
    return module_path(dll);
}

PyDoc_STRVAR(file_version_doc,
"file_version(path)\n--\n\n"
"The (major, minor, build, revision) file version in a PE file's version\n"
"resource.");

static PyObject *fixed_version(const VS_FIXEDFILEINFO *info)
{
    return Py_BuildValue("(kkkk)", (unsigned long)HIWORD(info->dwFileVersionMS),
                         (unsigned long)LOWORD(info->dwFileVersionMS),
                         (unsigned long)HIWORD(info->dwFileVersionLS),
                         (unsigned long)LOWORD(info->dwFileVersionLS));
}

static PyObject *file_version(PyObject *module, PyObject *path_obj)
{
    wchar_t *path = PyUnicode_AsWideCharString(path_obj, NULL);
    if (!path)
        return NULL;
    DWORD ignored = 0;
    DWORD size = GetFileVersionInfoSizeW(path, &ignored);
    void *data = size ? PyMem_Malloc(size) : NULL;
    VS_FIXEDFILEINFO *info = NULL;
    UINT info_size = 0;
    BOOL ok = data && GetFileVersionInfoW(path, 0, size, data) &&
              VerQueryValueW(data, L"\\", (void **)&info, &info_size) &&
              info_size >= sizeof *info;
    PyObject *result = NULL;
    if (ok)
        result = fixed_version(info);
    else if (size && !data)
        PyErr_NoMemory();
    else
        PyErr_SetExcFromWindowsErrWithFilenameObject(PyExc_OSError, 0, path_obj);
    PyMem_Free(data);
    PyMem_Free(path);
    return result;
}

PyDoc_STRVAR(is_elevated_doc,
"is_elevated()\n--\n\n"
"Whether the process token is elevated (DISM needs it to be).");

static PyObject *is_elevated(PyObject *module, PyObject *unused)
{
    HANDLE token = NULL;
    TOKEN_ELEVATION elevation = {0};
    DWORD size = 0;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return PyErr_SetFromWindowsErr(0);
    BOOL ok = GetTokenInformation(token, TokenElevation, &elevation, sizeof elevation, &size);
    CloseHandle(token);
    if (!ok)
        return PyErr_SetFromWindowsErr(0);
    return PyBool_FromLong(elevation.TokenIsElevated != 0);
}

PyMethodDef library_methods[] = {
    {"load_library", load_library, METH_VARARGS, load_library_doc},
    {"library_path", library_path, METH_NOARGS, library_path_doc},
    {"file_version", file_version, METH_O, file_version_doc},
    {"is_elevated", is_elevated, METH_NOARGS, is_elevated_doc},
    {NULL, NULL, 0, NULL},
};
