/*
 * _dism_servicing.c - the DISM servicing functions: features, packages,
 * drivers, capabilities, languages, provisioned apps, health, unattend,
 * reserved storage, edition and product key.
 *
 * Every function takes the Session object first, holds its lock for the
 * call and releases the GIL around DISM.  Results are copied into dicts and
 * lists and handed back to DismDelete before returning.  Long operations run
 * through the long-call machinery of _dism.c (progress, Ctrl+C, cancel).
 *
 * Functions that older DismApi.dll builds lack (DismGetPackageInfoEx, the
 * capability, language and reserved-storage functions, and the undocumented
 * _Dism* exports) are looked up at run time, so such a DLL still loads and
 * the call raises ExportNotAvailableError naming the export instead.
 */
#include "_dism.h"
#include "_dism_library.h"

#include <string.h>

/* ------------------------------------------------------------------------
 * Exports resolved at run time
 * ------------------------------------------------------------------------ */

typedef void (*any_function)(void);

#ifdef _WIN32
#  define LINKED(fn) NULL
#else
/* The portable engine is linked in; the table still goes through the same
 * lookup, so "not available" is exercised on every platform. */
#  define LINKED(fn) ((any_function)(fn))
#endif

enum export_id {
    X_GetPackageInfoEx,
    X_GetCapabilities,
    X_GetCapabilityInfo,
    X_AddCapability,
    X_RemoveCapability,
    X_GetReservedStorageState,
    X_SetReservedStorageState,
    X_AddLanguage,
    X_RemoveLanguage,
    X_GetProvisionedAppxPackages,
    X_AddProvisionedAppxPackage,
    X_RemoveProvisionedAppxPackage,
    X_GetCurrentEdition,
    X_GetTargetEditions,
    X_SetEdition,
    X_SetProductKey,
    X_ValidateProductKey,
    X_GetProductKeyInfo,
    X_GetRegistryMountPoint,
    X_PortableGetSessionImageInfo,
    X_COUNT
};

