/*
 * operations.c - the long WIMGAPI calls: capture, apply, export, delete,
 * split and single-path extraction.
 *
 * Each runs like the DISM long calls (long_call.c): on a worker thread,
 * the caller waiting without the GIL and watching signals and its cancel
 * token, the first exception winning.  For the duration of the call the
 * message trampoline (messages.c) is registered on the WIM file whose
 * operation it is, under that file's lock, so no other call's messages
 * reach it.
 */
#include "imaging.h"

typedef struct wim_operation wim_operation;
/* The WIMGAPI call: FALSE on failure, GetLastError() untouched since. */
typedef BOOL (*wim_call)(wim_operation *op);

struct wim_operation {
    wim_call call;
    const char *function; /* its name, for the error's sentence */
    const char *done;     /* what a cancel that came too late let happen */
    const char *stopped;  /* what a cancel in time leaves, if not nothing */
    HANDLE messages_from; /* the file whose callbacks see the messages */
    HANDLE handle;        /* the WIM or image the call is made on */
    HANDLE other;         /* export: the destination WIM */
    PCWSTR path, path2;
    DWORD flags, index;
    LARGE_INTEGER size; /* split: in and out */
    HANDLE result;      /* capture: the new image */
};

static HRESULT run_wim_operation(long_call *call, HANDLE cancel, DISM_PROGRESS_CALLBACK cb)
{
    wim_operation *op = call->args;
    /* The one cast WIMGAPI's registration needs; through void(*)(void),
     * which converts to and from any function pointer type. */
    FARPROC trampoline = (FARPROC)(void (*)(void))wim_message_trampoline;
    if (WIMRegisterMessageCallback(op->messages_from, trampoline, call) ==
        INVALID_CALLBACK_VALUE)
        return wim_capture_error("WIMRegisterMessageCallback", &call->message);
    HRESULT hr = S_OK;
    if (!op->call(op))
        hr = wim_capture_error(op->function, &call->message);
    WIMUnregisterMessageCallback(op->messages_from, trampoline);
    return hr;
}

/* Builds the result of a finished call, under the lock; NULL if none. */
typedef PyObject *(*finisher)(PyObject *module, WimObject *w, wim_operation *op);

static int check_messages(PyObject *messages)
{
    if (messages == Py_None || PyCallable_Check(messages))
        return 0;
    PyErr_SetString(PyExc_TypeError, "messages must be callable or None");
    return -1;
}

/* Runs op on a (and b, export's destination) as a long call. */
static PyObject *run_operation(PyObject *module, WimObject *a, WimObject *b, wim_operation *op,
                               PyObject *messages, PyObject *cancel, finisher finish)
{
    long_call call;
    if (check_messages(messages) < 0 ||
        prepare_long_call(&call, run_wim_operation, op, messages, cancel) < 0)
        return NULL;
    call.captures_own_error = 1;
    call.completed_sentence = op->done;
    call.stopped_sentence = op->stopped;
    if (wim_lock(a, b) < 0)
        return NULL;
    op->handle = a->handle;
    op->messages_from = a->file->handle;
    op->other = b ? b->handle : NULL;
    a->file->active_call = &call;
    if (b)
        b->file->active_call = &call;
    PyObject *done = run_long_call(get_state(module), &call);
    a->file->active_call = NULL;
    if (b)
        b->file->active_call = NULL;
    PyObject *result = NULL;
    if (done) {
        Py_DECREF(done);
        result = finish ? finish(module, a, op) : Py_NewRef(Py_None);
    } else if (op->result) {
        /* A capture cancelled too late: it completed (the exception says
         * so), and its image handle is not wanted. */
        WIMCloseHandle(op->result);
    }
    wim_unlock(a, b);
    return result;
}

/* The completed_sentence of an operation (long_call.c's rule). */
#define DONE(what)                                                                          \
    "The cancel came after the point where the operation can stop: it completed "         \
    "successfully and " what "."

/* ------------------------------------------------------------------------
 * WIMCaptureImage
 * ------------------------------------------------------------------------ */

static BOOL do_capture(wim_operation *op)
{
    op->result = WIMCaptureImage(op->handle, op->path, op->flags);
    return op->result != NULL;
}

static PyObject *new_image(PyObject *module, WimObject *w, wim_operation *op)
{
    HANDLE image = op->result;
    op->result = NULL;
    return wim_new_handle(module, image, w);
}

PyDoc_STRVAR(wim_capture_image_doc,
"wim_capture_image(wim, path, flags, messages=None, cancel=None)\n--\n\n"
"WIMCaptureImage -> WimHandle of the new image.");

