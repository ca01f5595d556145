/*
 * health.c - the component store's health (check, restore), unattend
 * answer files, and reserved storage (optional exports).
 */
#include "../ext.h"

typedef HRESULT(WINAPI *GetReservedStorageState_fn)(DismSession, PDWORD);
typedef HRESULT(WINAPI *SetReservedStorageState_fn)(DismSession, DWORD);

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

LONG_OPERATION(check_health, check_health_args,
               DismCheckImageHealth(a->handle, a->scan, cancel, cb, call, &a->health))

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
    PyObject *code = long_session_call(module, session, run_check_health, &a, progress, cancel);
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

LONG_OPERATION(restore_health, restore_health_args,
               DismRestoreImageHealth(a->handle, a->sources.items, a->sources.count,
                                      a->limit_access, cancel, cb, call))

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
    PyObject *r = long_session_call(module, session, run_restore_health, &a, progress, cancel);
    wide_array_free(&a.sources);
    return r;
}

QUERY_CALL(get_reserved_storage, void,
           ((GetReservedStorageState_fn)out->export_fn)(h, &out->value))

PyDoc_STRVAR(get_reserved_storage_state_doc,
"get_reserved_storage_state(session)\n--\n\nDismGetReservedStorageState.");

static PyObject *dism_get_reserved_storage_state(PyObject *module, PyObject *session)
{
    query_result out = {0};
    return export_query(module, session, X_GetReservedStorageState, call_get_reserved_storage,
                        NULL, &out, as_value);
}

QUERY_CALL(set_reserved_storage, unsigned,
           ((SetReservedStorageState_fn)out->export_fn)(h, *a))

PyDoc_STRVAR(set_reserved_storage_state_doc,
"set_reserved_storage_state(session, state)\n--\n\nDismSetReservedStorageState.");

static PyObject *dism_set_reserved_storage_state(PyObject *module, PyObject *args)
{
    PyObject *session;
    uint_arg state = {get_state(module), E_INVALIDARG, "DismSetReservedStorageState: State", 0};
    if (!PyArg_ParseTuple(args, "OO&:set_reserved_storage_state", &session, uint_converter,
                          &state))
        return NULL;
    query_result out = {0};
    return export_query(module, session, X_SetReservedStorageState, call_set_reserved_storage,
                        &state.value, &out, as_code);
}

PyMethodDef health_methods[] = {
    POS_METHOD(apply_unattend),
    KW_METHOD(check_image_health),
    KW_METHOD(restore_image_health),
    ONE_METHOD(get_reserved_storage_state),
    POS_METHOD(set_reserved_storage_state),
    {NULL, NULL, 0, NULL},
};