static struct {
    const char *name;
    const char *since; /* the DISM that first has it, for the error message */
    any_function linked;
    any_function resolved;
    int looked_up;
    int hidden;        /* set by tests through _hide_export() */
} exports[X_COUNT] = {
    [X_GetPackageInfoEx] = {"DismGetPackageInfoEx", "Windows 10", LINKED(DismGetPackageInfoEx)},
    [X_GetCapabilities] = {"DismGetCapabilities", "Windows 10", LINKED(DismGetCapabilities)},
    [X_GetCapabilityInfo] = {"DismGetCapabilityInfo", "Windows 10",
                             LINKED(DismGetCapabilityInfo)},
    [X_AddCapability] = {"DismAddCapability", "Windows 10", LINKED(DismAddCapability)},
    [X_RemoveCapability] = {"DismRemoveCapability", "Windows 10", LINKED(DismRemoveCapability)},
    [X_GetReservedStorageState] = {"DismGetReservedStorageState", "Windows 10 version 2004",
                                   LINKED(DismGetReservedStorageState)},
    [X_SetReservedStorageState] = {"DismSetReservedStorageState", "Windows 10 version 2004",
                                   LINKED(DismSetReservedStorageState)},
    [X_AddLanguage] = {"DismAddLanguage", "Windows 11", LINKED(DismAddLanguage)},
    [X_RemoveLanguage] = {"DismRemoveLanguage", "Windows 11", LINKED(DismRemoveLanguage)},
    [X_GetProvisionedAppxPackages] = {"_DismGetProvisionedAppxPackages", "Windows 8.1",
                                      LINKED(_DismGetProvisionedAppxPackages)},
    [X_AddProvisionedAppxPackage] = {"_DismAddProvisionedAppxPackage",
                                     "Windows 10 version 1809 (the 12-argument form)",
                                     LINKED(_DismAddProvisionedAppxPackage)},
    [X_RemoveProvisionedAppxPackage] = {"_DismRemoveProvisionedAppxPackage", "Windows 8.1",
                                        LINKED(_DismRemoveProvisionedAppxPackage)},
    [X_GetCurrentEdition] = {"_DismGetCurrentEdition", "Windows 8.1",
                             LINKED(_DismGetCurrentEdition)},
    [X_GetTargetEditions] = {"_DismGetTargetEditions", "Windows 8.1",
                             LINKED(_DismGetTargetEditions)},
    [X_SetEdition] = {"_DismSetEdition", "Windows 8.1", LINKED(_DismSetEdition)},
    [X_SetProductKey] = {"_DismSetProductKey", "Windows 8.1", LINKED(_DismSetProductKey)},
    [X_ValidateProductKey] = {"_DismValidateProductKey", "Windows 8.1",
                              LINKED(_DismValidateProductKey)},
    [X_GetProductKeyInfo] = {"_DismGetProductKeyInfo", "Windows 10",
                             LINKED(_DismGetProductKeyInfo)},
    [X_GetRegistryMountPoint] = {"_DismGetRegistryMountPoint", "Windows 8.1",
                                 LINKED(_DismGetRegistryMountPoint)},
    /* No DismApi.dll exports this; on Windows the lookup fails and says so. */
    [X_PortableGetSessionImageInfo] = {"_DismPortableGetSessionImageInfo",
                                       "the portable engine (no Windows DISM has it)",
                                       LINKED(_DismPortableGetSessionImageInfo)},
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
static any_function require_export(PyObject *module, enum export_id id)
{
    any_function fn = lookup_export(id);
    if (fn)
        return fn;
    PyObject *message = PyUnicode_FromFormat(
        "the loaded DISM has no %s export; it needs DISM from %s or later (install a newer "
        "Windows ADK, or use a newer Windows)", exports[id].name, exports[id].since);
    PyObject *exc = message ? make_error(get_state(module), HR_EXPORT_NOT_AVAILABLE, message)
                            : NULL;
    Py_XDECREF(message);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
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

/* Function types of the optional exports, for calls through the table. */
typedef HRESULT(WINAPI *GetPackageInfoEx_fn)(DismSession, PCWSTR, DismPackageIdentifier,
                                             DismPackageInfoEx **);
typedef HRESULT(WINAPI *GetCapabilities_fn)(DismSession, DismCapability **, UINT *);
typedef HRESULT(WINAPI *GetCapabilityInfo_fn)(DismSession, PCWSTR, DismCapabilityInfo **);
typedef HRESULT(WINAPI *AddCapability_fn)(DismSession, PCWSTR, BOOL, PCWSTR *, UINT, HANDLE,
                                          DISM_PROGRESS_CALLBACK, PVOID);
typedef HRESULT(WINAPI *RemoveCapability_fn)(DismSession, PCWSTR, HANDLE, DISM_PROGRESS_CALLBACK,
                                             PVOID);
typedef HRESULT(WINAPI *GetReservedStorageState_fn)(DismSession, PDWORD);
typedef HRESULT(WINAPI *SetReservedStorageState_fn)(DismSession, DWORD);
typedef HRESULT(WINAPI *AddLanguage_fn)(DismSession, PCWSTR, BOOL, BOOL, PCWSTR *, UINT, HANDLE,
                                        DISM_PROGRESS_CALLBACK, PVOID);
typedef HRESULT(WINAPI *RemoveLanguage_fn)(DismSession, PCWSTR, HANDLE, DISM_PROGRESS_CALLBACK,
                                           PVOID);
typedef HRESULT(WINAPI *GetProvisionedAppx_fn)(DismSession, DismAppxPackage **, UINT *);
typedef HRESULT(WINAPI *AddProvisionedAppx_fn)(DismSession, PCWSTR, PCWSTR *, UINT, PCWSTR *,
                                               UINT, PCWSTR *, UINT, BOOL, PCWSTR, PCWSTR,
                                               DismStubPackageOption);
typedef HRESULT(WINAPI *SessionString_fn)(DismSession, PCWSTR);
typedef HRESULT(WINAPI *GetCurrentEdition_fn)(DismSession, DismString **);
typedef HRESULT(WINAPI *GetTargetEditions_fn)(DismSession, DismString **, UINT *);
typedef HRESULT(WINAPI *SetEdition_fn)(DismSession, PCWSTR, PCWSTR, HANDLE,
                                       DISM_PROGRESS_CALLBACK, PVOID);
typedef HRESULT(WINAPI *GetProductKeyInfo_fn)(DismSession, PCWSTR, DismString **, DismString **);
typedef HRESULT(WINAPI *GetRegistryMountPoint_fn)(DismSession, DismRegistryHive, DismString **);
typedef HRESULT(WINAPI *GetSessionImageInfo_fn)(DismSession, DismImageInfo **);

/* ------------------------------------------------------------------------
 * Calling DISM on a session
 * ------------------------------------------------------------------------ */

typedef struct {
    HRESULT hr;
    captured_message msg;
} outcome;

/* Runs `expr` without the GIL; the last-error message must be read on the
 * same thread, straight after the failing call. */
#define WITHOUT_GIL(out, expr)                                                                 \
    do {                                                                                       \
        Py_BEGIN_ALLOW_THREADS(out).hr = (expr);                                               \
        if (FAILED((out).hr))                                                                  \
            capture_last_error(&(out).msg);                                                    \
        Py_END_ALLOW_THREADS                                                                   \
    } while (0)

/* Type-checks, locks and checks the session; NULL with an error set (and
 * the lock released) when it cannot be used. */
static SessionObject *lock_session(PyObject *module, PyObject *obj)
{
    module_state *st = get_state(module);
    if (!PyObject_TypeCheck(obj, st->session_type)) {
        raise_wrong_type("a dism._dism.Session", obj);
        return NULL;
    }
    SessionObject *s = (SessionObject *)obj;
    if (session_lock(s) < 0)
        return NULL;
    if (session_check_open(s) < 0) {
        session_unlock(s);
        return NULL;
    }
    return s;
}

/* 0 on success; -1 with the DISM error raised. */
static int check_outcome(PyObject *module, outcome *o)
{
    if (SUCCEEDED(o->hr))
        return 0;
    raise_dism_error(get_state(module), o->hr, &o->msg);
    return -1;
}

/* A long operation's arguments start with the session handle. */
typedef struct {
    DismSession handle;
} session_args;

static PyObject *long_session_call(PyObject *module, PyObject *session, dism_operation op,
                                   session_args *args, PyObject *progress, PyObject *cancel)
{
    module_state *st = get_state(module);
    if (!PyObject_TypeCheck(session, st->session_type)) {
        raise_wrong_type("a dism._dism.Session", session);
        return NULL;
    }
    long_call call;
    if (prepare_long_call(&call, progress, cancel) < 0)
        return NULL;
    call.operation = op;
    call.args = args;
    return run_session_long_call((SessionObject *)session, &call);
}

/* ------------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------------ */

/* identifier (str, PathLike or None) + by_path -> DISM's pair. */
typedef struct {
    wide_arg text;
    DismPackageIdentifier type;
} package_id;

static int package_id_from(PyObject *identifier, int by_path, package_id *out)
{
    out->text.wide = NULL;
    out->type = DismPackageNone;
    if (identifier == Py_None)
        return 0;
    if (!optional_path_converter(identifier, &out->text))
        return -1;
    out->type = by_path ? DismPackagePath : DismPackageName;
    return 0;
}

/* A sequence of str / PathLike -> an array of wide strings. */
typedef struct {
    PCWSTR *items;
    UINT count;
} wide_array;

static void wide_array_free(wide_array *a)
{
    for (UINT i = 0; a->items && i < a->count; i++)
        PyMem_Free((void *)a->items[i]);
    PyMem_Free(a->items);
    a->items = NULL;
    a->count = 0;
}

static int wide_array_converter(PyObject *obj, void *addr)
{
    wide_array *a = addr;
    if (!obj) {
        wide_array_free(a);
        return 1;
    }
    a->items = NULL;
    a->count = 0;
    if (obj == Py_None)
        return Py_CLEANUP_SUPPORTED;
    if (PyUnicode_Check(obj) || PyBytes_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "expected a sequence of paths, not a single string");
        return 0;
    }
    /* A tuple snapshot: converting an item runs __fspath__, which could
     * otherwise resize a list under the loop. */
    PyObject *seq = PySequence_Tuple(obj);
    if (!seq)
        return 0;
    Py_ssize_t n = PyTuple_Size(seq);
    a->items = PyMem_Calloc(n ? (size_t)n : 1, sizeof *a->items);
    if (!a->items) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        wide_arg w;
        if (!path_converter(PyTuple_GetItem(seq, i), &w)) {
            Py_DECREF(seq);
            wide_array_free(a);
            return 0;
        }
        a->items[a->count++] = w.wide;
    }
    Py_DECREF(seq);
    return Py_CLEANUP_SUPPORTED;
}

/* ------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------ */


static PyObject *new_dict_or_fail(int failed, PyObject *d)
{
    if (failed) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *package_dict(const DismPackage *p)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(put(d, "name", wide_or_none(p->PackageName)) ||
                                put(d, "state", PyLong_FromLong(p->PackageState)) ||
                                put(d, "release_type", PyLong_FromLong(p->ReleaseType)) ||
                                put(d, "install_time", systemtime_tuple(&p->InstallTime)),
                            d);
}

static PyObject *feature_dict(const DismFeature *f)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(put(d, "name", wide_or_none(f->FeatureName)) ||
                                put(d, "state", PyLong_FromLong(f->State)),
                            d);
}

static PyObject *custom_property_dict(const DismCustomProperty *c)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(put(d, "name", wide_or_none(c->Name)) ||
                                put(d, "value", wide_or_none(c->Value)) ||
                                put(d, "path", wide_or_none(c->Path)),
                            d);
}

