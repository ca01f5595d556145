/*
 * lasterror.c - how the WIMGAPI functions report failures on POSIX: the
 * calling thread's last Win32 error (GetLastError/SetLastError, as
 * kernel32 keeps it) and the sentence that goes with it
 * (_WIMPortableGetLastErrorMessage): what failed, on which file, wimlib's
 * own words, and what to do.  The sentence goes through the engine's error
 * path (core/errors.c), so it is logged like every other engine failure;
 * the Win32 code comes from the one wimlib table (wim/wimerr.c).
 */
#include "imaging.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread DWORD last_code;
static __thread wchar_t *last_message;
/* Frees a thread's last message when the thread ends. */
static pthread_key_t message_key;
static pthread_once_t message_key_once = PTHREAD_ONCE_INIT;

static void make_message_key(void) { pthread_key_create(&message_key, free); }

DWORD WINAPI GetLastError(void) { return last_code; }

void WINAPI SetLastError(DWORD Error) { last_code = Error; }

void wim_begin(void)
{
    last_code = ERROR_SUCCESS;
    engine_clear_error();
}

/* What the caller can do about each kind of failure. */
static const char *advice_for(DWORD code)
{
    switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return "Check the path (and, for a split WIM, reference its other "
                                      "parts with WIMSetReferenceFile).";
    case ERROR_BAD_FORMAT: return "The file is not a WIM or ESD image.";
    case ERROR_FILE_CORRUPT: return "The file is damaged: get a fresh copy, or export the images "
                                    "that still read to a new WIM.";
    case ERROR_SHARING_VIOLATION: return "Another program is writing this WIM; wait for it to "
                                         "finish and try again.";
    case ERROR_REQUEST_ABORTED: return "Nothing was changed.";
    case ERROR_NOT_ENOUGH_MEMORY: return "Free some memory and try again.";
    case ERROR_WRITE_PROTECT:
    case ERROR_ACCESS_DENIED: return "Check the file's permissions, and open it with "
                                     "WIM_GENERIC_WRITE to change it.";
    case ERROR_DISK_FULL: return "Free some disk space and try again.";
    default: return NULL;
    }
}

/* The sentence is "<fmt...>: <cause>. <advice>", each part when there is one. */
static BOOL vrecord(DWORD code, const char *cause, const char *fmt, va_list ap)
{
    char what[1536];
    vsnprintf(what, sizeof what, fmt, ap);
    const char *advice = advice_for(code);
    HRESULT hr = HRESULT_FROM_WIN32(code);
    if (cause && advice)
        engine_fail(hr, "%s: %s. %s", what, cause, advice);
    else if (cause)
        engine_fail(hr, "%s: %s.", what, cause);
    else
        engine_fail(hr, "%s", what);
    last_code = code;
    return FALSE;
}

BOOL wim_fail(DWORD code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    BOOL ok = vrecord(code, NULL, fmt, ap);
    va_end(ap);
    return ok;
}

BOOL wim_vfail_wimlib(int rc, const char *fmt, va_list ap)
{
    char cause[512];
    snprintf(cause, sizeof cause, "%s (wimlib error %d)", wimlib_get_error_string(rc), rc);
    DWORD code = win32_from_wimlib(rc);
    return vrecord(code ? code : ERROR_GEN_FAILURE, cause, fmt, ap);
}

BOOL wim_fail_wimlib(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    BOOL ok = wim_vfail_wimlib(rc, fmt, ap);
    va_end(ap);
    return ok;
}

static DWORD win32_from_errno(int err)
{
    switch (err) {
    case ENOENT: return ERROR_FILE_NOT_FOUND;
    case ENOTDIR: return ERROR_PATH_NOT_FOUND;
    case EACCES:
    case EPERM: return ERROR_ACCESS_DENIED;
    case ENOMEM: return ERROR_NOT_ENOUGH_MEMORY;
    case ENOSPC:
    case EFBIG:
    case EDQUOT: return ERROR_DISK_FULL;
    case EROFS: return ERROR_WRITE_PROTECT;
    case EEXIST: return ERROR_FILE_EXISTS;
    case EWOULDBLOCK: return ERROR_SHARING_VIOLATION;
    case EISDIR: return ERROR_DIRECTORY;
    case ENAMETOOLONG: return ERROR_INVALID_NAME;
    default: return ERROR_GEN_FAILURE;
    }
}

BOOL wim_fail_errno(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    BOOL ok = vrecord(win32_from_errno(err), strerror(err), fmt, ap);
    va_end(ap);
    return ok;
}

PCWSTR WINAPI _WIMPortableGetLastErrorMessage(void)
{
    if (last_code == ERROR_SUCCESS)
        return NULL;
    pthread_once(&message_key_once, make_message_key);
    free(last_message);
    last_message = utf8_to_wide(engine_last_error());
    pthread_setspecific(message_key, last_message);
    return last_message;
}

/* WIMGetImageInformation's buffer comes from malloc. */
void *WINAPI LocalFree(void *Memory)
{
    free(Memory);
    return NULL;
}
