/*
 * _dism.c - the CPython extension over the DISM API.
 *
 * The same source builds on Windows (against DismApi.dll) and elsewhere
 * (against the portable engine in src/engine/): both speak dismapi.h.
 *
 * The layer is deliberately thin.  It converts arguments, releases the GIL
 * around every DISM call, turns HRESULTs into exception classes and copies
 * results into plain dicts and lists before handing them back to DismDelete;
 * the dism package builds the typed objects.
 *
 * Long operations (mount, unmount, commit) run on a worker thread while the
 * calling thread waits with the GIL released and wakes regularly, so that
 *   - Ctrl+C (and any other signal handler that raises) cancels the DISM
 *     operation through its CancelEvent, and is raised once DISM returns;
 *   - a cancel token (any object with is_set()) other threads may set is
 *     honoured the same way;
 *   - progress callbacks, which DISM may fire on threads of its own, always
 *     arrive on a thread that is not the caller's, and take the GIL there.
 * An exception raised by the progress callback is kept, cancels the
 * operation, and wins over DISM's return code, as in CPython's _ssl.
 *
 * One rule for every long call (call_outcome): a call that was cancelled
 * always raises, and the exception's `completed` says whether the operation
 * stopped in time (False: nothing was saved) or had passed the point where
 * it can stop and finished (True: its changes were saved).
 */
#include "_dism.h"
#include "_dism_library.h"

#include <limits.h>
#include <string.h>

/* How often a waiting caller looks at signals and its cancel token. */
#define WAIT_SLICE_US 20000

/* ------------------------------------------------------------------------
 * Exception classes: each derives from `parent` (DismError unless said) and,
 * where a builtin class fits, from that too, so `except LookupError` works.
 * ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    const char *doc;
    enum error_class parent;
} error_specs[ERR_COUNT] = {
    [ERR_BASE] = {"DismError", "A DISM API call failed. `hresult` holds DISM's code."},
    [ERR_NOT_INITIALIZED] = {"NotInitializedError", "The DISM API is not initialized."},
    [ERR_OPEN_SESSIONS] = {"OpenSessionsError",
                           "Sessions are still open on what the call wants to release."},
    [ERR_INVALID_SESSION] = {"InvalidSessionError", "The session is closed or unknown."},
    [ERR_INVALID_IMAGE_INDEX] = {"InvalidImageIndexError", "No image has that index."},
    [ERR_INVALID_IMAGE_NAME] = {"InvalidImageNameError", "No image has that name."},
    [ERR_MOUNT_PATH] = {"MountPathError", "Nothing is mounted at that path."},
    [ERR_NEEDS_REMOUNT] = {"NeedsRemountError", "The mount must be remounted first."},
    [ERR_CANCELLED] = {"CancelledError", "The operation was cancelled."},
    [ERR_ELEVATION_REQUIRED] = {"ElevationRequiredError",
                                "The operation needs rights the process does not have."},
    [ERR_NOT_SUPPORTED] = {"NotSupportedError",
                           "The operation is not supported on this platform or image."},
    /* E_NOTIMPL: DismApi.dll builds answer it for functions they stub out;
     * the portable engine implements or refuses (NotSupported) every one. */
    [ERR_NOT_IMPLEMENTED] = {"NotImplementedByEngineError",
                             "This DISM build does not implement the function (E_NOTIMPL)."},
    [ERR_INVALID_ARGUMENT] = {"InvalidArgumentError", "An argument was rejected by DISM."},
    [ERR_BUSY] = {"BusyError", "The image or servicing stack is busy."},
    [ERR_PATH_NOT_FOUND] = {"PathNotFoundError",
                            "A file or directory DISM needs does not exist."},
    [ERR_NOT_FOUND] = {"NotFoundError",
                       "The image holds no package, driver or app by that name."},
    [ERR_UNKNOWN_FEATURE] = {"UnknownFeatureError", "The image has no feature by that name."},
    [ERR_PARENT_FEATURE_DISABLED] = {"ParentFeatureDisabledError",
                                     "A parent feature must be enabled first (or enable_all)."},
    [ERR_NOT_APPLICABLE] = {"NotApplicableError",
                            "The package or capability does not apply to this image."},
    [ERR_INVALID_PRODUCT_KEY] = {"InvalidProductKeyError", "The product key is not valid."},
    [ERR_EXPORT_NOT_AVAILABLE] = {"ExportNotAvailableError",
                                  "The loaded DISM version lacks this function.",
                                  ERR_NOT_SUPPORTED},
};

/* A second, builtin base class for some families. */
static PyObject *builtin_base(enum error_class c)
{
    switch (c) {
    case ERR_PATH_NOT_FOUND: return PyExc_FileNotFoundError;
    case ERR_NOT_FOUND: case ERR_UNKNOWN_FEATURE: return PyExc_LookupError;
    default: return NULL;
    }
}


/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

#define HR_WIN32(code) ((HRESULT)(0x80070000u | (code)))

