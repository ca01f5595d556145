/*
 * work.c - the stand-in wimgapi.dll's long calls: capture, apply, export,
 * delete, split and single-path extraction.  Their messages are sent from a
 * thread the DLL creates, as WIMGAPI sends them from threads of its own,
 * while the calling thread waits; WIM_MSG_ABORT_IMAGE answered to
 * WIM_MSG_PROCESS or WIM_MSG_QUERY_ABORT stops the call with
 * ERROR_REQUEST_ABORTED.  What the callbacks answered goes to the call log
 * ("skipped <path>", "error skipped <path>", "stored <path>", "aborted").
 */
#include "standin_wim.h"

#include <stdio.h>
#include <wchar.h>

#define CLEF L"\U0001D11E"

typedef struct work {
    work_kind kind;
    wim_object *object;
    WCHAR subject[MAX_PATH];
    DWORD flags;
    BOOL slow, errors;
    FARPROC procs[2 * STANDIN_MAX_CALLBACKS];
    PVOID user_data[2 * STANDIN_MAX_CALLBACKS];
    DWORD callbacks;
    DWORD result;
} work;

static volatile LONG message_thread;

/* Sends one message to every callback; TRUE when one answered
 * WIM_MSG_ABORT_IMAGE.  *skip_error: one answered WIM_MSG_SKIP_ERROR. */
static BOOL deliver(work *w, DWORD message, WPARAM wparam, LPARAM lparam, BOOL *skip_error)
{
    BOOL abort = FALSE;
    for (DWORD i = 0; i < w->callbacks; i++) {
        WIM_MESSAGE_CALLBACK callback = (WIM_MESSAGE_CALLBACK)(void *)w->procs[i];
        DWORD answer = callback(message, wparam, lparam, w->user_data[i]);
        abort |= answer == WIM_MSG_ABORT_IMAGE;
        if (skip_error && answer == WIM_MSG_SKIP_ERROR)
            *skip_error = TRUE;
        if (answer == WIM_MSG_DONE)
            break; /* handled: the other callbacks do not see it */
    }
    return abort;
}

/* WIM_MSG_PROCESS and WIM_MSG_COMPRESS for one file; FALSE to abort. */
static BOOL process_file(work *w, PCWSTR path)
{
    BOOL include = TRUE;
    if (deliver(w, WIM_MSG_PROCESS, (WPARAM)path, (LPARAM)&include, NULL))
        return FALSE;
    if (!include) {
        log_call(L"skipped %ls", path);
        return TRUE;
    }
    if (w->kind == WORK_CAPTURE) {
        BOOL compress = TRUE;
        deliver(w, WIM_MSG_COMPRESS, (WPARAM)path, (LPARAM)&compress, NULL);
        if (!compress)
            log_call(L"stored %ls", path);
    }
    if (w->kind == WORK_APPLY && (w->flags & WIM_FLAG_FILEINFO)) {
        WIN32_FIND_DATAW data = {0};
        data.dwFileAttributes = FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_READONLY;
        data.ftCreationTime = (FILETIME){0x11111111u, 0x01D00000u};
        data.ftLastAccessTime = (FILETIME){0x22222222u, 0x01D00001u};
        data.ftLastWriteTime = (FILETIME){0x33333333u, 0x01D00002u};
        data.nFileSizeHigh = 1;
        data.nFileSizeLow = 0x00000010u; /* 4 GiB + 16 bytes */
        data.dwReserved0 = 0xA000000Cu;  /* IO_REPARSE_TAG_SYMLINK */
        wcscpy(data.cFileName, wcsrchr(path, L'\\') ? wcsrchr(path, L'\\') + 1 : path);
        deliver(w, WIM_MSG_FILEINFO, (WPARAM)path, (LPARAM)&data, NULL);
    }
    return TRUE;
}

/* The files of the image (capture: below the source folder; apply: below
 * the target, or the image's own paths when there is none). */