/* DismPackageInfo and DismPackageInfoEx share every field but the last. */
#define PUT_PACKAGE_INFO(d, i)                                                                 \
    (put(d, "name", wide_or_none((i)->PackageName)) ||                                         \
     put(d, "state", PyLong_FromLong((i)->PackageState)) ||                                    \
     put(d, "release_type", PyLong_FromLong((i)->ReleaseType)) ||                              \
     put(d, "install_time", systemtime_tuple(&(i)->InstallTime)) ||                            \
     put(d, "applicable", PyBool_FromLong((i)->Applicable)) ||                                 \
     put(d, "copyright", wide_or_none((i)->Copyright)) ||                                      \
     put(d, "company", wide_or_none((i)->Company)) ||                                          \
     put(d, "creation_time", systemtime_tuple(&(i)->CreationTime)) ||                          \
     put(d, "display_name", wide_or_none((i)->DisplayName)) ||                                 \
     put(d, "description", wide_or_none((i)->Description)) ||                                  \
     put(d, "install_client", wide_or_none((i)->InstallClient)) ||                             \
     put(d, "install_package_name", wide_or_none((i)->InstallPackageName)) ||                  \
     put(d, "last_update_time", systemtime_tuple(&(i)->LastUpdateTime)) ||                     \
     put(d, "product_name", wide_or_none((i)->ProductName)) ||                                 \
     put(d, "product_version", wide_or_none((i)->ProductVersion)) ||                           \
     put(d, "restart_required", PyLong_FromLong((i)->RestartRequired)) ||                      \
     put(d, "fully_offline", PyLong_FromLong((i)->FullyOffline)) ||                            \
     put(d, "support_information", wide_or_none((i)->SupportInformation)) ||                  \
     put(d, "custom_properties",                                                               \
         LIST_OF((i)->CustomProperty, (i)->CustomPropertyCount, custom_property_dict)) ||      \
     put(d, "features", LIST_OF((i)->Feature, (i)->FeatureCount, feature_dict)))

static PyObject *package_info_dict(const DismPackageInfo *info)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(PUT_PACKAGE_INFO(d, info), d);
}

static PyObject *package_info_ex_dict(const DismPackageInfoEx *info)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(PUT_PACKAGE_INFO(d, info) ||
                                put(d, "capability_id", wide_or_none(info->CapabilityId)),
                            d);
}

static PyObject *feature_info_dict(const DismFeatureInfo *f)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(
        put(d, "name", wide_or_none(f->FeatureName)) ||
            put(d, "state", PyLong_FromLong(f->FeatureState)) ||
            put(d, "display_name", wide_or_none(f->DisplayName)) ||
            put(d, "description", wide_or_none(f->Description)) ||
            put(d, "restart_required", PyLong_FromLong(f->RestartRequired)) ||
            put(d, "custom_properties",
                LIST_OF(f->CustomProperty, f->CustomPropertyCount, custom_property_dict)),
        d);
}

static PyObject *capability_dict(const DismCapability *c)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(put(d, "name", wide_or_none(c->Name)) ||
                                put(d, "state", PyLong_FromLong(c->State)),
                            d);
}

static PyObject *capability_info_dict(const DismCapabilityInfo *c)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(put(d, "name", wide_or_none(c->Name)) ||
                                put(d, "state", PyLong_FromLong(c->State)) ||
                                put(d, "display_name", wide_or_none(c->DisplayName)) ||
                                put(d, "description", wide_or_none(c->Description)) ||
                                put(d, "download_size", PyLong_FromUnsignedLong(c->DownloadSize)) ||
                                put(d, "install_size", PyLong_FromUnsignedLong(c->InstallSize)),
                            d);
}

static PyObject *driver_package_dict(const DismDriverPackage *p)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(
        put(d, "published_name", wide_or_none(p->PublishedName)) ||
            put(d, "original_file_name", wide_or_none(p->OriginalFileName)) ||
            put(d, "inbox", PyBool_FromLong(p->InBox)) ||
            put(d, "catalog_file", wide_or_none(p->CatalogFile)) ||
            put(d, "class_name", wide_or_none(p->ClassName)) ||
            put(d, "class_guid", wide_or_none(p->ClassGuid)) ||
            put(d, "class_description", wide_or_none(p->ClassDescription)) ||
            put(d, "boot_critical", PyBool_FromLong(p->BootCritical)) ||
            put(d, "signature", PyLong_FromLong(p->DriverSignature)) ||
            put(d, "provider_name", wide_or_none(p->ProviderName)) ||
            put(d, "date", systemtime_tuple(&p->Date)) ||
            put(d, "version", Py_BuildValue("(IIII)", p->MajorVersion, p->MinorVersion, p->Build,
                                            p->Revision)),
        d);
}

static PyObject *driver_dict(const DismDriver *drv)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(
        put(d, "manufacturer_name", wide_or_none(drv->ManufacturerName)) ||
            put(d, "hardware_description", wide_or_none(drv->HardwareDescription)) ||
            put(d, "hardware_id", wide_or_none(drv->HardwareId)) ||
            put(d, "architecture", PyLong_FromUnsignedLong(drv->Architecture)) ||
            put(d, "service_name", wide_or_none(drv->ServiceName)) ||
            put(d, "compatible_ids", wide_or_none(drv->CompatibleIds)) ||
            put(d, "exclude_ids", wide_or_none(drv->ExcludeIds)),
        d);
}

static PyObject *appx_dict(const DismAppxPackage *a)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    return new_dict_or_fail(
        put(d, "package_name", wide_or_none(a->PackageName)) ||
            put(d, "display_name", wide_or_none(a->DisplayName)) ||
            put(d, "publisher_id", wide_or_none(a->PublisherId)) ||
            put(d, "version", Py_BuildValue("(IIII)", a->MajorVersion, a->MinorVersion, a->Build,
                                            a->RevisionNumber)) ||
            put(d, "architecture", PyLong_FromUnsignedLong(a->Architecture)) ||
            put(d, "resource_id", wide_or_none(a->ResourceId)) ||
            put(d, "install_location", wide_or_none(a->InstallLocation)) ||
            put(d, "region", wide_or_none(a->Region)),
        d);
}

