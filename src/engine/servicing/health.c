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

HRESULT WINAPI DismCheckImageHealth(DismSession Session, BOOL ScanImage, HANDLE CancelEvent,
                                    DISM_PROGRESS_CALLBACK Progress, PVOID UserData,
                                    DismImageHealthState *ImageHealth)
{
    if (!ImageHealth)
        return engine_fail(E_INVALIDARG, "DismCheckImageHealth: ImageHealth is required.");
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismCheckImageHealth", &img);
    if (FAILED(hr))
        return hr;
    hive_h *h;
    if (ScanImage) {
        hr = read_not_supported_offline("DismCheckImageHealth",
                                        "scanning the component store");
    } else if (SUCCEEDED(hr = offline_require_hive(&img, HIVE_SOFTWARE, &h))) {
        hive_node_h cbs = hive_lookup(h, hivex_root(h), CBS_KEY);
        progress_sink sink = {CancelEvent, Progress, UserData};
        progress_report(&sink, 0, 1);
        if (progress_cancelled(&sink))
            hr = engine_fail(HRESULT_FROM_WIN32(ERROR_CANCELLED), "DismCheckImageHealth: "
                             "cancelled.");
        else if (!cbs)
            hr = engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED), "DismCheckImageHealth: "
                             "the image has no component store to check (no CBS key).");
        else {
            /* Unserviceable's presence is the flag [C]; its data varies. */
            *ImageHealth = hivex_node_get_value(h, cbs, "Unserviceable") ? DismImageNonRepairable
                                                                          : DismImageHealthy;
            progress_report(&sink, 1, 1);
        }
    }
    offline_end(&img);
    return hr;
}

HRESULT WINAPI DismRestoreImageHealth(DismSession Session, PCWSTR *SourcePaths,
                                      UINT SourcePathCount, BOOL LimitAccess, HANDLE CancelEvent,
                                      DISM_PROGRESS_CALLBACK Progress, PVOID UserData)
{
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismRestoreImageHealth", &img);
    if (FAILED(hr))
        return hr;
    if (SUCCEEDED(hr = source_paths_arg("DismRestoreImageHealth", SourcePaths, SourcePathCount)))
        hr = not_supported_offline("DismRestoreImageHealth", "repairing the component store");
    offline_end(&img);
    return hr;
}

/* An answer file's offlineServicing pass adds drivers and packages, which
 * is servicing-stack work; the file is still checked for what DISM needs. */
HRESULT WINAPI DismApplyUnattend(DismSession Session, PCWSTR UnattendFile, BOOL SingleSession)
{
    offline_image img;
    HRESULT hr = offline_begin(Session, "DismApplyUnattend", &img);
    if (FAILED(hr))
        return hr;
    char *path = NULL;
    bool is_dir = false;
    if (SUCCEEDED(hr = existing_path_arg("DismApplyUnattend", UnattendFile, "answer file", &path,
                                         &is_dir))) {
        size_t len = 0;
        int err = 0;
        char *xml = is_dir ? NULL : read_small_file(path, 16u << 20, &len, &err);
        if (!xml)
            hr = is_dir ? engine_fail(E_INVALIDARG, "DismApplyUnattend: '%s' is a directory.",
                                      path)
                        : engine_fail_errno(err, "DismApplyUnattend: cannot read '%s'", path);
        else if (!memmem(xml, len, "unattend", 8))
            hr = engine_fail(E_INVALIDARG, "DismApplyUnattend: '%s' is not an answer file (no "
                             "<unattend> element).", path);
        else
            hr = not_supported_offline("DismApplyUnattend", "applying an answer file");
        free(xml);
    }
    free(path);
    offline_end(&img);
    return hr;
}
