/*
 * library.h - the choice of DismApi.dll on Windows (library.c), in plain C.
 *
 * The extension links DismApi.dll and wimgapi.dll with /DELAYLOAD; library.c
 * owns the DLLs every DISM and WIMGAPI call of the process goes to and the
 * delay-load hook that hands them out.  These functions return Win32 values and know nothing of
 * Python: the extension (src/ext/dll_choice.c) turns them into Python
 * functions and exceptions.  Elsewhere the portable engine is linked in and
 * there is nothing to choose.
 */
#ifndef DISM_WINDOWS_LIBRARY_H
#define DISM_WINDOWS_LIBRARY_H

#include <windows.h>

/* Loads DismApi.dll from `path` (an absolute path; its dependencies from its
 * folder, the application's and System32 only), or the in-box System32 copy
 * for NULL.  ERROR_SUCCESS with *dll set, ERROR_BAD_PATHNAME for a relative
 * path, or the loader's error. */
DWORD library_load(const wchar_t *path, HMODULE *dll);

/* The first export every DismApi.dll since Windows 8 has that `dll` lacks,
 * or NULL when it has them all. */
const char *library_first_missing_export(HMODULE dll);

/* Makes `dll` the process's choice unless another one was chosen first;
 * returns the module that is now chosen. */
HMODULE library_choose(HMODULE dll);

/* The chosen DLL, or NULL when none is chosen yet. */
HMODULE library_current(void);

/* The full path of a loaded module into buf (size wide chars): its length,
 * or 0 with GetLastError() set. */
DWORD library_module_path(HMODULE dll, wchar_t *buf, DWORD size);

/* The (major, minor, build, revision) file version of a PE file:
 * ERROR_SUCCESS or the Win32 error. */
DWORD library_file_version(const wchar_t *path, unsigned version[4]);

/* Whether the process token is elevated: ERROR_SUCCESS or the Win32 error. */
DWORD library_is_elevated(int *elevated);

/* Loads the in-box System32\wimgapi.dll once for the process (never
 * through the search order) and checks it has every export the import
 * library links (src/windows/wimgapi.def); the delay-load hook then hands it
 * to every WIMGAPI call.  ERROR_SUCCESS, the loader's error, or
 * ERROR_PROC_NOT_FOUND with *missing_export (if given) naming the export.
 * Call it before the first WIMGAPI call, or a failure is a delay-load
 * exception in that call. */
DWORD library_wimgapi(const char **missing_export);

/* `name` in the chosen DismApi.dll (choosing the in-box copy if the process
 * has not chosen yet), or NULL if that DLL does not export it. */
FARPROC dism_library_symbol(const char *name);

#endif /* DISM_WINDOWS_LIBRARY_H */