static enum error_class class_for(HRESULT hr)
{
    switch ((unsigned)hr) {
    case (unsigned)DISMAPI_E_DISMAPI_NOT_INITIALIZED: return ERR_NOT_INITIALIZED;
    case (unsigned)DISMAPI_E_OPEN_SESSION_HANDLES:
    case (unsigned)DISMAPI_E_OPEN_HANDLES_UNABLE_TO_UNMOUNT_IMAGE_PATH:
    case (unsigned)DISMAPI_E_OPEN_HANDLES_UNABLE_TO_MOUNT_IMAGE_PATH:
    case (unsigned)DISMAPI_E_OPEN_HANDLES_UNABLE_TO_REMOUNT_IMAGE_PATH: return ERR_OPEN_SESSIONS;
    case (unsigned)DISMAPI_E_INVALID_DISM_SESSION: return ERR_INVALID_SESSION;
    case (unsigned)DISMAPI_E_INVALID_IMAGE_INDEX: return ERR_INVALID_IMAGE_INDEX;
    case (unsigned)DISMAPI_E_INVALID_IMAGE_NAME:
    case (unsigned)DISMAPI_E_MUST_SPECIFY_INDEX_OR_NAME: return ERR_INVALID_IMAGE_NAME;
    case (unsigned)DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH: return ERR_MOUNT_PATH;
    case (unsigned)DISMAPI_E_NEEDS_REMOUNT: return ERR_NEEDS_REMOUNT;
    /* DISM reports cancellation in several spellings (fact sheet 5.4). */
    case 0x000004C7u: case 0x000004D3u: case 0x800704C7u: case 0x800704D3u: case 0x80004004u:
        return ERR_CANCELLED;
    case 0x800702E4u: return ERR_ELEVATION_REQUIRED;
    case 0x80070032u: return ERR_NOT_SUPPORTED;
    case 0x80004001u: return ERR_NOT_IMPLEMENTED;
    case 0x80070057u: return ERR_INVALID_ARGUMENT;
    case (unsigned)DISMAPI_E_BUSY: case 0x800700AAu: case 0x80070020u: return ERR_BUSY;
    case 0x80070002u: case 0x80070003u: return ERR_PATH_NOT_FOUND;
    case 0x80070490u: return ERR_NOT_FOUND;
    case (unsigned)DISMAPI_E_UNKNOWN_FEATURE: return ERR_UNKNOWN_FEATURE;
    case (unsigned)DISMAPI_E_PARENT_FEATURE_DISABLED: return ERR_PARENT_FEATURE_DISABLED;
    case (unsigned)CBS_E_NOT_APPLICABLE: return ERR_NOT_APPLICABLE;
    case (unsigned)DISMAPI_E_INVALID_PRODUCT_KEY: case 0x80070645u: return ERR_INVALID_PRODUCT_KEY;
    case (unsigned)HR_EXPORT_NOT_AVAILABLE: return ERR_EXPORT_NOT_AVAILABLE;
    default: return ERR_BASE;
    }
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
static wchar_t *wide_copy(const wchar_t *text)
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
    PyObject *exc = make_error(st, hr, message);
    Py_XDECREF(message);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------------ */

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

/* Raises the DISM error `hr` with `sentence` (a new reference, consumed). */
static void raise_with_sentence(module_state *st, HRESULT hr, PyObject *sentence)
{
    PyObject *exc = sentence ? make_error(st, hr, sentence) : NULL;
    Py_XDECREF(sentence);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
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

/* ------------------------------------------------------------------------
 * Long operations: worker thread, progress trampoline, cancellation
 * ------------------------------------------------------------------------ */


/* Every way of cancelling (token, callback exception, signal) ends here, so
 * that after the call one flag says whether a cancel was asked for. */
static void request_cancel(long_call *call)
{
    call->cancel_requested = 1;
    SetEvent(call->cancel_event);
}

/* Keeps the first exception raised during the call and stops the operation. */
static void keep_exception_and_cancel(long_call *call)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (call->exc_type) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
    } else {
        PyErr_NormalizeException(&type, &value, &tb);
        call->exc_type = type;
        call->exc_value = value;
        call->exc_tb = tb;
    }
    request_cancel(call);
}

/* The calls whose caller's code (progress callback, cancel token, signal
 * handler) this thread is running, innermost first.  Per thread, because
 * the main thread (signal handlers) and a worker (progress) may each be
 * inside a callback of the same call at once. */
typedef struct callback_frame {
    long_call *call;
    struct callback_frame *outer;
} callback_frame;

static _Thread_local callback_frame *callbacks_of_this_thread;

static int thread_is_in_callback_of(const long_call *call)
{
    for (callback_frame *f = callbacks_of_this_thread; f; f = f->outer)
        if (f->call == call)
            return 1;
    return 0;
}

/* Runs fn(call, arg) as the caller's code for this call: a session method
 * called from there must fail (BusyError) rather than wait for the lock the
 * call itself holds.  Returns what fn returns. */
static PyObject *as_callback(long_call *call, PyObject *(*fn)(long_call *, void *), void *arg)
{
    callback_frame frame = {call, callbacks_of_this_thread};
    callbacks_of_this_thread = &frame;
    PyObject *r = fn(call, arg);
    callbacks_of_this_thread = frame.outer;
    return r;
}