static BOOL process_files(work *w)
{
    static PCWSTR const names[] = {L"Windows\\a.txt", L"Windows\\" CLEF L" clef.txt",
                                   L"skip me.txt"};
    WCHAR path[2 * MAX_PATH];
    deliver(w, WIM_MSG_SCANNING, 1, 2, NULL);
    deliver(w, WIM_MSG_SETRANGE, 0, 3, NULL);
    for (DWORD i = 0; i < 3; i++) {
        _snwprintf(path, sizeof path / sizeof path[0] - 1, L"%ls\\%ls",
                   w->subject[0] ? w->subject : L"", names[i]);
        path[sizeof path / sizeof path[0] - 1] = 0;
        if (!process_file(w, path))
            return FALSE;
        deliver(w, WIM_MSG_SETPOS, 0, i + 1, NULL);
        deliver(w, WIM_MSG_STEPIT, 0, 0, NULL);
    }
    return TRUE;
}

/* ERROR (answered or fatal), WARNING and RETRY, when the subject asks for
 * errors; ERROR_SUCCESS or the error that stops the call. */
static DWORD report_errors(work *w)
{
    if (!w->errors)
        return ERROR_SUCCESS;
    WCHAR path[2 * MAX_PATH];
    _snwprintf(path, sizeof path / sizeof path[0] - 1, L"%ls\\locked.sys", w->subject);
    path[sizeof path / sizeof path[0] - 1] = 0;
    deliver(w, WIM_MSG_WARNING, (WPARAM)path, ERROR_NOT_SUPPORTED, NULL);
    deliver(w, WIM_MSG_RETRY, (WPARAM)path, ERROR_SHARING_VIOLATION, NULL);
    BOOL skipped = FALSE;
    deliver(w, WIM_MSG_ERROR, (WPARAM)path, ERROR_SHARING_VIOLATION, &skipped);
    if (!skipped)
        return ERROR_SHARING_VIOLATION;
    log_call(L"error skipped %ls", path);
    return ERROR_SUCCESS;
}

/* WIM_MSG_SPLIT for each part: part 1 is the caller's path, then name2.swm... */
static void report_parts(work *w)
{
    WCHAR part[2 * MAX_PATH];
    for (int i = 1; i <= 3; i++) {
        if (i == 1)
            _snwprintf(part, sizeof part / sizeof part[0] - 1, L"%ls", w->subject);
        else
            _snwprintf(part, sizeof part / sizeof part[0] - 1, L"%.*ls%d.swm",
                       (int)(wcslen(w->subject) - 4), w->subject, i);
        part[sizeof part / sizeof part[0] - 1] = 0;
        PWSTR part_path = part;
        LARGE_INTEGER size = {.QuadPart = 0x100000000LL + i};
        deliver(w, WIM_MSG_SPLIT, (WPARAM)&part_path, (LPARAM)&size, NULL);
    }
}

/* PROGRESS and QUERY_ABORT, 4 steps (400 when slow, about four seconds);
 * FALSE to abort. */
static BOOL progress(work *w)
{
    DWORD steps = w->slow ? 400 : 4;
    for (DWORD step = 0; step <= steps; step++) {
        deliver(w, WIM_MSG_PROGRESS, step * 100 / steps, (steps - step) * 10, NULL);
        if (deliver(w, WIM_MSG_QUERY_ABORT, 0, 0, NULL))
            return FALSE;
        Sleep(10);
    }
    return TRUE;
}

static DWORD messages(work *w)
{
    deliver(w, WIM_MSG_TEXT, 0, (LPARAM)L"stand-in " CLEF, NULL);
    if ((w->kind == WORK_CAPTURE || w->kind == WORK_APPLY) && !process_files(w))
        return ERROR_REQUEST_ABORTED;
    DWORD error = report_errors(w);
    if (error)
        return error;
    if (w->kind == WORK_SPLIT)
        report_parts(w);
    deliver(w, WIM_MSG + 30, 7, 9, NULL); /* a message the binding does not know */
    return progress(w) ? ERROR_SUCCESS : ERROR_REQUEST_ABORTED;
}

