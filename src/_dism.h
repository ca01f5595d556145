/*
 * _dism.h - what the files of the extension share: module state, errors,
 * argument converters, the long-call machinery and the Session object.
 *
 *   _dism.c            module, errors, image and mount functions, Session
 *   _dism_servicing.c  the servicing functions that take a Session
 */
#ifndef DISM_EXTENSION_H
#define DISM_EXTENSION_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#ifdef _WIN32
#  include <windows.h>
#endif
#include "dismapi.h"

/* The HRESULT of a DISM function the loaded DismApi.dll does not export. */
#define HR_EXPORT_NOT_AVAILABLE ((HRESULT)0x8007007FL) /* ERROR_PROC_NOT_FOUND */

/* One exception class per family of HRESULTs that callers want to catch. */
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
} module_state;

static inline module_state *get_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

/* Reads DismGetLastErrorMessage; it is per thread, so this must run on the
 * thread that made the failing call.  Returns a new str or NULL (no error
 * set: the message is optional). */
typedef struct {
    wchar_t *text; /* malloc'd, so it can be taken without the GIL */
} captured_message;

/* A path argument: str or os.PathLike, kept as a wide string. */
typedef struct {
    wchar_t *wide; /* NULL when the argument was None and allowed to be */
} wide_arg;

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
     * discard discarded); set by the call, default completed_changed(). */
    const char *completed_sentence;
};

typedef struct {
    PyObject_HEAD
    DismSession handle;
    int open;
    PyThread_type_lock lock;
    long_call *active_call; /* the long call holding the lock, if any */
    PyObject *module; /* keeps the module state alive for the methods */
} SessionObject;

/* Errors (_dism.c) */
PyObject *make_error(module_state *st, HRESULT hr, PyObject *message);
void capture_last_error(captured_message *out);
PyObject *raise_dism_error(module_state *st, HRESULT hr, captured_message *msg);

/* Sets TypeError "expected <expected>, not <type of obj>". */
void raise_wrong_type(const char *expected, PyObject *obj);

/* Argument converters for PyArg_Parse "O&" (cleanup supported). */
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

/* Long operations: prepare, fill in operation/args, run. */
int prepare_long_call(long_call *call, PyObject *progress, PyObject *cancel);
PyObject *run_long_call(module_state *st, long_call *call);

/* Results */
PyObject *image_info_dict(const DismImageInfo *info);

/* A list of convert(item) for each of `count` items of `size` bytes (a DISM
 * result array), or NULL with an error set. */
typedef PyObject *(*item_converter)(const void *item);
PyObject *list_of(const void *items, UINT count, size_t size, item_converter convert);
#define LIST_OF(items, count, convert) \
    list_of((items), (count), sizeof *(items), (item_converter)(convert))

/* Returns `converted` after freeing the DISM result it was made from,
 * whatever happened. */
PyObject *take_result(void *result, PyObject *converted);

/* A DismString's text (str) or None. */
PyObject *string_value(const DismString *s);
PyObject *wide_or_none(PCWSTR s);
PyObject *systemtime_tuple(const SYSTEMTIME *t);
int put(PyObject *dict, const char *key, PyObject *value);

/* Session.  session_lock fails (BusyError) instead of deadlocking when
 * called from a callback of the call that holds the lock. */
int session_lock(SessionObject *self);
/* Runs a prepared long call with the session locked and open. */
PyObject *run_session_long_call(SessionObject *self, long_call *call);
void session_unlock(SessionObject *self);
int session_check_open(SessionObject *self);

/* _dism_servicing.c */
extern PyMethodDef servicing_methods[];
int servicing_add_constants(PyObject *module);

#endif /* DISM_EXTENSION_H */
