/*
 * lexer.c - the parser proper: physical lines -> logical lines -> key and
 * fields, gathered into sections.
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

__attribute__((format(printf, 2, 3)))
bool inf_fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    inf_vset_error(p->error, p->error_size, fmt, ap);
    va_end(ap);
    return false;
}

bool inf_fail_memory(struct parser *p)
{
    if (p->inf->arena.over_budget)
        return inf_fail(p, "line %u: the INF needs more memory than its size justifies "
                       "(more than %zu bytes)", p->line_no, p->inf->arena.limit);
    return inf_fail(p, "line %u: out of memory", p->line_no);
}

static bool enter_section(struct parser *p, const char *name, size_t len)
{
    inf_file *inf = p->inf;
    size_t index;
    if (!inf_table_find(&inf->section_index, name, len, &index)) {
        struct inf_section *grown = inf_grow_array(&inf->arena, inf->sections, &inf->section_cap,
                                                   inf->section_count, sizeof *grown);
        if (!grown)
            return inf_fail_memory(p);
        inf->sections = grown;
        const char *copy = inf_arena_string(&inf->arena, name, len);
        index = inf->section_count; /* fewer sections than lines of text: fits 32 bits */
        if (!copy || !inf_table_add(&inf->arena, &inf->section_index, copy, (uint32_t)index))
            return inf_fail_memory(p);
        inf->sections[index] = (struct inf_section){.name = copy};
        inf->section_count++;
    }
    p->section = index;
    p->have_section = true;
    return true;
}

static size_t utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += !inf_is_continuation((unsigned char)s[i]);
    return n;
}

/* "[name]": the rest of the line after ']' is ignored, as SetupAPI does. */
static bool parse_section_header(struct parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    if (!close)
        return inf_fail(p, "line %u: section name without a closing ']'", p->line_no);
    const char *name = s + 1;
    size_t len = (size_t)(close - name);
    while (len && inf_is_space(*name)) {
        name++;
        len--;
    }
    while (len && inf_is_space(name[len - 1]))
        len--;
    if (memchr(name, '\0', len))
        return inf_fail(p, "line %u: NUL character in a section name", p->line_no);
    if (utf8_length(name, len) > INF_MAX_SECTION_NAME)
        return inf_fail(p, "line %u: section name longer than %u characters", p->line_no,
                        INF_MAX_SECTION_NAME);
    return enter_section(p, name, len);
}

/* Where the content of a physical line ends: at a ';' outside quotes, or at
 * its end.  A quote may not stay open past the end of the line. */
static bool find_content_end(struct parser *p, const char *s, size_t n, size_t *end)
{
    bool in_quote = false;
    size_t i = 0;
    for (; i < n; i++) {
        if (s[i] == '"')
            in_quote = !in_quote; /* "" inside quotes toggles twice: still inside */
        else if (s[i] == ';' && !in_quote)
            break;
        else if (s[i] == '\0')
            return inf_fail(p, "line %u: NUL character in the text", p->line_no);
    }
    if (in_quote)
        return inf_fail(p, "line %u: unterminated quoted string", p->line_no);
    *end = i;
    return true;
}

static void start_logical_line(struct line_builder *b, unsigned line_no)
{
    b->active = true;
    b->first_line = line_no;
    b->raw_len = 0;
    b->len = 0;
    b->field_start = 0;
    b->keep = 0;
    b->field_started = false;
    b->in_quote = false;
    b->saw_comma = false;
    b->has_key = false;
    b->field_count = 0;
}

static struct span close_field(struct line_builder *b)
{
    b->len = b->keep;
    struct span field = {b->field_start, b->len - b->field_start};
    b->field_start = b->len;
    b->field_started = false;
    return field;
}

static bool end_field(struct parser *p)
{
    struct line_builder *b = &p->b;
    struct span *grown = inf_grow_array(&p->inf->arena, b->fields, &b->field_cap, b->field_count,
                                        sizeof *grown);
    if (!grown)
        return inf_fail_memory(p);
    b->fields = grown;
    b->fields[b->field_count++] = close_field(b);
    return true;
}

static void emit(struct line_builder *b, char c, bool significant)
{
    b->text[b->len++] = c;
    if (significant)
        b->keep = b->len;
}

