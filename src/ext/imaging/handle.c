/*
 * handle.c - WimHandle: a WIMGAPI handle of a WIM file or of an image in it.
 *
 * A heap type with a lock, as _bz2's objects and the Session are, because
 * the functions taking it release the GIL.  An image keeps its file object
 * alive and shares its lock (imaging.h says why); a file knows its open
 * images, so that closing the file closes them first, as WIMGAPI wants
 * (WIMCloseHandle of a file with open images fails).
 */
#include "imaging.h"

#define HR_INVALID_HANDLE HR_WIN32(6) /* ERROR_INVALID_HANDLE */
#define HR_BUSY HR_WIN32(170)         /* ERROR_BUSY */

static PyThread_type_lock lock_of(WimObject *w) { return w->file->lock; }

/* Takes the lock of w's file.  The callback (messages, cancel token, signal
 * handler) of the call holding it must not wait for it: it would wait for
 * itself. */
static int lock_file(WimObject *w)
{
    return lock_outside_callback(
        get_state(w->module), lock_of(w), w->file->active_call, HR_BUSY,
        "the WIM is busy with the call whose message callback, cancel token or signal handler "
        "is running; use it after that call returns");
}

static int check_open(WimObject *w)
{
    if (w->handle)
        return 0;
    raise_with_sentence(get_state(w->module), HR_INVALID_HANDLE,
                        PyUnicode_FromString(wim_is_image(w)
                                                 ? "the image handle is closed"
                                                 : "the WIM handle is closed"));
    return -1;
}

int wim_lock(WimObject *a, WimObject *b)
{
    if (b && b->file == a->file)
        b = NULL;
    /* Address order, so that two exports in opposite directions cannot
     * each hold one lock and wait for the other. */
    WimObject *first = a, *second = b;
    if (b && (uintptr_t)b->file < (uintptr_t)a->file) {
        first = b;
        second = a;
    }
    if (lock_file(first) < 0)
        return -1;
    if (second && lock_file(second) < 0) {
        PyThread_release_lock(lock_of(first));
        return -1;
    }
    if (check_open(a) < 0 || (b && check_open(b) < 0)) {
        wim_unlock(a, b);
        return -1;
    }
    return 0;
}

void wim_unlock(WimObject *a, WimObject *b)
{
    PyThread_release_lock(lock_of(a));
    if (b && b->file != a->file)
        PyThread_release_lock(lock_of(b));
}

WimObject *wim_arg(PyObject *module, PyObject *obj, enum wim_kind kind, const char *what)
{
    if (!PyObject_TypeCheck(obj, get_state(module)->wim_type)) {
        raise_wrong_type(what, obj);
        return NULL;
    }
    WimObject *w = (WimObject *)obj;
    if ((kind == WIM_KIND_FILE && wim_is_image(w)) ||
        (kind == WIM_KIND_IMAGE && !wim_is_image(w))) {
        PyErr_Format(PyExc_TypeError, "expected %s, not a WimHandle of %s", what,
                     wim_is_image(w) ? "an image" : "a WIM file");
        return NULL;
    }
    return w;
}

/* Closes w's WIMGAPI handle and unlinks it from its file's images; the
 * caller holds the file's lock.  The close of an image cannot fail in a way
 * the caller could act on, so only a file's failure is reported. */
static void unlink_image(WimObject *w)
{
    for (WimObject **p = &w->file->next_image; *p; p = &(*p)->next_image)
        if (*p == w) {
            *p = w->next_image;
            break;
        }
    w->next_image = NULL;
}

static HRESULT close_locked(WimObject *w, captured_message *msg)
{
    if (!w->handle)
        return S_OK;
    if (wim_is_image(w)) {
        unlink_image(w);
    } else {
        /* Images first: WIMGAPI refuses to close a file with open images. */
        while (w->next_image)
            close_locked(w->next_image, NULL);
    }
    HANDLE h = w->handle;
    w->handle = NULL;
    BOOL ok;
    HRESULT hr = S_OK;
    Py_BEGIN_ALLOW_THREADS
    ok = WIMCloseHandle(h);
    if (!ok && msg)
        hr = wim_capture_error("WIMCloseHandle", msg);
    Py_END_ALLOW_THREADS
    return ok ? S_OK : hr;
}

