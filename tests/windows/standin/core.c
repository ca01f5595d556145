/*
 * core.c - the stand-in's lifecycle, sessions, results and DismDelete,
 * last-error messages, call log and long operations, and the Standin*
 * exports the tests query through ctypes (standin.h says why it exists).
 */
#include "standin.h"

#include <stdarg.h>
#include <stdio.h>
#include <wchar.h>

/* ---- results handed out, and DismDelete ---------------------------------- */

/* A result: this header, then the structure the caller sees.  The strings
 * and arrays it points to are chained to it and freed with it. */
typedef struct child {
    struct child *next;
    void *align; /* keeps what follows pointer-aligned */
} child;

typedef struct result_header {
    struct result_header *next;
    child *children;
    void *pad[2]; /* 16-byte alignment of the payload on x64 */
} result_header;

static CRITICAL_SECTION state_lock; /* results, sessions, the call log */
static result_header *outstanding;
static UINT outstanding_count; /* the length of that list */

static void *zeroed(size_t size)
{
    return HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size);
}

void *result_new(size_t size)
{
    result_header *r = zeroed(sizeof *r + size);
    if (!r)
        return NULL;
    EnterCriticalSection(&state_lock);
    r->next = outstanding;
    outstanding = r;
    outstanding_count++;
    LeaveCriticalSection(&state_lock);
    return r + 1;
}

void *result_array(void *result, size_t size)
{
    result_header *r = (result_header *)result - 1;
    child *c = zeroed(sizeof *c + size);
    if (!c)
        return NULL;
    c->next = r->children;
    r->children = c;
    return c + 1;
}

PCWSTR result_text(void *result, PCWSTR text)
{
    if (!text)
        return NULL;
    size_t bytes = (wcslen(text) + 1) * sizeof(WCHAR);
    WCHAR *copy = result_array(result, bytes);
    if (copy)
        memcpy(copy, text, bytes);
    return copy;
}

DismString *string_result(PCWSTR text)
{
    return strings_result(&text, 1);
}

DismString *strings_result(const PCWSTR *texts, UINT count)
{
    DismString *s = result_new(count * sizeof *s);
    for (UINT i = 0; s && i < count; i++)
        s[i].Value = result_text(s, texts[i]);
    return s;
}

/* Unlinks the result whose structure is `payload`; NULL if none is. */
static result_header *take_result(void *payload)
{
    EnterCriticalSection(&state_lock);
    result_header **link = &outstanding;
    while (*link && *link + 1 != payload)
        link = &(*link)->next;
    result_header *found = *link;
    if (found) {
        *link = found->next;
        outstanding_count--;
    }
    LeaveCriticalSection(&state_lock);
    return found;
}

HRESULT WINAPI DismDelete(VOID *DismStructure)
{
    if (!DismStructure)
        return E_INVALIDARG;
    result_header *r = take_result(DismStructure);
    if (!r)
        return E_INVALIDARG; /* not a result of this DLL, or deleted twice */
    for (child *c = r->children, *next; c; c = next) {
        next = c->next;
        HeapFree(GetProcessHeap(), 0, c);
    }
    HeapFree(GetProcessHeap(), 0, r);
    return S_OK;
}

/* How many results were handed out and not yet given back to DismDelete. */
UINT WINAPI StandinOutstanding(void)
{
    EnterCriticalSection(&state_lock);
    UINT n = outstanding_count;
    LeaveCriticalSection(&state_lock);
    return n;
}

/* Which build of the stand-in this is (system32, folder, planted, ...). */
PCWSTR WINAPI StandinIdentity(void)
{
    return STANDIN_IDENTITY;
}

#ifdef STANDIN_WITH_DEPENDENCY
/* The folder copy imports this from standin_dep.dll (dependency.c), so
 * loading it loads that DLL, from wherever the loader finds it. */
__declspec(dllimport) PCWSTR WINAPI StandinDependencyIdentity(void);

PCWSTR WINAPI StandinDependency(void)
{
    return StandinDependencyIdentity();
}
#endif

/* ---- last-error messages, per thread -------------------------------------- */

