/*
 * errors.c - the one error table of the extension.
 *
 * Each row, as in APSW's error table, names the HRESULTs of one family, its
 * exception class, the class it derives from (DismError unless said), a
 * builtin class that also fits (so `except LookupError` works), and the
 * class's doc.  The classes the module exports and class_for() are both
 * built from it, so a new family is one row.
 */
#include "ext.h"

#include <string.h>

#define MAX_CODES 6

/* A builtin class a family also derives from.  (An enum, not the PyExc_*
 * pointers: on Windows those live in python3.dll, and the address of an
 * imported variable is no constant a static table can hold.) */
enum builtin_base { NO_BUILTIN, OS_ERROR, FILE_NOT_FOUND_ERROR, LOOKUP_ERROR };

static PyObject *builtin_class(enum builtin_base b)
{
    switch (b) {
    case OS_ERROR: return PyExc_OSError;
    case FILE_NOT_FOUND_ERROR: return PyExc_FileNotFoundError;
    case LOOKUP_ERROR: return PyExc_LookupError;
    default: return NULL;
    }
}

static const struct error_row {
    const char *name;
    enum error_class parent;
    enum builtin_base builtin; /* a second base, or NO_BUILTIN */
    const char *doc;
    unsigned codes[MAX_CODES]; /* the HRESULTs of the family; 0 ends the list */
} error_table[ERR_COUNT] = {
    [ERR_BASE] = {"DismError", ERR_BASE, OS_ERROR,
                  "A DISM API call failed. `hresult` holds DISM's code."},
    [ERR_NOT_INITIALIZED] = {"NotInitializedError", ERR_BASE, NO_BUILTIN,
                             "The DISM API is not initialized.",
                             {(unsigned)DISMAPI_E_DISMAPI_NOT_INITIALIZED}},
    [ERR_OPEN_SESSIONS] = {"OpenSessionsError", ERR_BASE, NO_BUILTIN,
                           "Sessions are still open on what the call wants to release.",
                           {(unsigned)DISMAPI_E_OPEN_SESSION_HANDLES,
                            (unsigned)DISMAPI_E_OPEN_HANDLES_UNABLE_TO_UNMOUNT_IMAGE_PATH,
                            (unsigned)DISMAPI_E_OPEN_HANDLES_UNABLE_TO_MOUNT_IMAGE_PATH,
                            (unsigned)DISMAPI_E_OPEN_HANDLES_UNABLE_TO_REMOUNT_IMAGE_PATH}},
    [ERR_INVALID_SESSION] = {"InvalidSessionError", ERR_BASE, NO_BUILTIN,
                             "The session is closed or unknown.",
                             {(unsigned)DISMAPI_E_INVALID_DISM_SESSION}},
    [ERR_INVALID_IMAGE_INDEX] = {"InvalidImageIndexError", ERR_BASE, NO_BUILTIN,
                                 "No image has that index.",
                                 {(unsigned)DISMAPI_E_INVALID_IMAGE_INDEX}},
    [ERR_INVALID_IMAGE_NAME] = {"InvalidImageNameError", ERR_BASE, NO_BUILTIN,
                                "No image has that name.",
                                {(unsigned)DISMAPI_E_INVALID_IMAGE_NAME,
                                 (unsigned)DISMAPI_E_MUST_SPECIFY_INDEX_OR_NAME}},
    [ERR_MOUNT_PATH] = {"MountPathError", ERR_BASE, NO_BUILTIN, "Nothing is mounted at that path.",
                        {(unsigned)DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH}},
    [ERR_NEEDS_REMOUNT] = {"NeedsRemountError", ERR_BASE, NO_BUILTIN,
                           "The mount must be remounted first.",
                           {(unsigned)DISMAPI_E_NEEDS_REMOUNT}},
    /* DISM reports cancellation in several spellings (fact sheet 5.4). */
    [ERR_CANCELLED] = {"CancelledError", ERR_BASE, NO_BUILTIN, "The operation was cancelled.",
                       {0x000004C7u, 0x000004D3u, 0x800704C7u, 0x800704D3u, 0x80004004u}},
    [ERR_ELEVATION_REQUIRED] = {"ElevationRequiredError", ERR_BASE, NO_BUILTIN,
                                "The operation needs rights the process does not have.",
                                {0x800702E4u}},
    [ERR_NOT_SUPPORTED] = {"NotSupportedError", ERR_BASE, NO_BUILTIN,
                           "The operation is not supported on this platform or image.",
                           {0x80070032u}},
    /* E_NOTIMPL: DismApi.dll builds answer it for functions they stub out;
     * the portable engine implements or refuses (NotSupported) every one. */
    [ERR_NOT_IMPLEMENTED] = {"NotImplementedByEngineError", ERR_BASE, NO_BUILTIN,
                             "This DISM build does not implement the function (E_NOTIMPL).",
                             {0x80004001u}},
    [ERR_INVALID_ARGUMENT] = {"InvalidArgumentError", ERR_BASE, NO_BUILTIN,
                              "An argument was rejected by DISM.", {0x80070057u}},
    [ERR_BUSY] = {"BusyError", ERR_BASE, NO_BUILTIN, "The image or servicing stack is busy.",
                  {(unsigned)DISMAPI_E_BUSY, 0x800700AAu, 0x80070020u}},
    [ERR_PATH_NOT_FOUND] = {"PathNotFoundError", ERR_BASE, FILE_NOT_FOUND_ERROR,
                            "A file or directory DISM needs does not exist.",
                            {0x80070002u, 0x80070003u}},
    [ERR_NOT_FOUND] = {"NotFoundError", ERR_BASE, LOOKUP_ERROR,
                       "The image holds no package, driver or app by that name.",
                       {0x80070490u}},
    [ERR_UNKNOWN_FEATURE] = {"UnknownFeatureError", ERR_BASE, LOOKUP_ERROR,
                             "The image has no feature by that name.",
                             {(unsigned)DISMAPI_E_UNKNOWN_FEATURE}},
    [ERR_PARENT_FEATURE_DISABLED] = {"ParentFeatureDisabledError", ERR_BASE, NO_BUILTIN,
                                     "A parent feature must be enabled first (or enable_all).",
                                     {(unsigned)DISMAPI_E_PARENT_FEATURE_DISABLED}},
    [ERR_NOT_APPLICABLE] = {"NotApplicableError", ERR_BASE, NO_BUILTIN,
                            "The package or capability does not apply to this image.",
                            {(unsigned)CBS_E_NOT_APPLICABLE}},
    [ERR_INVALID_PRODUCT_KEY] = {"InvalidProductKeyError", ERR_BASE, NO_BUILTIN,
                                 "The product key is not valid.",
                                 {(unsigned)DISMAPI_E_INVALID_PRODUCT_KEY, 0x80070645u}},
    [ERR_EXPORT_NOT_AVAILABLE] = {"ExportNotAvailableError", ERR_NOT_SUPPORTED, NO_BUILTIN,
                                  "The loaded DISM version lacks this function.",
                                  {(unsigned)HR_EXPORT_NOT_AVAILABLE}},
};

