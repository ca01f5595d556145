/*
 * calls.c - the shapes the servicing calls share: a read of the image that
 * hands the caller a result, a check of arguments against the image, and
 * the argument checks (and refusals) every servicing function makes.
 */
#include "servicing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

HRESULT servicing_read(DismSession session, const char *function, image_read read,
                       const void *args, void **result, UINT *count)
{
    *result = NULL;
    if (count)
        *count = 0;
    offline_image img;
    HRESULT hr = offline_begin(session, function, &img);
    if (FAILED(hr))
        return hr;
    result_pool *pool = pool_new();
    void *built = NULL;
    UINT n = 0;
    if (!pool)
        hr = engine_fail(E_OUTOFMEMORY, "%s: out of memory.", function);
    else if (SUCCEEDED(hr = read(&img, pool, args, &built, &n)) && !built)
        hr = engine_fail(E_OUTOFMEMORY, "%s: out of memory.", function);
    offline_end(&img);
    *result = pool_finish(pool, hr, built);
    if (SUCCEEDED(hr) && count)
        *count = n;
    return hr;
}

HRESULT servicing_check(DismSession session, const char *function, image_check check,
                        const void *args)
{
    offline_image img;
    HRESULT hr = offline_begin(session, function, &img);
    if (FAILED(hr))
        return hr;
    hr = check(&img, args);
    offline_end(&img);
    return hr;
}

/* ---- argument checks shared by the servicing functions ---- */

/* `outcome` tells what the refusal means for the image: a write says that
 * nothing was changed; a read, which never changes anything, says nothing
 * of the kind, so that it cannot be taken for a write that was tried. */
static HRESULT needs_servicing_stack(const char *function, const char *what, const char *outcome)
{
    HRESULT hr = engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                             "%s: %s is not supported by the portable DISM engine: it needs "
                             "Windows' servicing stack.%s", function, what, outcome);
    engine_log(LOG_WARNING, "%s", engine_last_error());
    return hr;
}

HRESULT not_supported_offline(const char *function, const char *what)
{
    return needs_servicing_stack(function, what, " The image was not changed.");
}

HRESULT read_not_supported_offline(const char *function, const char *what)
{
    return needs_servicing_stack(function, what, " DISM on Windows can answer it.");
}

HRESULT existing_path_arg(const char *function, PCWSTR path, const char *what, char **out,
                          bool *is_dir)
{
    char label[160];
    snprintf(label, sizeof label, "%s: %s", function, what);
    HRESULT hr = path_arg(path, label, out);
    if (FAILED(hr))
        return hr;
    struct stat st;
    if (stat(*out, &st) != 0) {
        /* Only a path that is not there is "not found"; one that cannot be
         * reached (permissions, a link loop, a name too long) says why. */
        hr = errno == ENOENT || errno == ENOTDIR
                 ? engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "%s: the %s '%s' does "
                               "not exist.", function, what, *out)
                 : engine_fail_errno(errno, "%s: the %s '%s' cannot be used", function, what,
                                     *out);
        free(*out);
        *out = NULL;
        return hr;
    }
    if (is_dir)
        *is_dir = S_ISDIR(st.st_mode);
    return S_OK;
}

HRESULT source_paths_arg(const char *function, PCWSTR *paths, UINT count)
{
    if (count && !paths)
        return engine_fail(E_INVALIDARG, "%s: SourcePathCount is %u but SourcePaths is NULL.",
                           function, count);
    for (UINT i = 0; i < count; i++)
        if (!paths[i] || !*paths[i])
            return engine_fail(E_INVALIDARG, "%s: source path %u is empty.", function, i);
    return S_OK;
}
