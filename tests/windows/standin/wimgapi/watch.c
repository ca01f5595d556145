/*
 * watch.c - whether the XML WIMGetImageInformation hands out comes back
 * through LocalFree, as Microsoft's page asks.  A test calls
 * StandinWimWatchLocalFree(module of _dism.pyd): the stand-in points that
 * module's import of LocalFree at a wrapper that counts the buffers it
 * frees, then frees them; StandinWimXmlOutstanding says how many buffers
 * handed out since then were never given back.
 */
#include "standin_wim.h"

#include <string.h>

#define WATCHED 1024

static CRITICAL_SECTION watch_lock;
static INIT_ONCE watch_once = INIT_ONCE_STATIC_INIT;
static void *buffers[WATCHED]; /* handed out, not freed yet */
static HLOCAL(WINAPI *real_local_free)(HLOCAL);
static volatile LONG watching;

static BOOL CALLBACK init_watch(PINIT_ONCE once, PVOID parameter, PVOID *context)
{
    (void)once, (void)parameter, (void)context;
    InitializeCriticalSection(&watch_lock);
    return TRUE;
}

void watch_buffer(void *buffer)
{
    if (!InterlockedCompareExchange(&watching, 0, 0))
        return;
    EnterCriticalSection(&watch_lock);
    for (int i = 0; i < WATCHED; i++)
        if (!buffers[i]) {
            buffers[i] = buffer;
            break;
        }
    LeaveCriticalSection(&watch_lock);
}

static HLOCAL WINAPI counting_local_free(HLOCAL memory)
{
    EnterCriticalSection(&watch_lock);
    for (int i = 0; memory && i < WATCHED; i++)
        if (buffers[i] == memory)
            buffers[i] = NULL;
    LeaveCriticalSection(&watch_lock);
    return real_local_free(memory);
}

/* The import address table slot through which `module` calls LocalFree. */
static void **local_free_slot(HMODULE module)
{
    BYTE *base = (BYTE *)module;
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    if (!dir.VirtualAddress)
        return NULL;
    for (IMAGE_IMPORT_DESCRIPTOR *d = (void *)(base + dir.VirtualAddress); d->Name; d++) {
        IMAGE_THUNK_DATA *names = (void *)(base + (d->OriginalFirstThunk ? d->OriginalFirstThunk
                                                                          : d->FirstThunk));
        IMAGE_THUNK_DATA *slots = (void *)(base + d->FirstThunk);
        for (; names->u1.AddressOfData; names++, slots++) {
            if (IMAGE_SNAP_BY_ORDINAL(names->u1.Ordinal))
                continue;
            IMAGE_IMPORT_BY_NAME *name = (void *)(base + names->u1.AddressOfData);
            if (strcmp((const char *)name->Name, "LocalFree") == 0)
                return (void **)&slots->u1.Function;
        }
    }
    return NULL;
}

/* Starts counting: ERROR_SUCCESS, or ERROR_PROC_NOT_FOUND when `module`
 * does not import LocalFree. */
DWORD WINAPI StandinWimWatchLocalFree(HMODULE module)
{
    InitOnceExecuteOnce(&watch_once, init_watch, NULL, NULL);
    void **slot = local_free_slot(module);
    if (!slot)
        return ERROR_PROC_NOT_FOUND;
    if (*slot != (void *)counting_local_free) {
        real_local_free = (HLOCAL(WINAPI *)(HLOCAL))(void *)GetProcAddress(
            GetModuleHandleW(L"kernel32.dll"), "LocalFree");
        DWORD old;
        if (!VirtualProtect(slot, sizeof *slot, PAGE_READWRITE, &old))
            return GetLastError();
        *slot = (void *)counting_local_free;
        VirtualProtect(slot, sizeof *slot, old, &old);
    }
    InterlockedExchange(&watching, 1);
    return ERROR_SUCCESS;
}

/* XML buffers handed out while watching and not given back to LocalFree. */
DWORD WINAPI StandinWimXmlOutstanding(void)
{
    InitOnceExecuteOnce(&watch_once, init_watch, NULL, NULL);
    DWORD n = 0;
    EnterCriticalSection(&watch_lock);
    for (int i = 0; i < WATCHED; i++)
        n += buffers[i] != NULL;
    LeaveCriticalSection(&watch_lock);
    return n;
}
