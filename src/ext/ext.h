/*
 * ext.h - the one header of the CPython extension (dism._dism): what each
 * file of src/ext/ offers the others.  module.c includes it and nothing
 * includes module.c.
 *
 *   module.c          init, slots, method and constant tables, module state
 *   errors.c          the one error table: exception classes, HRESULT -> class,
 *                     raising a DISM error; the HRESULT constants it exports
 *   args.c            argument converters (paths, text, UINTs, path lists,
 *                     package identifiers)
 *   long_call.c       the GIL-free long call: worker thread, progress
 *                     trampoline, cancel rules, outcome of a call
 *   convert.c         results: per-record field tables, one generic converter
 *   session.c         the Session type, its lock, session_query()
 *   image.c           initialize/shutdown, image info, mount/unmount/remount
 *   exports.c         optional DISM exports looked up at run time
 *   dll_choice.c      (Windows) the Python face of src/windows/library.c
 *   servicing/        the servicing bindings, one file per family
 *   imaging/          the WIMGAPI binding (WimHandle, wim_* functions, WIM_*
 *                     constants); imaging/imaging.h says what it offers
 *
 * Data flows one way: Python arguments -> args.c -> a DISM call made without
 * the GIL (session.c, long_call.c) -> errors.c or convert.c -> tuples and
 * lists the dism package turns into its dataclasses (dism/types.py).
 */
#ifndef DISM_EXT_H
#define DISM_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#ifdef _WIN32
#  include <windows.h>
#endif
#include "dismapi.h"

/* The HRESULT of a DISM function the loaded DismApi.dll does not export. */
#define HR_EXPORT_NOT_AVAILABLE ((HRESULT)0x8007007FL) /* ERROR_PROC_NOT_FOUND */
#define HR_WIN32(code) ((HRESULT)(0x80070000u | (code)))
#define HR_CANCELLED HR_WIN32(1223) /* ERROR_CANCELLED */

/* ------------------------------------------------------------------------
 * errors.c
 * ------------------------------------------------------------------------ */

/* One exception class per family of HRESULTs that callers want to catch;
 * the rows of the table in errors.c, in this order. */
enum error_class {
    ERR_BASE,
    ERR_NOT_INITIALIZED,
    ERR_OPEN_SESSIONS,
    ERR_INVALID_SESSION,
    ERR_INVALID_IMAGE_INDEX,
    ERR_INVALID_IMAGE_NAME,
    ERR_MOUNT_PATH,
    ERR_NEEDS_REMOUNT,
    ERR_CANCELLED,
    ERR_ELEVATION_REQUIRED,
    ERR_NOT_SUPPORTED,
    ERR_NOT_IMPLEMENTED,
    ERR_INVALID_ARGUMENT,
    ERR_BUSY,
    ERR_PATH_NOT_FOUND,
    ERR_NOT_FOUND,
    ERR_UNKNOWN_FEATURE,
    ERR_PARENT_FEATURE_DISABLED,
    ERR_NOT_APPLICABLE,
    ERR_INVALID_PRODUCT_KEY,
    ERR_EXPORT_NOT_AVAILABLE,
    ERR_COUNT
};

typedef struct {
    PyObject *errors[ERR_COUNT];
    PyTypeObject *session_type;
    PyTypeObject *wim_type; /* imaging/: WimHandle */
} module_state;

static inline module_state *get_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

/* DismGetLastErrorMessage's text, read on the thread that made the failing
 * call (it is per thread). */
typedef struct {
    wchar_t *text; /* malloc'd, so it can be taken without the GIL */
} captured_message;

enum error_class class_for(HRESULT hr);
/* Creates the classes of the table into st->errors and adds them, and the
 * HRESULT constants the Python layer needs, to the module. */
int add_error_classes(PyObject *module, module_state *st);
PyObject *make_error(module_state *st, HRESULT hr, PyObject *message);
void capture_last_error(captured_message *out);
/* Raises the DISM error for hr with the captured message; returns NULL. */
PyObject *raise_dism_error(module_state *st, HRESULT hr, captured_message *msg);
/* Raises the DISM error `hr` with `sentence` (a new reference, consumed). */
void raise_with_sentence(module_state *st, HRESULT hr, PyObject *sentence);
/* A malloc'd copy (NULL when out of memory); safe without the GIL. */
wchar_t *wide_copy(const wchar_t *text);

