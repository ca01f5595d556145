/*
 * long_call.c - long operations (mount, unmount, commit, servicing writes).
 *
 * A long operation runs on a worker thread while the calling thread waits
 * with the GIL released and wakes regularly, so that
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
#include "ext.h"

#include <string.h>

/* How often a waiting caller looks at signals and its cancel token. */
#define WAIT_SLICE_US 20000


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

int lock_outside_callback(module_state *st, PyThread_type_lock lock, const long_call *active,
                          HRESULT busy, const char *busy_sentence)
{
    if (active && thread_is_in_callback_of(active)) {
        raise_with_sentence(st, busy, PyUnicode_FromString(busy_sentence));
        return -1;
    }
    if (!PyThread_acquire_lock(lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
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

PyObject *long_call_callback(long_call *call, PyObject *(*fn)(long_call *, void *), void *arg)
{
    PyObject *r = as_callback(call, fn, arg);
    if (!r)
        keep_exception_and_cancel(call);
    /* A token the callback just set is seen before the operation goes on,
     * not one polling slice later, when it may be past stopping. */
    poll_cancel_token(call);
    return r;
}

static void CALLBACK progress_trampoline(UINT current, UINT total, PVOID user_data)
{
    long_call *call = user_data;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (!call->exc_type) {
        UINT report[2] = {current, total};
        Py_XDECREF(long_call_callback(call, call_progress, report));
    }
    PyGILState_Release(gil);
}

static void worker_main(void *arg)
{
    long_call *call = arg;
    DISM_PROGRESS_CALLBACK cb = call->progress ? progress_trampoline : NULL;
    call->hr = call->operation(call, call->cancel_event, cb);
    if (FAILED(call->hr) && !call->captures_own_error)
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
const char *saved_or_discarded(UINT flags)
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
    const char *stopped = call->stopped_sentence ? call->stopped_sentence : SENTENCE_STOPPED;
    const char *sentence = completed ? completed_sentence(call)
                           : class_for(hr) == ERR_CANCELLED ? stopped
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

int prepare_long_call(long_call *call, dism_operation op, void *args, PyObject *progress,
                      PyObject *cancel)
{
    memset(call, 0, sizeof *call);
    call->operation = op;
    call->args = args;
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
