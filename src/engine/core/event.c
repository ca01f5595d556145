/*
 * event.c - the POSIX form of a Win32 event, enough for CancelEvent.
 * Setting it is a single atomic store, so it is safe from any thread and
 * from inside a progress callback; the engine polls it at the points where
 * an operation can still stop.
 */
#include "core.h"

#include <stdatomic.h>
#include <stdlib.h>

#define EVENT_MAGIC 0x44495345u /* "DISE" */

typedef struct {
    unsigned magic;
    atomic_int signalled;
    bool manual_reset;
} dism_event;

static dism_event *as_event(HANDLE h)
{
    dism_event *e = h;
    return e && e->magic == EVENT_MAGIC ? e : NULL;
}

HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES Attributes, BOOL ManualReset,
                           BOOL InitialState, LPCWSTR Name)
{
    (void)Attributes;
    if (Name) /* named events are a kernel object namespace we do not have */
        return NULL;
    dism_event *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->magic = EVENT_MAGIC;
    e->manual_reset = ManualReset != 0;
    atomic_store(&e->signalled, InitialState ? 1 : 0);
    return e;
}

static BOOL store_signal(HANDLE event, int signalled)
{
    dism_event *e = as_event(event);
    if (!e)
        return FALSE;
    atomic_store(&e->signalled, signalled);
    return TRUE;
}

BOOL WINAPI SetEvent(HANDLE Event) { return store_signal(Event, 1); }

BOOL WINAPI ResetEvent(HANDLE Event) { return store_signal(Event, 0); }

BOOL WINAPI CloseHandle(HANDLE Object)
{
    dism_event *e = as_event(Object);
    if (!e)
        return FALSE;
    e->magic = 0;
    free(e);
    return TRUE;
}

bool event_is_set(HANDLE event)
{
    dism_event *e = as_event(event);
    if (!e)
        return false;
    if (e->manual_reset)
        return atomic_load(&e->signalled) != 0;
    return atomic_exchange(&e->signalled, 0) != 0;
}
