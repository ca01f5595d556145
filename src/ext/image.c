/*
 * image.c - the module functions that need no session: DismInitialize and
 * DismShutdown, image and mount information, mount, unmount, remount and
 * cleanup.  Mount and unmount are long calls (long_call.c).
 */
#include "ext.h"

typedef struct {
    int level;
    PCWSTR path, scratch;
} image_args;

QUERY_CALL(initialize, image_args, DismInitialize((DismLogLevel)a->level, a->path, a->scratch))

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
    image_args a = {level, log.wide, scratch.wide};
    query_result out = {0};
    PyObject *result = module_query(module, call_initialize, &a, &out, as_none);
    PyMem_Free(log.wide);
    PyMem_Free(scratch.wide);
    return result;
}

QUERY_CALL(shutdown, image_args, DismShutdown())

PyDoc_STRVAR(shutdown_doc, "shutdown()\n--\n\nDismShutdown.");

static PyObject *dism_shutdown(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    query_result out = {0};
    return module_query(module, call_shutdown, NULL, &out, as_none);
}

QUERY_CALL(get_image_info, image_args,
           DismGetImageInfo(a->path, (DismImageInfo **)&out->items, &out->count))
QUERY_CALL(remount_image, image_args, DismRemountImage(a->path))

/* Calls a DISM function of one path argument. */
static PyObject *path_query(PyObject *module, PyObject *arg, query_fn call, query_result *out,
                            result_converter convert)
{
    wide_arg path;
    if (!path_converter(arg, &path))
        return NULL;
    image_args a = {0, path.wide};
    PyObject *result = module_query(module, call, &a, out, convert);
    PyMem_Free(path.wide);
    return result;
}

PyDoc_STRVAR(get_image_info_doc,
"get_image_info(image_path)\n--\n\n"
"DismGetImageInfo: one DismImageInfo tuple per image in the WIM.");

static PyObject *dism_get_image_info(PyObject *module, PyObject *arg)
{
    query_result out = {&REC_IMAGE_INFO};
    return path_query(module, arg, call_get_image_info, &out, as_records);
}

PyDoc_STRVAR(remount_image_doc, "remount_image(mount_path)\n--\n\nDismRemountImage.");

static PyObject *dism_remount_image(PyObject *module, PyObject *arg)
{
    query_result out = {0};
    return path_query(module, arg, call_remount_image, &out, as_code);
}

QUERY_CALL(get_mounted_image_info, image_args,
           DismGetMountedImageInfo((DismMountedImageInfo **)&out->items, &out->count))

PyDoc_STRVAR(get_mounted_image_info_doc,
"get_mounted_image_info()\n--\n\nDismGetMountedImageInfo: one DismMountedImageInfo tuple per "
"mount.");

static PyObject *dism_get_mounted_image_info(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    query_result out = {&REC_MOUNTED_IMAGE};
    return module_query(module, call_get_mounted_image_info, NULL, &out, as_records);
}

QUERY_CALL(cleanup_mountpoints, image_args, DismCleanupMountpoints())

PyDoc_STRVAR(cleanup_mountpoints_doc,
"cleanup_mountpoints()\n--\n\nDismCleanupMountpoints.");

static PyObject *dism_cleanup_mountpoints(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    query_result out = {0};
    return module_query(module, call_cleanup_mountpoints, NULL, &out, as_none);
}

/* ---- mount / unmount: long operations ---- */

typedef struct {
    wide_arg image, mount, name;
    unsigned index;
    int identifier;
    unsigned flags;
} mount_args;

LONG_OPERATION(mount, mount_args,
               DismMountImage(a->image.wide, a->mount.wide, a->index, a->name.wide,
                              (DismImageIdentifier)a->identifier, a->flags, cancel, cb, call))

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
    if (prepare_long_call(&call, run_mount, &a, progress, cancel) == 0)
        result = run_long_call(st, &call);
    PyMem_Free(a.image.wide);
    PyMem_Free(a.mount.wide);
    PyMem_Free(a.name.wide);
    return result;
}

typedef struct {
    wide_arg mount;
    unsigned flags;
} unmount_args;

LONG_OPERATION(unmount, unmount_args, DismUnmountImage(a->mount.wide, a->flags, cancel, cb, call))

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
    if (prepare_long_call(&call, run_unmount, &a, progress, cancel) == 0) {
        call.completed_sentence = saved_or_discarded(a.flags);
        result = run_long_call(st, &call);
    }
    PyMem_Free(a.mount.wide);
    return result;
}


PyMethodDef image_methods[] = {
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
    {NULL, NULL, 0, NULL},
};