/* ------------------------------------------------------------------------
 * args.c: converters for PyArg_Parse "O&" (cleanup supported)
 * ------------------------------------------------------------------------ */

/* Sets TypeError "expected <expected>, not <type of obj>". */
void raise_wrong_type(const char *expected, PyObject *obj);

/* A path argument: str or os.PathLike, kept as a wide string. */
typedef struct {
    wchar_t *wide; /* NULL when the argument was None and allowed to be */
} wide_arg;

int path_converter(PyObject *obj, void *addr);
int optional_path_converter(PyObject *obj, void *addr);
int optional_text_converter(PyObject *obj, void *addr);

/* A UINT argument.  "I" would wrap 2**32 + 2 to 2, so every UINT goes
 * through uint_converter instead, which refuses a value outside [min,
 * UINT_MAX] with DISM's own error for that argument.  The caller fills in
 * everything but `value` before parsing. */
typedef struct {
    module_state *st;
    HRESULT out_of_range; /* E_INVALIDARG, or DISMAPI_E_INVALID_IMAGE_INDEX for an index */
    const char *name;     /* the DISM parameter, for the sentence */
    unsigned min;
    unsigned value;
} uint_arg;
int uint_converter(PyObject *obj, void *addr);

/* A sequence of str / PathLike -> an array of wide strings. */
typedef struct {
    PCWSTR *items;
    UINT count;
} wide_array;
int wide_array_converter(PyObject *obj, void *addr);
void wide_array_free(wide_array *a);

/* identifier (str, PathLike or None) + by_path -> DISM's pair. */
typedef struct {
    wide_arg text;
    DismPackageIdentifier type;
} package_id;
int package_id_from(PyObject *identifier, int by_path, package_id *out);

/* ------------------------------------------------------------------------
 * long_call.c: long operations (progress, Ctrl+C, cancel token)
 * ------------------------------------------------------------------------ */

typedef struct long_call long_call;
typedef HRESULT (*dism_operation)(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb);

struct long_call {
    dism_operation operation;
    void *args;
    PyObject *progress;     /* callable(current, total) or NULL */
    PyObject *cancel_token; /* object with is_set() or NULL */
    HANDLE cancel_event;
    PyThread_type_lock done;
    HRESULT hr;
    captured_message message;
    PyObject *exc_type, *exc_value, *exc_tb; /* the first exception to win */
    int cancel_requested; /* the token was set, or a callback or signal raised */
    /* What "it completed" means for this operation (a commit saved, a
     * discard discarded); set by the call; NULL: "the image was changed". */
    const char *completed_sentence;
    /* What "it stopped" means when that is not "nothing was saved" (an
     * apply leaves the files written so far); NULL: nothing was saved. */
    const char *stopped_sentence;
    /* Set by an operation that reads its own failure's message (WIMGAPI:
     * GetLastError), so that DISM's last-error message is not read. */
    int captures_own_error;
};

/* Prepares `call` to run op(args) with these progress and cancel arguments
 * (checked here); then run it. */
int prepare_long_call(long_call *call, dism_operation op, void *args, PyObject *progress,
                      PyObject *cancel);
PyObject *run_long_call(module_state *st, long_call *call);

/* Defines run_<name>, a long call's operation: `expr` calls DISM with the
 * arguments struct `a` (of args_type), the CancelEvent `cancel`, the
 * progress callback `cb` and the call as its user data. */
#define LONG_OPERATION(name, args_type, expr)                                                  \
    static HRESULT run_##name(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)       \
    {                                                                                          \
        args_type *a = call->args;                                                             \
        return (expr);                                                                         \
    }
/* The completed_sentence of an unmount or commit with these DISM flags. */
const char *saved_or_discarded(UINT flags);
/* Runs fn(call, arg) as the caller's code from a callback of the running
 * operation, on any thread, the GIL held: an exception is kept (the first
 * wins) and cancels the call, then the cancel token is polled.  Returns
 * fn's result (a new reference) or NULL. */