static PyObject *call_progress(long_call *call, void *arg)
{
    const UINT *report = arg;
    return PyObject_CallFunction(call->progress, "II", report[0], report[1]);
}

static PyObject *call_is_set(long_call *call, void *Py_UNUSED(arg))
{
    return PyObject_CallMethod(call->cancel_token, "is_set", NULL);
}

/* Signal handlers run here, on the waiting thread, in the middle of the call. */
static PyObject *check_signals(long_call *Py_UNUSED(call), void *Py_UNUSED(arg))
{
    return PyErr_CheckSignals() < 0 ? NULL : Py_NewRef(Py_None);
}

/* Polls the cancel token under the GIL; an exception from is_set() counts
 * like one from the progress callback. */
static void poll_cancel_token(long_call *call)
{
    if (!call->cancel_token)
        return;
    PyObject *r = as_callback(call, call_is_set, NULL);
    int set = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    if (set < 0)
        keep_exception_and_cancel(call);
    else if (set)
        request_cancel(call);
}

static void CALLBACK progress_trampoline(UINT current, UINT total, PVOID user_data)
{
    long_call *call = user_data;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (!call->exc_type) {
        UINT report[2] = {current, total};
        PyObject *r = as_callback(call, call_progress, report);
        if (r)
            Py_DECREF(r);
        else
            keep_exception_and_cancel(call);
        /* A token the callback just set is seen before DISM goes on, not
         * one polling slice later, when the operation may be past stopping. */
        poll_cancel_token(call);
    }
    PyGILState_Release(gil);
}

static void worker_main(void *arg)
{
    long_call *call = arg;
    DISM_PROGRESS_CALLBACK cb = call->progress ? progress_trampoline : NULL;
    call->hr = call->operation(call, call->cancel_event, cb);
    if (FAILED(call->hr))
        capture_last_error(&call->message);
    PyThread_release_lock(call->done);
}

/* Runs pending signal handlers; one that raises cancels the call. */
static void handle_signals(long_call *call)
{
    PyObject *r = as_callback(call, check_signals, NULL);
    if (r)
        Py_DECREF(r);
    else
        keep_exception_and_cancel(call);
}

static int wait_for_worker(long_call *call)
{
    for (;;) {
        PyLockStatus status;
        Py_BEGIN_ALLOW_THREADS
        status = PyThread_acquire_lock_timed(call->done, WAIT_SLICE_US, 0);
        Py_END_ALLOW_THREADS
        if (status == PY_LOCK_ACQUIRED) {
            /* A Ctrl+C that came during the last slice is part of this call,
             * so its exception says that the operation completed. */
            handle_signals(call);
            return 0;
        }
        /* The operation keeps running until DISM notices the event, so a
         * signal never abandons it half-way. */
        handle_signals(call);
        poll_cancel_token(call);
    }
}

#define HR_CANCELLED HR_WIN32(1223) /* ERROR_CANCELLED */

static const char SENTENCE_COMPLETED[] =
    "The cancel came after the point where the operation can stop: it completed successfully "
    "and the image was changed.";
static const char SENTENCE_SAVED[] =
    "The cancel came after the point where the operation can stop: it completed successfully "
    "and its changes were saved.";
static const char SENTENCE_DISCARDED[] =
    "The cancel came after the point where the operation can stop: it completed successfully "
    "and its changes were discarded.";

/* The sentence for an unmount or commit with these DISM flags. */
static const char *saved_or_discarded(UINT flags)
{
    return (flags & DISM_DISCARD_IMAGE) ? SENTENCE_DISCARDED : SENTENCE_SAVED;
}
static const char SENTENCE_STOPPED[] =
    "The operation was stopped before it changed anything: nothing was saved.";
static const char SENTENCE_FAILED[] =
    "The operation did not complete.";

static const char *completed_sentence(const long_call *call)
{
    return call->completed_sentence ? call->completed_sentence : SENTENCE_COMPLETED;
}

/* Marks exc with .completed and .outcome (the sentence saying plainly what
 * happened to the changes) and, when `note`, the sentence as a note, where
 * the traceback shows it (3.11+). */
static void mark_outcome(PyObject *exc, const long_call *call, HRESULT hr, int note)
{
    int completed = SUCCEEDED(hr);
    const char *sentence = completed ? completed_sentence(call)
                           : class_for(hr) == ERR_CANCELLED ? SENTENCE_STOPPED
                                                            : SENTENCE_FAILED;
    if (PyObject_SetAttrString(exc, "completed", completed ? Py_True : Py_False) < 0)
        PyErr_Clear();
    PyObject *outcome = PyUnicode_FromString(sentence);
    if (!outcome || PyObject_SetAttrString(exc, "outcome", outcome) < 0)
        PyErr_Clear();
    Py_XDECREF(outcome);
    if (note && PyObject_HasAttrString(exc, "add_note")) {
        PyObject *r = PyObject_CallMethod(exc, "add_note", "s", sentence);
        if (r)
            Py_DECREF(r);
        else
            PyErr_Clear();
    }
}