static _Thread_local WCHAR last_message[512];

HRESULT fail_call(HRESULT hr, PCWSTR name, PCWSTR why)
{
    _snwprintf(last_message, sizeof last_message / sizeof last_message[0] - 1,
               L"stand-in %ls failed (0x%08lX): %ls", name, (unsigned long)hr, why);
    return hr;
}

HRESULT WINAPI DismGetLastErrorMessage(DismString **ErrorMessage)
{
    if (!ErrorMessage)
        return E_INVALIDARG;
    *ErrorMessage = NULL;
    if (!last_message[0])
        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    *ErrorMessage = string_result(last_message);
    return *ErrorMessage ? S_OK : E_OUTOFMEMORY;
}

/* ---- the call log, and the checks every call makes ------------------------ */

static WCHAR last_call[2048];
static BOOL initialized;

PCWSTR shown(PCWSTR text)
{
    return text ? text : L"<null>";
}

/* "fail:80070002..." -> that HRESULT; anything else S_OK. */
static HRESULT requested_failure(PCWSTR subject)
{
    if (!subject || wcsncmp(subject, L"fail:", 5) != 0)
        return S_OK;
    return (HRESULT)wcstoul(subject + 5, NULL, 16);
}

HRESULT enter_call(PCWSTR name, PCWSTR format, ...)
{
    WCHAR args[1800] = L"";
    va_list ap;
    va_start(ap, format);
    _vsnwprintf(args, sizeof args / sizeof args[0] - 1, format, ap);
    va_end(ap);
    EnterCriticalSection(&state_lock);
    _snwprintf(last_call, sizeof last_call / sizeof last_call[0] - 1, L"%ls|%ls", name, args);
    BOOL ready = initialized;
    LeaveCriticalSection(&state_lock);
    if (!ready && wcscmp(name, L"DismInitialize") != 0)
        return fail_call(DISMAPI_E_DISMAPI_NOT_INITIALIZED, name, L"DismInitialize first");
    /* The first text argument decides a requested failure. */
    PCWSTR first_text = wcschr(args, L'|') ? wcschr(args, L'|') + 1 : args;
    HRESULT hr = requested_failure(wcsncmp(args, L"fail:", 5) == 0 ? args : first_text);
    return FAILED(hr) ? fail_call(hr, name, L"requested by the argument") : S_OK;
}

/* The last call: "Name|arguments", copied into buf (size wide chars);
 * returns its length. */
UINT WINAPI StandinLastCall(WCHAR *buf, UINT size)
{
    EnterCriticalSection(&state_lock);
    UINT n = (UINT)wcslen(last_call);
    if (buf && size) {
        wcsncpy(buf, last_call, size - 1);
        buf[size - 1] = 0;
    }
    LeaveCriticalSection(&state_lock);
    return n;
}

SYSTEMTIME when(WORD year, WORD month, WORD day, WORD hour, WORD minute, WORD second, WORD ms)
{
    SYSTEMTIME t = {year, month, 0, day, hour, minute, second, ms};
    return t;
}

/* ---- lifecycle and sessions ----------------------------------------------- */

#define MAX_SESSIONS 64
static BOOL session_open[MAX_SESSIONS];
static DismSession next_session = 1;

HRESULT WINAPI DismInitialize(DismLogLevel LogLevel, PCWSTR LogFilePath, PCWSTR ScratchDirectory)
{
    HRESULT hr = enter_call(L"DismInitialize", L"%d|%ls|%ls", (int)LogLevel, shown(LogFilePath),
                            shown(ScratchDirectory));
    if (FAILED(hr))
        return hr;
    EnterCriticalSection(&state_lock);
    BOOL again = initialized;
    initialized = TRUE;
    LeaveCriticalSection(&state_lock);
    return again ? fail_call(HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED), L"DismInitialize",
                             L"already initialized")
                 : S_OK;
}

