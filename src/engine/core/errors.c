/*
 * errors.c - error reporting: the per-thread last error behind
 * DismGetLastErrorMessage, and engine_fail, through which every failure of
 * the engine is recorded (and logged).  It needs only the log, so every file
 * of the engine can report errors without depending on the API's entry
 * points.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* DismGetLastErrorMessage is per thread, as on Windows. */
static __thread char last_error[2048];

void engine_clear_error(void) { last_error[0] = '\0'; }

const char *engine_last_error(void) { return last_error; }

static void record_error(HRESULT hr, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    engine_log(LOG_ERROR, "0x%08X %s", (unsigned)hr, last_error);
}

HRESULT engine_fail(HRESULT hr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record_error(hr, fmt, ap);
    va_end(ap);
    return hr;
}

HRESULT engine_hresult_from_errno(int err)
{
    switch (err) {
    case ENOENT: return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    case ENOTDIR: return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    case EACCES:
    case EPERM: return E_ACCESSDENIED;
    case ENOMEM: return E_OUTOFMEMORY;
    case ENOSPC: return HRESULT_FROM_WIN32(ERROR_DISK_FULL);
    case EROFS: return HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT);
    case EEXIST: return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    case ENOTEMPTY: return HRESULT_FROM_WIN32(ERROR_DIR_NOT_EMPTY);
    case EBUSY: return HRESULT_FROM_WIN32(ERROR_BUSY);
    case EINVAL: return E_INVALIDARG;
    default: return E_FAIL;
    }
}

HRESULT engine_vfail_because(HRESULT hr, const char *cause, const char *fmt, va_list ap)
{
    char what[1536];
    vsnprintf(what, sizeof what, fmt, ap);
    return engine_fail(hr, "%s: %s.", what, cause);
}

HRESULT engine_fail_errno(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HRESULT hr = engine_vfail_because(engine_hresult_from_errno(err), strerror(err), fmt, ap);
    va_end(ap);
    return hr;
}