static DWORD WINAPI work_thread(LPVOID arg)
{
    work *w = arg;
    InterlockedExchange(&message_thread, (LONG)GetCurrentThreadId());
    /* This thread's own last error, which the caller's must never show. */
    SetLastError(ERROR_GEN_FAILURE);
    w->result = messages(w);
    return 0;
}

DWORD run_work(work_kind kind, wim_object *object, wim_state *also, PCWSTR subject, DWORD flags)
{
    work *w = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *w);
    if (!w)
        return ERROR_NOT_ENOUGH_MEMORY;
    w->kind = kind;
    w->object = object;
    w->flags = flags;
    if (subject)
        _snwprintf(w->subject, MAX_PATH - 1, L"%ls", subject);
    w->slow = wcsstr(w->subject, L"slow") != NULL;
    w->errors = wcsstr(w->subject, L"errors") != NULL;
    w->callbacks = callbacks_for(object->wim, also, w->procs, w->user_data,
                                 sizeof w->procs / sizeof w->procs[0]);
    HANDLE thread = CreateThread(NULL, 0, work_thread, w, 0, NULL);
    DWORD result = thread ? ERROR_SUCCESS : GetLastError();
    if (thread) {
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
        result = w->result;
    }
    HeapFree(GetProcessHeap(), 0, w);
    if (result == ERROR_REQUEST_ABORTED)
        log_call(L"aborted");
    return result;
}

/* The id of the thread that sent the last long call's messages. */
DWORD WINAPI StandinWimMessageThreadId(void)
{
    return (DWORD)InterlockedCompareExchange(&message_thread, 0, 0);
}

/* ---- the long calls -------------------------------------------------------- */

HANDLE WINAPI WIMCaptureImage(HANDLE Wim, PCWSTR Path, DWORD CaptureFlags)
{
    log_call(L"WIMCaptureImage|%ls|0x%08lX", shown(Path), CaptureFlags);
    wim_object *object = object_of(Wim, WIM_MAGIC);
    DWORD error = !object ? ERROR_INVALID_HANDLE : requested_failure(Path);
    if (!error && (!Path || !(object->wim->access & WIM_GENERIC_WRITE)))
        error = Path ? ERROR_ACCESS_DENIED : ERROR_INVALID_PARAMETER;
    if (!error && object->wim->image_count >= STANDIN_MAX_IMAGES)
        error = ERROR_NOT_ENOUGH_MEMORY;
    if (!error)
        error = run_work(WORK_CAPTURE, object, NULL, Path, CaptureFlags);
    if (error) {
        fail(error);
        return NULL;
    }
    wim_object *image = image_new(object, ++object->wim->image_count);
    if (!image)
        fail(ERROR_NOT_ENOUGH_MEMORY);
    return image;
}

BOOL WINAPI WIMApplyImage(HANDLE Image, PCWSTR Path, DWORD ApplyFlags)
{
    log_call(L"WIMApplyImage|%ls|0x%08lX", shown(Path), ApplyFlags);
    wim_object *image = object_of(Image, IMAGE_MAGIC);
    if (!image)
        return FALSE;
    DWORD error = requested_failure(Path);
    if (!error && !Path && !(ApplyFlags & WIM_FLAG_NO_APPLY))
        error = ERROR_INVALID_PARAMETER;
    if (!error && (ApplyFlags & (WIM_FLAG_WIM_BOOT | WIM_FLAG_APPLY_COMPACT)) ==
                      (WIM_FLAG_WIM_BOOT | WIM_FLAG_APPLY_COMPACT))
        error = ERROR_INVALID_PARAMETER;
    return (error || (error = run_work(WORK_APPLY, image, NULL, Path, ApplyFlags))) ? fail(error) : TRUE;
}

