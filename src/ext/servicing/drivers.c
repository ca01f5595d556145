/*
 * drivers.c - driver packages (.inf): list, describe, add, remove.
 */
#include "../ext.h"

typedef struct {
    BOOL all;
    PCWSTR path;
} driver_args;

static HRESULT call_get_drivers(DismSession h, const void *args, query_result *out)
{
    const driver_args *a = args;
    return DismGetDrivers(h, a->all, (DismDriverPackage **)&out->items, &out->count);
}

PyDoc_STRVAR(get_drivers_doc, "get_drivers(session, all_drivers)\n--\n\nDismGetDrivers.");

static PyObject *dism_get_drivers(PyObject *module, PyObject *args)
{
    PyObject *session;
    int all;
    if (!PyArg_ParseTuple(args, "Op:get_drivers", &session, &all))
        return NULL;
    driver_args a = {all, NULL};
    query_result out = {&REC_DRIVER_PACKAGE};
    return session_query(module, session, call_get_drivers, &a, &out, as_records);
}

static HRESULT call_get_driver_info(DismSession h, const void *args, query_result *out)
{
    const driver_args *a = args;
    return DismGetDriverInfo(h, a->path, (DismDriver **)&out->items, &out->count,
                             (DismDriverPackage **)&out->extra);
}

/* (list of DismDriver tuples, DismDriverPackage tuple). */
static PyObject *drivers_and_package(const query_result *out)
{
    PyObject *list = record_list(&REC_DRIVER, out->items, out->count);
    PyObject *pkg = list ? record_tuple(&REC_DRIVER_PACKAGE, out->extra) : NULL;
    PyObject *result = pkg ? PyTuple_Pack(2, list, pkg) : NULL;
    Py_XDECREF(list);
    Py_XDECREF(pkg);
    return result;
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
    driver_args a = {0, path.wide};
    query_result out = {0};
    PyObject *result =
        session_query(module, session, call_get_driver_info, &a, &out, drivers_and_package);
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

PyMethodDef driver_methods[] = {
    POS_METHOD(get_drivers),
    POS_METHOD(get_driver_info),
    POS_METHOD(add_driver),
    POS_METHOD(remove_driver),
    {NULL, NULL, 0, NULL},
};
