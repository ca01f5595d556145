/*
 * edition.c - the image's edition and product key, and where its registry
 * hives are (undocumented _Dism* exports; exports.c looks them up), plus
 * the portable engine's summary of the image a session is open on.
 */
#include "../ext.h"

typedef HRESULT(WINAPI *GetCurrentEdition_fn)(DismSession, DismString **);
typedef HRESULT(WINAPI *GetTargetEditions_fn)(DismSession, DismString **, UINT *);
typedef HRESULT(WINAPI *SetEdition_fn)(DismSession, PCWSTR, PCWSTR, HANDLE,
                                       DISM_PROGRESS_CALLBACK, PVOID);
typedef HRESULT(WINAPI *GetProductKeyInfo_fn)(DismSession, PCWSTR, DismString **, DismString **);
typedef HRESULT(WINAPI *GetRegistryMountPoint_fn)(DismSession, DismRegistryHive, DismString **);
typedef HRESULT(WINAPI *GetSessionImageInfo_fn)(DismSession, DismImageInfo **);

PyDoc_STRVAR(get_current_edition_doc,
"get_current_edition(session)\n--\n\n_DismGetCurrentEdition.");
SESSION_EXPORT_QUERY(get_current_edition, X_GetCurrentEdition, NULL,
                     ((GetCurrentEdition_fn)out->export_fn)(h, (DismString **)&out->items),
                     as_string)

PyDoc_STRVAR(get_target_editions_doc,
"get_target_editions(session)\n--\n\n_DismGetTargetEditions.");
SESSION_EXPORT_QUERY(get_target_editions, X_GetTargetEditions, NULL,
                     ((GetTargetEditions_fn)out->export_fn)(h, (DismString **)&out->items,
                                                            &out->count),
                     as_strings)

typedef struct {
    DismSession handle;
    PCWSTR edition, key;
    SetEdition_fn fn;
} set_edition_args;

LONG_OPERATION(set_edition, set_edition_args,
               a->fn(a->handle, a->edition, a->key, cancel, cb, call))

PyDoc_STRVAR(set_edition_doc,
"set_edition(session, edition, product_key=None, progress=None, cancel=None)\n--\n\n"
"_DismSetEdition.");

static PyObject *dism_set_edition(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"session", "edition", "product_key", "progress", "cancel", NULL};
    PyObject *session, *progress = Py_None, *cancel = Py_None;
    wide_arg edition = {0}, key = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&|O&OO:set_edition", kwlist, &session,
                                     path_converter, &edition, optional_text_converter, &key,
                                     &progress, &cancel))
        return NULL;
    set_edition_args a = {0, edition.wide, key.wide, NULL};
    PyObject *r = NULL;
    if ((a.fn = (SetEdition_fn)require_export(module, X_SetEdition)))
        r = long_session_call(module, session, run_set_edition, &a, progress, cancel);
    PyMem_Free(edition.wide);
    PyMem_Free(key.wide);
    return r;
}

PyDoc_STRVAR(set_product_key_doc, "set_product_key(session, key)\n--\n\n_DismSetProductKey.");

static PyObject *dism_set_product_key(PyObject *module, PyObject *args)
{
    SessionString_fn fn = (SessionString_fn)require_export(module, X_SetProductKey);
    return fn ? session_string_call(module, args, "OO&:set_product_key", fn) : NULL;
}

PyDoc_STRVAR(validate_product_key_doc,
"validate_product_key(session, key)\n--\n\n_DismValidateProductKey.");

static PyObject *dism_validate_product_key(PyObject *module, PyObject *args)
{
    SessionString_fn fn = (SessionString_fn)require_export(module, X_ValidateProductKey);
    return fn ? session_string_call(module, args, "OO&:validate_product_key", fn) : NULL;
}

QUERY_CALL(get_product_key_info, wchar_t,
           ((GetProductKeyInfo_fn)out->export_fn)(h, a, (DismString **)&out->items,
                                                  (DismString **)&out->extra))

/* (edition_id, channel), each str or None. */
static PyObject *edition_and_channel(const query_result *out)
{
    return Py_BuildValue("(NN)", string_or_none(out->items), string_or_none(out->extra));
}

PyDoc_STRVAR(get_product_key_info_doc,
"get_product_key_info(session, key)\n--\n\n_DismGetProductKeyInfo: (edition_id, channel).");

static PyObject *dism_get_product_key_info(PyObject *module, PyObject *args)
{
    query_result out = {0};
    return text_query(module, args, "OO&:get_product_key_info", X_GetProductKeyInfo,
                      call_get_product_key_info, &out, edition_and_channel);
}

QUERY_CALL(get_registry_mount_point, int,
           ((GetRegistryMountPoint_fn)out->export_fn)(h, (DismRegistryHive)*a,
                                                      (DismString **)&out->items))

PyDoc_STRVAR(get_registry_mount_point_doc,
"get_registry_mount_point(session, hive)\n--\n\n"
"_DismGetRegistryMountPoint.  The portable engine answers with the hive file's path.");

static PyObject *dism_get_registry_mount_point(PyObject *module, PyObject *args)
{
    PyObject *session;
    int hive;
    if (!PyArg_ParseTuple(args, "Oi:get_registry_mount_point", &session, &hive))
        return NULL;
    query_result out = {0};
    return export_query(module, session, X_GetRegistryMountPoint, call_get_registry_mount_point,
                        &hive, &out, as_string);
}

PyDoc_STRVAR(get_session_image_info_doc,
"get_session_image_info(session)\n--\n\n"
"_DismPortableGetSessionImageInfo: product, edition, version (UBR in sp_build) of the\n"
"image the session is open on.  Portable engine only.");
SESSION_EXPORT_QUERY(get_session_image_info, X_PortableGetSessionImageInfo, &REC_IMAGE_INFO,
                     ((GetSessionImageInfo_fn)out->export_fn)(h, (DismImageInfo **)&out->items),
                     as_record)

PyMethodDef edition_methods[] = {
    ONE_METHOD(get_current_edition),
    ONE_METHOD(get_target_editions),
    KW_METHOD(set_edition),
    POS_METHOD(set_product_key),
    POS_METHOD(validate_product_key),
    POS_METHOD(get_product_key_info),
    POS_METHOD(get_registry_mount_point),
    ONE_METHOD(get_session_image_info),
    {NULL, NULL, 0, NULL},
};