/* ------------------------------------------------------------------------
 * Packages
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(get_packages_doc, "get_packages(session)\n--\n\nDismGetPackages.");

static PyObject *dism_get_packages(PyObject *module, PyObject *session)
{
    SessionObject *s = lock_session(module, session);
    if (!s)
        return NULL;
    DismPackage *items = NULL;
    UINT count = 0;
    outcome o = {0};
    WITHOUT_GIL(o, DismGetPackages(s->handle, &items, &count));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(items, LIST_OF(items, count, package_dict));
}

PyDoc_STRVAR(get_package_info_doc,
"get_package_info(session, identifier, by_path, ex=False)\n--\n\n"
"DismGetPackageInfo, or DismGetPackageInfoEx when ex is true.");

static PyObject *dism_get_package_info(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "identifier", "by_path", "ex", NULL};
    PyObject *session, *identifier;
    int by_path, ex = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOp|p:get_package_info", kwlist, &session,
                                     &identifier, &by_path, &ex))
        return NULL;
    GetPackageInfoEx_fn get_ex = NULL;
    if (ex && !(get_ex = (GetPackageInfoEx_fn)require_export(module, X_GetPackageInfoEx)))
        return NULL;
    package_id id;
    if (package_id_from(identifier, by_path, &id) < 0)
        return NULL;
    SessionObject *s = lock_session(module, session);
    PyObject *result = NULL;
    if (s) {
        outcome o = {0};
        if (ex) {
            DismPackageInfoEx *info = NULL;
            WITHOUT_GIL(o, get_ex(s->handle, id.text.wide, id.type, &info));
            session_unlock(s);
            if (check_outcome(module, &o) == 0)
                result = take_result(info, package_info_ex_dict(info));
        } else {
            DismPackageInfo *info = NULL;
            WITHOUT_GIL(o, DismGetPackageInfo(s->handle, id.text.wide, id.type, &info));
            session_unlock(s);
            if (check_outcome(module, &o) == 0)
                result = take_result(info, package_info_dict(info));
        }
    }
    PyMem_Free(id.text.wide);
    return result;
}

typedef struct {
    DismSession handle;
    PCWSTR path;
    BOOL ignore_check, prevent_pending;
} add_package_args;

static HRESULT run_add_package(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    add_package_args *a = call->args;
    return DismAddPackage(a->handle, a->path, a->ignore_check, a->prevent_pending, cancel, cb,
                          call);
}

PyDoc_STRVAR(add_package_doc,
"add_package(session, path, ignore_check, prevent_pending, progress=None, cancel=None)\n--\n\n"
"DismAddPackage.");

static PyObject *dism_add_package(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "path", "ignore_check", "prevent_pending", "progress",
                             "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    wide_arg path = {0};
    int ignore_check, prevent_pending;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&pp|OO:add_package", kwlist, &session,
                                     path_converter, &path, &ignore_check, &prevent_pending,
                                     &progress, &cancel))
        return NULL;
    add_package_args a = {0, path.wide, ignore_check, prevent_pending};
    PyObject *r = long_session_call(module, session, run_add_package, (session_args *)&a,
                                    progress, cancel);
    PyMem_Free(path.wide);
    return r;
}

typedef struct {
    DismSession handle;
    PCWSTR identifier;
    DismPackageIdentifier type;
} remove_package_args;

static HRESULT run_remove_package(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    remove_package_args *a = call->args;
    return DismRemovePackage(a->handle, a->identifier, a->type, cancel, cb, call);
}

PyDoc_STRVAR(remove_package_doc,
"remove_package(session, identifier, by_path, progress=None, cancel=None)\n--\n\n"
"DismRemovePackage.");

static PyObject *dism_remove_package(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "identifier", "by_path", "progress", "cancel", NULL};
    PyObject *session, *identifier, *progress = Py_None, *cancel = Py_None;
    int by_path;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOp|OO:remove_package", kwlist, &session,
                                     &identifier, &by_path, &progress, &cancel))
        return NULL;
    package_id id;
    if (package_id_from(identifier, by_path, &id) < 0)
        return NULL;
    remove_package_args a = {0, id.text.wide, id.type};
    PyObject *r = long_session_call(module, session, run_remove_package, (session_args *)&a,
                                    progress, cancel);
    PyMem_Free(id.text.wide);
    return r;
}

/* ------------------------------------------------------------------------
 * Features
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(get_features_doc,
"get_features(session, identifier=None, by_path=False)\n--\n\nDismGetFeatures.");

static PyObject *dism_get_features(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "identifier", "by_path", NULL};
    PyObject *session, *identifier = Py_None;
    int by_path = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Op:get_features", kwlist, &session,
                                     &identifier, &by_path))
        return NULL;
    package_id id;
    if (package_id_from(identifier, by_path, &id) < 0)
        return NULL;
    SessionObject *s = lock_session(module, session);
    PyObject *result = NULL;
    if (s) {
        DismFeature *items = NULL;
        UINT count = 0;
        outcome o = {0};
        WITHOUT_GIL(o, DismGetFeatures(s->handle, id.text.wide, id.type, &items, &count));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = take_result(items, LIST_OF(items, count, feature_dict));
    }
    PyMem_Free(id.text.wide);
    return result;
}

/* get_feature_info and get_feature_parent take the same arguments. */
typedef struct {
    PyObject *session;
    wide_arg name;
    package_id id;
} feature_query;

static int parse_feature_query(PyObject *args, PyObject *kwargs, const char *format,
                               feature_query *q)
{
    static char *kwlist[] = {"session", "name", "identifier", "by_path", NULL};
    PyObject *identifier = Py_None;
    int by_path = 0;
    memset(q, 0, sizeof *q);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, &q->session, path_converter,
                                     &q->name, &identifier, &by_path))
        return -1;
    if (package_id_from(identifier, by_path, &q->id) < 0) {
        PyMem_Free(q->name.wide);
        return -1;
    }
    return 0;
}

static void feature_query_free(feature_query *q)
{
    PyMem_Free(q->name.wide);
    PyMem_Free(q->id.text.wide);
}

PyDoc_STRVAR(get_feature_info_doc,
"get_feature_info(session, name, identifier=None, by_path=False)\n--\n\nDismGetFeatureInfo.");

static PyObject *dism_get_feature_info(PyObject *module, PyObject *args, PyObject *kwargs)
{
    feature_query q;
    if (parse_feature_query(args, kwargs, "OO&|Op:get_feature_info", &q) < 0)
        return NULL;
    SessionObject *s = lock_session(module, q.session);
    PyObject *result = NULL;
    if (s) {
        DismFeatureInfo *info = NULL;
        outcome o = {0};
        WITHOUT_GIL(o, DismGetFeatureInfo(s->handle, q.name.wide, q.id.text.wide, q.id.type,
                                          &info));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = take_result(info, feature_info_dict(info));
    }
    feature_query_free(&q);
    return result;
}

PyDoc_STRVAR(get_feature_parent_doc,
"get_feature_parent(session, name, identifier=None, by_path=False)\n--\n\n"
"DismGetFeatureParent.");

static PyObject *dism_get_feature_parent(PyObject *module, PyObject *args, PyObject *kwargs)
{
    feature_query q;
    if (parse_feature_query(args, kwargs, "OO&|Op:get_feature_parent", &q) < 0)
        return NULL;
    SessionObject *s = lock_session(module, q.session);
    PyObject *result = NULL;
    if (s) {
        DismFeature *items = NULL;
        UINT count = 0;
        outcome o = {0};
        WITHOUT_GIL(o, DismGetFeatureParent(s->handle, q.name.wide, q.id.text.wide, q.id.type,
                                            &items, &count));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = take_result(items, LIST_OF(items, count, feature_dict));
    }
    feature_query_free(&q);
    return result;
}

typedef struct {
    DismSession handle;
    PCWSTR names, identifier;
    DismPackageIdentifier type;
    BOOL limit_access, enable_all;
    wide_array sources;
} enable_feature_args;

