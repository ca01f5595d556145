/*
 * drivers.c - driver packages (.inf): list, describe, add, remove.
 */
#include "../ext.h"

QUERY_CALL(get_drivers, int, DismGetDrivers(h, *a, (DismDriverPackage **)&out->items, &out->count))

PyDoc_STRVAR(get_drivers_doc, "get_drivers(session, all_drivers)\n--\n\nDismGetDrivers.");

static PyObject *dism_get_drivers(PyObject *module, PyObject *args)
{
    PyObject *session;
    int all;
    if (!PyArg_ParseTuple(args, "Op:get_drivers", &session, &all))
        return NULL;
    query_result out = {&REC_DRIVER_PACKAGE};
    return session_query(module, session, call_get_drivers, &all, &out, as_records);
}

QUERY_CALL(get_driver_info, wchar_t,
           DismGetDriverInfo(h, a, (DismDriver **)&out->items, &out->count,
                             (DismDriverPackage **)&out->extra))

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
    query_result out = {0};
    return text_query(module, args, "OO&:get_driver_info", NO_EXPORT, call_get_driver_info, &out,
                      drivers_and_package);
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
