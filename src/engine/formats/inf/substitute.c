/*
 * substitute.c - %strkey% tokens replaced from [Strings], once the whole file
 * is read (because [Strings] usually comes last).
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

/* ------------------------------------------------------------------------
 * %strkey% substitution
 * ------------------------------------------------------------------------ */

static bool is_strings_section(const char *name)
{
    return inf_same_name(name, "Strings") || inf_has_prefix(name, "Strings.");
}

/* [Strings], or else the first localized [Strings.<lang>] of the file. */
static const struct inf_section *strings_section(const inf_file *inf)
{
    const struct inf_section *s = inf_find_section(inf, "Strings");
    for (size_t i = 0; !s && i < inf->section_count; i++)
        if (inf_has_prefix(inf->sections[i].name, "Strings."))
            s = &inf->sections[i];
    return s;
}

/* The first definition of a key wins, as in SetupAPI. */
static bool index_strings(struct parser *p, const struct inf_section *s, struct name_table *t)
{
    for (size_t i = 0; s && i < s->count; i++) {
        const inf_line *line = inf_section_line(p->inf, s, i);
        size_t unused;
        if (!line->key || inf_table_find(t, line->key, strlen(line->key), &unused))
            continue;
        if (!inf_table_add(&p->inf->arena, t, line->key, s->lines[i]))
            return inf_fail_memory(p);
    }
    return true;
}

struct expansion {
    char *out;
    size_t len;
    bool overflow;
};

static void expansion_put(struct expansion *e, const char *s, size_t n)
{
    if (n > INF_MAX_LINE - e->len) {
        e->overflow = true;
        return;
    }
    memcpy(e->out + e->len, s, n);
    e->len += n;
}

/* "%%" is a percent sign, "%key%" the key's string; an unknown key stays as
 * written.  Substituted text is not scanned again. */
static bool substitute(struct parser *p, const struct name_table *strings, unsigned line_no,
                       const char **text)
{
    const char *s = *text;
    if (!strchr(s, '%'))
        return true;
    struct expansion e = {p->scratch, 0, false};
    while (*s && !e.overflow) {
        const char *open = strchr(s, '%');
        const char *close = open ? strchr(open + 1, '%') : NULL;
        if (!close) {
            expansion_put(&e, s, strlen(s));
            break;
        }
        expansion_put(&e, s, (size_t)(open - s));
        size_t key_len = (size_t)(close - open - 1), index;
        if (key_len == 0)
            expansion_put(&e, "%", 1);
        else if (inf_table_find(strings, open + 1, key_len, &index)) {
            const char *value = inf_first_field(&p->inf->lines[index].pub);
            expansion_put(&e, value, strlen(value));
        } else {
            expansion_put(&e, open, key_len + 2);
        }
        s = close + 1;
    }
    if (e.overflow)
        return inf_fail(p, "line %u: a field is longer than %u bytes after string substitution",
                        line_no, INF_MAX_LINE);
    const char *expanded = inf_arena_string(&p->inf->arena, e.out, e.len);
    if (!expanded)
        return inf_fail_memory(p);
    *text = expanded;
    return true;
}

static bool substitute_line(struct parser *p, const struct name_table *strings,
                            struct line_record *record)
{
    /* The arrays were built by this parser as mutable; they are only handed
     * out as const. */
    const char **fields = (const char **)record->pub.fields;
    p->line_no = record->number; /* for messages about memory */
    if (record->pub.key && !substitute(p, strings, record->number, &record->pub.key))
        return false;
    for (size_t i = 0; i < record->pub.field_count; i++)
        if (!substitute(p, strings, record->number, &fields[i]))
            return false;
    return true;
}

bool inf_substitute_all(struct parser *p)
{
    inf_file *inf = p->inf;
    struct name_table strings = {0};
    bool ok = index_strings(p, strings_section(inf), &strings);
    for (size_t i = 0; ok && i < inf->section_count; i++) {
        const struct inf_section *s = &inf->sections[i];
        if (is_strings_section(s->name))
            continue;
        for (size_t j = 0; ok && j < s->count; j++)
            ok = substitute_line(p, &strings, &inf->lines[s->lines[j]]);
    }
    free(strings.slots);
    return ok;
}