PyObject *long_call_callback(long_call *call, PyObject *(*fn)(long_call *, void *), void *arg);
/* Takes `lock` (waiting without the GIL), the lock of an object whose
 * running long call, if any, is `active`.  From a callback (progress,
 * message, cancel token, signal handler) of that call, which would wait for
 * itself, it raises `busy` with busy_sentence instead: 0, or -1 raised. */
int lock_outside_callback(module_state *st, PyThread_type_lock lock, const long_call *active,
                          HRESULT busy, const char *busy_sentence);

/* ------------------------------------------------------------------------
 * convert.c: results
 * ------------------------------------------------------------------------ */

/* A DISM record described field by field, in the order of the tuple the
 * extension returns for it (the order of its dataclass in dism/types.py). */
typedef struct record_type record_type;

extern const record_type REC_IMAGE_INFO, REC_MOUNTED_IMAGE, REC_PACKAGE, REC_PACKAGE_INFO,
    REC_PACKAGE_INFO_EX, REC_FEATURE, REC_FEATURE_INFO, REC_CAPABILITY, REC_CAPABILITY_INFO,
    REC_DRIVER_PACKAGE, REC_DRIVER, REC_APPX_PACKAGE, REC_CUSTOM_PROPERTY;

PyObject *record_tuple(const record_type *type, const void *item);
/* A list of record_tuple for each of `count` items of a DISM result array. */
PyObject *record_list(const record_type *type, const void *items, UINT count);
PyObject *wide_or_none(PCWSTR s);
/* A DismString's text, or None for a NULL DismString. */
PyObject *string_or_none(const DismString *s);
PyObject *string_list(const DismString *items, UINT count);
/* {"DismPackage": ("PackageName", ...), ...}: the fields of each record. */
PyObject *record_fields_dict(void);

/* ------------------------------------------------------------------------
 * exports.c: the optional DISM exports, by id
 * ------------------------------------------------------------------------ */

typedef void (*any_function)(void);
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
    X_PortableOpenImageFileSession,
    X_COUNT
};
#define NO_EXPORT X_COUNT /* a call to a function every DismApi.dll has */

/* ------------------------------------------------------------------------
 * session.c
 * ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    DismSession handle;
    int open;
    PyThread_type_lock lock;
    long_call *active_call; /* the long call holding the lock, if any */
    PyObject *module; /* keeps the module state alive for the methods */
} SessionObject;

extern PyType_Spec session_spec;
extern PyMethodDef session_module_methods[]; /* open_session */

/* What a short DISM call hands back: DISM's memory (DismDelete is called on
 * items and extra after conversion) or a plain value. */
typedef struct {
    const record_type *type; /* what items hold, for as_records/as_record */
    void *items;
    void *extra;
    UINT count;
    DWORD value;
    HRESULT hr;
    any_function export_fn; /* the optional export the call goes to (export_query) */
} query_result;

/* Makes the DISM call on `handle`; runs without the GIL. */
typedef HRESULT (*query_fn)(DismSession handle, const void *args, query_result *out);
/* Builds the Python result from a successful call's output. */
typedef PyObject *(*result_converter)(const query_result *out);

/* Defines call_<name>, a query_fn: `expr` calls DISM with the session `h`,
 * the arguments struct `a` (of args_type) and the output `out`. */
#define QUERY_CALL(name, args_type, expr)                                                      \
    static HRESULT call_##name(DismSession h, const void *args, query_result *out)             \
    {                                                                                          \
        const args_type *a = args;                                                             \
        (void)a;                                                                               \
        return (expr);                                                                         \
    }

/* Defines dism_<name>(module, session), the binding of an optional export
 * that takes the session alone: `expr` as in QUERY_CALL, the result of
 * `record` (or NULL) converted by `convert`. */
