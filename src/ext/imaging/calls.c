/*
 * calls.c - the short WIMGAPI calls (create, temporary path, references,
 * count, attributes, boot image, load, image information).
 *
 * Each call: check the handle, lock its file, call WIMGAPI without the GIL,
 * read GetLastError() straight after a failure (before any Python call can
 * change it), unlock, then raise or convert.
 */
#include "imaging.h"

#include <string.h>

/* ------------------------------------------------------------------------
 * The shape of every short call
 * ------------------------------------------------------------------------ */

/* The WIMGAPI call of a binding: returns FALSE on failure. */
typedef BOOL (*wim_fn)(HANDLE handle, void *args);

/* Makes fn(w->handle, args) without the GIL; the caller holds w's lock. */
static HRESULT call_locked(WimObject *w, wim_fn fn, void *args, const char *function,
                           captured_message *msg)
{
    HANDLE h = w->handle;
    HRESULT hr = S_OK;
    Py_BEGIN_ALLOW_THREADS
    if (!fn(h, args))
        hr = wim_capture_error(function, msg);
    Py_END_ALLOW_THREADS
    return hr;
}

/* Checks, locks, calls and unlocks; returns 0, or -1 with the error set. */
static int short_call(PyObject *module, PyObject *obj, enum wim_kind kind, wim_fn fn, void *args,
                      const char *function)
{
    WimObject *w = wim_arg(module, obj, kind,
                           kind == WIM_KIND_FILE ? "a WimHandle of a WIM file" : "a WimHandle");
    if (!w || wim_lock(w, NULL) < 0)
        return -1;
    captured_message msg = {0};
    HRESULT hr = call_locked(w, fn, args, function, &msg);
    wim_unlock(w, NULL);
    if (FAILED(hr)) {
        wim_raise(module, hr, &msg);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * WIMCreateFile
 * ------------------------------------------------------------------------ */

PyDoc_STRVAR(wim_create_file_doc,
"wim_create_file(path, access, disposition, flags, compression)\n--\n\n"
"WIMCreateFile -> (WimHandle, creation_result).");

static PyObject *dism_wim_create_file(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path", "access", "disposition", "flags", "compression", NULL};
#ifdef _WIN32
    /* Every other WIMGAPI call needs a handle this call made. */
    if (wimgapi_ready(module) < 0)
        return NULL;
#endif
    wide_arg path = {0};
    uint_arg access = DWORD_ARG(module, "WIMCreateFile", "DesiredAccess");
    uint_arg disposition = DWORD_ARG(module, "WIMCreateFile", "CreationDisposition");
    uint_arg flags = DWORD_ARG(module, "WIMCreateFile", "FlagsAndAttributes");
    uint_arg compression = DWORD_ARG(module, "WIMCreateFile", "CompressionType");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&O&O&O&:wim_create_file", kwlist,
                                     path_converter, &path, uint_converter, &access,
                                     uint_converter, &disposition, uint_converter, &flags,
                                     uint_converter, &compression))
        return NULL;
    HANDLE h;
    DWORD result = 0;
    HRESULT hr = S_OK;
    captured_message msg = {0};
    Py_BEGIN_ALLOW_THREADS
    h = WIMCreateFile(path.wide, access.value, disposition.value, flags.value, compression.value,
                      &result);
    if (!h)
        hr = wim_capture_error("WIMCreateFile", &msg);
    Py_END_ALLOW_THREADS
    PyMem_Free(path.wide);
    if (!h)
        return wim_raise(module, hr, &msg);
    PyObject *handle = wim_new_handle(module, h, NULL);
    if (!handle)
        return NULL;
    PyObject *tuple = Py_BuildValue("(Nk)", handle, (unsigned long)result);
    return tuple;
}

/* ------------------------------------------------------------------------
 * Paths and flags of a WIM
 * ------------------------------------------------------------------------ */

typedef struct {
    PCWSTR path;
    DWORD value;
} path_value;

static BOOL call_set_temporary_path(HANDLE h, void *args)
{
    return WIMSetTemporaryPath(h, ((path_value *)args)->path);
}

PyDoc_STRVAR(wim_set_temporary_path_doc,
"wim_set_temporary_path(wim, path)\n--\n\nWIMSetTemporaryPath.");

static PyObject *dism_wim_set_temporary_path(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"wim", "path", NULL};
    PyObject *wim;
    wide_arg path = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&:wim_set_temporary_path", kwlist,
                                     &wim, path_converter, &path))
        return NULL;
    path_value a = {path.wide, 0};
    int rc = short_call(module, wim, WIM_KIND_FILE, call_set_temporary_path, &a,
                        "WIMSetTemporaryPath");
    PyMem_Free(path.wide);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static BOOL call_set_reference_file(HANDLE h, void *args)
{
    path_value *a = args;
    return WIMSetReferenceFile(h, a->path, a->value);
}