static HRESULT run_enable_feature(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    enable_feature_args *a = call->args;
    return DismEnableFeature(a->handle, a->names, a->identifier, a->type, a->limit_access,
                             a->sources.items, a->sources.count, a->enable_all, cancel, cb, call);
}

PyDoc_STRVAR(enable_feature_doc,
"enable_feature(session, names, identifier, by_path, limit_access, sources, enable_all,\n"
"               progress=None, cancel=None)\n--\n\n"
"DismEnableFeature; names is ';'-separated.");

static PyObject *dism_enable_feature(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "names", "identifier", "by_path", "limit_access",
                             "sources", "enable_all", "progress", "cancel", NULL};
    PyObject *session, *identifier, *progress = Py_None, *cancel = Py_None;
    wide_arg names = {0};
    int by_path, limit_access, enable_all;
    enable_feature_args a = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&OppO&p|OO:enable_feature", kwlist,
                                     &session, path_converter, &names, &identifier, &by_path,
                                     &limit_access, wide_array_converter, &a.sources,
                                     &enable_all, &progress, &cancel))
        return NULL;
    package_id id;
    PyObject *r = NULL;
    if (package_id_from(identifier, by_path, &id) == 0) {
        a.names = names.wide;
        a.identifier = id.text.wide;
        a.type = id.type;
        a.limit_access = limit_access;
        a.enable_all = enable_all;
        r = long_session_call(module, session, run_enable_feature, (session_args *)&a, progress,
                              cancel);
        PyMem_Free(id.text.wide);
    }
    wide_array_free(&a.sources);
    PyMem_Free(names.wide);
    return r;
}

typedef struct {
    DismSession handle;
    PCWSTR names, package;
    BOOL remove_payload;
} disable_feature_args;

static HRESULT run_disable_feature(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    disable_feature_args *a = call->args;
    return DismDisableFeature(a->handle, a->names, a->package, a->remove_payload, cancel, cb,
                              call);
}

PyDoc_STRVAR(disable_feature_doc,
"disable_feature(session, names, package_name, remove_payload, progress=None, cancel=None)\n"
"--\n\nDismDisableFeature; names is ';'-separated.");

static PyObject *dism_disable_feature(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "names", "package_name", "remove_payload", "progress",
                             "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    wide_arg names = {0}, package = {0};
    int remove_payload;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&O&p|OO:disable_feature", kwlist, &session,
                                     path_converter, &names, optional_text_converter, &package,
                                     &remove_payload, &progress, &cancel))
        return NULL;
    disable_feature_args a = {0, names.wide, package.wide, remove_payload};
    PyObject *r = long_session_call(module, session, run_disable_feature, (session_args *)&a,
                                    progress, cancel);
    PyMem_Free(names.wide);
    PyMem_Free(package.wide);
    return r;
}

/* ------------------------------------------------------------------------
 * Drivers
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(get_drivers_doc, "get_drivers(session, all_drivers)\n--\n\nDismGetDrivers.");

static PyObject *dism_get_drivers(PyObject *module, PyObject *args)
{
    PyObject *session;
    int all;
    if (!PyArg_ParseTuple(args, "Op:get_drivers", &session, &all))
        return NULL;
    SessionObject *s = lock_session(module, session);
    if (!s)
        return NULL;
    DismDriverPackage *items = NULL;
    UINT count = 0;
    outcome o = {0};
    WITHOUT_GIL(o, DismGetDrivers(s->handle, all, &items, &count));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(items, LIST_OF(items, count, driver_package_dict));
}

PyDoc_STRVAR(get_driver_info_doc,
"get_driver_info(session, path)\n--\n\n"
"DismGetDriverInfo: (list of drivers, driver package) for an INF or a published name.");

static PyObject *dism_get_driver_info(PyObject *module, PyObject *args)
{
    PyObject *session;
    wide_arg path = {0};
    if (!PyArg_ParseTuple(args, "OO&:get_driver_info", &session, path_converter, &path))
        return NULL;
    SessionObject *s = lock_session(module, session);
    PyObject *result = NULL;
    if (s) {
        DismDriver *drivers = NULL;
        DismDriverPackage *package = NULL;
        UINT count = 0;
        outcome o = {0};
        WITHOUT_GIL(o, DismGetDriverInfo(s->handle, path.wide, &drivers, &count, &package));
        session_unlock(s);
        if (check_outcome(module, &o) == 0) {
            PyObject *list = LIST_OF(drivers, count, driver_dict);
            PyObject *pkg = list ? driver_package_dict(package) : NULL;
            if (pkg)
                result = PyTuple_Pack(2, list, pkg);
            Py_XDECREF(list);
            Py_XDECREF(pkg);
            /* Two results, two DismDelete calls. */
            take_result(drivers, NULL);
            take_result(package, NULL);
        }
    }
    PyMem_Free(path.wide);
    return result;
}

/* Calls fn(handle, text) on the session: the shape of several writes. */
static PyObject *session_string_call(PyObject *module, PyObject *args, const char *format,
                                     SessionString_fn fn)
{
    PyObject *session;
    wide_arg text = {0};
    if (!PyArg_ParseTuple(args, format, &session, path_converter, &text))
        return NULL;
    SessionObject *s = lock_session(module, session);
    PyObject *result = NULL;
    if (s) {
        outcome o = {0};
        WITHOUT_GIL(o, fn(s->handle, text.wide));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = PyLong_FromLong((long)o.hr);
    }
    PyMem_Free(text.wide);
    return result;
}

/* Calls fn(handle, path, flag) on the session: DismAddDriver and
 * DismApplyUnattend have this shape. */
typedef HRESULT(WINAPI *SessionPathFlag_fn)(DismSession, PCWSTR, BOOL);

static PyObject *session_path_flag_call(PyObject *module, PyObject *args, const char *format,
                                        SessionPathFlag_fn fn)
{
    PyObject *session;
    wide_arg path = {0};
    int flag;
    if (!PyArg_ParseTuple(args, format, &session, path_converter, &path, &flag))
        return NULL;
    SessionObject *s = lock_session(module, session);
    PyObject *result = NULL;
    if (s) {
        outcome o = {0};
        WITHOUT_GIL(o, fn(s->handle, path.wide, flag));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = PyLong_FromLong((long)o.hr);
    }
    PyMem_Free(path.wide);
    return result;
}

PyDoc_STRVAR(add_driver_doc,
"add_driver(session, path, force_unsigned)\n--\n\nDismAddDriver (one .inf file).");

static PyObject *dism_add_driver(PyObject *module, PyObject *args)
{
    return session_path_flag_call(module, args, "OO&p:add_driver", DismAddDriver);
}

PyDoc_STRVAR(remove_driver_doc,
"remove_driver(session, published_name)\n--\n\nDismRemoveDriver.");

static PyObject *dism_remove_driver(PyObject *module, PyObject *args)
{
    return session_string_call(module, args, "OO&:remove_driver", DismRemoveDriver);
}

