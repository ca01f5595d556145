/*
 * capabilities.c - capabilities (Features on Demand) and languages: list,
 * describe, add, remove.  All are optional exports (exports.c).
 */
#include "../ext.h"

typedef HRESULT(WINAPI *GetCapabilities_fn)(DismSession, DismCapability **, UINT *);
typedef HRESULT(WINAPI *GetCapabilityInfo_fn)(DismSession, PCWSTR, DismCapabilityInfo **);
typedef HRESULT(WINAPI *AddCapability_fn)(DismSession, PCWSTR, BOOL, PCWSTR *, UINT, HANDLE,
                                          DISM_PROGRESS_CALLBACK, PVOID);
typedef HRESULT(WINAPI *RemoveCapability_fn)(DismSession, PCWSTR, HANDLE, DISM_PROGRESS_CALLBACK,
                                             PVOID);
typedef HRESULT(WINAPI *AddLanguage_fn)(DismSession, PCWSTR, BOOL, BOOL, PCWSTR *, UINT, HANDLE,
                                        DISM_PROGRESS_CALLBACK, PVOID);

QUERY_CALL(get_capabilities, void,
           ((GetCapabilities_fn)out->export_fn)(h, (DismCapability **)&out->items, &out->count))

PyDoc_STRVAR(get_capabilities_doc, "get_capabilities(session)\n--\n\nDismGetCapabilities.");

static PyObject *dism_get_capabilities(PyObject *module, PyObject *session)
{
    query_result out = {&REC_CAPABILITY};
    return export_query(module, session, X_GetCapabilities, call_get_capabilities, NULL, &out,
                        as_records);
}

QUERY_CALL(get_capability_info, wchar_t,
           ((GetCapabilityInfo_fn)out->export_fn)(h, a, (DismCapabilityInfo **)&out->items))

PyDoc_STRVAR(get_capability_info_doc,
"get_capability_info(session, name)\n--\n\nDismGetCapabilityInfo.");

static PyObject *dism_get_capability_info(PyObject *module, PyObject *args)
{
    query_result out = {&REC_CAPABILITY_INFO};
    return text_query(module, args, "OO&:get_capability_info", X_GetCapabilityInfo,
                      call_get_capability_info, &out, as_record);
}

/* Capabilities and languages are added and removed the same way. */
typedef struct {
    DismSession handle;
    PCWSTR name;
    BOOL limit_access, prevent_pending;
    wide_array sources;
    any_function fn;
} add_named_args;

LONG_OPERATION(add_capability, add_named_args,
               ((AddCapability_fn)a->fn)(a->handle, a->name, a->limit_access, a->sources.items,
                                         a->sources.count, cancel, cb, call))

LONG_OPERATION(add_language, add_named_args,
               ((AddLanguage_fn)a->fn)(a->handle, a->name, a->prevent_pending, a->limit_access,
                                       a->sources.items, a->sources.count, cancel, cb, call))

/* DismRemoveCapability and DismRemoveLanguage share a signature. */
LONG_OPERATION(remove_named, add_named_args,
               ((RemoveCapability_fn)a->fn)(a->handle, a->name, cancel, cb, call))

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
        r = long_session_call(module, session, run_add_capability, &a, progress, cancel);
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
        r = long_session_call(module, session, run_add_language, &a, progress, cancel);
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
        r = long_session_call(module, session, run_remove_named, &a, progress, cancel);
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

PyMethodDef capability_methods[] = {
    ONE_METHOD(get_capabilities),
    POS_METHOD(get_capability_info),
    KW_METHOD(add_capability),
    KW_METHOD(remove_capability),
    KW_METHOD(add_language),
    KW_METHOD(remove_language),
    {NULL, NULL, 0, NULL},
};