static PyObject *dism_wim_capture_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"wim", "path", "flags", "messages", "cancel", NULL};
    PyObject *obj, *messages = Py_None, *cancel = Py_None;
    wide_arg path = {0};
    uint_arg flags = DWORD_ARG(module, "WIMCaptureImage", "CaptureFlags");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&O&|OO:wim_capture_image", kwlist, &obj,
                                     path_converter, &path, uint_converter, &flags, &messages,
                                     &cancel))
        return NULL;
    PyObject *result = NULL;
    WimObject *w = wim_arg(module, obj, WIM_KIND_FILE, "a WimHandle of a WIM file");
    if (w) {
        wim_operation op = {do_capture, "WIMCaptureImage", DONE("the image was captured")};
        op.path = path.wide;
        op.flags = flags.value;
        result = run_operation(module, w, NULL, &op, messages, cancel, new_image);
    }
    PyMem_Free(path.wide);
    return result;
}

/* ------------------------------------------------------------------------
 * WIMApplyImage, WIMExtractImagePath
 * ------------------------------------------------------------------------ */

static BOOL do_apply(wim_operation *op) { return WIMApplyImage(op->handle, op->path, op->flags); }

PyDoc_STRVAR(wim_apply_image_doc,
"wim_apply_image(image, path, flags, messages=None, cancel=None)\n--\n\n"
"WIMApplyImage; path may be None with WIM_FLAG_NO_APPLY.");

static PyObject *dism_wim_apply_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"image", "path", "flags", "messages", "cancel", NULL};
    PyObject *obj, *messages = Py_None, *cancel = Py_None;
    wide_arg path = {0};
    uint_arg flags = DWORD_ARG(module, "WIMApplyImage", "ApplyFlags");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&O&|OO:wim_apply_image", kwlist, &obj,
                                     optional_path_converter, &path, uint_converter, &flags,
                                     &messages, &cancel))
        return NULL;
    PyObject *result = NULL;
    WimObject *w = wim_arg(module, obj, WIM_KIND_IMAGE, "a WimHandle of an image");
    if (w) {
        wim_operation op = {do_apply, "WIMApplyImage", DONE("the image was applied"),
                            "The apply was stopped part-way: the files it wrote so far stay "
                            "in the target folder."};
        op.path = path.wide;
        op.flags = flags.value;
        result = run_operation(module, w, NULL, &op, messages, cancel, NULL);
    }
    PyMem_Free(path.wide);
    return result;
}

static BOOL do_extract(wim_operation *op)
{
    return WIMExtractImagePath(op->handle, op->path, op->path2, op->flags);
}

PyDoc_STRVAR(wim_extract_image_path_doc,
"wim_extract_image_path(image, image_path, destination_file, flags, messages=None, "
"cancel=None)\n--\n\n"
"WIMExtractImagePath: one file of the image to destination_file.");

static PyObject *dism_wim_extract_image_path(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"image", "image_path", "destination_file", "flags", "messages",
                             "cancel", NULL};
    PyObject *obj, *messages = Py_None, *cancel = Py_None;
    wide_arg source = {0}, destination = {0};
    uint_arg flags = DWORD_ARG(module, "WIMExtractImagePath", "ExtractFlags");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&O&O&|OO:wim_extract_image_path", kwlist,
                                     &obj, path_converter, &source, path_converter, &destination,
                                     uint_converter, &flags, &messages, &cancel))
        return NULL;
    PyObject *result = NULL;
    WimObject *w = wim_arg(module, obj, WIM_KIND_IMAGE, "a WimHandle of an image");
    if (w) {
        wim_operation op = {do_extract, "WIMExtractImagePath", DONE("the file was extracted")};
        op.path = source.wide;
        op.path2 = destination.wide;
        op.flags = flags.value;
        result = run_operation(module, w, NULL, &op, messages, cancel, NULL);
    }
    PyMem_Free(source.wide);
    PyMem_Free(destination.wide);
    return result;
}

/* ------------------------------------------------------------------------
 * WIMExportImage, WIMDeleteImage
 * ------------------------------------------------------------------------ */

static BOOL do_export(wim_operation *op)
{
    return WIMExportImage(op->handle, op->other, op->flags);
}

PyDoc_STRVAR(wim_export_image_doc,
"wim_export_image(image, dest_wim, flags, messages=None, cancel=None)\n--\n\n"
"WIMExportImage: the image into another WIM file (messages: the source file's).");

