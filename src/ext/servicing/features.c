/*
 * features.c - Windows optional features: list, describe, parents, enable,
 * disable.
 */
#include "../ext.h"

#include <string.h>

typedef struct {
    package_id id;
    PCWSTR name; /* get_feature_info, get_feature_parent */
} feature_query;

QUERY_CALL(get_features, feature_query,
           DismGetFeatures(h, a->id.text.wide, a->id.type, (DismFeature **)&out->items,
                           &out->count))

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
    feature_query q = {{{0}}};
    if (package_id_from(identifier, by_path, &q.id) < 0)
        return NULL;
    query_result out = {&REC_FEATURE};
    PyObject *result = session_query(module, session, call_get_features, &q, &out, as_records);
    PyMem_Free(q.id.text.wide);
    return result;
}

/* get_feature_info and get_feature_parent take the same arguments and
 * differ in the call and the result. */
static PyObject *named_feature_query(PyObject *module, PyObject *args, PyObject *kwargs,
                                     const char *format, query_fn call, query_result *out,
                                     result_converter convert)
{
    static char *kwlist[] = {"session", "name", "identifier", "by_path", NULL};
    PyObject *session, *identifier = Py_None;
    wide_arg name = {0};
    int by_path = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, &session, path_converter,
                                     &name, &identifier, &by_path))
        return NULL;
    feature_query q = {{{0}}, name.wide};
    PyObject *result = NULL;
    if (package_id_from(identifier, by_path, &q.id) == 0) {
        result = session_query(module, session, call, &q, out, convert);
        PyMem_Free(q.id.text.wide);
    }
    PyMem_Free(name.wide);
    return result;
}

QUERY_CALL(get_feature_info, feature_query,
           DismGetFeatureInfo(h, a->name, a->id.text.wide, a->id.type,
                              (DismFeatureInfo **)&out->items))

PyDoc_STRVAR(get_feature_info_doc,
"get_feature_info(session, name, identifier=None, by_path=False)\n--\n\nDismGetFeatureInfo.");

static PyObject *dism_get_feature_info(PyObject *module, PyObject *args, PyObject *kwargs)
{
    query_result out = {&REC_FEATURE_INFO};
    return named_feature_query(module, args, kwargs, "OO&|Op:get_feature_info",
                               call_get_feature_info, &out, as_record);
}

QUERY_CALL(get_feature_parent, feature_query,
           DismGetFeatureParent(h, a->name, a->id.text.wide, a->id.type,
                                (DismFeature **)&out->items, &out->count))

PyDoc_STRVAR(get_feature_parent_doc,
"get_feature_parent(session, name, identifier=None, by_path=False)\n--\n\n"
"DismGetFeatureParent.");

static PyObject *dism_get_feature_parent(PyObject *module, PyObject *args, PyObject *kwargs)
{
    query_result out = {&REC_FEATURE};
    return named_feature_query(module, args, kwargs, "OO&|Op:get_feature_parent",
                               call_get_feature_parent, &out, as_records);
}

typedef struct {
    DismSession handle;
    PCWSTR names, identifier;
    DismPackageIdentifier type;
    BOOL limit_access, enable_all;
    wide_array sources;
} enable_feature_args;

LONG_OPERATION(enable_feature, enable_feature_args,
               DismEnableFeature(a->handle, a->names, a->identifier, a->type, a->limit_access,
                                 a->sources.items, a->sources.count, a->enable_all, cancel, cb,
                                 call))

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
        r = long_session_call(module, session, run_enable_feature, &a, progress, cancel);
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

LONG_OPERATION(disable_feature, disable_feature_args,
               DismDisableFeature(a->handle, a->names, a->package, a->remove_payload, cancel, cb,
                                  call))

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
    PyObject *r = long_session_call(module, session, run_disable_feature, &a, progress, cancel);
    PyMem_Free(names.wide);
    PyMem_Free(package.wide);
    return r;
}

PyMethodDef feature_methods[] = {
    KW_METHOD(get_features),
    KW_METHOD(get_feature_info),
    KW_METHOD(get_feature_parent),
    KW_METHOD(enable_feature),
    KW_METHOD(disable_feature),
    {NULL, NULL, 0, NULL},
};
