/*
 * session.c - the Session type and the calls made on a session.
 *
 * A Session is a heap type with a lock, as in _bz2, because its methods
 * release the GIL and two Python threads may use one session at once.
 * Every servicing binding goes through one of two helpers here:
 * session_query() for a short call, long_session_call() for a long one.
 */
#include "ext.h"

#include <string.h>

static void session_unlock(SessionObject *self);
static int session_check_open(SessionObject *self);

/* Takes the session lock, releasing the GIL only when it has to wait.  The
 * one caller that must not wait is the progress callback, cancel token or
 * signal handler of the call holding the lock (see as_callback): it would
 * wait for itself. */
static int session_lock(SessionObject *self)
{
    return lock_outside_callback(
        get_state(self->module), self->lock, self->active_call, DISMAPI_E_BUSY,
        "the session is busy with the call whose progress callback, cancel token or signal "
        "handler is running; use the session after that call returns");
}

static PyObject *run_session_long_call(SessionObject *self, long_call *call)
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

static void session_unlock(SessionObject *self) { PyThread_release_lock(self->lock); }

static int session_check_open(SessionObject *self)
{
    if (self->open)
        return 0;
    raise_with_sentence(get_state(self->module), DISMAPI_E_INVALID_DISM_SESSION,
                        PyUnicode_FromString("the session is closed; open a new one"));
    return -1;
}

/* A Session object not open yet: the open fills in its handle. */
static SessionObject *new_session(PyObject *module)
{
    SessionObject *self = PyObject_GC_New(SessionObject, get_state(module)->session_type);
    if (!self)
        return NULL;
    self->handle = DISM_SESSION_DEFAULT;
    self->open = 0;
    self->active_call = NULL;
    self->module = Py_NewRef(module);
    self->lock = PyThread_allocate_lock();
    PyObject_GC_Track(self);
    if (!self->lock) {
        PyErr_NoMemory();
        Py_DECREF(self);
        return NULL;
    }
    return self;
}

/* Makes `self` the open session `handle`, or raises the open's failure. */
static PyObject *opened(SessionObject *self, HRESULT hr, DismSession handle,
                        captured_message *msg)
{
    if (FAILED(hr)) {
        PyObject *module = Py_NewRef(self->module);
        Py_DECREF(self);
        raise_dism_error(get_state(module), hr, msg);
        Py_DECREF(module);
        return NULL;
    }
    self->handle = handle;
    self->open = 1;
    return (PyObject *)self;
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
    SessionObject *self = new_session(module);
    PyObject *result = NULL;
    if (self) {
        HRESULT hr;
        captured_message msg = {0};
        DismSession handle = DISM_SESSION_DEFAULT;
        Py_BEGIN_ALLOW_THREADS
        hr = DismOpenSession(image.wide, windir.wide, drive.wide, &handle);
        if (FAILED(hr))
            capture_last_error(&msg);
        Py_END_ALLOW_THREADS
        result = opened(self, hr, handle, &msg);
    }
    PyMem_Free(image.wide);
    PyMem_Free(windir.wide);
    PyMem_Free(drive.wide);
    return result;
}

typedef HRESULT(WINAPI *OpenImageFileSession_fn)(PCWSTR, UINT, PCWSTR, DismImageIdentifier,
                                                 DismSession *);

PyDoc_STRVAR(open_image_file_session_doc,
"open_image_file_session(image_file, index, name)\n--\n\n"
"_DismPortableOpenImageFileSession: a read-only session on one image of a WIM or ESD,\n"
"without mounting it; give index (from 1) or name, the other None.  Portable engine only.");

static PyObject *dism_open_image_file_session(PyObject *module, PyObject *args)
{
    wide_arg image = {0}, name = {0};
    uint_arg index = {get_state(module), DISMAPI_E_INVALID_IMAGE_INDEX,
                      "_DismPortableOpenImageFileSession: ImageIndex", 0};
    PyObject *index_obj;
    if (!PyArg_ParseTuple(args, "O&OO&:open_image_file_session", path_converter, &image,
                          &index_obj, optional_text_converter, &name))
        return NULL; /* the converters freed what they made (Py_CLEANUP_SUPPORTED) */
    if (index_obj != Py_None && !uint_converter(index_obj, &index))
        goto fail;
    OpenImageFileSession_fn fn =
        (OpenImageFileSession_fn)require_export(module, X_PortableOpenImageFileSession);
    SessionObject *self = fn ? new_session(module) : NULL;
    if (!self)
        goto fail;
    DismImageIdentifier id = index_obj != Py_None ? DismImageIndex
                             : name.wide          ? DismImageName
                                                  : DismImageNone;
    HRESULT hr;
    captured_message msg = {0};
    DismSession handle = DISM_SESSION_DEFAULT;
    Py_BEGIN_ALLOW_THREADS
    hr = fn(image.wide, index.value, name.wide, id, &handle);
    if (FAILED(hr))
        capture_last_error(&msg);
    Py_END_ALLOW_THREADS
    PyMem_Free(image.wide);
    PyMem_Free(name.wide);
    return opened(self, hr, handle, &msg);
fail:
    PyMem_Free(image.wide);
    PyMem_Free(name.wide);
    return NULL;
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
"close($self, /)\n--\n\nDismCloseSession.  Waits for calls in flight; closing twice is harmless.");

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

LONG_OPERATION(commit, commit_args, DismCommitImage(a->handle, a->flags, cancel, cb, call))