/* mark_outcome for the exception being raised. */
static void mark_raised_outcome(const long_call *call, HRESULT hr, int note)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value)
        mark_outcome(value, call, hr, note);
    PyErr_Restore(type, value, tb);
}

/* The outcome of a finished call, one rule for every long call: a call that
 * was cancelled raises (the kept exception, or CancelledError) marked with
 * whether it completed; otherwise DISM's failure or success. */
static PyObject *call_outcome(module_state *st, long_call *call)
{
    if (call->exc_type) {
        mark_outcome(call->exc_value, call, call->hr, 1);
        PyErr_Restore(call->exc_type, call->exc_value, call->exc_tb);
        call->exc_type = call->exc_value = call->exc_tb = NULL;
        return NULL;
    }
    if (SUCCEEDED(call->hr) && !call->cancel_requested)
        return PyLong_FromLong((long)call->hr);
    if (SUCCEEDED(call->hr)) {
        /* DISM lets a cancel that comes too late finish and return S_OK;
         * the caller asked to cancel, so it must hear that it did not. */
        raise_with_sentence(st, HR_CANCELLED, PyUnicode_FromString(completed_sentence(call)));
        mark_raised_outcome(call, call->hr, 0);
        return NULL;
    }
    raise_dism_error(st, call->hr, &call->message);
    if (call->cancel_requested || class_for(call->hr) == ERR_CANCELLED)
        mark_raised_outcome(call, call->hr, 1);
    return NULL;
}

/* Runs call->operation and returns the success code as an int, or NULL with
 * the right exception set. */
PyObject *run_long_call(module_state *st, long_call *call)
{
    PyObject *result = NULL;
    call->cancel_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    call->done = PyThread_allocate_lock();
    if (!call->cancel_event || !call->done) {
        PyErr_NoMemory();
        goto out;
    }
    poll_cancel_token(call);
    if (call->cancel_requested) {
        /* An already-set token: DISM is not called at all, so an operation
         * that never looks at its CancelEvent cannot run either. */
        call->hr = HR_CANCELLED;
        call->message.text = wide_copy(L"cancelled before the operation started (the cancel "
                                       L"token was already set)");
        result = call_outcome(st, call);
        goto out;
    }
    PyThread_acquire_lock(call->done, WAIT_LOCK);
    /* (unsigned long)-1 is PYTHREAD_INVALID_THREAD_ID, which the limited API
     * does not define. */
    if (PyThread_start_new_thread(worker_main, call) == (unsigned long)-1) {
        PyThread_release_lock(call->done);
        PyErr_SetString(PyExc_RuntimeError, "cannot start a thread for the DISM call");
        goto out;
    }
    wait_for_worker(call);
    PyThread_release_lock(call->done);
    result = call_outcome(st, call);
out:
    free(call->message.text);
    if (call->done)
        PyThread_free_lock(call->done);
    if (call->cancel_event)
        CloseHandle(call->cancel_event);
    return result;
}

