/*
 * lifecycle.c - process-wide state: DismInitialize, DismShutdown,
 * DismGetLastErrorMessage and DismDelete.  They need nothing but the core
 * (the state directory, the log, the session count, the result pool), so
 * every layer above can ask whether the API is initialized.
 */
#include "core.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialized;

HRESULT engine_require_initialized(const char *function)
{
    pthread_mutex_lock(&init_lock);
    bool ok = initialized;
    pthread_mutex_unlock(&init_lock);
    if (ok)
        return S_OK;
    return engine_fail(DISMAPI_E_DISMAPI_NOT_INITIALIZED,
                       "%s was called before DismInitialize: initialize the DISM API first.",
                       function);
}

/* The default log lives in the state directory.  When that cannot be used
 * (a read-only home, a foreign-owned DISM_STATE_DIR) DISM still starts, for
 * reading images needs no state, and logs nowhere; the calls that need the
 * state directory report why it cannot be used. */
static HRESULT open_log_file(DismLogLevel level, const char *path)
{
    int err = engine_log_open(level, path);
    if (err)
        return engine_fail(DISMAPI_E_LOGGING_DISABLED,
                           "DismInitialize: cannot open the log file '%s' (%s); the folder must "
                           "exist and be writable.", path, strerror(err));
    return S_OK;
}

static HRESULT open_log(DismLogLevel level, const char *log_path)
{
    if (log_path)
        return open_log_file(level, log_path);
    char dir[ENGINE_PATH_MAX], path[ENGINE_PATH_MAX + 16];
    if (FAILED(state_require("DismInitialize")) ||
        FAILED(state_subdir("DismInitialize", "logs", dir, sizeof dir))) {
        engine_clear_error();
        return S_OK;
    }
    snprintf(path, sizeof path, "%s/dism.log", dir);
    return open_log_file(level, path);
}

static HRESULT check_scratch_dir(const char *scratch)
{
    struct stat st;
    if (!scratch)
        return S_OK;
    if (stat(scratch, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR
                   ? engine_fail(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND),
                                 "DismInitialize: the scratch directory '%s' does not exist.",
                                 scratch)
                   : engine_fail_errno(errno, "DismInitialize: the scratch directory '%s' "
                                       "cannot be used", scratch);
    if (!S_ISDIR(st.st_mode))
        return engine_fail(E_INVALIDARG,
                           "DismInitialize: the scratch directory '%s' is not a directory.",
                           scratch);
    if (scratch[0] != '/')
        return engine_fail(E_INVALIDARG, "DismInitialize: the scratch directory '%s' must be "
                           "an absolute path.", scratch);
    return S_OK;
}

HRESULT WINAPI DismInitialize(DismLogLevel LogLevel, PCWSTR LogFilePath, PCWSTR ScratchDirectory)
{
    if ((int)LogLevel < DismLogErrors || LogLevel > DismLogErrorsWarningsInfoDebug)
        return engine_fail(E_INVALIDARG, "DismInitialize: log level %d is not a DismLogLevel.",
                           (int)LogLevel);
    char *log_path = NULL, *scratch = NULL;
    HRESULT hr = S_OK;
    if (LogFilePath && *LogFilePath && FAILED(hr = path_arg(LogFilePath, "LogFilePath", &log_path)))
        return hr;
    if (ScratchDirectory && *ScratchDirectory &&
        FAILED(hr = path_arg(ScratchDirectory, "ScratchDirectory", &scratch))) {
        free(log_path);
        return hr;
    }

    pthread_mutex_lock(&init_lock);
    if (initialized) {
        hr = engine_fail(HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED),
                         "DismInitialize: the DISM API is already initialized in this process; "
                         "call DismShutdown first.");
    } else {
        hr = check_scratch_dir(scratch);
        if (SUCCEEDED(hr)) {
            state_choose(scratch);
            hr = open_log(LogLevel, log_path);
        }
        if (SUCCEEDED(hr)) {
            initialized = true;
            engine_log(LOG_INFO, "DismInitialize: state %s, pid %d", state_directory(),
                       (int)getpid());
        }
    }
    pthread_mutex_unlock(&init_lock);
    free(log_path);
    free(scratch);
    return hr;
}

HRESULT WINAPI DismShutdown(void)
{
    HRESULT hr = S_OK;
    pthread_mutex_lock(&init_lock);
    if (!initialized) {
        hr = engine_fail(DISMAPI_E_DISMAPI_NOT_INITIALIZED,
                         "DismShutdown: the DISM API is not initialized.");
    } else if (sessions_open_count() > 0) {
        hr = engine_fail(DISMAPI_E_OPEN_SESSION_HANDLES,
                         "DismShutdown: %u DISM session(s) are still open; close them with "
                         "DismCloseSession first.",
                         sessions_open_count());
    } else {
        engine_log(LOG_INFO, "DismShutdown");
        engine_log_close();
        initialized = false;
    }
    pthread_mutex_unlock(&init_lock);
    return hr;
}

HRESULT WINAPI DismGetLastErrorMessage(DismString **ErrorMessage)
{
    if (!ErrorMessage)
        return E_INVALIDARG;
    *ErrorMessage = NULL;
    *ErrorMessage = pool_string_result(engine_last_error());
    return *ErrorMessage ? S_OK : E_OUTOFMEMORY;
}

HRESULT WINAPI DismDelete(VOID *DismStructure)
{
    HRESULT hr = results_delete(DismStructure);
    if (FAILED(hr))
        return engine_fail(hr, "DismDelete: %p is not a structure returned by the DISM API "
                               "(or it was already deleted).", DismStructure);
    return hr;
}
