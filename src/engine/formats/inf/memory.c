/*
 * memory.c - the memory of a parse: an arena for everything a parsed file
 * hands out, charged to a budget, and the case-insensitive name tables that
 * find sections and [Strings] keys.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARENA_BLOCK_SIZE (64u * 1024u)

/* ------------------------------------------------------------------------
 * ASCII case-insensitive names
 * ------------------------------------------------------------------------ */

/* Not tolower(): section names must compare the same in every locale. */
unsigned char inf_fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

bool inf_same_name_n(const char *a, size_t a_len, const char *b)
{
    for (size_t i = 0; i < a_len; i++, b++)
        if (*b == '\0' || inf_fold((unsigned char)a[i]) != inf_fold((unsigned char)*b))
            return false;
    return *b == '\0';
}

bool inf_same_name(const char *a, const char *b)
{
    return inf_same_name_n(a, strlen(a), b);
}

bool inf_has_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (inf_fold((unsigned char)*s) != inf_fold((unsigned char)*prefix))
            return false;
    return true;
}

static uint32_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= inf_fold((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

bool inf_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* ------------------------------------------------------------------------
 * Memory: an arena for everything a parsed file hands out, and the budget
 * ------------------------------------------------------------------------ */



static bool charge(struct arena *a, size_t bytes)
{
    if (bytes > a->limit - a->charged) {
        a->over_budget = true;
        return false;
    }
    a->charged += bytes;
    return true;
}

void *inf_arena_alloc(struct arena *a, size_t size, size_t align)
{
    struct arena_block *b = a->blocks;
    if (b) {
        size_t pad = (size_t)(-(uintptr_t)(b->data + b->used)) & (align - 1);
        if (pad <= b->size - b->used && size <= b->size - b->used - pad) {
            void *p = b->data + b->used + pad;
            b->used += pad + size;
            return p;
        }
    }
    if (size > SIZE_MAX / 2)
        return NULL;
    size_t block_size = size + align > ARENA_BLOCK_SIZE ? size + align : ARENA_BLOCK_SIZE;
    if (!charge(a, block_size))
        return NULL;
    b = malloc(sizeof *b + block_size);
    if (!b)
        return NULL;
    b->size = block_size;
    b->used = 0;
    b->next = a->blocks;
    a->blocks = b;
    return inf_arena_alloc(a, size, align);
}

void inf_arena_free(struct arena *a)
{
    while (a->blocks) {
        struct arena_block *next = a->blocks->next;
        free(a->blocks);
        a->blocks = next;
    }
}

/* Copies s[0..len) into the arena; empty strings share one literal. */
const char *inf_arena_string(struct arena *a, const char *s, size_t len)
{
    if (len == 0)
        return "";
    char *copy = inf_arena_alloc(a, len + 1, 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Returns `items` with room for one more element, or NULL; the growth is
 * charged to the budget. */
void *inf_grow_array(struct arena *a, void *items, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap)
        return items;
    /* Most sections hold a line or two: start small. */
    size_t new_cap = *cap ? *cap * 2 : 2;
    if (new_cap > SIZE_MAX / 2 / elem || !charge(a, (new_cap - *cap) * elem))
        return NULL;
    void *grown = realloc(items, new_cap * elem);
    if (grown)
        *cap = new_cap;
    return grown;
}

/* ------------------------------------------------------------------------
 * Name tables: open addressing, case-insensitive keys
 * ------------------------------------------------------------------------ */



bool inf_table_find(const struct name_table *t, const char *name, size_t len, size_t *value)
{
    if (t->cap == 0)
        return false;
    uint32_t hash = hash_name(name, len);
    for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        const struct name_slot *slot = &t->slots[i];
        if (!slot->name)
            return false;
        if (slot->hash == hash && inf_same_name_n(name, len, slot->name)) {
            *value = slot->value;
            return true;
        }
    }
}

static void table_place(struct name_slot *slots, size_t cap, struct name_slot entry)
{
    size_t i = entry.hash & (cap - 1);
    while (slots[i].name)
        i = (i + 1) & (cap - 1);
    slots[i] = entry;
}

/* Keeps the table at most half full, so probes stay short. */
static bool table_reserve(struct arena *a, struct name_table *t)
{
    if ((t->count + 1) * 2 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap * 2 : 64;
    if (cap > SIZE_MAX / 2 / sizeof(struct name_slot) ||
        !charge(a, (cap - t->cap) * sizeof(struct name_slot)))
        return false;
    struct name_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].name)
            table_place(slots, cap, t->slots[i]);
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return true;
}

/* `name` must stay valid as long as the table. */
bool inf_table_add(struct arena *a, struct name_table *t, const char *name, uint32_t value)
{
    if (!table_reserve(a, t))
        return false;
    struct name_slot entry = {name, hash_name(name, strlen(name)), value};
    table_place(t->slots, t->cap, entry);
    t->count++;
    return true;
}