BOOL WINAPI WIMExportImage(HANDLE Image, HANDLE Wim, DWORD Flags)
{
    wim_object *image = object_of(Image, IMAGE_MAGIC);
    wim_object *destination = image ? object_of(Wim, WIM_MAGIC) : NULL;
    log_call(L"WIMExportImage|%ls|%lu|0x%08lX", destination ? destination->wim->path : L"?",
             image ? image->index : 0, Flags);
    if (!destination)
        return FALSE;
    if (!(destination->wim->access & WIM_GENERIC_WRITE))
        return fail(ERROR_ACCESS_DENIED);
    if (destination->wim == image->wim && !(Flags & WIM_EXPORT_ALLOW_DUPLICATES))
        return fail(ERROR_ALREADY_EXISTS);
    if (destination->wim->image_count >= STANDIN_MAX_IMAGES)
        return fail(ERROR_NOT_ENOUGH_MEMORY);
    DWORD error = run_work(WORK_EXPORT, image, destination->wim, destination->wim->path, Flags);
    if (error)
        return fail(error);
    destination->wim->image_count++;
    return TRUE;
}

BOOL WINAPI WIMDeleteImage(HANDLE Wim, DWORD ImageIndex)
{
    log_call(L"WIMDeleteImage|%lu", ImageIndex);
    wim_object *object = object_of(Wim, WIM_MAGIC);
    if (!object)
        return FALSE;
    wim_state *wim = object->wim;
    if (ImageIndex < 1 || ImageIndex > wim->image_count)
        return fail(ERROR_INVALID_PARAMETER);
    if (wim->image_count == 1 || !(wim->access & WIM_GENERIC_WRITE) || object->open_images)
        return fail(ERROR_ACCESS_DENIED); /* Microsoft's page: so for the only image */
    DWORD error = run_work(WORK_DELETE, object, NULL, wim->path, 0);
    if (error)
        return fail(error);
    wim->image_count--;
    if (wim->boot_index == ImageIndex)
        wim->boot_index = 0;
    return TRUE;
}

/* The smallest first part the stand-in accepts. */
#define MINIMUM_PART_SIZE 1048576LL

BOOL WINAPI WIMSplitFile(HANDLE Wim, PCWSTR PartPath, PLARGE_INTEGER PartSize, DWORD Flags)
{
    log_call(L"WIMSplitFile|%ls|%lld|0x%08lX", shown(PartPath),
             PartSize ? PartSize->QuadPart : -1LL, Flags);
    wim_object *object = object_of(Wim, WIM_MAGIC);
    if (!object)
        return FALSE;
    DWORD error = requested_failure(PartPath);
    if (error || !PartPath || !PartSize || wcslen(PartPath) < 5)
        return fail(error ? error : ERROR_INVALID_PARAMETER);
    if (PartSize->QuadPart < MINIMUM_PART_SIZE) {
        /* Microsoft's page: too small (0 to ask), the minimum is written back. */
        PartSize->QuadPart = MINIMUM_PART_SIZE;
        return fail(ERROR_MORE_DATA);
    }
    error = run_work(WORK_SPLIT, object, NULL, PartPath, Flags);
    return error ? fail(error) : TRUE;
}

BOOL WINAPI WIMExtractImagePath(HANDLE Image, PCWSTR ImagePath, PCWSTR DestinationPath,
                                DWORD ExtractFlags)
{
    log_call(L"WIMExtractImagePath|%ls|%ls|0x%08lX", shown(ImagePath), shown(DestinationPath),
             ExtractFlags);
    wim_object *image = object_of(Image, IMAGE_MAGIC);
    if (!image)
        return FALSE;
    DWORD error = requested_failure(ImagePath);
    if (!error && (!ImagePath || !DestinationPath))
        error = ERROR_INVALID_PARAMETER;
    if (!error && wcsstr(ImagePath, L"missing"))
        error = ERROR_FILE_NOT_FOUND;
    return (error || (error = run_work(WORK_EXTRACT, image, NULL, DestinationPath, ExtractFlags)))
               ? fail(error)
               : TRUE;
}