/* ------------------------------------------------------------------------
 * Capabilities and languages
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(get_capabilities_doc, "get_capabilities(session)\n--\n\nDismGetCapabilities.");

static PyObject *dism_get_capabilities(PyObject *module, PyObject *session)
{
    GetCapabilities_fn fn = (GetCapabilities_fn)require_export(module, X_GetCapabilities);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    DismCapability *items = NULL;
    UINT count = 0;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, &items, &count));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(items, LIST_OF(items, count, capability_dict));
}

PyDoc_STRVAR(get_capability_info_doc,
"get_capability_info(session, name)\n--\n\nDismGetCapabilityInfo.");

static PyObject *dism_get_capability_info(PyObject *module, PyObject *args)
{
    PyObject *session;
    wide_arg name = {0};
    if (!PyArg_ParseTuple(args, "OO&:get_capability_info", &session, path_converter, &name))
        return NULL;
    GetCapabilityInfo_fn fn = (GetCapabilityInfo_fn)require_export(module, X_GetCapabilityInfo);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    PyObject *result = NULL;
    if (s) {
        DismCapabilityInfo *info = NULL;
        outcome o = {0};
        WITHOUT_GIL(o, fn(s->handle, name.wide, &info));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = take_result(info, capability_info_dict(info));
    }
    PyMem_Free(name.wide);
    return result;
}

/* Capabilities and languages are added and removed the same way. */
typedef struct {
    DismSession handle;
    PCWSTR name;
    BOOL limit_access, prevent_pending;
    wide_array sources;
    any_function fn;
} add_named_args;

static HRESULT run_add_capability(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    add_named_args *a = call->args;
    return ((AddCapability_fn)a->fn)(a->handle, a->name, a->limit_access, a->sources.items,
                                     a->sources.count, cancel, cb, call);
}

static HRESULT run_add_language(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    add_named_args *a = call->args;
    return ((AddLanguage_fn)a->fn)(a->handle, a->name, a->prevent_pending, a->limit_access,
                                   a->sources.items, a->sources.count, cancel, cb, call);
}

static HRESULT run_remove_named(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    add_named_args *a = call->args;
    /* DismRemoveCapability and DismRemoveLanguage share a signature. */
    return ((RemoveCapability_fn)a->fn)(a->handle, a->name, cancel, cb, call);
}

PyDoc_STRVAR(add_capability_doc,
"add_capability(session, name, limit_access, sources, progress=None, cancel=None)\n--\n\n"
"DismAddCapability.");

static PyObject *dism_add_capability(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "name", "limit_access", "sources", "progress", "cancel",
                             NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    wide_arg name = {0};
    int limit_access;
    add_named_args a = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&pO&|OO:add_capability", kwlist, &session,
                                     path_converter, &name, &limit_access, wide_array_converter,
                                     &a.sources, &progress, &cancel))
        return NULL;
    PyObject *r = NULL;
    if ((a.fn = require_export(module, X_AddCapability))) {
        a.name = name.wide;
        a.limit_access = limit_access;
        r = long_session_call(module, session, run_add_capability, (session_args *)&a, progress,
                              cancel);
    }
    wide_array_free(&a.sources);
    PyMem_Free(name.wide);
    return r;
}

PyDoc_STRVAR(add_language_doc,
"add_language(session, name, prevent_pending, limit_access, sources, progress=None,\n"
"             cancel=None)\n--\n\nDismAddLanguage.");

static PyObject *dism_add_language(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "name", "prevent_pending", "limit_access", "sources",
                             "progress", "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    wide_arg name = {0};
    int prevent_pending, limit_access;
    add_named_args a = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&ppO&|OO:add_language", kwlist, &session,
                                     path_converter, &name, &prevent_pending, &limit_access,
                                     wide_array_converter, &a.sources, &progress, &cancel))
        return NULL;
    PyObject *r = NULL;
    if ((a.fn = require_export(module, X_AddLanguage))) {
        a.name = name.wide;
        a.limit_access = limit_access;
        a.prevent_pending = prevent_pending;
        r = long_session_call(module, session, run_add_language, (session_args *)&a, progress,
                              cancel);
    }
    wide_array_free(&a.sources);
    PyMem_Free(name.wide);
    return r;
}

static PyObject *remove_named(PyObject *module, PyObject *args, PyObject *kwargs,
                              const char *format, enum export_id id)
{
    static char *kwlist[] = {"session", "name", "progress", "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    wide_arg name = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, &session, path_converter,
                                     &name, &progress, &cancel))
        return NULL;
    add_named_args a = {0};
    PyObject *r = NULL;
    if ((a.fn = require_export(module, id))) {
        a.name = name.wide;
        r = long_session_call(module, session, run_remove_named, (session_args *)&a, progress,
                              cancel);
    }
    PyMem_Free(name.wide);
    return r;
}

PyDoc_STRVAR(remove_capability_doc,
"remove_capability(session, name, progress=None, cancel=None)\n--\n\nDismRemoveCapability.");

static PyObject *dism_remove_capability(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return remove_named(module, args, kwargs, "OO&|OO:remove_capability", X_RemoveCapability);
}

PyDoc_STRVAR(remove_language_doc,
"remove_language(session, name, progress=None, cancel=None)\n--\n\nDismRemoveLanguage.");

static PyObject *dism_remove_language(PyObject *module, PyObject *args, PyObject *kwargs)
{
    return remove_named(module, args, kwargs, "OO&|OO:remove_language", X_RemoveLanguage);
}