/* Feeds one physical line's content (comment and continuation removed). */
static bool feed_segment(struct parser *p, const char *s, size_t n)
{
    struct line_builder *b = &p->b;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (b->in_quote) {
            if (c != '"')
                emit(b, c, true);
            else if (i + 1 < n && s[i + 1] == '"')
                emit(b, s[i++], true);
            else
                b->in_quote = false;
        } else if (c == '"') {
            b->in_quote = true;
            b->field_started = true;
        } else if (c == ',') {
            if (!end_field(p))
                return false;
            b->saw_comma = true;
        } else if (c == '=' && !b->has_key && !b->saw_comma) {
            b->key = close_field(b);
            b->has_key = true;
        } else if (inf_is_space(c)) {
            if (b->field_started)
                emit(b, c, false);
        } else {
            emit(b, c, true);
            b->field_started = true;
        }
    }
    return true;
}

static bool add_line_record(struct parser *p, struct line_record record)
{
    inf_file *inf = p->inf;
    struct inf_section *section = &inf->sections[p->section];
    if (inf->line_count >= UINT32_MAX)
        return inf_fail(p, "line %u: too many lines", p->line_no);
    struct line_record *lines = inf_grow_array(&inf->arena, inf->lines, &inf->line_cap,
                                               inf->line_count, sizeof *lines);
    if (!lines)
        return inf_fail_memory(p);
    inf->lines = lines;
    uint32_t *indexes = inf_grow_array(&inf->arena, section->lines, &section->cap, section->count,
                                       sizeof *indexes);
    if (!indexes)
        return inf_fail_memory(p);
    section->lines = indexes;
    section->lines[section->count++] = (uint32_t)inf->line_count;
    inf->lines[inf->line_count++] = record;
    return true;
}

/* Copies the finished logical line out of the builder into the arena. */
static bool commit_line(struct parser *p)
{
    struct line_builder *b = &p->b;
    struct arena *a = &p->inf->arena;
    struct line_record record = {.number = b->first_line};
    const char **fields = inf_arena_alloc(a, b->field_count * sizeof *fields,
                                          alignof(const char *));
    if (!fields)
        return inf_fail_memory(p);
    for (size_t i = 0; i < b->field_count; i++)
        if (!(fields[i] = inf_arena_string(a, b->text + b->fields[i].start, b->fields[i].len)))
            return inf_fail_memory(p);
    if (b->has_key && !(record.pub.key = inf_arena_string(a, b->text + b->key.start, b->key.len)))
        return inf_fail_memory(p);
    record.pub.fields = fields;
    record.pub.field_count = b->field_count;
    return add_line_record(p, record);
}

static bool finish_logical_line(struct parser *p)
{
    p->b.active = false;
    return end_field(p) && commit_line(p);
}

static size_t skip_space(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && inf_is_space(s[i]))
        i++;
    return i;
}

static size_t trim_end(const char *s, size_t start, size_t end)
{
    while (end > start && inf_is_space(s[end - 1]))
        end--;
    return end;
}

/* A '\' as the last character before the end of the line or a comment joins
 * the next line; blanks on both sides of the join disappear. */
static bool strip_continuation(const char *s, size_t start, size_t *end)
{
    if (*end <= start || s[*end - 1] != '\\')
        return false;
    while (*end > start && s[*end - 1] == '\\')
        (*end)--;
    *end = trim_end(s, start, *end);
    return true;
}

static bool parse_physical_line(struct parser *p, const char *s, size_t n)
{
    struct line_builder *b = &p->b;
    size_t start = skip_space(s, n);
    if (!b->active) {
        if (start == n || s[start] == ';')
            return true;
        if (s[start] == '[')
            return parse_section_header(p, s + start, n - start);
        if (!p->have_section)
            return inf_fail(p, "line %u: text before the first section", p->line_no);
        start_logical_line(b, p->line_no);
    }
    size_t end = 0;
    if (!find_content_end(p, s, n, &end))
        return false;
    end = trim_end(s, start, end);
    bool continued = strip_continuation(s, start, &end);
    size_t segment = end > start ? end - start : 0;
    if (segment > INF_MAX_LINE - b->raw_len)
        return inf_fail(p, "line %u: line longer than %u bytes (continuations included)",
                        p->line_no, INF_MAX_LINE);
    b->raw_len += segment;
    if (!feed_segment(p, s + start, segment))
        return false;
    return continued ? true : finish_logical_line(p);
}

bool inf_parse_lines(struct parser *p)
{
    size_t pos = 0;
    while (pos < p->len) {
        size_t end = pos;
        while (end < p->len && p->text[end] != '\n' && p->text[end] != '\r')
            end++;
        if (!parse_physical_line(p, p->text + pos, end - pos))
            return false;
        pos = end;
        if (pos < p->len && p->text[pos] == '\r' && pos + 1 < p->len && p->text[pos + 1] == '\n')
            pos++;
        if (pos < p->len)
            pos++;
        p->line_no++;
    }
    /* A continuation on the last line: the logical line ends with the file. */
    return p->b.active ? finish_logical_line(p) : true;
}