int prepare_long_call(long_call *call, PyObject *progress, PyObject *cancel)
{
    memset(call, 0, sizeof *call);
    if (progress != Py_None) {
        if (!PyCallable_Check(progress)) {
            PyErr_SetString(PyExc_TypeError, "progress must be callable or None");
            return -1;
        }
        call->progress = progress;
    }
    if (cancel != Py_None) {
        if (!PyObject_HasAttrString(cancel, "is_set")) {
            PyErr_SetString(PyExc_TypeError, "cancel must have an is_set() method, or be None");
            return -1;
        }
        call->cancel_token = cancel;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Converting results
 * ------------------------------------------------------------------------ */

PyObject *wide_or_none(PCWSTR s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_FromWideChar(s, -1);
}

/* (year, month, day, hour, minute, second, millisecond), or None when unset. */
PyObject *systemtime_tuple(const SYSTEMTIME *t)
{
    if (t->wYear == 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(iiiiiii)", t->wYear, t->wMonth, t->wDay, t->wHour, t->wMinute,
                         t->wSecond, t->wMilliseconds);
}

/* Sets key to value and drops the reference; a NULL value propagates. */
int put(PyObject *dict, const char *key, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

PyObject *list_of(const void *items, UINT count, size_t size, item_converter convert)
{
    PyObject *list = PyList_New(count);
    for (UINT i = 0; list && i < count; i++) {
        PyObject *item = convert((const char *)items + (size_t)i * size);
        if (!item || PyList_SetItem(list, i, item) < 0) {
            Py_CLEAR(list);
            break;
        }
    }
    return list;
}

PyObject *take_result(void *result, PyObject *converted)
{
    if (result)
        DismDelete(result);
    return converted;
}

PyObject *string_value(const DismString *s) { return wide_or_none(s->Value); }

static int put_customized(PyObject *d, const DismImageInfo *info)
{
    const DismWimCustomizedInfo *c = info->CustomizedInfo;
    if (!c)
        return put(d, "directory_count", Py_NewRef(Py_None)) ||
               put(d, "file_count", Py_NewRef(Py_None)) ||
               put(d, "created", Py_NewRef(Py_None)) || put(d, "modified", Py_NewRef(Py_None));
    return put(d, "directory_count", PyLong_FromUnsignedLong(c->DirectoryCount)) ||
           put(d, "file_count", PyLong_FromUnsignedLong(c->FileCount)) ||
           put(d, "created", systemtime_tuple(&c->CreatedTime)) ||
           put(d, "modified", systemtime_tuple(&c->ModifiedTime));
}

PyObject *image_info_dict(const DismImageInfo *info)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (put(d, "image_type", PyLong_FromLong(info->ImageType)) ||
        put(d, "index", PyLong_FromUnsignedLong(info->ImageIndex)) ||
        put(d, "name", wide_or_none(info->ImageName)) ||
        put(d, "description", wide_or_none(info->ImageDescription)) ||
        put(d, "size", PyLong_FromUnsignedLongLong(info->ImageSize)) ||
        put(d, "architecture", PyLong_FromUnsignedLong(info->Architecture)) ||
        put(d, "product_name", wide_or_none(info->ProductName)) ||
        put(d, "edition", wide_or_none(info->EditionId)) ||
        put(d, "installation_type", wide_or_none(info->InstallationType)) ||
        put(d, "hal", wide_or_none(info->Hal)) ||
        put(d, "product_type", wide_or_none(info->ProductType)) ||
        put(d, "product_suite", wide_or_none(info->ProductSuite)) ||
        put(d, "version", Py_BuildValue("(IIIII)", info->MajorVersion, info->MinorVersion,
                                        info->Build, info->SpBuild, info->SpLevel)) ||
        put(d, "bootable", PyLong_FromLong(info->Bootable)) ||
        put(d, "system_root", wide_or_none(info->SystemRoot)) ||
        put(d, "languages", LIST_OF(info->Language, info->LanguageCount, string_value)) ||
        put(d, "default_language_index", PyLong_FromUnsignedLong(info->DefaultLanguageIndex)) ||
        put_customized(d, info)) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *mounted_image_dict(const DismMountedImageInfo *m)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (put(d, "mount_path", wide_or_none(m->MountPath)) ||
        put(d, "image_path", wide_or_none(m->ImageFilePath)) ||
        put(d, "index", PyLong_FromUnsignedLong(m->ImageIndex)) ||
        put(d, "mount_mode", PyLong_FromLong(m->MountMode)) ||
        put(d, "status", PyLong_FromLong(m->MountStatus))) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

/* ------------------------------------------------------------------------
 * Module functions without a session
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(initialize_doc,
"initialize(log_level, log_path=None, scratch_dir=None)\n--\n\n"
"DismInitialize.  Call once per process; the dism package does it for you.");

static PyObject *dism_initialize(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"log_level", "log_path", "scratch_dir", NULL};
    int level;
    wide_arg log = {0}, scratch = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "i|O&O&:initialize", kwlist, &level,
                                     optional_path_converter, &log, optional_path_converter,
                                     &scratch))
        return NULL;
    HRESULT hr;
    captured_message msg = {0};
    Py_BEGIN_ALLOW_THREADS
    hr = DismInitialize((DismLogLevel)level, log.wide, scratch.wide);
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    PyMem_Free(log.wide);
    PyMem_Free(scratch.wide);
    if (FAILED(hr))
        return raise_dism_error(get_state(module), hr, &msg);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(shutdown_doc, "shutdown()\n--\n\nDismShutdown.");

static PyObject *dism_shutdown(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    HRESULT hr;
    captured_message msg = {0};
    Py_BEGIN_ALLOW_THREADS
    hr = DismShutdown();
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    if (FAILED(hr))
        return raise_dism_error(get_state(module), hr, &msg);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(get_image_info_doc,
"get_image_info(image_path)\n--\n\n"
"DismGetImageInfo: one dict per image in the WIM.");

static PyObject *dism_get_image_info(PyObject *module, PyObject *arg)
{
    wide_arg path;
    if (!wide_from_object(arg, &path, 0))
        return NULL;
    DismImageInfo *infos = NULL;
    UINT count = 0;
    HRESULT hr;
    captured_message msg = {0};
    Py_BEGIN_ALLOW_THREADS
    hr = DismGetImageInfo(path.wide, &infos, &count);
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    PyMem_Free(path.wide);
    if (FAILED(hr))
        return raise_dism_error(get_state(module), hr, &msg);
    return take_result(infos, LIST_OF(infos, count, image_info_dict));
}

PyDoc_STRVAR(get_mounted_image_info_doc,
"get_mounted_image_info()\n--\n\nDismGetMountedImageInfo: one dict per mount.");

static PyObject *dism_get_mounted_image_info(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    DismMountedImageInfo *mounts = NULL;
    UINT count = 0;
    HRESULT hr;
    captured_message msg = {0};
    Py_BEGIN_ALLOW_THREADS
    hr = DismGetMountedImageInfo(&mounts, &count);
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    if (FAILED(hr))
        return raise_dism_error(get_state(module), hr, &msg);
    return take_result(mounts, LIST_OF(mounts, count, mounted_image_dict));
}

/* Calls a no-argument or one-path DISM function with the GIL released. */
static PyObject *simple_path_call(PyObject *module, PyObject *arg, HRESULT(WINAPI *fn)(PCWSTR))
{
    wide_arg path;
    if (!wide_from_object(arg, &path, 0))
        return NULL;
    HRESULT hr;
    captured_message msg = {0};
    Py_BEGIN_ALLOW_THREADS
    hr = fn(path.wide);
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    PyMem_Free(path.wide);
    if (FAILED(hr))
        return raise_dism_error(get_state(module), hr, &msg);
    return PyLong_FromLong((long)hr);
}

PyDoc_STRVAR(remount_image_doc, "remount_image(mount_path)\n--\n\nDismRemountImage.");

static PyObject *dism_remount_image(PyObject *module, PyObject *arg)
{
    return simple_path_call(module, arg, DismRemountImage);
}

PyDoc_STRVAR(cleanup_mountpoints_doc,
"cleanup_mountpoints()\n--\n\nDismCleanupMountpoints.");

static PyObject *dism_cleanup_mountpoints(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    HRESULT hr;
    captured_message msg = {0};
    Py_BEGIN_ALLOW_THREADS
    hr = DismCleanupMountpoints();
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    if (FAILED(hr))
        return raise_dism_error(get_state(module), hr, &msg);
    Py_RETURN_NONE;
}

/* ---- mount / unmount: long operations ---- */

typedef struct {
    wide_arg image, mount, name;
    unsigned index;
    int identifier;
    unsigned flags;
} mount_args;

static HRESULT run_mount(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    mount_args *a = call->args;
    return DismMountImage(a->image.wide, a->mount.wide, a->index, a->name.wide,
                          (DismImageIdentifier)a->identifier, a->flags, cancel, cb, call);
}

PyDoc_STRVAR(mount_image_doc,
"mount_image(image_path, mount_path, index, name, flags, progress=None, cancel=None)\n--\n\n"
"DismMountImage.  With name None the image is chosen by index, otherwise by name.");

static PyObject *dism_mount_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"image_path", "mount_path", "index", "name", "flags",
                             "progress", "cancel", NULL};
    module_state *st = get_state(module);
    mount_args a = {0};
    /* Index 0 is how a mount by name passes "no index". */
    uint_arg index = {st, DISMAPI_E_INVALID_IMAGE_INDEX, "DismMountImage: ImageIndex", 0};
    uint_arg flags = {st, E_INVALIDARG, "DismMountImage: Flags", 0};
    PyObject *progress = Py_None, *cancel = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&O&O&O&|OO:mount_image", kwlist,
                                     path_converter, &a.image, path_converter, &a.mount,
                                     uint_converter, &index, optional_text_converter, &a.name,
                                     uint_converter, &flags, &progress, &cancel))
        return NULL;
    a.index = index.value;
    a.flags = flags.value;
    a.identifier = a.name.wide ? DismImageName : DismImageIndex;
    long_call call;
    PyObject *result = NULL;
    if (prepare_long_call(&call, progress, cancel) == 0) {
        call.operation = run_mount;
        call.args = &a;
        result = run_long_call(st, &call);
    }
    PyMem_Free(a.image.wide);
    PyMem_Free(a.mount.wide);
    PyMem_Free(a.name.wide);
    return result;
}