/* The HRESULTs the dism package uses, exported so it never retypes them. */
static const struct {
    const char *name;
    HRESULT value;
} hresult_exports[] = {
    {"E_FAIL", E_FAIL},
    {"E_INVALIDARG", E_INVALIDARG},
    {"E_NOTIMPL", E_NOTIMPL},
    {"HR_FILE_NOT_FOUND", HR_WIN32(ERROR_FILE_NOT_FOUND)},
    {"HR_CANCELLED", HR_CANCELLED},
    {"HR_INVALID_STATE", HR_WIN32(5023)}, /* ERROR_INVALID_STATE */
    {"HR_MOD_NOT_FOUND", HR_WIN32(126)},  /* ERROR_MOD_NOT_FOUND */
    {"HR_NOT_SUPPORTED", HR_WIN32(ERROR_NOT_SUPPORTED)},
};

enum error_class class_for(HRESULT hr)
{
    for (int c = ERR_BASE + 1; c < ERR_COUNT; c++)
        for (int i = 0; i < MAX_CODES && error_table[c].codes[i]; i++)
            if (error_table[c].codes[i] == (unsigned)hr)
                return (enum error_class)c;
    return ERR_BASE;
}

/* The class of row c, derived from its parent (already made: parents come
 * first in the table) and its builtin base. */