/* ------------------------------------------------------------------------
 * Provisioned appx packages
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(get_provisioned_appx_packages_doc,
"get_provisioned_appx_packages(session)\n--\n\n_DismGetProvisionedAppxPackages.");

static PyObject *dism_get_provisioned_appx_packages(PyObject *module, PyObject *session)
{
    GetProvisionedAppx_fn fn =
        (GetProvisionedAppx_fn)require_export(module, X_GetProvisionedAppxPackages);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    DismAppxPackage *items = NULL;
    UINT count = 0;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, &items, &count));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(items, LIST_OF(items, count, appx_dict));
}

PyDoc_STRVAR(add_provisioned_appx_package_doc,
"add_provisioned_appx_package(session, app_path, dependencies, optional_packages, licenses,\n"
"                             skip_license, custom_data_path, region, stub_option)\n--\n\n"
"_DismAddProvisionedAppxPackage (the 12-argument form).");

static PyObject *dism_add_provisioned_appx_package(PyObject *module, PyObject *args,
                                                   PyObject *kwargs)
{
    static char *kwlist[] = {"session", "app_path", "dependencies", "optional_packages",
                             "licenses", "skip_license", "custom_data_path", "region",
                             "stub_option", NULL};
    PyObject *session;
    wide_arg app = {0}, data = {0}, region = {0};
    wide_array deps = {0}, optional = {0}, licenses = {0};
    int skip_license, stub;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "OO&O&O&O&pO&O&i:add_provisioned_appx_package", kwlist, &session,
            path_converter, &app, wide_array_converter, &deps, wide_array_converter, &optional,
            wide_array_converter, &licenses, &skip_license, optional_path_converter, &data,
            optional_text_converter, &region, &stub))
        return NULL;
    AddProvisionedAppx_fn fn =
        (AddProvisionedAppx_fn)require_export(module, X_AddProvisionedAppxPackage);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    PyObject *result = NULL;
    if (s) {
        outcome o = {0};
        WITHOUT_GIL(o, fn(s->handle, app.wide, deps.items, deps.count, optional.items,
                          optional.count, licenses.items, licenses.count, skip_license,
                          data.wide, region.wide, (DismStubPackageOption)stub));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = PyLong_FromLong((long)o.hr);
    }
    PyMem_Free(app.wide);
    PyMem_Free(data.wide);
    PyMem_Free(region.wide);
    wide_array_free(&deps);
    wide_array_free(&optional);
    wide_array_free(&licenses);
    return result;
}

PyDoc_STRVAR(remove_provisioned_appx_package_doc,
"remove_provisioned_appx_package(session, package_name)\n--\n\n"
"_DismRemoveProvisionedAppxPackage.");

static PyObject *dism_remove_provisioned_appx_package(PyObject *module, PyObject *args)
{
    SessionString_fn fn =
        (SessionString_fn)require_export(module, X_RemoveProvisionedAppxPackage);
    return fn ? session_string_call(module, args, "OO&:remove_provisioned_appx_package", fn)
              : NULL;
}

/* ------------------------------------------------------------------------
 * Unattend, health, reserved storage
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(apply_unattend_doc,
"apply_unattend(session, path, single_session)\n--\n\nDismApplyUnattend.");

static PyObject *dism_apply_unattend(PyObject *module, PyObject *args)
{
    return session_path_flag_call(module, args, "OO&p:apply_unattend", DismApplyUnattend);
}

typedef struct {
    DismSession handle;
    BOOL scan;
    DismImageHealthState health;
} check_health_args;

static HRESULT run_check_health(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    check_health_args *a = call->args;
    return DismCheckImageHealth(a->handle, a->scan, cancel, cb, call, &a->health);
}

PyDoc_STRVAR(check_image_health_doc,
"check_image_health(session, scan, progress=None, cancel=None)\n--\n\n"
"DismCheckImageHealth: (success code, DismImageHealthState).");

static PyObject *dism_check_image_health(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "scan", "progress", "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    int scan;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Op|OO:check_image_health", kwlist, &session,
                                     &scan, &progress, &cancel))
        return NULL;
    check_health_args a = {0, scan, DismImageHealthy};
    PyObject *code = long_session_call(module, session, run_check_health, (session_args *)&a,
                                       progress, cancel);
    if (!code)
        return NULL;
    PyObject *r = Py_BuildValue("(Oi)", code, (int)a.health);
    Py_DECREF(code);
    return r;
}

typedef struct {
    DismSession handle;
    wide_array sources;
    BOOL limit_access;
} restore_health_args;

static HRESULT run_restore_health(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    restore_health_args *a = call->args;
    return DismRestoreImageHealth(a->handle, a->sources.items, a->sources.count, a->limit_access,
                                  cancel, cb, call);
}

PyDoc_STRVAR(restore_image_health_doc,
"restore_image_health(session, sources, limit_access, progress=None, cancel=None)\n--\n\n"
"DismRestoreImageHealth.");

static PyObject *dism_restore_image_health(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "sources", "limit_access", "progress", "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    restore_health_args a = {0};
    int limit_access;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&p|OO:restore_image_health", kwlist,
                                     &session, wide_array_converter, &a.sources, &limit_access,
                                     &progress, &cancel))
        return NULL;
    a.limit_access = limit_access;
    PyObject *r = long_session_call(module, session, run_restore_health, (session_args *)&a,
                                    progress, cancel);
    wide_array_free(&a.sources);
    return r;
}

PyDoc_STRVAR(get_reserved_storage_state_doc,
"get_reserved_storage_state(session)\n--\n\nDismGetReservedStorageState.");

static PyObject *dism_get_reserved_storage_state(PyObject *module, PyObject *session)
{
    GetReservedStorageState_fn fn =
        (GetReservedStorageState_fn)require_export(module, X_GetReservedStorageState);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    DWORD state = 0;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, &state));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(state);
}

PyDoc_STRVAR(set_reserved_storage_state_doc,
"set_reserved_storage_state(session, state)\n--\n\nDismSetReservedStorageState.");

static PyObject *dism_set_reserved_storage_state(PyObject *module, PyObject *args)
{
    PyObject *session;
    uint_arg state = {get_state(module), E_INVALIDARG, "DismSetReservedStorageState: State", 0};
    if (!PyArg_ParseTuple(args, "OO&:set_reserved_storage_state", &session, uint_converter,
                          &state))
        return NULL;
    SetReservedStorageState_fn fn =
        (SetReservedStorageState_fn)require_export(module, X_SetReservedStorageState);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, state.value));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return PyLong_FromLong((long)o.hr);
}

/* ------------------------------------------------------------------------
 * Edition and product key (undocumented exports)
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(get_current_edition_doc,
"get_current_edition(session)\n--\n\n_DismGetCurrentEdition.");

static PyObject *dism_get_current_edition(PyObject *module, PyObject *session)
{
    GetCurrentEdition_fn fn = (GetCurrentEdition_fn)require_export(module, X_GetCurrentEdition);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    DismString *edition = NULL;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, &edition));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(edition, edition ? string_value(edition) : Py_NewRef(Py_None));
}

PyDoc_STRVAR(get_target_editions_doc,
"get_target_editions(session)\n--\n\n_DismGetTargetEditions.");

static PyObject *dism_get_target_editions(PyObject *module, PyObject *session)
{
    GetTargetEditions_fn fn = (GetTargetEditions_fn)require_export(module, X_GetTargetEditions);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    DismString *items = NULL;
    UINT count = 0;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, &items, &count));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(items, LIST_OF(items, count, string_value));
}

typedef struct {
    DismSession handle;
    PCWSTR edition, key;
    SetEdition_fn fn;
} set_edition_args;

static HRESULT run_set_edition(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    set_edition_args *a = call->args;
    return a->fn(a->handle, a->edition, a->key, cancel, cb, call);
}

PyDoc_STRVAR(set_edition_doc,
"set_edition(session, edition, product_key=None, progress=None, cancel=None)\n--\n\n"
"_DismSetEdition.");

static PyObject *dism_set_edition(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "edition", "product_key", "progress", "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    wide_arg edition = {0}, key = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&|O&OO:set_edition", kwlist, &session,
                                     path_converter, &edition, optional_text_converter, &key,
                                     &progress, &cancel))
        return NULL;
    set_edition_args a = {0, edition.wide, key.wide, NULL};
    PyObject *r = NULL;
    if ((a.fn = (SetEdition_fn)require_export(module, X_SetEdition)))
        r = long_session_call(module, session, run_set_edition, (session_args *)&a, progress,
                              cancel);
    PyMem_Free(edition.wide);
    PyMem_Free(key.wide);
    return r;
}

PyDoc_STRVAR(set_product_key_doc, "set_product_key(session, key)\n--\n\n_DismSetProductKey.");

static PyObject *dism_set_product_key(PyObject *module, PyObject *args)
{
    SessionString_fn fn = (SessionString_fn)require_export(module, X_SetProductKey);
    return fn ? session_string_call(module, args, "OO&:set_product_key", fn) : NULL;
}

PyDoc_STRVAR(validate_product_key_doc,
"validate_product_key(session, key)\n--\n\n_DismValidateProductKey.");

static PyObject *dism_validate_product_key(PyObject *module, PyObject *args)
{
    SessionString_fn fn = (SessionString_fn)require_export(module, X_ValidateProductKey);
    return fn ? session_string_call(module, args, "OO&:validate_product_key", fn) : NULL;
}

PyDoc_STRVAR(get_product_key_info_doc,
"get_product_key_info(session, key)\n--\n\n_DismGetProductKeyInfo: (edition_id, channel).");

static PyObject *dism_get_product_key_info(PyObject *module, PyObject *args)
{
    PyObject *session;
    wide_arg key = {0};
    if (!PyArg_ParseTuple(args, "OO&:get_product_key_info", &session, path_converter, &key))
        return NULL;
    GetProductKeyInfo_fn fn = (GetProductKeyInfo_fn)require_export(module, X_GetProductKeyInfo);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    PyObject *result = NULL;
    if (s) {
        DismString *edition = NULL, *channel = NULL;
        outcome o = {0};
        WITHOUT_GIL(o, fn(s->handle, key.wide, &edition, &channel));
        session_unlock(s);
        if (check_outcome(module, &o) == 0)
            result = Py_BuildValue("(NN)", edition ? string_value(edition) : Py_NewRef(Py_None),
                                   channel ? string_value(channel) : Py_NewRef(Py_None));
        take_result(edition, NULL);
        take_result(channel, NULL);
    }
    PyMem_Free(key.wide);
    return result;
}

PyDoc_STRVAR(get_registry_mount_point_doc,
"get_registry_mount_point(session, hive)\n--\n\n"
"_DismGetRegistryMountPoint.  The portable engine answers with the hive file's path.");

static PyObject *dism_get_registry_mount_point(PyObject *module, PyObject *args)
{
    PyObject *session;
    int hive;
    if (!PyArg_ParseTuple(args, "Oi:get_registry_mount_point", &session, &hive))
        return NULL;
    GetRegistryMountPoint_fn fn =
        (GetRegistryMountPoint_fn)require_export(module, X_GetRegistryMountPoint);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    DismString *point = NULL;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, (DismRegistryHive)hive, &point));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(point, point ? string_value(point) : Py_NewRef(Py_None));
}

PyDoc_STRVAR(get_session_image_info_doc,
"get_session_image_info(session)\n--\n\n"
"_DismPortableGetSessionImageInfo: product, edition, version (UBR in sp_build) of the\n"
"image the session is open on.  Portable engine only.");

static PyObject *dism_get_session_image_info(PyObject *module, PyObject *session)
{
    GetSessionImageInfo_fn fn =
        (GetSessionImageInfo_fn)require_export(module, X_PortableGetSessionImageInfo);
    SessionObject *s = fn ? lock_session(module, session) : NULL;
    if (!s)
        return NULL;
    DismImageInfo *info = NULL;
    outcome o = {0};
    WITHOUT_GIL(o, fn(s->handle, &info));
    session_unlock(s);
    if (check_outcome(module, &o) < 0)
        return NULL;
    return take_result(info, image_info_dict(info));
}

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------ */

