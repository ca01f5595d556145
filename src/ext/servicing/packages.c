/*
 * packages.c - servicing packages (.cab/.msu): list, describe, add, remove.
 *
 * Each binding parses its arguments and makes one call: session_query()
 * for a short call, long_session_call() for a long one (session.c).
 */
#include "../ext.h"

typedef HRESULT(WINAPI *GetPackageInfoEx_fn)(DismSession, PCWSTR, DismPackageIdentifier,
                                             DismPackageInfoEx **);

static HRESULT call_get_packages(DismSession h, const void *args, query_result *out)
{
    return DismGetPackages(h, (DismPackage **)&out->items, &out->count);
}

PyDoc_STRVAR(get_packages_doc, "get_packages(session)\n--\n\nDismGetPackages.");

static PyObject *dism_get_packages(PyObject *module, PyObject *session)
{
    query_result out = {&REC_PACKAGE};
    return session_query(module, session, call_get_packages, NULL, &out, as_records);
}

typedef struct {
    package_id id;
    GetPackageInfoEx_fn get_ex; /* NULL: DismGetPackageInfo */
} package_info_args;

static HRESULT call_get_package_info(DismSession h, const void *args, query_result *out)
{
    const package_info_args *a = args;
    if (a->get_ex)
        return a->get_ex(h, a->id.text.wide, a->id.type, (DismPackageInfoEx **)&out->items);
    return DismGetPackageInfo(h, a->id.text.wide, a->id.type, (DismPackageInfo **)&out->items);
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
    package_info_args a = {{{0}}};
    if (ex && !(a.get_ex = (GetPackageInfoEx_fn)require_export(module, X_GetPackageInfoEx)))
        return NULL;
    if (package_id_from(identifier, by_path, &a.id) < 0)
        return NULL;
    query_result out = {ex ? &REC_PACKAGE_INFO_EX : &REC_PACKAGE_INFO};
    PyObject *result = session_query(module, session, call_get_package_info, &a, &out, as_record);
    PyMem_Free(a.id.text.wide);
    return result;
}

typedef struct {
    DismSession handle;
    PCWSTR path;
    BOOL ignore_check, prevent_pending;
} add_package_args;

LONG_OPERATION(add_package, add_package_args,
               DismAddPackage(a->handle, a->path, a->ignore_check, a->prevent_pending, cancel, cb,
                              call))

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
    PyObject *r = long_session_call(module, session, run_add_package, &a, progress, cancel);
    PyMem_Free(path.wide);
    return r;
}

typedef struct {
    DismSession handle;
    PCWSTR identifier;
    DismPackageIdentifier type;
} remove_package_args;

LONG_OPERATION(remove_package, remove_package_args,
               DismRemovePackage(a->handle, a->identifier, a->type, cancel, cb, call))

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
    PyObject *r = long_session_call(module, session, run_remove_package, &a, progress, cancel);
    PyMem_Free(id.text.wide);
    return r;
}

PyMethodDef package_methods[] = {
    ONE_METHOD(get_packages),
    KW_METHOD(get_package_info),
    KW_METHOD(add_package),
    KW_METHOD(remove_package),
    {NULL, NULL, 0, NULL},
};
