/*
 * results.c - memory handed to DISM callers.
 *
 * Every structure the engine returns belongs to a pool: the top-level pointer
 * plus every nested array and string.  DismDelete(top) frees the whole pool,
 * so one call releases the whole tree, as DISM promises.  Live pools are kept
 * in a list so DismDelete can refuse pointers it never returned instead of
 * freeing foreign memory.
 */
#include "core.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct result_pool {
    void *result;
    void **blocks;
    size_t count, capacity;
    struct result_pool *next;
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static result_pool *live;

result_pool *pool_new(void) { return calloc(1, sizeof(result_pool)); }

void *pool_alloc(result_pool *pool, size_t size)
{
    if (pool->count == pool->capacity) {
        size_t cap = pool->capacity ? pool->capacity * 2 : 8;
        void **blocks = realloc(pool->blocks, cap * sizeof *blocks);
        if (!blocks)
            return NULL;
        pool->blocks = blocks;
        pool->capacity = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (p)
        pool->blocks[pool->count++] = p;
    return p;
}

PCWSTR pool_wstr(result_pool *pool, const char *utf8)
{
    if (!utf8)
        return NULL;
    wchar_t *w = utf8_to_wide(utf8);
    if (!w)
        return NULL;
    size_t bytes = (wcslen(w) + 1) * sizeof *w;
    wchar_t *copy = pool_alloc(pool, bytes);
    if (copy)
        memcpy(copy, w, bytes);
    free(w);
    return copy;
}

void pool_discard(result_pool *pool)
{
    if (!pool)
        return;
    for (size_t i = 0; i < pool->count; i++)
        free(pool->blocks[i]);
    free(pool->blocks);
    free(pool);
}

void *pool_publish(result_pool *pool, void *result)
{
    if (!pool)
        return NULL;
    pool->result = result;
    pthread_mutex_lock(&live_lock);
    pool->next = live;
    live = pool;
    pthread_mutex_unlock(&live_lock);
    return result;
}

void *pool_finish(result_pool *pool, HRESULT hr, void *result)
{
    if (FAILED(hr)) {
        pool_discard(pool);
        return NULL;
    }
    return pool_publish(pool, result);
}

DismString *pool_string_result(const char *utf8)
{
    result_pool *pool = pool_new();
    DismString *s = pool ? pool_alloc(pool, sizeof *s) : NULL;
    if (!s || !(s->Value = pool_wstr(pool, utf8))) {
        pool_discard(pool);
        return NULL;
    }
    return pool_publish(pool, s);
}

HRESULT results_delete(void *result)
{
    if (!result)
        return E_INVALIDARG;
    result_pool *found = NULL;
    pthread_mutex_lock(&live_lock);
    for (result_pool **p = &live; *p; p = &(*p)->next) {
        if ((*p)->result == result) {
            found = *p;
            *p = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
    if (!found)
        return E_INVALIDARG;
    pool_discard(found);
    return S_OK;
}