PyDoc_STRVAR(session_commit_doc,
"commit($self, /, flags, progress=None, cancel=None)\n--\n\n"
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
    if (prepare_long_call(&call, run_commit, &a, progress, cancel) < 0)
        return NULL;
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

PyType_Spec session_spec = {
    .name = "dism._dism.Session",
    .basicsize = sizeof(SessionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = session_slots,
};


PyMethodDef session_module_methods[] = {
    {"open_session", (PyCFunction)(void (*)(void))dism_open_session,
     METH_VARARGS | METH_KEYWORDS, open_session_doc},
    {"open_image_file_session", dism_open_image_file_session, METH_VARARGS,
     open_image_file_session_doc},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------------
 * Calls on a session from the servicing bindings
 * ------------------------------------------------------------------------ */

/* The session argument of a binding, type-checked. */
static SessionObject *session_arg(PyObject *module, PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, get_state(module)->session_type)) {
        raise_wrong_type("a dism._dism.Session", obj);
        return NULL;
    }
    return (SessionObject *)obj;
}

/* Frees what DISM handed back; the conversion has copied what it needs. */
static void delete_query_result(query_result *out)
{
    if (out->items)
        DismDelete(out->items);
    if (out->extra)
        DismDelete(out->extra);
    out->items = out->extra = NULL;
}

/* The call, without the GIL.  The last-error message must be read on the
 * same thread, straight after the failing call. */
static void call_without_gil(query_fn call, DismSession handle, const void *args,
                             query_result *out, captured_message *msg)
{
    Py_BEGIN_ALLOW_THREADS
    out->hr = call(handle, args, out);
    if (FAILED(out->hr))
        capture_last_error(msg);
    Py_END_ALLOW_THREADS
}

/* DISM's error, or the converted result; DISM's memory freed either way. */
static PyObject *query_outcome(PyObject *module, query_result *out, captured_message *msg,
                               result_converter convert)
{
    PyObject *result = FAILED(out->hr) ? raise_dism_error(get_state(module), out->hr, msg)
                                       : convert(out);
    delete_query_result(out);
    return result;
}

PyObject *module_query(PyObject *module, query_fn call, const void *args, query_result *out,
                       result_converter convert)
{
    captured_message msg = {0};
    call_without_gil(call, DISM_SESSION_DEFAULT, args, out, &msg);
    return query_outcome(module, out, &msg, convert);
}

PyObject *session_query(PyObject *module, PyObject *session, query_fn call, const void *args,
                        query_result *out, result_converter convert)
{
    SessionObject *s = session_arg(module, session);
    if (!s || session_lock(s) < 0)
        return NULL;
    if (session_check_open(s) < 0) {
        session_unlock(s);
        return NULL;
    }
    captured_message msg = {0};
    call_without_gil(call, s->handle, args, out, &msg);
    session_unlock(s);
    return query_outcome(module, out, &msg, convert);
}

PyObject *export_query(PyObject *module, PyObject *session, enum export_id id, query_fn call,
                       const void *args, query_result *out, result_converter convert)
{
    out->export_fn = require_export(module, id);
    return out->export_fn ? session_query(module, session, call, args, out, convert) : NULL;
}

PyObject *as_none(const query_result *out) { Py_RETURN_NONE; }

PyObject *as_code(const query_result *out) { return PyLong_FromLong((long)out->hr); }

PyObject *as_records(const query_result *out)
{
    return record_list(out->type, out->items, out->count);
}

PyObject *as_record(const query_result *out) { return record_tuple(out->type, out->items); }

PyObject *as_string(const query_result *out) { return string_or_none(out->items); }

PyObject *as_strings(const query_result *out) { return string_list(out->items, out->count); }

PyObject *as_value(const query_result *out) { return PyLong_FromUnsignedLong(out->value); }

PyObject *long_session_call(PyObject *module, PyObject *session, dism_operation op, void *args,
                            PyObject *progress, PyObject *cancel)
{
    SessionObject *s = session_arg(module, session);
    if (!s)
        return NULL;
    long_call call;
    if (prepare_long_call(&call, op, args, progress, cancel) < 0)
        return NULL;
    return run_session_long_call(s, &call);
}

PyObject *text_query(PyObject *module, PyObject *args, const char *format, enum export_id id,
                     query_fn call, query_result *out, result_converter convert)
{
    PyObject *session;
    wide_arg text = {0};
    if (!PyArg_ParseTuple(args, format, &session, path_converter, &text))
        return NULL;
    PyObject *result =
        id == NO_EXPORT ? session_query(module, session, call, text.wide, out, convert)
                        : export_query(module, session, id, call, text.wide, out, convert);
    PyMem_Free(text.wide);
    return result;
}

QUERY_CALL(string, wchar_t, ((SessionString_fn)out->export_fn)(h, a))

PyObject *session_string_call(PyObject *module, PyObject *args, const char *format,
                              SessionString_fn fn)
{
    query_result out = {.export_fn = (any_function)fn};
    return text_query(module, args, format, NO_EXPORT, call_string, &out, as_code);
}

typedef struct {
    PCWSTR path;
    BOOL flag;
} path_flag_args;

QUERY_CALL(path_flag, path_flag_args, ((SessionPathFlag_fn)out->export_fn)(h, a->path, a->flag))

PyObject *session_path_flag_call(PyObject *module, PyObject *args, const char *format,
                                 SessionPathFlag_fn fn)
{
    PyObject *session;
    wide_arg path = {0};
    int flag;
    if (!PyArg_ParseTuple(args, format, &session, path_converter, &path, &flag))
        return NULL;
    path_flag_args a = {path.wide, flag};
    query_result out = {.export_fn = (any_function)fn};
    PyObject *result = session_query(module, session, call_path_flag, &a, &out, as_code);
    PyMem_Free(path.wide);
    return result;
}