HRESULT WINAPI DismShutdown(void)
{
    HRESULT hr = enter_call(L"DismShutdown", L"");
    if (FAILED(hr))
        return hr;
    EnterCriticalSection(&state_lock);
    BOOL open = FALSE;
    for (int i = 0; i < MAX_SESSIONS; i++)
        open |= session_open[i];
    if (!open)
        initialized = FALSE;
    LeaveCriticalSection(&state_lock);
    return open ? fail_call(DISMAPI_E_OPEN_SESSION_HANDLES, L"DismShutdown", L"sessions open")
                : S_OK;
}

BOOL session_is_open(DismSession session)
{
    EnterCriticalSection(&state_lock);
    BOOL open = session > 0 && session < MAX_SESSIONS && session_open[session];
    LeaveCriticalSection(&state_lock);
    return open;
}

HRESULT WINAPI DismOpenSession(PCWSTR ImagePath, PCWSTR WindowsDirectory, PCWSTR SystemDrive,
                               DismSession *Session)
{
    HRESULT hr = enter_call(L"DismOpenSession", L"%ls|%ls|%ls", shown(ImagePath),
                            shown(WindowsDirectory), shown(SystemDrive));
    if (FAILED(hr))
        return hr;
    EnterCriticalSection(&state_lock);
    DismSession s = next_session < MAX_SESSIONS ? next_session++ : 0;
    if (s)
        session_open[s] = TRUE;
    LeaveCriticalSection(&state_lock);
    if (!s)
        return fail_call(E_OUTOFMEMORY, L"DismOpenSession", L"too many sessions");
    *Session = s;
    return S_OK;
}

HRESULT WINAPI DismCloseSession(DismSession Session)
{
    HRESULT hr = enter_call(L"DismCloseSession", L"%u", Session);
    if (FAILED(hr))
        return hr;
    SESSION_CHECK(L"DismCloseSession", Session);
    EnterCriticalSection(&state_lock);
    session_open[Session] = FALSE;
    LeaveCriticalSection(&state_lock);
    return S_OK;
}

/* ---- long operations ------------------------------------------------------ */

typedef struct {
    HANDLE cancel;
    DISM_PROGRESS_CALLBACK progress;
    PVOID user_data;
    UINT total;
    DWORD step_ms;
    HRESULT hr;
} operation;

static volatile LONG progress_thread;

/* Runs on a thread the DLL creates, as DISM fires progress from threads of
 * its own. */
static DWORD WINAPI operation_thread(LPVOID arg)
{
    operation *op = arg;
    InterlockedExchange(&progress_thread, (LONG)GetCurrentThreadId());
    for (UINT done = 0; done <= op->total; done++) {
        if (op->cancel && WaitForSingleObject(op->cancel, 0) == WAIT_OBJECT_0) {
            op->hr = HRESULT_FROM_WIN32(ERROR_CANCELLED);
            return 0;
        }
        if (op->progress)
            op->progress(done, op->total, op->user_data);
        Sleep(op->step_ms);
    }
    op->hr = S_OK;
    return 0;
}

HRESULT long_operation(PCWSTR subject, HANDLE cancel, DISM_PROGRESS_CALLBACK progress,
                       PVOID user_data)
{
    BOOL slow = subject && wcsncmp(subject, L"slow", 4) == 0;
    operation op = {cancel, progress, user_data, slow ? 400 : 4, 10, E_FAIL};
    HANDLE thread = CreateThread(NULL, 0, operation_thread, &op, 0, NULL);
    if (!thread)
        return HRESULT_FROM_WIN32(GetLastError());
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    if (op.hr == HRESULT_FROM_WIN32(ERROR_CANCELLED))
        fail_call(op.hr, subject ? subject : L"operation", L"cancelled");
    /* DISM's success code for a change that needs a restart to finish. */
    if (op.hr == S_OK && subject && wcsncmp(subject, L"reboot", 6) == 0)
        return (HRESULT)ERROR_SUCCESS_REBOOT_REQUIRED;
    return op.hr;
}

/* The id of the thread that fired the last progress. */
DWORD WINAPI StandinProgressThreadId(void)
{
    return (DWORD)InterlockedCompareExchange(&progress_thread, 0, 0);
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH) {
        DisableThreadLibraryCalls(instance);
        InitializeCriticalSection(&state_lock);
    }
    return TRUE;
}
