/*
 * _dism_library.h - the choice of DismApi.dll, implemented per platform.
 *
 * Windows (src/windows/library.c): the DLL is delay-loaded and chosen at run
 * time; the servicing functions find their optional exports in the chosen
 * DLL.  Elsewhere the portable engine is linked in and there is nothing to
 * choose, so only the Windows half has declarations.
 */
#ifndef DISM_LIBRARY_H
#define DISM_LIBRARY_H

#ifdef _WIN32
#  include <Python.h>
#  include <windows.h>

/* load_library, library_path, file_version, is_elevated. */
extern PyMethodDef library_methods[];

/* `name` in the chosen DismApi.dll (choosing the in-box copy if the process
 * has not chosen yet), or NULL if that DLL does not export it. */
FARPROC dism_library_symbol(const char *name);
#endif

#endif /* DISM_LIBRARY_H */
