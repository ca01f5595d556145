/*
 * win32.h - the Windows base types, constants and calls both of the
 * project's C APIs (dismapi.h, wimgapi.h) are written in.
 *
 * On Windows this is <windows.h>.  Everywhere else it maps the Windows type
 * names to fixed-width types, defines the HRESULT macros and the Win32 error
 * codes the portable engine reports, and declares the few kernel32 calls the
 * engine provides itself (events; the thread's last error), so that a C
 * program written for DISM or WIMGAPI (L"..." literals included) compiles
 * unchanged.
 */
#ifndef DISM_PROJECT_WIN32_H
#define DISM_PROJECT_WIN32_H

#include <stddef.h>
#ifdef _WIN32
#  include <windows.h>
#else
#  include <stdint.h>
#  include <wchar.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* SAL annotations, as Microsoft's header spells the parameters.  Not every
 * <sal.h> has all of them (mingw-w64's lacks _Maybenull_), so each one is
 * defined away only where it is missing. */
#ifndef _In_
#  define _In_
#endif
#ifndef _In_opt_
#  define _In_opt_
#endif
#ifndef _Out_
#  define _Out_
#endif
#ifndef _Out_opt_
#  define _Out_opt_
#endif
#ifndef _Inout_
#  define _Inout_
#endif
#ifndef _Outptr_result_buffer_
#  define _Outptr_result_buffer_(x)
#endif
#ifndef _In_reads_opt_
#  define _In_reads_opt_(x)
#endif
#ifndef _Maybenull_
#  define _Maybenull_
#endif

/* ------------------------------------------------------------------------
 * Windows base types on POSIX
 * ------------------------------------------------------------------------ */
#ifndef _WIN32
typedef int32_t HRESULT;
typedef uint32_t UINT;
typedef uint32_t DWORD;
typedef DWORD *PDWORD;
typedef int32_t BOOL;
typedef uint16_t WORD;
typedef uint64_t UINT64;
typedef uint64_t ULONGLONG;
typedef void VOID;
typedef void *PVOID;
typedef void *HANDLE;
typedef wchar_t WCHAR;
typedef const wchar_t *PCWSTR;
typedef const wchar_t *LPCWSTR;
typedef struct _SECURITY_ATTRIBUTES *LPSECURITY_ATTRIBUTES;
typedef uint8_t BYTE;
typedef BYTE *PBYTE;
typedef uint16_t USHORT;
typedef BOOL *PBOOL;
typedef wchar_t *PWSTR;
typedef uintptr_t WPARAM;
typedef intptr_t LPARAM;
typedef void (*FARPROC)(void);
typedef union _LARGE_INTEGER {
    struct {
        DWORD LowPart;
        int32_t HighPart;
    } u;
    int64_t QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;
typedef union _ULARGE_INTEGER {
    struct {
        DWORD LowPart;
        DWORD HighPart;
    } u;
    uint64_t QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
/* 100-ns intervals since 1601-01-01 UTC, in two halves. */
typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, *PFILETIME;
#  define MAX_PATH 260

typedef struct _SYSTEMTIME {
    WORD wYear;
    WORD wMonth;
    WORD wDayOfWeek;
    WORD wDay;
    WORD wHour;
    WORD wMinute;
    WORD wSecond;
    WORD wMilliseconds;
} SYSTEMTIME, *PSYSTEMTIME;

#  define WINAPI
#  define CALLBACK
#  ifndef TRUE
#    define TRUE 1
#  endif
#  ifndef FALSE
#    define FALSE 0
#  endif

#  define S_OK ((HRESULT)0L)
#  define S_FALSE ((HRESULT)1L)
#  define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#  define FAILED(hr) (((HRESULT)(hr)) < 0)
#  define E_NOTIMPL ((HRESULT)0x80004001L)
#  define E_ABORT ((HRESULT)0x80004004L)
#  define E_FAIL ((HRESULT)0x80004005L)
#  define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#  define E_INVALIDARG ((HRESULT)0x80070057L)
#  define E_ACCESSDENIED ((HRESULT)0x80070005L)
#  define FACILITY_WIN32 7
#  define HRESULT_FROM_WIN32(x) \
    ((HRESULT)(x) <= 0 ? ((HRESULT)(x)) \
                       : ((HRESULT)(((x) & 0x0000FFFF) | (FACILITY_WIN32 << 16) | 0x80000000)))

/* Win32 error codes the engine reports (wrapped with HRESULT_FROM_WIN32). */
#  define ERROR_SUCCESS 0L
#  define ERROR_FILE_NOT_FOUND 2L
#  define ERROR_PATH_NOT_FOUND 3L
#  define ERROR_ACCESS_DENIED 5L
#  define ERROR_INVALID_HANDLE 6L
#  define ERROR_NOT_ENOUGH_MEMORY 8L
#  define ERROR_BAD_FORMAT 11L
#  define ERROR_WRITE_PROTECT 19L
#  define ERROR_SHARING_VIOLATION 32L
#  define ERROR_NOT_SUPPORTED 50L
#  define ERROR_FILE_EXISTS 80L
#  define ERROR_INVALID_PARAMETER 87L
#  define ERROR_MORE_DATA 234L
#  define ERROR_INVALID_DATA 13L
#  define ERROR_HANDLE_EOF 38L
#  define ERROR_NO_MORE_FILES 18L
#  define ERROR_DIRECTORY 267L
#  define ERROR_DISK_FULL 112L
#  define ERROR_DIR_NOT_EMPTY 145L
#  define ERROR_BUSY 170L
#  define ERROR_ALREADY_EXISTS 183L
#  define ERROR_ELEVATION_REQUIRED 740L
#  define ERROR_CANCELLED 1223L
#  define ERROR_ALREADY_INITIALIZED 1247L
#  define ERROR_REQUEST_ABORTED 1235L
#  define ERROR_NOT_FOUND 1168L
#  define ERROR_FILE_CORRUPT 1392L
#  define ERROR_SUCCESS_REBOOT_REQUIRED 3010L
#  define ERROR_SUCCESS_RESTART_REQUIRED 3011L
#  define ERROR_UNKNOWN_PRODUCT 1605L

#  define PROCESSOR_ARCHITECTURE_INTEL 0
#  define PROCESSOR_ARCHITECTURE_ARM 5
#  define PROCESSOR_ARCHITECTURE_IA64 6
#  define PROCESSOR_ARCHITECTURE_AMD64 9
#  define PROCESSOR_ARCHITECTURE_NEUTRAL 11
#  define PROCESSOR_ARCHITECTURE_ARM64 12
#  define PROCESSOR_ARCHITECTURE_UNKNOWN 0xFFFF

/*
 * A minimal event object, so the CancelEvent parameter has the same shape on
 * every platform and the extension needs no #ifdef around cancellation.  Only what
 * DISM callers use is provided: a manual- or auto-reset event that any thread
 * may set, and that the engine polls at its cancellation points.
 */
HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES Attributes, BOOL ManualReset,
                           BOOL InitialState, LPCWSTR Name);
BOOL WINAPI SetEvent(HANDLE Event);
BOOL WINAPI ResetEvent(HANDLE Event);
BOOL WINAPI CloseHandle(HANDLE Object);
#  define CreateEvent CreateEventW

/* The calling thread's last Win32 error, as WIMGAPI's BOOL and HANDLE
 * functions report failures; the portable engine keeps one per thread. */
DWORD WINAPI GetLastError(void);
void WINAPI SetLastError(DWORD Error);
#endif /* !_WIN32 */

#ifdef __cplusplus
}
#endif

#endif /* DISM_PROJECT_WIN32_H */