PyObject *wim_new_handle(PyObject *module, HANDLE handle, WimObject *file)
{
    module_state *st = get_state(module);
    WimObject *self = PyObject_GC_New(WimObject, st->wim_type);
    if (!self) {
        WIMCloseHandle(handle);
        return NULL;
    }
    self->handle = NULL;
    self->active_call = NULL;
    self->next_image = NULL;
    self->lock = NULL;
    self->module = Py_NewRef(module);
    if (file) {
        self->file = (WimObject *)Py_NewRef((PyObject *)file);
    } else {
        self->file = self;
        self->lock = PyThread_allocate_lock();
    }
    PyObject_GC_Track(self);
    if (!file && !self->lock) {
        WIMCloseHandle(handle);
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->handle = handle;
    if (file) {
        /* The caller holds the file's lock (load, capture). */
        self->next_image = file->next_image;
        file->next_image = self;
    }
    return (PyObject *)self;
}

PyDoc_STRVAR(wim_close_doc,
"close($self, /)\n--\n\n"
"WIMCloseHandle.  A WIM file's open images are closed first; waits for calls in flight; "
"closing twice is harmless.");

static PyObject *wim_close(WimObject *self, PyObject *Py_UNUSED(ignored))
{
    captured_message msg = {0};
    if (lock_file(self) < 0)
        return NULL;
    HRESULT hr = close_locked(self, &msg);
    PyThread_release_lock(lock_of(self));
    if (FAILED(hr))
        return wim_raise(self->module, hr, &msg);
    Py_RETURN_NONE;
}

static PyObject *wim_enter(WimObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef((PyObject *)self);
}

static PyObject *wim_exit(WimObject *self, PyObject *Py_UNUSED(args))
{
    PyObject *r = wim_close(self, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *wim_get_closed(WimObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->handle == NULL);
}

static PyObject *wim_get_is_image(WimObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(wim_is_image(self));
}

static int wim_traverse(WimObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    if (wim_is_image(self))
        Py_VISIT((PyObject *)self->file);
    return 0;
}

static int wim_clear(WimObject *self)
{
    Py_CLEAR(self->module);
    return 0;
}

static void wim_dealloc(WimObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    /* A forgotten handle is closed rather than leaked.  An image holds its
     * file, so a file's images are gone (closed) before the file is. */
    if (self->handle && lock_of(self)) {
        PyObject *exc_type, *exc_value, *exc_tb;
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
        if (lock_file(self) == 0) {
            close_locked(self, NULL);
            PyThread_release_lock(lock_of(self));
        } else {
            /* Dropped inside a callback of a call on its own file, which
             * holds the lock: the WIMGAPI handle cannot be closed now and is
             * leaked, but the list must not keep a dangling pointer. */
            PyErr_Clear();
            if (wim_is_image(self))
                unlink_image(self);
        }
        PyErr_Restore(exc_type, exc_value, exc_tb);
    }
    if (wim_is_image(self))
        Py_CLEAR(self->file);
    else if (self->lock)
        PyThread_free_lock(self->lock);
    wim_clear(self);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef wim_methods[] = {
    {"close", (PyCFunction)wim_close, METH_NOARGS, wim_close_doc},
    {"__enter__", (PyCFunction)wim_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)wim_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wim_getset[] = {
    {"closed", (getter)wim_get_closed, NULL, "True once close() has run.", NULL},
    {"is_image", (getter)wim_get_is_image, NULL,
     "True for an image (wim_load_image, wim_capture_image), False for a WIM file.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot wim_slots[] = {
    {Py_tp_doc, "A WIMGAPI handle: a WIM file (wim_create_file) or an image in one "
                "(wim_load_image, wim_capture_image).  A context manager that closes it."},
    {Py_tp_methods, wim_methods},
    {Py_tp_getset, wim_getset},
    {Py_tp_traverse, wim_traverse},
    {Py_tp_clear, wim_clear},
    {Py_tp_dealloc, wim_dealloc},
    {0, NULL},
};

PyType_Spec wim_handle_spec = {
    .name = "dism._dism.WimHandle",
    .basicsize = sizeof(WimObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = wim_slots,
};