PyDoc_STRVAR(wim_set_reference_file_doc,
"wim_set_reference_file(wim, path, flags)\n--\n\n"
"WIMSetReferenceFile; path None with WIM_REFERENCE_REPLACE clears the list.");

static PyObject *dism_wim_set_reference_file(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"wim", "path", "flags", NULL};
    PyObject *wim;
    wide_arg path = {0};
    uint_arg flags = DWORD_ARG(module, "WIMSetReferenceFile", "Flags");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&O&:wim_set_reference_file", kwlist,
                                     &wim, optional_path_converter, &path, uint_converter,
                                     &flags))
        return NULL;
    path_value a = {path.wide, flags.value};
    int rc = short_call(module, wim, WIM_KIND_FILE, call_set_reference_file, &a,
                        "WIMSetReferenceFile");
    PyMem_Free(path.wide);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static BOOL call_set_boot_image(HANDLE h, void *args)
{
    return WIMSetBootImage(h, ((path_value *)args)->value);
}

PyDoc_STRVAR(wim_set_boot_image_doc,
"wim_set_boot_image(wim, index)\n--\n\nWIMSetBootImage; index 0 clears it.");

static PyObject *dism_wim_set_boot_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"wim", "index", NULL};
    PyObject *wim;
    uint_arg index = DWORD_ARG(module, "WIMSetBootImage", "ImageIndex");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&:wim_set_boot_image", kwlist,
                                     &wim, uint_converter, &index))
        return NULL;
    path_value a = {NULL, index.value};
    if (short_call(module, wim, WIM_KIND_FILE, call_set_boot_image, &a, "WIMSetBootImage") < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------
 * Counts and attributes
 * ------------------------------------------------------------------------ */

/* WIMGetImageCount has no failure contract: 0 is "invalid or empty". */
static BOOL call_get_image_count(HANDLE h, void *args)
{
    *(DWORD *)args = WIMGetImageCount(h);
    return TRUE;
}

PyDoc_STRVAR(wim_get_image_count_doc,
"wim_get_image_count(wim, /)\n--\n\nWIMGetImageCount.");

static PyObject *dism_wim_get_image_count(PyObject *module, PyObject *wim)
{
    DWORD count = 0;
    if (short_call(module, wim, WIM_KIND_FILE, call_get_image_count, &count,
                   "WIMGetImageCount") < 0)
        return NULL;
    return PyLong_FromUnsignedLong(count);
}

static BOOL call_get_attributes(HANDLE h, void *args)
{
    return WIMGetAttributes(h, args, sizeof(WIM_INFO));
}

static PyObject *wide_field(const WCHAR *text, size_t max)
{
    size_t n = 0;
    while (n < max && text[n])
        n++;
    return PyUnicode_FromWideChar(text, (Py_ssize_t)n);
}

PyDoc_STRVAR(wim_get_attributes_doc,
"wim_get_attributes(wim, /)\n--\n\n"
"WIMGetAttributes -> (wim_path, guid_bytes16, image_count, compression_type, part_number, "
"total_parts, boot_index, wim_attributes, flags_and_attr).  The GUID's bytes are in "
"memory order (uuid.UUID(bytes_le=...)).");

static PyObject *dism_wim_get_attributes(PyObject *module, PyObject *wim)
{
    WIM_INFO info;
    memset(&info, 0, sizeof info);
    if (short_call(module, wim, WIM_KIND_FILE, call_get_attributes, &info,
                   "WIMGetAttributes") < 0)
        return NULL;
    return Py_BuildValue("(Ny#kkkkkkk)", wide_field(info.WimPath, MAX_PATH),
                         (const char *)&info.Guid, (Py_ssize_t)sizeof info.Guid,
                         (unsigned long)info.ImageCount, (unsigned long)info.CompressionType,
                         (unsigned long)info.PartNumber, (unsigned long)info.TotalParts,
                         (unsigned long)info.BootIndex, (unsigned long)info.WimAttributes,
                         (unsigned long)info.WimFlagsAndAttr);
}

/* ------------------------------------------------------------------------
 * WIMLoadImage
 * ------------------------------------------------------------------------ */

typedef struct {
    DWORD index;
    HANDLE image;
} load_args;

static BOOL call_load_image(HANDLE h, void *args)
{
    load_args *a = args;
    a->image = WIMLoadImage(h, a->index);
    return a->image != NULL;
}

PyDoc_STRVAR(wim_load_image_doc,
"wim_load_image(wim, index)\n--\n\nWIMLoadImage -> WimHandle of the image (1-based index).");

static PyObject *dism_wim_load_image(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"wim", "index", NULL};
    PyObject *obj;
    uint_arg index = DWORD_ARG(module, "WIMLoadImage", "ImageIndex");
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&:wim_load_image", kwlist,
                                     &obj, uint_converter, &index))
        return NULL;
    WimObject *w = wim_arg(module, obj, WIM_KIND_FILE, "a WimHandle of a WIM file");
    if (!w || wim_lock(w, NULL) < 0)
        return NULL;
    load_args a = {index.value, NULL};
    captured_message msg = {0};
    HRESULT hr = call_locked(w, call_load_image, &a, "WIMLoadImage", &msg);
    /* Linked into the file's images under its lock, so a close in between
     * cannot miss it. */
    PyObject *image = SUCCEEDED(hr) ? wim_new_handle(module, a.image, w) : NULL;
    wim_unlock(w, NULL);
    return FAILED(hr) ? wim_raise(module, hr, &msg) : image;
}