static PyObject *new_error_class(module_state *st, int c)
{
    char qualified[128];
    PyOS_snprintf(qualified, sizeof qualified, "dism._dism.%s", error_table[c].name);
    PyObject *builtin = builtin_class(error_table[c].builtin);
    PyObject *bases;
    if (c == ERR_BASE)
        bases = Py_NewRef(builtin);
    else if (builtin)
        bases = PyTuple_Pack(2, st->errors[error_table[c].parent], builtin);
    else
        bases = Py_NewRef(st->errors[error_table[c].parent]);
    if (!bases)
        return NULL;
    PyObject *cls = PyErr_NewExceptionWithDoc(qualified, error_table[c].doc, bases, NULL);
    Py_DECREF(bases);
    return cls;
}

static int add_hresult_exports(PyObject *module)
{
    for (size_t i = 0; i < sizeof hresult_exports / sizeof hresult_exports[0]; i++) {
        PyObject *v = PyLong_FromUnsignedLong((unsigned long)(unsigned)hresult_exports[i].value);
        if (!v || PyModule_AddObjectRef(module, hresult_exports[i].name, v) < 0) {
            Py_XDECREF(v);
            return -1;
        }
        Py_DECREF(v);
    }
    return 0;
}

int add_error_classes(PyObject *module, module_state *st)
{
    for (int c = ERR_BASE; c < ERR_COUNT; c++) {
        st->errors[c] = new_error_class(st, c);
        if (!st->errors[c] || PyModule_AddObjectRef(module, error_table[c].name, st->errors[c]) < 0)
            return -1;
    }
    return add_hresult_exports(module);
}

/* Builds the exception with .hresult (unsigned, as DISM prints it) and the
 * engine's sentence; the code is part of str() so logs keep it. */
PyObject *make_error(module_state *st, HRESULT hr, PyObject *message)
{
    unsigned code = (unsigned)hr;
    char hex[16];
    PyOS_snprintf(hex, sizeof hex, "0x%08X", code);
    PyObject *text;
    if (message && PyUnicode_GetLength(message) > 0)
        text = PyUnicode_FromFormat("[%s] %U", hex, message);
    else
        text = PyUnicode_FromFormat("[%s] DISM call failed", hex);
    if (!text)
        return NULL;
    PyObject *cls = st->errors[class_for(hr)];
    PyObject *exc = PyObject_CallFunctionObjArgs(cls, text, NULL);
    Py_DECREF(text);
    if (!exc)
        return NULL;
    PyObject *value = PyLong_FromUnsignedLong(code);
    if (!value || PyObject_SetAttrString(exc, "hresult", value) < 0 ||
        PyObject_SetAttrString(exc, "message", message ? message : Py_None) < 0) {
        Py_XDECREF(value);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(value);
    return exc;
}

/* A malloc'd copy, or NULL when out of memory (messages are optional).  It
 * may run without the GIL, and PyMem_RawMalloc is not in the limited API
 * before 3.13: plain malloc, released with free(). */
wchar_t *wide_copy(const wchar_t *text)
{
    size_t size = (wcslen(text) + 1) * sizeof(wchar_t);
    wchar_t *copy = malloc(size);
    if (copy)
        memcpy(copy, text, size);
    return copy;
}

void capture_last_error(captured_message *out)
{
    out->text = NULL;
    DismString *msg = NULL;
    if (DismGetLastErrorMessage(&msg) != S_OK || !msg)
        return;
    if (msg->Value)
        out->text = wide_copy(msg->Value);
    DismDelete(msg);
}

static void set_error(PyObject *exc)
{
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
}

PyObject *raise_dism_error(module_state *st, HRESULT hr, captured_message *msg)
{
    PyObject *message = NULL;
    if (msg->text) {
        message = PyUnicode_FromWideChar(msg->text, -1);
        free(msg->text);
        msg->text = NULL;
        if (!message)
            PyErr_Clear();
    }
    set_error(make_error(st, hr, message));
    Py_XDECREF(message);
    return NULL;
}

void raise_with_sentence(module_state *st, HRESULT hr, PyObject *sentence)
{
    PyObject *exc = sentence ? make_error(st, hr, sentence) : NULL;
    Py_XDECREF(sentence);
    set_error(exc);
}
