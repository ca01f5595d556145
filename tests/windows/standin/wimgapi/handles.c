/*
 * handles.c - the stand-in wimgapi.dll's handles, WIM state, WIM_INFO, XML,
 * callback registration and call log, and the Standin* exports the tests
 * query through ctypes (standin_wim.h says why it exists).
 */
#include "standin_wim.h"

#include <stdarg.h>
#include <stdio.h>
#include <wchar.h>

static CRITICAL_SECTION lock; /* the log, the callbacks, the WIM states */
static volatile LONG open_handles;

/* ---- the call log and failures ------------------------------------------ */

static WCHAR call_log[65536];
static size_t log_length;

void log_call(PCWSTR format, ...)
{
    WCHAR line[2048];
    va_list ap;
    va_start(ap, format);
    int n = _vsnwprintf(line, sizeof line / sizeof line[0] - 2, format, ap);
    va_end(ap);
    if (n < 0)
        n = (int)wcslen(line);
    line[n++] = L'\n';
    line[n] = 0;
    EnterCriticalSection(&lock);
    if (log_length + n < sizeof call_log / sizeof call_log[0]) {
        memcpy(call_log + log_length, line, (n + 1) * sizeof(WCHAR));
        log_length += n;
    }
    LeaveCriticalSection(&lock);
}

PCWSTR shown(PCWSTR text)
{
    return text ? text : L"<null>";
}

DWORD requested_failure(PCWSTR path)
{
    if (!path || wcsncmp(path, L"fail:", 5) != 0)
        return 0;
    return (DWORD)wcstoul(path + 5, NULL, 10);
}

BOOL fail(DWORD error)
{
    SetLastError(error);
    return FALSE;
}

/* ---- handles ------------------------------------------------------------- */

wim_object *object_of(HANDLE handle, DWORD magic)
{
    wim_object *object = handle;
    /* Handles are never freed (a closed one keeps magic 0), so a stale or
     * doubly closed handle is told apart from a live one. */
    if (!object || (object->magic != WIM_MAGIC && object->magic != IMAGE_MAGIC) ||
        (magic && object->magic != magic)) {
        SetLastError(ERROR_INVALID_HANDLE);
        return NULL;
    }
    return object;
}

static wim_object *object_new(DWORD magic)
{
    wim_object *object = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *object);
    if (object) {
        object->magic = magic;
        InterlockedIncrement(&open_handles);
    }
    return object;
}

wim_object *image_new(wim_object *wim, DWORD index)
{
    wim_object *image = object_new(IMAGE_MAGIC);
    if (!image)
        return NULL;
    image->wim = wim->wim;
    image->parent = wim;
    image->index = index;
    InterlockedIncrement(&wim->open_images);
    return image;
}

