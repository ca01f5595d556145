/*
 * exports.c - the DISM functions that older DismApi.dll builds lack
 * (DismGetPackageInfoEx, the capability, language and reserved-storage
 * functions, and the undocumented _Dism* exports).  They are looked up at
 * run time, so such a DLL still loads and the call raises
 * ExportNotAvailableError naming the export instead.
 */
#include "ext.h"
#ifdef _WIN32
#  include "windows/library.h"
#endif

#include <string.h>

#ifdef _WIN32
#  define LINKED(fn) NULL
#else
/* The portable engine is linked in; the table still goes through the same
 * lookup, so "not available" is exercised on every platform. */
#  define LINKED(fn) ((any_function)(fn))
#endif

/* One row per export: its id, the function (named once: the row's string is
 * made from it), and the DISM that first has it. */
#define EXPORT(id, fn, since) [id] = {#fn, since, LINKED(fn)}

static struct {
    const char *name;
    const char *since; /* the DISM that first has it, for the error message */
    any_function linked;
    any_function resolved;
    int looked_up;
    int hidden;        /* set by tests through _hide_export() */
} exports[X_COUNT] = {
    EXPORT(X_GetPackageInfoEx, DismGetPackageInfoEx, "Windows 10"),
    EXPORT(X_GetCapabilities, DismGetCapabilities, "Windows 10"),
    EXPORT(X_GetCapabilityInfo, DismGetCapabilityInfo, "Windows 10"),
    EXPORT(X_AddCapability, DismAddCapability, "Windows 10"),
    EXPORT(X_RemoveCapability, DismRemoveCapability, "Windows 10"),
    EXPORT(X_GetReservedStorageState, DismGetReservedStorageState, "Windows 10 version 2004"),
    EXPORT(X_SetReservedStorageState, DismSetReservedStorageState, "Windows 10 version 2004"),
    EXPORT(X_AddLanguage, DismAddLanguage, "Windows 11"),
    EXPORT(X_RemoveLanguage, DismRemoveLanguage, "Windows 11"),
    EXPORT(X_GetProvisionedAppxPackages, _DismGetProvisionedAppxPackages, "Windows 8.1"),
    EXPORT(X_AddProvisionedAppxPackage, _DismAddProvisionedAppxPackage,
           "Windows 10 version 1809 (the 12-argument form)"),
    EXPORT(X_RemoveProvisionedAppxPackage, _DismRemoveProvisionedAppxPackage, "Windows 8.1"),
    EXPORT(X_GetCurrentEdition, _DismGetCurrentEdition, "Windows 8.1"),
    EXPORT(X_GetTargetEditions, _DismGetTargetEditions, "Windows 8.1"),
    EXPORT(X_SetEdition, _DismSetEdition, "Windows 8.1"),
    EXPORT(X_SetProductKey, _DismSetProductKey, "Windows 8.1"),
    EXPORT(X_ValidateProductKey, _DismValidateProductKey, "Windows 8.1"),
    EXPORT(X_GetProductKeyInfo, _DismGetProductKeyInfo, "Windows 10"),
    EXPORT(X_GetRegistryMountPoint, _DismGetRegistryMountPoint, "Windows 8.1"),
    /* No DismApi.dll exports this; on Windows the lookup fails and says so. */
    EXPORT(X_PortableGetSessionImageInfo, _DismPortableGetSessionImageInfo,
           "the portable engine (no Windows DISM has it)"),
    EXPORT(X_PortableOpenImageFileSession, _DismPortableOpenImageFileSession,
           "the portable engine (no Windows DISM has it)"),
};

static any_function lookup_export(enum export_id id)
{
    if (!exports[id].looked_up) {
#ifdef _WIN32
        /* In the DLL the process chose (src/windows/library.c), not whichever
         * DismApi.dll the loader would find by name. */
        exports[id].resolved = (any_function)dism_library_symbol(exports[id].name);
#else
        exports[id].resolved = exports[id].linked;
#endif
        exports[id].looked_up = 1;
    }
    return exports[id].hidden ? NULL : exports[id].resolved;
}

/* The export, or NULL with ExportNotAvailableError raised. */
any_function require_export(PyObject *module, enum export_id id)
{
    any_function fn = lookup_export(id);
    if (fn)
        return fn;
    PyObject *message = PyUnicode_FromFormat(
        "the loaded DISM has no %s export; it needs DISM from %s or later (install a newer "
        "Windows ADK, or use a newer Windows)", exports[id].name, exports[id].since);
    raise_with_sentence(get_state(module), HR_EXPORT_NOT_AVAILABLE, message);
    return NULL;
}

static int export_index(const char *name)
{
    for (int i = 0; i < X_COUNT; i++)
        if (!strcmp(exports[i].name, name))
            return i;
    return -1;
}

PyDoc_STRVAR(export_available_doc,
"export_available(name)\n--\n\n"
"True when the loaded DISM has the optional export `name` (e.g. \"_DismGetCurrentEdition\").");

static PyObject *dism_export_available(PyObject *module, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8AndSize(arg, NULL);
    if (!name)
        return NULL;
    int i = export_index(name);
    if (i < 0)
        return PyErr_Format(PyExc_ValueError, "%s is not one of the optional DISM exports", name);
    return PyBool_FromLong(lookup_export((enum export_id)i) != NULL);
}

PyDoc_STRVAR(hide_export_doc,
"_hide_export(name, hidden=True)\n--\n\n"
"For tests: behave as if the loaded DISM lacked the optional export `name`.");

static PyObject *dism_hide_export(PyObject *module, PyObject *args)
{
    const char *name;
    int hidden = 1;
    if (!PyArg_ParseTuple(args, "s|p:_hide_export", &name, &hidden))
        return NULL;
    int i = export_index(name);
    if (i < 0)
        return PyErr_Format(PyExc_ValueError, "%s is not one of the optional DISM exports", name);
    exports[i].hidden = hidden;
    Py_RETURN_NONE;
}


PyMethodDef export_methods[] = {
    {"export_available", dism_export_available, METH_O, export_available_doc},
    {"_hide_export", dism_hide_export, METH_VARARGS, hide_export_doc},
    {NULL, NULL, 0, NULL},
};
