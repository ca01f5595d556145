/*
 * constants.c - every constant of wimgapi.h as a module int, named as the
 * header names it (the header is the one source; tests/ext parse it and
 * compare).
 */
#include "imaging.h"

static const struct {
    const char *name;
    unsigned long value;
} wim_constants[] = {
#define C(name) {#name, (unsigned long)(name)}
    C(WIM_GENERIC_READ),
    C(WIM_GENERIC_WRITE),
    C(WIM_GENERIC_MOUNT),
    C(WIM_CREATE_NEW),
    C(WIM_CREATE_ALWAYS),
    C(WIM_OPEN_EXISTING),
    C(WIM_OPEN_ALWAYS),
    C(WIM_COMPRESS_NONE),
    C(WIM_COMPRESS_XPRESS),
    C(WIM_COMPRESS_LZX),
    C(WIM_COMPRESS_LZMS),
    C(WIM_CREATED_NEW),
    C(WIM_OPENED_EXISTING),
    C(WIM_FLAG_RESERVED),
    C(WIM_FLAG_VERIFY),
    C(WIM_FLAG_INDEX),
    C(WIM_FLAG_NO_APPLY),
    C(WIM_FLAG_NO_DIRACL),
    C(WIM_FLAG_NO_FILEACL),
    C(WIM_FLAG_SHARE_WRITE),
    C(WIM_FLAG_FILEINFO),
    C(WIM_FLAG_NO_RP_FIX),
    C(WIM_FLAG_MOUNT_READONLY),
    C(WIM_FLAG_MOUNT_FAST),
    C(WIM_FLAG_MOUNT_LEGACY),
    C(WIM_FLAG_APPLY_CI_EA),
    C(WIM_FLAG_WIM_BOOT),
    C(WIM_FLAG_APPLY_COMPACT),
    C(WIM_FLAG_SUPPORT_EA),
    C(WIM_FLAG_CHUNKED),
    C(WIM_EXPORT_ALLOW_DUPLICATES),
    C(WIM_EXPORT_ONLY_RESOURCES),
    C(WIM_EXPORT_ONLY_METADATA),
    C(WIM_EXPORT_VERIFY_SOURCE),
    C(WIM_EXPORT_VERIFY_DESTINATION),
    C(WIM_REFERENCE_APPEND),
    C(WIM_REFERENCE_REPLACE),
    C(WIM_ATTRIBUTE_NORMAL),
    C(WIM_ATTRIBUTE_RESOURCE_ONLY),
    C(WIM_ATTRIBUTE_METADATA_ONLY),
    C(WIM_ATTRIBUTE_VERIFY_DATA),
    C(WIM_ATTRIBUTE_RP_FIX),
    C(WIM_ATTRIBUTE_SPANNED),
    C(WIM_ATTRIBUTE_READONLY),
    C(INVALID_CALLBACK_VALUE),
    C(WIM_MSG),
    C(WIM_MSG_TEXT),
    C(WIM_MSG_PROGRESS),
    C(WIM_MSG_PROCESS),
    C(WIM_MSG_SCANNING),
    C(WIM_MSG_SETRANGE),
    C(WIM_MSG_SETPOS),
    C(WIM_MSG_STEPIT),
    C(WIM_MSG_COMPRESS),
    C(WIM_MSG_ERROR),
    C(WIM_MSG_ALIGNMENT),
    C(WIM_MSG_RETRY),
    C(WIM_MSG_SPLIT),
    C(WIM_MSG_FILEINFO),
    C(WIM_MSG_INFO),
    C(WIM_MSG_WARNING),
    C(WIM_MSG_CHK_PROCESS),
    C(WIM_MSG_WARNING_OBJECTID),
    C(WIM_MSG_QUERY_ABORT),
    C(WIM_MSG_SUCCESS),
    C(WIM_MSG_DONE),
    C(WIM_MSG_SKIP_ERROR),
    C(WIM_MSG_ABORT_IMAGE),
#undef C
};

int add_wim_constants(PyObject *module)
{
    for (size_t i = 0; i < sizeof wim_constants / sizeof wim_constants[0]; i++) {
        PyObject *v = PyLong_FromUnsignedLong(wim_constants[i].value);
        if (!v || PyModule_AddObjectRef(module, wim_constants[i].name, v) < 0) {
            Py_XDECREF(v);
            return -1;
        }
        Py_DECREF(v);
    }
    return 0;
}
