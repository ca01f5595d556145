/*
 * wimerr.c - the one table that turns wimlib error codes into HRESULTs.
 * DISM reports WIM problems as Win32 errors wrapped in HRESULTs; the closest
 * Win32 meaning is chosen for each wimlib code, and the wimlib sentence is
 * kept in the last-error message so nothing is lost in translation.
 */
#include "wim.h"

#include <stdio.h>
#include <wimlib.h>

HRESULT hresult_from_wimlib(int code)
{
    switch (code) {
    case WIMLIB_ERR_SUCCESS: return S_OK;
    case WIMLIB_ERR_ALREADY_LOCKED: return HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION);
    case WIMLIB_ERR_INTEGRITY:
    case WIMLIB_ERR_INVALID_METADATA_RESOURCE:
    case WIMLIB_ERR_INVALID_RESOURCE_HASH:
    case WIMLIB_ERR_DECOMPRESSION:
    case WIMLIB_ERR_INVALID_INTEGRITY_TABLE:
    case WIMLIB_ERR_INVALID_LOOKUP_TABLE_ENTRY:
    case WIMLIB_ERR_WIM_IS_INCOMPLETE:
    case WIMLIB_ERR_XML: return HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT);
    case WIMLIB_ERR_INVALID_IMAGE: return DISMAPI_E_INVALID_IMAGE_INDEX;
    case WIMLIB_ERR_NOT_A_WIM_FILE:
    case WIMLIB_ERR_UNKNOWN_VERSION:
    case WIMLIB_ERR_INVALID_HEADER:
    case WIMLIB_ERR_INVALID_CHUNK_SIZE:
    case WIMLIB_ERR_INVALID_COMPRESSION_TYPE: return HRESULT_FROM_WIN32(ERROR_BAD_FORMAT);
    case WIMLIB_ERR_OPEN: return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    case WIMLIB_ERR_NOMEM: return E_OUTOFMEMORY;
    case WIMLIB_ERR_WIM_IS_READONLY: return HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT);
    case WIMLIB_ERR_ABORTED_BY_PROGRESS: return HRESULT_FROM_WIN32(ERROR_CANCELLED);
    case WIMLIB_ERR_MOUNTED_IMAGE_IS_BUSY: return HRESULT_FROM_WIN32(ERROR_BUSY);
    case WIMLIB_ERR_NOT_A_MOUNTPOINT: return DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH;
    case WIMLIB_ERR_NOT_PERMITTED_TO_UNMOUNT: return E_ACCESSDENIED;
    case WIMLIB_ERR_IS_SPLIT_WIM:
    case WIMLIB_ERR_WIM_IS_ENCRYPTED:
    case WIMLIB_ERR_UNSUPPORTED: return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    case WIMLIB_ERR_INVALID_PARAM: return E_INVALIDARG;
    case WIMLIB_ERR_WRITE:
    case WIMLIB_ERR_READ:
    case WIMLIB_ERR_UNEXPECTED_END_OF_FILE: return HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT);
    default: return E_FAIL;
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
