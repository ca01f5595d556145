/*
 * module.c - the CPython extension dism._dism over the DISM API: module
 * init, slots, the method and constant tables, module state.
 *
 * The same sources build on Windows (against DismApi.dll) and elsewhere
 * (against the portable engine in src/engine/): both speak dismapi.h.
 *
 * The layer is deliberately thin.  It converts arguments, releases the GIL
 * around every DISM call, turns HRESULTs into exception classes and copies
 * results into plain tuples and lists before handing them back to
 * DismDelete; the dism package builds the typed objects.  What each file
 * does is listed in ext.h.
 */
#include "ext.h"
#include "imaging/imaging.h"

/* Every table of functions, from the files that implement them. */
static PyMethodDef *const method_tables[] = {
    image_methods, session_module_methods, export_methods, package_methods, feature_methods,
    driver_methods, capability_methods, appx_methods, edition_methods, health_methods,
    wim_call_methods, wim_operation_methods,
#ifdef _WIN32
    dll_choice_methods,
#endif
};

/* Adds obj (a new reference, or NULL after an error) and drops the reference. */
static int add_owned(PyObject *module, const char *name, PyObject *obj)
{
    if (!obj)
        return -1;
    int rc = PyModule_AddObjectRef(module, name, obj);
    Py_DECREF(obj);
    return rc;
}

static int add_constants(PyObject *module)
{
#define ADD(name) if (PyModule_AddIntConstant(module, #name, (long)(name)) < 0) return -1
#define ADD_U(name) \
    if (add_owned(module, #name, PyLong_FromUnsignedLong((unsigned long)(unsigned)(name))) < 0) \
        return -1
    ADD(DISM_SESSION_DEFAULT);
    ADD(DISM_MOUNT_READWRITE);
    ADD(DISM_MOUNT_READONLY);
    ADD(DISM_MOUNT_OPTIMIZE);
    ADD(DISM_MOUNT_CHECK_INTEGRITY);
    ADD(DISM_MOUNT_SUPPORT_EA);
    ADD(DISM_COMMIT_IMAGE);
    ADD(DISM_DISCARD_IMAGE);
    ADD(DISM_COMMIT_GENERATE_INTEGRITY);
    ADD(DISM_COMMIT_APPEND);
    ADD(DISM_COMMIT_SUPPORT_EA);
    ADD_U(DISM_COMMIT_MASK);
    ADD(DISMAPI_S_RELOAD_IMAGE_SESSION_REQUIRED);
    ADD(DISM_RESERVED_STORAGE_DISABLED);
    ADD(DISM_RESERVED_STORAGE_ENABLED);
    ADD_U(DISMAPI_E_DISMAPI_NOT_INITIALIZED);
    ADD_U(DISMAPI_E_SHUTDOWN_IN_PROGRESS);
    ADD_U(DISMAPI_E_OPEN_SESSION_HANDLES);
    ADD_U(DISMAPI_E_INVALID_DISM_SESSION);
    ADD_U(DISMAPI_E_INVALID_IMAGE_INDEX);
    ADD_U(DISMAPI_E_INVALID_IMAGE_NAME);
    ADD_U(DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH);
    ADD_U(DISMAPI_E_LOGGING_DISABLED);
    ADD_U(DISMAPI_E_OPEN_HANDLES_UNABLE_TO_UNMOUNT_IMAGE_PATH);
    ADD_U(DISMAPI_E_OPEN_HANDLES_UNABLE_TO_MOUNT_IMAGE_PATH);
    ADD_U(DISMAPI_E_OPEN_HANDLES_UNABLE_TO_REMOUNT_IMAGE_PATH);
    ADD_U(DISMAPI_E_PARENT_FEATURE_DISABLED);
    ADD_U(DISMAPI_E_MUST_SPECIFY_ONLINE_IMAGE);
    ADD_U(DISMAPI_E_INVALID_PRODUCT_KEY);
    ADD_U(DISMAPI_E_MUST_SPECIFY_INDEX_OR_NAME);
    ADD_U(DISMAPI_E_NEEDS_REMOUNT);
    ADD_U(DISMAPI_E_UNKNOWN_FEATURE);
    ADD_U(DISMAPI_E_BUSY);
    ADD_U(CBS_E_NOT_APPLICABLE);
    ADD_U(CBS_E_SOURCE_MISSING);
#undef ADD
#undef ADD_U
    if (add_owned(module, "RECORD_FIELDS", record_fields_dict()) < 0)
        return -1;
    return add_owned(module, "DISM_ONLINE_IMAGE", PyUnicode_FromWideChar(DISM_ONLINE_IMAGE, -1));
}

/* The interpreter that owns DISM in this process, or -1.  DISM's state
 * (DismInitialize, sessions, mounts) is per process, and before 3.12 the
 * limited API cannot declare the module single-interpreter, so a second
 * interpreter is refused here instead.  Modules load under the GIL. */
static int64_t owner_interpreter = -1;

static int claim_process(void)
{
    int64_t me = PyInterpreterState_GetID(PyInterpreterState_Get());
    if (me < 0)
        return -1;
    if (owner_interpreter >= 0 && owner_interpreter != me) {
        PyErr_SetString(PyExc_ImportError,
                        "dism._dism is already loaded by another interpreter of this process; "
                        "DISM's state is per process, so use dism from one interpreter");
        return -1;
    }
    owner_interpreter = me;
    return 0;
}

static int dism_exec(PyObject *module)
{
    if (claim_process() < 0)
        return -1;
    module_state *st = get_state(module);
    st->session_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &session_spec, NULL);
    if (!st->session_type || PyModule_AddType(module, st->session_type) < 0)
        return -1;
    st->wim_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &wim_handle_spec, NULL);
    if (!st->wim_type || PyModule_AddType(module, st->wim_type) < 0)
        return -1;
    if (add_error_classes(module, st) < 0 || add_constants(module) < 0 ||
        add_wim_constants(module) < 0)
        return -1;
    for (size_t i = 0; i < sizeof method_tables / sizeof method_tables[0]; i++)
        if (PyModule_AddFunctions(module, method_tables[i]) < 0)
            return -1;
#ifdef _WIN32
    return PyModule_AddStringConstant(module, "BACKEND", "DismApi.dll");
#else
    return PyModule_AddStringConstant(module, "BACKEND", "portable");
#endif
}