typedef struct {
    wide_arg mount;
    unsigned flags;
} unmount_args;

static HRESULT run_unmount(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    unmount_args *a = call->args;
    return DismUnmountImage(a->mount.wide, a->flags, cancel, cb, call);
}

PyDoc_STRVAR(unmount_image_doc,
"unmount_image(mount_path, flags, progress=None, cancel=None)\n--\n\nDismUnmountImage.");

static PyObject *dism_unmount_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"mount_path", "flags", "progress", "cancel", NULL};
    module_state *st = get_state(module);
    unmount_args a = {0};
    uint_arg flags = {st, E_INVALIDARG, "DismUnmountImage: Flags", 0};
    PyObject *progress = Py_None, *cancel = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&|OO:unmount_image", kwlist,
                                     path_converter, &a.mount, uint_converter, &flags, &progress,
                                     &cancel))
        return NULL;
    a.flags = flags.value;
    long_call call;
    PyObject *result = NULL;
    if (prepare_long_call(&call, progress, cancel) == 0) {
        call.operation = run_unmount;
        call.args = &a;
        call.completed_sentence = saved_or_discarded(a.flags);
        result = run_long_call(st, &call);
    }
    PyMem_Free(a.mount.wide);
    return result;
}

/* ------------------------------------------------------------------------
 * Session: a heap type with a lock, as in _bz2, because its methods release
 * the GIL and two Python threads may use one session at once.
 * ------------------------------------------------------------------------ */


