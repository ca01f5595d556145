/*
 * Contract checks of the engine that only C can make: calls before
 * DismInitialize, DismDelete of foreign pointers, per-thread last errors,
 * DismShutdown with open sessions, the servicing functions' argument checks, and a
 * progress callback invoked with the caller's UserData.
 *
 * Usage: api_contract OFFLINE_WINDOWS_ROOT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "dismapi.h"

static int failures;

#define CHECK(cond, what)                                              \
    do {                                                               \
        if (!(cond)) {                                                 \
            printf("FAIL %s (line %d)\n", what, __LINE__);             \
            failures++;                                                \
        } else {                                                       \
            printf("ok   %s\n", what);                                 \
        }                                                              \
    } while (0)

static int last_error_contains(const wchar_t *needle)
{
    DismString *m = NULL;
    if (DismGetLastErrorMessage(&m) != S_OK || !m)
        return 0;
    int found = wcsstr(m->Value, needle) != NULL;
    DismDelete(m);
    return found;
}

static void *other_thread(void *arg)
{
    (void)arg;
    /* This thread has failed nothing: its last error is its own. */
    return (void *)(long)(last_error_contains(L"DismGetImageInfo") ? 1 : 0);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    size_t n = strlen(argv[1]);
    wchar_t *root = calloc(n + 1, sizeof *root);
    mbstowcs(root, argv[1], n + 1);

    DismImageInfo *info = NULL;
    UINT count = 0;
    CHECK(DismGetImageInfo(L"x.wim", &info, &count) == DISMAPI_E_DISMAPI_NOT_INITIALIZED,
          "calls before DismInitialize fail with NOT_INITIALIZED");
    CHECK(DismShutdown() == DISMAPI_E_DISMAPI_NOT_INITIALIZED, "DismShutdown before init");

    CHECK(DismInitialize(DismLogErrors, NULL, NULL) == S_OK, "DismInitialize");
    CHECK(DismInitialize(DismLogErrors, NULL, NULL) == HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED),
          "a second DismInitialize is refused");

    CHECK(FAILED(DismGetImageInfo(L"/nonexistent/x.wim", &info, &count)) && info == NULL,
          "DismGetImageInfo of a missing file fails and returns nothing");
    CHECK(last_error_contains(L"DismGetImageInfo"), "the last error names the function");
    pthread_t t;
    void *seen = NULL;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &seen);
    CHECK(seen == NULL, "the last error message is per thread");

    int local = 0;
    CHECK(DismDelete(&local) == E_INVALIDARG, "DismDelete refuses memory it did not return");
    CHECK(DismDelete(NULL) == E_INVALIDARG, "DismDelete refuses NULL");
    DismString *m = NULL;
    CHECK(DismGetLastErrorMessage(&m) == S_OK && m, "DismGetLastErrorMessage");
    CHECK(DismDelete(m) == S_OK, "DismDelete of a returned structure");
    CHECK(DismDelete(m) == E_INVALIDARG, "a second DismDelete of it is refused");

    DismSession s = DISM_SESSION_DEFAULT;
    CHECK(DismOpenSession(root, NULL, NULL, &s) == S_OK, "DismOpenSession on an offline tree");
    CHECK(DismShutdown() == DISMAPI_E_OPEN_SESSION_HANDLES, "DismShutdown with an open session");
    CHECK(DismGetPackages(s, NULL, NULL) == E_INVALIDARG && last_error_contains(L"DismGetPackages"),
          "servicing functions check their output pointers and name themselves");
    DismDriverPackage *drivers = NULL;
    count = 99;
    CHECK(DismGetDrivers(s, TRUE, &drivers, &count) == S_OK && drivers && count == 0,
          "DismGetDrivers on an image without drivers: an empty result");
    CHECK(drivers && DismDelete(drivers) == S_OK, "the empty result is freed by DismDelete");
    CHECK(DismEnableFeature(s, L"NoSuchFeature", NULL, DismPackageNone, FALSE, NULL, 0, FALSE,
                            NULL, NULL, NULL) == DISMAPI_E_UNKNOWN_FEATURE &&
              last_error_contains(L"NoSuchFeature"),
          "enabling an unknown feature is DISMAPI_E_UNKNOWN_FEATURE");
    DismString *edition = NULL;
    CHECK(_DismGetCurrentEdition(s, &edition) == S_OK && edition && edition->Value &&
              wcslen(edition->Value) > 0 && DismDelete(edition) == S_OK,
          "_DismGetCurrentEdition reads the edition");
    CHECK(DismCloseSession(s) == S_OK, "DismCloseSession");
    CHECK(DismCloseSession(s) == DISMAPI_E_INVALID_DISM_SESSION, "closing twice");
    CHECK(DismCommitImage(s, 0, NULL, NULL, NULL) == DISMAPI_E_INVALID_DISM_SESSION,
          "a closed session is invalid");
    CHECK(DismUnmountImage(root, DISM_COMMIT_MASK, NULL, NULL, NULL) == E_INVALIDARG,
          "DISM_COMMIT_MASK is not a flag");

    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    CHECK(ev != NULL && SetEvent(ev) && ResetEvent(ev) && CloseHandle(ev), "the event functions");

    CHECK(DismShutdown() == S_OK, "DismShutdown");
    CHECK(DismInitialize(DismLogErrors, NULL, NULL) == S_OK, "initialize again after shutdown");
    CHECK(DismShutdown() == S_OK, "and shut down again");
    free(root);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