static PyObject *dism_wim_export_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"image", "dest_wim", "flags", "messages", "cancel", NULL};
    PyObject *obj, *dest_obj, *messages = Py_None, *cancel = Py_None;
    uint_arg flags = DWORD_ARG(module, "WIMExportImage", "Flags");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO&|OO:wim_export_image", kwlist, &obj,
                                     &dest_obj, uint_converter, &flags, &messages, &cancel))
        return NULL;
    WimObject *w = wim_arg(module, obj, WIM_KIND_IMAGE, "a WimHandle of an image");
    WimObject *dest =
        w ? wim_arg(module, dest_obj, WIM_KIND_FILE, "a WimHandle of a WIM file") : NULL;
    if (!dest)
        return NULL;
    wim_operation op = {do_export, "WIMExportImage", DONE("the image was exported")};
    op.flags = flags.value;
    return run_operation(module, w, dest, &op, messages, cancel, NULL);
}

static BOOL do_delete(wim_operation *op) { return WIMDeleteImage(op->handle, op->index); }

PyDoc_STRVAR(wim_delete_image_doc,
"wim_delete_image(wim, index, messages=None, cancel=None)\n--\n\nWIMDeleteImage (1-based).");

static PyObject *dism_wim_delete_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"wim", "index", "messages", "cancel", NULL};
    PyObject *obj, *messages = Py_None, *cancel = Py_None;
    uint_arg index = DWORD_ARG(module, "WIMDeleteImage", "ImageIndex");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&|OO:wim_delete_image", kwlist, &obj,
                                     uint_converter, &index, &messages, &cancel))
        return NULL;
    WimObject *w = wim_arg(module, obj, WIM_KIND_FILE, "a WimHandle of a WIM file");
    if (!w)
        return NULL;
    wim_operation op = {do_delete, "WIMDeleteImage", DONE("the image was deleted")};
    op.index = index.value;
    return run_operation(module, w, NULL, &op, messages, cancel, NULL);
}

/* ------------------------------------------------------------------------
 * WIMSplitFile
 * ------------------------------------------------------------------------ */

/* Part size 0 asks for the smallest possible part: WIMGAPI answers FALSE
 * with ERROR_MORE_DATA and the size, which is this call's result. */
static BOOL do_split(wim_operation *op)
{
    int query = op->size.QuadPart == 0;
    BOOL ok = WIMSplitFile(op->handle, op->path, &op->size, op->flags);
    if (!ok && query && GetLastError() == ERROR_MORE_DATA)
        return TRUE;
    return ok;
}

static PyObject *written_size(PyObject *module, WimObject *w, wim_operation *op)
{
    return PyLong_FromLongLong((long long)op->size.QuadPart);
}

PyDoc_STRVAR(wim_split_file_doc,
"wim_split_file(wim, part_path, part_size, flags, messages=None, cancel=None)\n--\n\n"
"WIMSplitFile -> the size WIMGAPI wrote back; part_size 0 returns the smallest possible "
"part size and writes nothing.");

static PyObject *dism_wim_split_file(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"wim", "part_path", "part_size", "flags", "messages", "cancel",
                             NULL};
    PyObject *obj, *messages = Py_None, *cancel = Py_None;
    wide_arg path = {0};
    long long part_size;
    uint_arg flags = DWORD_ARG(module, "WIMSplitFile", "Flags");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&LO&|OO:wim_split_file", kwlist, &obj,
                                     path_converter, &path, &part_size, uint_converter, &flags,
                                     &messages, &cancel))
        return NULL;
    PyObject *result = NULL;
    WimObject *w = wim_arg(module, obj, WIM_KIND_FILE, "a WimHandle of a WIM file");
    if (w && part_size < 0)
        raise_with_sentence(get_state(module), HR_INVALID_PARAMETER,
                            PyUnicode_FromString("WIMSplitFile: PartSize must not be negative"));
    else if (w) {
        wim_operation op = {do_split, "WIMSplitFile", DONE("the WIM was split")};
        op.path = path.wide;
        op.size.QuadPart = part_size;
        op.flags = flags.value;
        result = run_operation(module, w, NULL, &op, messages, cancel, written_size);
    }
    PyMem_Free(path.wide);
    return result;
}

PyMethodDef wim_operation_methods[] = {
    KW_METHOD(wim_capture_image),
    KW_METHOD(wim_apply_image),
    KW_METHOD(wim_export_image),
    KW_METHOD(wim_delete_image),
    KW_METHOD(wim_split_file),
    KW_METHOD(wim_extract_image_path),
    {NULL, NULL, 0, NULL},
};