/* Takes the session lock, releasing the GIL only when it has to wait.  The
 * one caller that must not wait is the progress callback, cancel token or
 * signal handler of the call holding the lock (see as_callback): it would
 * wait for itself. */
int session_lock(SessionObject *self)
{
    long_call *active = self->active_call;
    if (active && thread_is_in_callback_of(active)) {
        raise_with_sentence(
            get_state(self->module), DISMAPI_E_BUSY,
            PyUnicode_FromString("the session is busy with the call whose progress callback, "
                                 "cancel token or signal handler is running; use the session "
                                 "after that call returns"));
        return -1;
    }
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    return 0;
}

PyObject *run_session_long_call(SessionObject *self, long_call *call)
{
    if (session_lock(self) < 0)
        return NULL;
    PyObject *result = NULL;
    if (session_check_open(self) == 0) {
        *(DismSession *)call->args = self->handle; /* every args struct starts with it */
        self->active_call = call;
        result = run_long_call(get_state(self->module), call);
        self->active_call = NULL;
    }
    session_unlock(self);
    return result;
}

void session_unlock(SessionObject *self) { PyThread_release_lock(self->lock); }

int session_check_open(SessionObject *self)
{
    if (self->open)
        return 0;
    raise_with_sentence(get_state(self->module), DISMAPI_E_INVALID_DISM_SESSION,
                        PyUnicode_FromString("the session is closed; open a new one"));
    return -1;
}

PyDoc_STRVAR(open_session_doc,
"open_session(image_path, windows_dir=None, system_drive=None)\n--\n\n"
"DismOpenSession; image_path may be DISM_ONLINE_IMAGE.");

static PyObject *dism_open_session(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"image_path", "windows_dir", "system_drive", NULL};
    wide_arg image = {0}, windir = {0}, drive = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O&O&:open_session", kwlist,
                                     path_converter, &image, optional_path_converter, &windir,
                                     optional_text_converter, &drive))
        return NULL;
    module_state *st = get_state(module);
    SessionObject *self = PyObject_GC_New(SessionObject, st->session_type);
    PyObject *result = NULL;
    if (!self)
        goto out;
    self->handle = DISM_SESSION_DEFAULT;
    self->open = 0;
    self->active_call = NULL;
    self->module = Py_NewRef(module);
    self->lock = PyThread_allocate_lock();
    PyObject_GC_Track(self);
    if (!self->lock) {
        PyErr_NoMemory();
        Py_DECREF(self);
        goto out;
    }
    HRESULT hr;
    captured_message msg = {0};
    DismSession handle = DISM_SESSION_DEFAULT;
    Py_BEGIN_ALLOW_THREADS
    hr = DismOpenSession(image.wide, windir.wide, drive.wide, &handle);
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    if (FAILED(hr)) {
        Py_DECREF(self);
        raise_dism_error(st, hr, &msg);
        goto out;
    }
    self->handle = handle;
    self->open = 1;
    result = (PyObject *)self;
out:
    PyMem_Free(image.wide);
    PyMem_Free(windir.wide);
    PyMem_Free(drive.wide);
    return result;
}

/* Closes the DISM session; the caller holds the session lock. */
static HRESULT session_close_locked(SessionObject *self, captured_message *msg)
{
    if (!self->open)
        return S_OK;
    HRESULT hr;
    DismSession handle = self->handle;
    Py_BEGIN_ALLOW_THREADS
    hr = DismCloseSession(handle);
    if (FAILED(hr) && msg)
        capture_last_error(msg);
    Py_END_ALLOW_THREADS
    self->open = 0;
    return hr;
}

PyDoc_STRVAR(session_close_doc,
"close()\n--\n\nDismCloseSession.  Waits for calls in flight; closing twice is harmless.");

static PyObject *session_close(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
    captured_message msg = {0};
    if (session_lock(self) < 0)
        return NULL;
    HRESULT hr = session_close_locked(self, &msg);
    session_unlock(self);
    if (FAILED(hr))
        return raise_dism_error(get_state(self->module), hr, &msg);
    Py_RETURN_NONE;
}

typedef struct {
    DismSession handle;
    unsigned flags;
} commit_args;

static HRESULT run_commit(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    commit_args *a = call->args;
    return DismCommitImage(a->handle, a->flags, cancel, cb, call);
}

PyDoc_STRVAR(session_commit_doc,
"commit(flags, progress=None, cancel=None)\n--\n\n"
"DismCommitImage: save the mounted image and keep it mounted.");

static PyObject *session_commit(SessionObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"flags", "progress", "cancel", NULL};
    commit_args a = {0};
    uint_arg flags = {get_state(self->module), E_INVALIDARG, "DismCommitImage: Flags", 0};
    PyObject *progress = Py_None, *cancel = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|OO:commit", kwlist, uint_converter,
                                     &flags, &progress, &cancel))
        return NULL;
    a.flags = flags.value;
    long_call call;
    if (prepare_long_call(&call, progress, cancel) < 0)
        return NULL;
    call.operation = run_commit;
    call.args = &a;
    call.completed_sentence = saved_or_discarded(a.flags);
    return run_session_long_call(self, &call);
}

