/*
 * wimerr.c - the one table that turns wimlib error codes into Win32 errors
 * (WIMGAPI's GetLastError) and HRESULTs (DISM, which wraps Win32 errors).
 * The closest Win32 meaning is chosen for each wimlib code, and the wimlib
 * sentence is kept in the last-error message so nothing is lost in
 * translation.  Also the one place wimlib is initialised.
 */
#include "wim.h"

#include <pthread.h>
#include <stdio.h>
#include <wimlib.h>

/* The Win32 error closest to each wimlib error: what WIMGAPI callers see
 * through GetLastError, and what DISM callers see wrapped in an HRESULT.
 * 0 when no Win32 error says more than "it failed". */
DWORD win32_from_wimlib(int code)
{
    switch (code) {
    case WIMLIB_ERR_SUCCESS: return ERROR_SUCCESS;
    case WIMLIB_ERR_ALREADY_LOCKED: return ERROR_SHARING_VIOLATION;
    case WIMLIB_ERR_INTEGRITY:
    case WIMLIB_ERR_INVALID_METADATA_RESOURCE:
    case WIMLIB_ERR_INVALID_RESOURCE_HASH:
    case WIMLIB_ERR_DECOMPRESSION:
    case WIMLIB_ERR_INVALID_INTEGRITY_TABLE:
    case WIMLIB_ERR_INVALID_LOOKUP_TABLE_ENTRY:
    case WIMLIB_ERR_WIM_IS_INCOMPLETE:
    case WIMLIB_ERR_XML:
    case WIMLIB_ERR_WRITE:
    case WIMLIB_ERR_READ:
    case WIMLIB_ERR_UNEXPECTED_END_OF_FILE: return ERROR_FILE_CORRUPT;
    case WIMLIB_ERR_INVALID_IMAGE:
    case WIMLIB_ERR_INVALID_PARAM: return ERROR_INVALID_PARAMETER;
    case WIMLIB_ERR_NOT_A_WIM_FILE:
    case WIMLIB_ERR_UNKNOWN_VERSION:
    case WIMLIB_ERR_INVALID_HEADER:
    case WIMLIB_ERR_INVALID_CHUNK_SIZE:
    case WIMLIB_ERR_INVALID_COMPRESSION_TYPE: return ERROR_BAD_FORMAT;
    case WIMLIB_ERR_OPEN:
    case WIMLIB_ERR_RESOURCE_NOT_FOUND: return ERROR_FILE_NOT_FOUND;
    case WIMLIB_ERR_PATH_DOES_NOT_EXIST: return ERROR_PATH_NOT_FOUND;
    case WIMLIB_ERR_NOMEM: return ERROR_NOT_ENOUGH_MEMORY;
    case WIMLIB_ERR_WIM_IS_READONLY: return ERROR_WRITE_PROTECT;
    case WIMLIB_ERR_ABORTED_BY_PROGRESS: return ERROR_REQUEST_ABORTED;
    case WIMLIB_ERR_MOUNTED_IMAGE_IS_BUSY: return ERROR_BUSY;
    case WIMLIB_ERR_NOT_PERMITTED_TO_UNMOUNT:
    case WIMLIB_ERR_OPENDIR: return ERROR_ACCESS_DENIED; /* a folder the scan may not read */
    case WIMLIB_ERR_IMAGE_NAME_COLLISION:
    case WIMLIB_ERR_DUPLICATE_EXPORTED_IMAGE: return ERROR_ALREADY_EXISTS;
    case WIMLIB_ERR_IS_SPLIT_WIM:
    case WIMLIB_ERR_WIM_IS_ENCRYPTED:
    case WIMLIB_ERR_UNSUPPORTED: return ERROR_NOT_SUPPORTED;
    default: return 0;
    }
}

/* The DISM API's view: the same table, except where DISM has its own code
 * (an image index, a cancelled call, a mount point) or none at all. */
HRESULT hresult_from_wimlib(int code)
{
    switch (code) {
    case WIMLIB_ERR_SUCCESS: return S_OK;
    case WIMLIB_ERR_INVALID_IMAGE: return DISMAPI_E_INVALID_IMAGE_INDEX;
    case WIMLIB_ERR_ABORTED_BY_PROGRESS: return HRESULT_FROM_WIN32(ERROR_CANCELLED);
    case WIMLIB_ERR_NOT_A_MOUNTPOINT: return DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH;
    case WIMLIB_ERR_NOMEM: return E_OUTOFMEMORY;
    case WIMLIB_ERR_RESOURCE_NOT_FOUND:
    case WIMLIB_ERR_PATH_DOES_NOT_EXIST:
    case WIMLIB_ERR_IMAGE_NAME_COLLISION:
    case WIMLIB_ERR_DUPLICATE_EXPORTED_IMAGE: return E_FAIL;
    default: {
        DWORD w = win32_from_wimlib(code);
        return w ? HRESULT_FROM_WIN32(w) : E_FAIL;
    }
    }
}

HRESULT engine_fail_wimlib(int code, const char *fmt, ...)
{
    char cause[512];
    snprintf(cause, sizeof cause, "%s (wimlib error %d)", wimlib_get_error_string(code), code);
    va_list ap;
    va_start(ap, fmt);
    HRESULT hr = engine_vfail_because(hresult_from_wimlib(code), cause, fmt, ap);
    va_end(ap);
    return hr;
}

static pthread_once_t wimlib_once = PTHREAD_ONCE_INIT;
static int wimlib_init_rc;

/* WIMGAPI and DISM paths inside an image are case-insensitive, so wimlib
 * matches them that way (extract_paths, iterate_dir_tree).  wimlib's global
 * state may be set only while no other thread is inside it: once, first. */
static void init_wimlib_once(void)
{
    wimlib_init_rc = wimlib_global_init(WIMLIB_INIT_FLAG_DEFAULT_CASE_INSENSITIVE);
}

int engine_wimlib_init(void)
{
    pthread_once(&wimlib_once, init_wimlib_once);
    return wimlib_init_rc;
}

/* Also when the engine is loaded, before any of its code can reach wimlib:
 * whichever part of the engine (or of the process) calls wimlib first, the
 * case rule above holds. */
__attribute__((constructor)) static void init_wimlib_at_load(void)
{
    engine_wimlib_init();
}
