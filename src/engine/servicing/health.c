/*
 * health.c - image health and unattend files.
 *
 * DISM's CheckHealth without a scan reads the flag a previous scan or a
 * failed servicing operation left: CBS records an unserviceable store as a
 * value named Unserviceable under its key [C CBS-internals write-up].  A
 * real scan verifies every component's payload against its manifest hashes
 * and needs the component store's own index, so it is refused, as are the
 * repair and unattend servicing that need the servicing stack.
 */
#include "servicing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CBS_KEY "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing"

typedef struct {
    bool scan;
    progress_sink sink;
    DismImageHealthState *health;
} health_question;

static HRESULT answer_image_health(offline_image *img, const void *args)
{
    const health_question *q = args;
    hive_h *h;
    if (q->scan)
        return read_not_supported_offline(img->function, "scanning the component store");
    HRESULT hr = offline_require_hive(img, HIVE_SOFTWARE, &h);
    if (FAILED(hr))
        return hr;
    hive_node_h cbs = hive_lookup(h, hivex_root(h), CBS_KEY);
    progress_report(&q->sink, 0, 1);
    if (progress_cancelled(&q->sink))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_CANCELLED), "DismCheckImageHealth: "
                           "cancelled.");
    if (!cbs)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED), "DismCheckImageHealth: "
                           "the image has no component store to check (no CBS key).");
    /* Unserviceable's presence is the flag [C]; its data varies. */
    *q->health = hivex_node_get_value(h, cbs, "Unserviceable") ? DismImageNonRepairable
                                                                : DismImageHealthy;
    progress_report(&q->sink, 1, 1);
    return S_OK;
}

HRESULT WINAPI DismCheckImageHealth(DismSession Session, BOOL ScanImage, HANDLE CancelEvent,
                                    DISM_PROGRESS_CALLBACK Progress, PVOID UserData,
                                    DismImageHealthState *ImageHealth)
{
    if (!ImageHealth)
        return engine_fail(E_INVALIDARG, "DismCheckImageHealth: ImageHealth is required.");
    health_question q = {ScanImage, {CancelEvent, Progress, UserData}, ImageHealth};
    return servicing_check(Session, "DismCheckImageHealth", answer_image_health, &q);
}

static HRESULT check_restore_health(offline_image *img, const void *args)
{
    const write_args *a = args;
    HRESULT hr = source_paths_arg(img->function, a->sources, a->source_count);
    return SUCCEEDED(hr) ? not_supported_offline(img->function, "repairing the component store")
                         : hr;
}

HRESULT WINAPI DismRestoreImageHealth(DismSession Session, PCWSTR *SourcePaths,
                                      UINT SourcePathCount, BOOL LimitAccess, HANDLE CancelEvent,
                                      DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    write_args args = {NULL, SourcePaths, SourcePathCount};
    return servicing_check(Session, "DismRestoreImageHealth", check_restore_health, &args);
}

/* An answer file's offlineServicing pass adds drivers and packages, which
 * is servicing-stack work; the file is still checked for what DISM needs. */
static HRESULT check_answer_file(const char *path, bool is_dir)
{
    size_t len = 0;
    int err = 0;
    char *xml = is_dir ? NULL : read_small_file(path, 16u << 20, &len, &err);
    HRESULT hr;
    if (!xml)
        hr = is_dir ? engine_fail(E_INVALIDARG, "DismApplyUnattend: '%s' is a directory.", path)
                    : engine_fail_errno(err, "DismApplyUnattend: cannot read '%s'", path);
    else if (!memmem(xml, len, "unattend", 8))
        hr = engine_fail(E_INVALIDARG, "DismApplyUnattend: '%s' is not an answer file (no "
                         "<unattend> element).", path);
    else
        hr = not_supported_offline("DismApplyUnattend", "applying an answer file");
    free(xml);
    return hr;
}

static HRESULT check_apply_unattend(offline_image *img, const void *unattend_file)
{
    char *path = NULL;
    bool is_dir = false;
    HRESULT hr = existing_path_arg(img->function, unattend_file, "answer file", &path, &is_dir);
    if (SUCCEEDED(hr))
        hr = check_answer_file(path, is_dir);
    free(path);
    return hr;
}

HRESULT WINAPI DismApplyUnattend(DismSession Session, PCWSTR UnattendFile, BOOL SingleSession)
{
    return servicing_check(Session, "DismApplyUnattend", check_apply_unattend, UnattendFile);
}
