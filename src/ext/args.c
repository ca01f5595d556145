/*
 * args.c - argument converters: paths and text as wide strings, UINTs
 * checked against DISM's range, lists of paths, package identifiers.
 */
#include "ext.h"

#include <limits.h>

/* The limited API hides tp_name and has PyType_GetName only from 3.11, so
 * the name comes from the type's __name__. */
void raise_wrong_type(const char *expected, PyObject *obj)
{
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(obj), "__name__");
    if (!name)
        return;
    PyErr_Format(PyExc_TypeError, "expected %s, not %.100S", expected, name);
    Py_DECREF(name);
}

static int wide_from_object(PyObject *obj, wide_arg *out, int allow_none)
{
    out->wide = NULL;
    if (obj == Py_None && allow_none)
        return 1;
    PyObject *decoded = NULL;
    if (!PyUnicode_FSDecoder(obj, &decoded))
        return 0;
    out->wide = PyUnicode_AsWideCharString(decoded, NULL);
    Py_DECREF(decoded);
    return out->wide != NULL;
}

int path_converter(PyObject *obj, void *addr)
{
    if (!obj) { /* cleanup call */
        PyMem_Free(((wide_arg *)addr)->wide);
        return 1;
    }
    return wide_from_object(obj, addr, 0) ? Py_CLEANUP_SUPPORTED : 0;
}

int optional_path_converter(PyObject *obj, void *addr)
{
    if (!obj) {
        PyMem_Free(((wide_arg *)addr)->wide);
        return 1;
    }
    return wide_from_object(obj, addr, 1) ? Py_CLEANUP_SUPPORTED : 0;
}

int optional_text_converter(PyObject *obj, void *addr)
{
    if (!obj) {
        PyMem_Free(((wide_arg *)addr)->wide);
        return 1;
    }
    wide_arg *out = addr;
    out->wide = NULL;
    if (obj == Py_None)
        return Py_CLEANUP_SUPPORTED;
    if (!PyUnicode_Check(obj)) {
        raise_wrong_type("str or None", obj);
        return 0;
    }
    out->wide = PyUnicode_AsWideCharString(obj, NULL);
    return out->wide ? Py_CLEANUP_SUPPORTED : 0;
}

int uint_converter(PyObject *obj, void *addr)
{
    uint_arg *arg = addr;
    if (PyBool_Check(obj)) {
        raise_wrong_type("int", obj);
        return 0;
    }
    PyObject *number = PyNumber_Index(obj);
    if (!number)
        return 0;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(number, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(number);
        return 0;
    }
    if (overflow == 0 && v >= (long long)arg->min && v <= (long long)UINT_MAX) {
        Py_DECREF(number);
        arg->value = (unsigned)v;
        return 1;
    }
    raise_with_sentence(arg->st, arg->out_of_range,
                        PyUnicode_FromFormat("%s must be from %u to %u; %S is out of range",
                                             arg->name, arg->min, (unsigned)UINT_MAX, number));
    Py_DECREF(number);
    return 0;
}

int package_id_from(PyObject *identifier, int by_path, package_id *out)
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
void wide_array_free(wide_array *a)
{
    for (UINT i = 0; a->items && i < a->count; i++)
        PyMem_Free((void *)a->items[i]);
    PyMem_Free(a->items);
    a->items = NULL;
    a->count = 0;
}

int wide_array_converter(PyObject *obj, void *addr)
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
        wide_arg w = {0};
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