#define KW(name) (PyCFunction)(void (*)(void))dism_##name, METH_VARARGS | METH_KEYWORDS, name##_doc
#define POS(name) (PyCFunction)dism_##name, METH_VARARGS, name##_doc
#define ONE(name) (PyCFunction)dism_##name, METH_O, name##_doc

PyMethodDef servicing_methods[] = {
    {"get_packages", ONE(get_packages)},
    {"get_package_info", KW(get_package_info)},
    {"add_package", KW(add_package)},
    {"remove_package", KW(remove_package)},
    {"get_features", KW(get_features)},
    {"get_feature_info", KW(get_feature_info)},
    {"get_feature_parent", KW(get_feature_parent)},
    {"enable_feature", KW(enable_feature)},
    {"disable_feature", KW(disable_feature)},
    {"get_drivers", POS(get_drivers)},
    {"get_driver_info", POS(get_driver_info)},
    {"add_driver", POS(add_driver)},
    {"remove_driver", POS(remove_driver)},
    {"get_capabilities", ONE(get_capabilities)},
    {"get_capability_info", POS(get_capability_info)},
    {"add_capability", KW(add_capability)},
    {"remove_capability", KW(remove_capability)},
    {"add_language", KW(add_language)},
    {"remove_language", KW(remove_language)},
    {"get_provisioned_appx_packages", ONE(get_provisioned_appx_packages)},
    {"add_provisioned_appx_package", KW(add_provisioned_appx_package)},
    {"remove_provisioned_appx_package", POS(remove_provisioned_appx_package)},
    {"apply_unattend", POS(apply_unattend)},
    {"check_image_health", KW(check_image_health)},
    {"restore_image_health", KW(restore_image_health)},
    {"get_reserved_storage_state", ONE(get_reserved_storage_state)},
    {"set_reserved_storage_state", POS(set_reserved_storage_state)},
    {"get_current_edition", ONE(get_current_edition)},
    {"get_target_editions", ONE(get_target_editions)},
    {"set_edition", KW(set_edition)},
    {"set_product_key", POS(set_product_key)},
    {"validate_product_key", POS(validate_product_key)},
    {"get_product_key_info", POS(get_product_key_info)},
    {"get_registry_mount_point", POS(get_registry_mount_point)},
    {"get_session_image_info", ONE(get_session_image_info)},
    {"export_available", ONE(export_available)},
    {"_hide_export", POS(hide_export)},
    {NULL, NULL, 0, NULL},
};

int servicing_add_constants(PyObject *module)
{
    if (PyModule_AddIntConstant(module, "DISM_RESERVED_STORAGE_DISABLED",
                                DISM_RESERVED_STORAGE_DISABLED) < 0 ||
        PyModule_AddIntConstant(module, "DISM_RESERVED_STORAGE_ENABLED",
                                DISM_RESERVED_STORAGE_ENABLED) < 0)
        return -1;
    static const struct {
        const char *name;
        HRESULT value;
    } codes[] = {
        {"CBS_E_NOT_APPLICABLE", CBS_E_NOT_APPLICABLE},
        {"CBS_E_SOURCE_MISSING", CBS_E_SOURCE_MISSING},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        PyObject *v = PyLong_FromUnsignedLong((unsigned long)(unsigned)codes[i].value);
        if (!v || PyModule_AddObjectRef(module, codes[i].name, v) < 0) {
            Py_XDECREF(v);
            return -1;
        }
        Py_DECREF(v);
    }
    return 0;
}