#define SESSION_EXPORT_QUERY(name, export, record, expr, convert)                              \
    QUERY_CALL(name, void, expr)                                                               \
    static PyObject *dism_##name(PyObject *module, PyObject *session)                          \
    {                                                                                          \
        query_result out = {record};                                                           \
        return export_query(module, session, export, call_##name, NULL, &out, convert);        \
    }

/* A short call without a session (session.c): call without the GIL, raise
 * DISM's error or convert the result, free DISM's memory. */
PyObject *module_query(PyObject *module, query_fn call, const void *args, query_result *out,
                       result_converter convert);
/* The one shape of every short servicing call: check the session, lock it,
 * call without the GIL, unlock, raise DISM's error or convert the result,
 * free DISM's memory.  `out->type` is set by the caller when it matters. */
PyObject *session_query(PyObject *module, PyObject *session, query_fn call, const void *args,
                        query_result *out, result_converter convert);
/* session_query on an optional export: out->export_fn is the function, or the
 * call raises ExportNotAvailableError without touching the session. */
PyObject *export_query(PyObject *module, PyObject *session, enum export_id id, query_fn call,
                       const void *args, query_result *out, result_converter convert);
/* Converters for the queries. */
PyObject *as_none(const query_result *out);
PyObject *as_code(const query_result *out);    /* the success HRESULT, as an int */
PyObject *as_records(const query_result *out); /* list of out->type tuples */
PyObject *as_record(const query_result *out);  /* one out->type tuple */
PyObject *as_string(const query_result *out);  /* a DismString's text or None */
PyObject *as_strings(const query_result *out); /* list of str */
PyObject *as_value(const query_result *out);   /* out->value, as an int */

/* A query of one text argument: parses (session, text) with `format` ("OO&:name")
 * and runs call(text) on the session, through export_query unless id is
 * NO_EXPORT. */
PyObject *text_query(PyObject *module, PyObject *args, const char *format, enum export_id id,
                     query_fn call, query_result *out, result_converter convert);
/* The two shapes of several writes: fn(handle, text) and fn(handle, path,
 * flag), parsed with `format` ("OO&..." : session, text[, flag]). */
typedef HRESULT(WINAPI *SessionString_fn)(DismSession, PCWSTR);
typedef HRESULT(WINAPI *SessionPathFlag_fn)(DismSession, PCWSTR, BOOL);
PyObject *session_string_call(PyObject *module, PyObject *args, const char *format,
                              SessionString_fn fn);
PyObject *session_path_flag_call(PyObject *module, PyObject *args, const char *format,
                                 SessionPathFlag_fn fn);

/* Runs a prepared long call on `session` (type-checked, locked and open);
 * `args` starts with a DismSession, which is filled in. */
PyObject *long_session_call(PyObject *module, PyObject *session, dism_operation op, void *args,
                            PyObject *progress, PyObject *cancel);

/* ------------------------------------------------------------------------
 * image.c, exports.c, dll_choice.c, servicing/
 * ------------------------------------------------------------------------ */

extern PyMethodDef image_methods[];

/* The export, or NULL with ExportNotAvailableError raised. */
any_function require_export(PyObject *module, enum export_id id);
extern PyMethodDef export_methods[]; /* export_available, _hide_export */

#ifdef _WIN32
extern PyMethodDef dll_choice_methods[]; /* load_library, library_path, ... */
/* System32's wimgapi.dll loaded and checked (once per process), so that the
 * WIMGAPI calls' delay-load never fails: 0, or -1 with the DismError of the
 * Win32 error raised.  Call it before the first WIMGAPI call. */
int wimgapi_ready(PyObject *module);
#endif

/* Rows of a method table for a binding dism_<name> documented by <name>_doc. */
#define KW_METHOD(name) \
    {#name, (PyCFunction)(void (*)(void))dism_##name, METH_VARARGS | METH_KEYWORDS, name##_doc}
#define POS_METHOD(name) {#name, (PyCFunction)dism_##name, METH_VARARGS, name##_doc}
#define ONE_METHOD(name) {#name, (PyCFunction)dism_##name, METH_O, name##_doc}

extern PyMethodDef package_methods[], feature_methods[], driver_methods[],
    capability_methods[], appx_methods[], edition_methods[], health_methods[];

#endif /* DISM_EXT_H */
