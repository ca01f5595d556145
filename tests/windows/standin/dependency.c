/*
 * dependency.c - standin_dep.dll, the stand-in's own dependency: the folder
 * copy of the stand-in imports StandinDependencyIdentity from it, as an ADK
 * DismApi.dll imports dismcore.dll from its folder.  Built twice: the copy
 * that belongs beside the folder copy, and a planted one (DEPENDENCY_IDENTITY
 * "planted") that must never be loaded.
 */
#include <windows.h>

#ifndef DEPENDENCY_IDENTITY
#  define DEPENDENCY_IDENTITY L"folder"
#endif

__declspec(dllexport) PCWSTR WINAPI StandinDependencyIdentity(void)
{
    return DEPENDENCY_IDENTITY;
}