static int dism_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = get_state(module);
    for (int i = 0; i < ERR_COUNT; i++)
        Py_VISIT(st->errors[i]);
    Py_VISIT(st->session_type);
    Py_VISIT(st->wim_type);
    return 0;
}

static int dism_clear(PyObject *module)
{
    module_state *st = get_state(module);
    for (int i = 0; i < ERR_COUNT; i++)
        Py_CLEAR(st->errors[i]);
    Py_CLEAR(st->session_type);
    Py_CLEAR(st->wim_type);
    return 0;
}

static void dism_free(void *module) { dism_clear((PyObject *)module); }

static PyModuleDef_Slot dism_slots[] = {
    {Py_mod_exec, dism_exec},
#ifdef Py_mod_multiple_interpreters
    /* DISM state is per process (DismInitialize), so one interpreter only.
     * The abi3 build (limited API 3.10) lacks this slot; claim_process()
     * refuses a second interpreter in every build. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef dism_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "dism._dism",
    .m_doc = "Low-level binding of the DISM API.  Use the dism package instead.",
    .m_size = sizeof(module_state),
    .m_slots = dism_slots,
    .m_traverse = dism_traverse,
    .m_clear = dism_clear,
    .m_free = dism_free,
};

PyMODINIT_FUNC PyInit__dism(void) { return PyModuleDef_Init(&dism_module); }