HANDLE WINAPI WIMCreateFile(PCWSTR WimPath, DWORD DesiredAccess, DWORD CreationDisposition,
                            DWORD FlagsAndAttributes, DWORD CompressionType,
                            PDWORD CreationResult)
{
    log_call(L"WIMCreateFile|%ls|0x%08lX|%lu|0x%08lX|%lu|%ls", shown(WimPath), DesiredAccess,
             CreationDisposition, FlagsAndAttributes, CompressionType,
             CreationResult ? L"result" : L"<null>");
    DWORD error = requested_failure(WimPath);
    if (!WimPath || error || CreationDisposition < WIM_CREATE_NEW ||
        CreationDisposition > WIM_OPEN_ALWAYS || wcslen(WimPath) >= MAX_PATH) {
        fail(error ? error : ERROR_INVALID_PARAMETER);
        return NULL;
    }
    wim_object *object = object_new(WIM_MAGIC);
    wim_state *wim = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *wim);
    if (!object || !wim) {
        fail(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    BOOL created = CreationDisposition == WIM_CREATE_NEW || CreationDisposition == WIM_CREATE_ALWAYS;
    wcscpy(wim->path, WimPath);
    wim->access = DesiredAccess;
    wim->flags = FlagsAndAttributes;
    wim->compression = created ? CompressionType : WIM_COMPRESS_LZX;
    wim->image_count = created ? 0 : STANDIN_IMAGES_WHEN_OPENED;
    wim->boot_index = created ? 0 : 2;
    object->wim = wim;
    if (CreationResult)
        *CreationResult = created ? WIM_CREATED_NEW : WIM_OPENED_EXISTING;
    /* As CreateFile does for an existing file: success need not leave the
     * last error at 0, so a caller must look at the result, not at it. */
    SetLastError(created ? ERROR_SUCCESS : ERROR_ALREADY_EXISTS);
    return object;
}

BOOL WINAPI WIMCloseHandle(HANDLE Object)
{
    wim_object *object = object_of(Object, 0);
    log_call(L"WIMCloseHandle|%ls|%lu", object && object->magic == IMAGE_MAGIC ? L"image" : L"wim",
             object ? object->index : 0);
    if (!object)
        return FALSE;
    /* "If there are any open volume image handles, closing a .wim file
     * fails" (Microsoft's page; which error it sets is not documented). */
    if (object->magic == WIM_MAGIC && object->open_images > 0)
        return fail(ERROR_BUSY);
    if (object->magic == IMAGE_MAGIC)
        InterlockedDecrement(&object->parent->open_images);
    object->magic = 0;
    InterlockedDecrement(&open_handles);
    return TRUE;
}

/* ---- WIM settings and information ---------------------------------------- */

BOOL WINAPI WIMSetTemporaryPath(HANDLE Wim, PCWSTR Path)
{
    log_call(L"WIMSetTemporaryPath|%ls", shown(Path));
    if (!object_of(Wim, WIM_MAGIC))
        return FALSE;
    DWORD error = requested_failure(Path);
    return error || !Path ? fail(error ? error : ERROR_INVALID_PARAMETER) : TRUE;
}

BOOL WINAPI WIMSetReferenceFile(HANDLE Wim, PCWSTR Path, DWORD Flags)
{
    log_call(L"WIMSetReferenceFile|%ls|0x%08lX", shown(Path), Flags);
    if (!object_of(Wim, WIM_MAGIC))
        return FALSE;
    DWORD error = requested_failure(Path);
    BOOL one_mode = !(Flags & WIM_REFERENCE_APPEND) != !(Flags & WIM_REFERENCE_REPLACE);
    if (error || !one_mode || (!Path && !(Flags & WIM_REFERENCE_REPLACE)))
        return fail(error ? error : ERROR_INVALID_PARAMETER);
    return TRUE;
}

DWORD WINAPI WIMGetImageCount(HANDLE Wim)
{
    wim_object *object = object_of(Wim, WIM_MAGIC);
    log_call(L"WIMGetImageCount");
    return object ? object->wim->image_count : 0;
}

static const GUID standin_guid = {0x00112233, 0x4455, 0x6677,
                                  {0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF}};

BOOL WINAPI WIMGetAttributes(HANDLE Wim, PWIM_INFO WimInfo, DWORD cbWimInfo)
{
    log_call(L"WIMGetAttributes|%lu", cbWimInfo);
    wim_object *object = object_of(Wim, WIM_MAGIC);
    if (!object)
        return FALSE;
    if (!WimInfo || cbWimInfo < sizeof *WimInfo)
        return fail(ERROR_INSUFFICIENT_BUFFER);
    wim_state *wim = object->wim;
    BOOL spanned = wcsstr(wim->path, L"split") != NULL;
    memset(WimInfo, 0, sizeof *WimInfo);
    wcscpy(WimInfo->WimPath, wim->path);
    WimInfo->Guid = standin_guid;
    WimInfo->ImageCount = wim->image_count;
    WimInfo->CompressionType = wim->compression;
    WimInfo->PartNumber = spanned ? 2 : 1;
    WimInfo->TotalParts = spanned ? 3 : 1;
    WimInfo->BootIndex = wim->boot_index;
    WimInfo->WimAttributes = (wim->flags & WIM_FLAG_VERIFY ? WIM_ATTRIBUTE_VERIFY_DATA : 0) |
                             (spanned ? WIM_ATTRIBUTE_SPANNED : 0) | WIM_ATTRIBUTE_RP_FIX;
    WimInfo->WimFlagsAndAttr = wim->flags;
    return TRUE;
}

BOOL WINAPI WIMSetBootImage(HANDLE Wim, DWORD ImageIndex)
{
    log_call(L"WIMSetBootImage|%lu", ImageIndex);
    wim_object *object = object_of(Wim, WIM_MAGIC);
    if (!object)
        return FALSE;
    if (ImageIndex > object->wim->image_count)
        return fail(ERROR_INVALID_PARAMETER);
    object->wim->boot_index = ImageIndex;
    return TRUE;
}

HANDLE WINAPI WIMLoadImage(HANDLE Wim, DWORD ImageIndex)
{
    log_call(L"WIMLoadImage|%lu", ImageIndex);
    wim_object *object = object_of(Wim, WIM_MAGIC);
    if (!object)
        return NULL;
    if (ImageIndex < 1 || ImageIndex > object->wim->image_count) {
        fail(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    wim_object *image = image_new(object, ImageIndex);
    if (!image)
        fail(ERROR_NOT_ENOUGH_MEMORY);
    return image;
}

/* The XML of a WIM (index 0) or of one image, as set or by default. */
static void xml_text(wim_state *wim, DWORD index, WCHAR *out, size_t size)
{
    if (index <= STANDIN_MAX_IMAGES && wim->xml[index]) {
        _snwprintf(out, size - 1, L"%ls", wim->xml[index]);
    } else if (index == 0) {
        _snwprintf(out, size - 1,
                   L"<WIM><TOTALBYTES>4096</TOTALBYTES><IMAGE INDEX=\"1\"><NAME>Clef "
                   L"\U0001D11E</NAME></IMAGE><IMAGE INDEX=\"2\"><NAME>Face \U0001F600</NAME>"
                   L"</IMAGE><IMAGE INDEX=\"3\"><NAME>Plain</NAME></IMAGE></WIM>");
    } else {
        _snwprintf(out, size - 1,
                   L"<IMAGE INDEX=\"%lu\"><NAME>Image %lu \U0001D11E</NAME>"
                   L"<DESCRIPTION>stand-in</DESCRIPTION></IMAGE>",
                   index, index);
    }
    out[size - 1] = 0;
}

BOOL WINAPI WIMGetImageInformation(HANDLE Object, PVOID *ImageInfo, PDWORD cbImageInfo)
{
    wim_object *object = object_of(Object, 0);
    log_call(L"WIMGetImageInformation|%ls", object && object->magic == IMAGE_MAGIC ? L"image"
                                                                                    : L"wim");
    if (!object)
        return FALSE;
    if (!ImageInfo || !cbImageInfo)
        return fail(ERROR_INVALID_PARAMETER);
    WCHAR text[4096];
    EnterCriticalSection(&lock);
    xml_text(object->wim, object->magic == IMAGE_MAGIC ? object->index : 0, text,
             sizeof text / sizeof text[0]);
    LeaveCriticalSection(&lock);
    /* A BOM, the text and its NUL, in memory the caller frees with LocalFree;
     * the size counts the NUL (whether Microsoft's does is not documented). */
    size_t bytes = (wcslen(text) + 2) * sizeof(WCHAR);
    WCHAR *buffer = LocalAlloc(LMEM_FIXED, bytes);
    if (!buffer)
        return fail(ERROR_NOT_ENOUGH_MEMORY);
    buffer[0] = 0xFEFF;
    memcpy(buffer + 1, text, bytes - sizeof(WCHAR));
    watch_buffer(buffer);
    *ImageInfo = buffer;
    *cbImageInfo = (DWORD)bytes;
    return TRUE;
}

BOOL WINAPI WIMSetImageInformation(HANDLE Object, PVOID ImageInfo, DWORD cbImageInfo)
{
    wim_object *object = object_of(Object, 0);
    const WCHAR *given = ImageInfo;
    size_t count = cbImageInfo / sizeof(WCHAR);
    BOOL bom = count > 0 && given && given[0] == 0xFEFF;
    BOOL nul = count > 0 && given && given[count - 1] == 0;
    size_t length = count - (bom ? 1 : 0) - (nul ? 1 : 0);
    log_call(L"WIMSetImageInformation|%ls|bom=%d|nul=%d|%.*ls",
             object && object->magic == IMAGE_MAGIC ? L"image" : L"wim", bom, nul,
             given ? (int)length : 6, given ? given + (bom ? 1 : 0) : L"<null>");
    if (!object)
        return FALSE;
    if (!given || cbImageInfo % sizeof(WCHAR) || !bom)
        return fail(ERROR_INVALID_PARAMETER);
    WCHAR *copy = HeapAlloc(GetProcessHeap(), 0, (length + 1) * sizeof(WCHAR));
    if (!copy)
        return fail(ERROR_NOT_ENOUGH_MEMORY);
    memcpy(copy, given + 1, length * sizeof(WCHAR));
    copy[length] = 0;
    DWORD index = object->magic == IMAGE_MAGIC ? object->index : 0;
    EnterCriticalSection(&lock);
    WCHAR *old = index <= STANDIN_MAX_IMAGES ? object->wim->xml[index] : NULL;
    if (index <= STANDIN_MAX_IMAGES)
        object->wim->xml[index] = copy;
    LeaveCriticalSection(&lock);
    HeapFree(GetProcessHeap(), 0, old);
    return TRUE;
}

/* ---- message callbacks --------------------------------------------------- */

/* Callbacks registered without a handle: they see every handle's messages. */
static wim_state global_callbacks;

static wim_state *callbacks_of(HANDLE Wim, BOOL *ok)
{
    *ok = TRUE;
    if (!Wim)
        return &global_callbacks;
    wim_object *object = object_of(Wim, WIM_MAGIC);
    *ok = object != NULL;
    return object ? object->wim : NULL;
}

DWORD WINAPI WIMRegisterMessageCallback(HANDLE Wim, FARPROC MessageProc, PVOID UserData)
{
    log_call(L"WIMRegisterMessageCallback|%ls", Wim ? L"wim" : L"<null>");
    BOOL ok;
    wim_state *owner = callbacks_of(Wim, &ok);
    if (!ok)
        return INVALID_CALLBACK_VALUE;
    if (!MessageProc) {
        fail(ERROR_INVALID_PARAMETER);
        return INVALID_CALLBACK_VALUE;
    }
    DWORD index = INVALID_CALLBACK_VALUE;
    EnterCriticalSection(&lock);
    for (DWORD i = 0; i < STANDIN_MAX_CALLBACKS && index == INVALID_CALLBACK_VALUE; i++) {
        if (!owner->callbacks[i].proc) {
            owner->callbacks[i].proc = MessageProc;
            owner->callbacks[i].user_data = UserData;
            index = i;
        }
    }
    LeaveCriticalSection(&lock);
    if (index == INVALID_CALLBACK_VALUE)
        fail(ERROR_NOT_ENOUGH_MEMORY);
    return index;
}

BOOL WINAPI WIMUnregisterMessageCallback(HANDLE Wim, FARPROC MessageProc)
{
    log_call(L"WIMUnregisterMessageCallback|%ls|%ls", Wim ? L"wim" : L"<null>",
             MessageProc ? L"proc" : L"<null>");
    BOOL ok, found = FALSE;
    wim_state *owner = callbacks_of(Wim, &ok);
    if (!ok)
        return FALSE;
    EnterCriticalSection(&lock);
    for (DWORD i = 0; i < STANDIN_MAX_CALLBACKS; i++) {
        if (owner->callbacks[i].proc && (!MessageProc || owner->callbacks[i].proc == MessageProc)) {
            owner->callbacks[i].proc = NULL;
            found = TRUE;
        }
    }
    LeaveCriticalSection(&lock);
    return found || !MessageProc ? TRUE : fail(ERROR_NOT_FOUND);
}

static DWORD count_callbacks(const wim_state *owner)
{
    DWORD n = 0;
    for (DWORD i = 0; i < STANDIN_MAX_CALLBACKS; i++)
        n += owner->callbacks[i].proc != NULL;
    return n;
}

DWORD WINAPI WIMGetMessageCallbackCount(HANDLE Wim)
{
    BOOL ok;
    wim_state *owner = callbacks_of(Wim, &ok);
    if (!ok)
        return 0;
    EnterCriticalSection(&lock);
    DWORD n = count_callbacks(owner);
    LeaveCriticalSection(&lock);
    return n;
}

DWORD callbacks_for(wim_state *wim, wim_state *also, FARPROC *procs, PVOID *user_data,
                    DWORD size)
{
    DWORD n = 0;
    wim_state *owners[3] = {wim, also, &global_callbacks};
    EnterCriticalSection(&lock);
    for (int o = 0; o < 3; o++) {
        for (DWORD i = 0; owners[o] && i < STANDIN_MAX_CALLBACKS && n < size; i++) {
            FARPROC proc = owners[o]->callbacks[i].proc;
            PVOID data = owners[o]->callbacks[i].user_data;
            BOOL seen = !proc;
            for (DWORD j = 0; j < n && !seen; j++)
                seen = procs[j] == proc && user_data[j] == data;
            if (!seen) {
                procs[n] = proc;
                user_data[n++] = data;
            }
        }
    }
    LeaveCriticalSection(&lock);
    return n;
}

/* ---- what the tests query ------------------------------------------------ */

/* Handles handed out and not yet closed by WIMCloseHandle. */
LONG WINAPI StandinWimOpenHandles(void)
{
    return InterlockedCompareExchange(&open_handles, 0, 0);
}

/* Callbacks still registered without a handle. */
DWORD WINAPI StandinWimGlobalCallbacks(void)
{
    return WIMGetMessageCallbackCount(NULL);
}

/* The call log since the last clear, one call a line, into buf (size wide
 * chars); returns its length. */
UINT WINAPI StandinWimCallLog(WCHAR *buf, UINT size)
{
    EnterCriticalSection(&lock);
    UINT n = (UINT)log_length;
    if (buf && size) {
        wcsncpy(buf, call_log, size - 1);
        buf[size - 1] = 0;
    }
    LeaveCriticalSection(&lock);
    return n;
}

void WINAPI StandinWimClearLog(void)
{
    EnterCriticalSection(&lock);
    log_length = 0;
    call_log[0] = 0;
    LeaveCriticalSection(&lock);
}

/* Which build of the stand-in this is (system32 or planted). */
PCWSTR WINAPI StandinWimIdentity(void)
{
    return STANDIN_IDENTITY;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH) {
        DisableThreadLibraryCalls(instance);
        InitializeCriticalSection(&lock);
    }
    return TRUE;
}
