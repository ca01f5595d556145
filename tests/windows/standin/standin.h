/*
 * standin.h - what the files of the stand-in DismApi.dll offer each other.
 *
 * The stand-in is test infrastructure for the Windows lane
 * (scripts/test-windows.sh), never shipped: a DLL built with mingw-w64 that
 * exports every function the extension binds, by plain name and WINAPI, so
 * that the extension's Windows code runs for real under Wine.  It answers
 * from fixed tables (results of every DISM structure type: strings outside
 * the BMP, arrays, nested custom properties, SYSTEMTIMEs, 64-bit sizes) and
 * tells tests, through exports of its own, what it saw:
 *
 *   core.c       lifecycle, sessions, results handed out and DismDelete,
 *                per-thread last-error messages, the log of the last call,
 *                long operations (progress from a thread the DLL owns, the
 *                CancelEvent), the Standin* exports tests query
 *   image.c      image information, mounts, commit
 *   servicing.c  packages, features, drivers, capabilities, languages, apps,
 *                editions and product keys, health, reserved storage
 *   dependency.c standin_dep.dll, the dependency of the folder copy
 *
 * A text argument starting with "fail:" followed by an HRESULT in hex makes
 * the call fail with that HRESULT and a last-error message naming the call;
 * one starting with "slow" makes a long operation take about four seconds
 * (time to cancel it); one starting with "reboot" makes a long operation
 * succeed with ERROR_SUCCESS_REBOOT_REQUIRED (3010), as DISM does for a
 * change that needs a restart.
 */
#ifndef STANDIN_H
#define STANDIN_H

#include <windows.h>

#include "dismapi.h"

#ifndef STANDIN_IDENTITY
#  define STANDIN_IDENTITY L"system32"
#endif

/* A result handed to the caller, released by DismDelete: zeroed memory of
 * `size` bytes; the strings and arrays it points to are allocated with
 * result_text/result_array on the same result and freed with it. */
void *result_new(size_t size);
PCWSTR result_text(void *result, PCWSTR text);
void *result_array(void *result, size_t size);
/* The DismString * of one text, a result of its own. */
DismString *string_result(PCWSTR text);
/* An array of DismString (a NULL text stays a NULL Value). */
DismString *strings_result(const PCWSTR *texts, UINT count);

/* Every export starts with this: records the call for StandinLastCall
 * ("Name|arg|arg...", %s for texts, NULL shown as "<null>") and returns the
 * HRESULT the call must fail with, or S_OK.  Checks initialization. */
HRESULT enter_call(PCWSTR name, PCWSTR format, ...);
/* Fails the call: sets this thread's last-error message and returns hr. */
HRESULT fail_call(HRESULT hr, PCWSTR name, PCWSTR why);
/* Whether `session` is open. */
BOOL session_is_open(DismSession session);
/* A long operation: fires progress from a thread the DLL owns, stops early
 * with HRESULT_FROM_WIN32(ERROR_CANCELLED) when `cancel` is signalled;
 * returns ERROR_SUCCESS_REBOOT_REQUIRED for a subject starting "reboot". */
HRESULT long_operation(PCWSTR subject, HANDLE cancel, DISM_PROGRESS_CALLBACK progress,
                       PVOID user_data);
/* A SYSTEMTIME from its fields. */
SYSTEMTIME when(WORD year, WORD month, WORD day, WORD hour, WORD minute, WORD second, WORD ms);
/* A text argument that may be NULL, for the call log. */
PCWSTR shown(PCWSTR text);

#define SESSION_CHECK(name, session)                                                           \
    do {                                                                                       \
        if (!session_is_open(session))                                                         \
            return fail_call(DISMAPI_E_INVALID_DISM_SESSION, name, L"no such session");         \
    } while (0)

#endif /* STANDIN_H */