static PyObject *session_get_handle(SessionObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(self->handle);
}

static PyObject *session_get_closed(SessionObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(!self->open);
}

static int session_traverse(SessionObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    return 0;
}

static int session_clear(SessionObject *self)
{
    Py_CLEAR(self->module);
    return 0;
}

static void session_dealloc(SessionObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    /* A forgotten session is closed rather than leaked: DismShutdown
     * refuses to run while any is open. */
    if (self->open && self->lock && session_lock(self) == 0) {
        session_close_locked(self, NULL);
        session_unlock(self);
    }
    if (self->lock)
        PyThread_free_lock(self->lock);
    session_clear(self);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef session_methods[] = {
    {"close", (PyCFunction)session_close, METH_NOARGS, session_close_doc},
    {"commit", (PyCFunction)(void (*)(void))session_commit, METH_VARARGS | METH_KEYWORDS,
     session_commit_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef session_getset[] = {
    {"handle", (getter)session_get_handle, NULL, "The DismSession number.", NULL},
    {"closed", (getter)session_get_closed, NULL, "True once close() has run.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot session_slots[] = {
    {Py_tp_doc, "An open DismSession.  Made by open_session()."},
    {Py_tp_methods, session_methods},
    {Py_tp_getset, session_getset},
    {Py_tp_traverse, session_traverse},
    {Py_tp_clear, session_clear},
    {Py_tp_dealloc, session_dealloc},
    {0, NULL},
};

static PyType_Spec session_spec = {
    .name = "dism._dism.Session",
    .basicsize = sizeof(SessionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = session_slots,
};

/* ------------------------------------------------------------------------
 * Module definition
 * ------------------------------------------------------------------------ */

static PyMethodDef module_methods[] = {
    {"initialize", (PyCFunction)(void (*)(void))dism_initialize, METH_VARARGS | METH_KEYWORDS,
     initialize_doc},
    {"shutdown", dism_shutdown, METH_NOARGS, shutdown_doc},
    {"get_image_info", dism_get_image_info, METH_O, get_image_info_doc},
    {"get_mounted_image_info", dism_get_mounted_image_info, METH_NOARGS,
     get_mounted_image_info_doc},
    {"mount_image", (PyCFunction)(void (*)(void))dism_mount_image, METH_VARARGS | METH_KEYWORDS,
     mount_image_doc},
    {"unmount_image", (PyCFunction)(void (*)(void))dism_unmount_image,
     METH_VARARGS | METH_KEYWORDS, unmount_image_doc},
    {"remount_image", dism_remount_image, METH_O, remount_image_doc},
    {"cleanup_mountpoints", dism_cleanup_mountpoints, METH_NOARGS, cleanup_mountpoints_doc},
    {"open_session", (PyCFunction)(void (*)(void))dism_open_session,
     METH_VARARGS | METH_KEYWORDS, open_session_doc},
    {NULL, NULL, 0, NULL},
};

static int add_exceptions(PyObject *module, module_state *st)
{
    st->errors[ERR_BASE] = PyErr_NewExceptionWithDoc("dism._dism.DismError",
                                                      error_specs[ERR_BASE].doc,
                                                      PyExc_OSError, NULL);
    if (!st->errors[ERR_BASE] || PyModule_AddObjectRef(module, "DismError", st->errors[ERR_BASE]) < 0)
        return -1;
    for (int i = ERR_BASE + 1; i < ERR_COUNT; i++) {
        char qualified[128];
        PyOS_snprintf(qualified, sizeof qualified, "dism._dism.%s", error_specs[i].name);
        PyObject *parent = st->errors[error_specs[i].parent];
        PyObject *extra = builtin_base(i);
        PyObject *bases = extra ? PyTuple_Pack(2, parent, extra) : Py_NewRef(parent);
        if (!bases)
            return -1;
        st->errors[i] = PyErr_NewExceptionWithDoc(qualified, error_specs[i].doc, bases, NULL);
        Py_DECREF(bases);
        if (!st->errors[i] || PyModule_AddObjectRef(module, error_specs[i].name, st->errors[i]) < 0)
            return -1;
    }
    return 0;
}

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
#undef ADD
#undef ADD_U
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
    if (add_exceptions(module, st) < 0 || add_constants(module) < 0 ||
        PyModule_AddFunctions(module, servicing_methods) < 0 ||
        servicing_add_constants(module) < 0)
        return -1;
#ifdef _WIN32
    if (PyModule_AddFunctions(module, library_methods) < 0)
        return -1;
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
    return 0;
}

static int dism_clear(PyObject *module)
{
    module_state *st = get_state(module);
    for (int i = 0; i < ERR_COUNT; i++)
        Py_CLEAR(st->errors[i]);
    Py_CLEAR(st->session_type);
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
    .m_methods = module_methods,
    .m_slots = dism_slots,
    .m_traverse = dism_traverse,
    .m_clear = dism_clear,
    .m_free = dism_free,
};

PyMODINIT_FUNC PyInit__dism(void) { return PyModuleDef_Init(&dism_module); }