/* ------------------------------------------------------------------------
 * Image information (XML)
 * ------------------------------------------------------------------------ */

typedef struct {
    PVOID buffer;
    DWORD size;
} info_args;

static BOOL call_get_image_information(HANDLE h, void *args)
{
    info_args *a = args;
    return WIMGetImageInformation(h, &a->buffer, &a->size);
}

/* The XML without its BOM and final NUL, from WCHAR units: UTF-16LE on
 * Windows; elsewhere the engine's wchar_t (4 bytes, BOM FF FE 00 00), and
 * UTF-16LE too, as wimgapi.h's comment has it. */
static PyObject *decode_xml(const unsigned char *bytes, DWORD size)
{
    int wide32 = sizeof(WCHAR) == 4 && size >= 4 && bytes[0] == 0xFF && bytes[1] == 0xFE &&
                 bytes[2] == 0 && bytes[3] == 0;
    const char *encoding = wide32 ? "utf-32-le" : "utf-16-le";
    size_t unit = wide32 ? 4 : 2;
    size_t n = size - size % unit;
    /* Trailing NULs, then the BOM. */
    while (n >= unit && !memcmp(bytes + n - unit, "\0\0\0\0", unit))
        n -= unit;
    size_t start = 0;
    if (n >= unit && bytes[0] == 0xFF && bytes[1] == 0xFE)
        start = unit;
    return PyUnicode_Decode((const char *)bytes + start, (Py_ssize_t)(n - start), encoding,
                            "strict");
}

PyDoc_STRVAR(wim_get_image_information_doc,
"wim_get_image_information(handle, /)\n--\n\n"
"WIMGetImageInformation -> the XML (<WIM> of a file, <IMAGE> of an image), BOM stripped.");

static PyObject *dism_wim_get_image_information(PyObject *module, PyObject *handle)
{
    info_args a = {NULL, 0};
    if (short_call(module, handle, WIM_KIND_ANY, call_get_image_information, &a,
                   "WIMGetImageInformation") < 0)
        return NULL;
    PyObject *xml = a.buffer ? decode_xml(a.buffer, a.size) : PyUnicode_FromString("");
    if (a.buffer)
        LocalFree(a.buffer);
    return xml;
}

static BOOL call_set_image_information(HANDLE h, void *args)
{
    info_args *a = args;
    return WIMSetImageInformation(h, a->buffer, a->size);
}

PyDoc_STRVAR(wim_set_image_information_doc,
"wim_set_image_information(handle, xml)\n--\n\n"
"WIMSetImageInformation: replaces the XML (sent as WCHARs with a BOM, the NUL counted).");

static PyObject *dism_wim_set_image_information(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"handle", "xml", NULL};
    PyObject *handle, *xml;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OU:wim_set_image_information", kwlist,
                                     &handle, &xml))
        return NULL;
    /* WCHAR units (UTF-16 on Windows, the engine's wchar_t elsewhere):
     * BOM, text, NUL, the NUL counted, as ManagedWimgApi sends it. */
    PyObject *framed = PyUnicode_FromFormat("%c%U", 0xFEFF, xml);
    Py_ssize_t units = 0;
    wchar_t *wide = framed ? PyUnicode_AsWideCharString(framed, &units) : NULL;
    Py_XDECREF(framed);
    if (!wide)
        return NULL;
    if ((size_t)(units + 1) > 0xFFFFFFFFu / sizeof(wchar_t)) {
        PyMem_Free(wide);
        PyErr_SetString(PyExc_OverflowError, "the XML is too large for WIMGAPI");
        return NULL;
    }
    info_args a = {wide, (DWORD)((size_t)(units + 1) * sizeof(wchar_t))};
    int rc = short_call(module, handle, WIM_KIND_ANY, call_set_image_information, &a,
                        "WIMSetImageInformation");
    PyMem_Free(wide);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

PyMethodDef wim_call_methods[] = {
    KW_METHOD(wim_create_file),
    KW_METHOD(wim_set_temporary_path),
    KW_METHOD(wim_set_reference_file),
    ONE_METHOD(wim_get_image_count),
    ONE_METHOD(wim_get_attributes),
    KW_METHOD(wim_set_boot_image),
    KW_METHOD(wim_load_image),
    ONE_METHOD(wim_get_image_information),
    KW_METHOD(wim_set_image_information),
    {NULL, NULL, 0, NULL},
};
