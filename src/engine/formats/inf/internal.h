/*
 * internal.h - what the files of the INF reader share with each other; not
 * part of its API, which is inf.h.
 *   file.c        inf_parse, inf_load, inf_free: the parsed file's life
 *   query.c       sections, lines and values looked up by name
 *   encoding.c    input -> UTF-8, error messages
 *   memory.c      the arena and its budget, case-insensitive name tables
 *   lexer.c       lines, keys, fields and sections
 *   substitute.c  %strkey% replacement from [Strings]
 *   driver.c      inf_read_driver, the driver description
 */
#ifndef DISM_ENGINE_INF_INTERNAL_H
#define DISM_ENGINE_INF_INTERNAL_H

#include "inf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * Memory (memory.c): an arena for everything a parsed file hands out, and
 * the budget; name tables with open addressing and case-insensitive keys
 * ------------------------------------------------------------------------ */

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    unsigned char data[];
};

struct arena {
    struct arena_block *blocks;
    size_t charged, limit;
    bool over_budget;
};

struct name_slot {
    const char *name; /* NULL: empty slot */
    uint32_t hash;
    uint32_t value;   /* a section or line index: both stay below UINT32_MAX */
};

struct name_table {
    struct name_slot *slots;
    size_t cap, count; /* cap is 0 or a power of two */
};

/* ------------------------------------------------------------------------
 * The parsed file
 * ------------------------------------------------------------------------ */

struct line_record {
    inf_line pub;
    unsigned number; /* physical line where the logical line starts */
};

struct inf_section {
    const char *name;
    uint32_t *lines; /* indexes into inf_file.lines */
    size_t count, cap;
};

struct inf_file {
    struct arena arena;
    struct line_record *lines;
    size_t line_count, line_cap;
    struct inf_section *sections; /* in order of first appearance */
    size_t section_count, section_cap;
    struct name_table section_index;
};

/* ------------------------------------------------------------------------
 * The parser: physical lines -> logical lines -> key and fields
 * ------------------------------------------------------------------------ */

struct span {
    size_t start, len;
};

/* One logical line being assembled, possibly over several physical lines
 * joined by '\'.  Output text is the unquoted, trimmed fields back to back. */
struct line_builder {
    bool active;
    unsigned first_line;
    size_t raw_len;          /* input bytes so far, for INF_MAX_LINE */
    char *text;              /* INF_MAX_LINE bytes: output never outgrows input */
    size_t len;
    size_t field_start;
    size_t keep;             /* where the field ends if it ends now: trailing blanks go */
    bool field_started;      /* leading blanks before this are dropped */
    bool in_quote;
    bool saw_comma;          /* an '=' after a ',' does not make a key */
    bool has_key;
    struct span key;
    struct span *fields;
    size_t field_count, field_cap;
};

struct parser {
    inf_file *inf;
    const char *text;
    size_t len;
    unsigned line_no;
    bool have_section;
    size_t section;
    struct line_builder b;
    char *scratch;           /* INF_MAX_LINE bytes for string substitution */
    char *error;
    size_t error_size;
};

/* ---- encoding.c: decoding and error messages ---- */
char *inf_decode_text(const unsigned char *s, size_t len, size_t *out_len, char *error,
                      size_t error_size);
bool inf_is_continuation(unsigned char c);
int inf_quote_length(const char *s, size_t max);
__attribute__((format(printf, 3, 4)))
void inf_set_error(char *error, size_t size, const char *fmt, ...);
__attribute__((format(printf, 3, 0)))
void inf_vset_error(char *error, size_t size, const char *fmt, va_list ap);

/* ---- memory.c: ASCII case-insensitive names, the arena, name tables ---- */
void *inf_arena_alloc(struct arena *a, size_t size, size_t align);
void inf_arena_free(struct arena *a);
const char *inf_arena_string(struct arena *a, const char *s, size_t len);
unsigned char inf_fold(unsigned char c);
void *inf_grow_array(struct arena *a, void *items, size_t *cap, size_t count, size_t elem);
bool inf_has_prefix(const char *s, const char *prefix);
bool inf_is_space(char c);
bool inf_same_name(const char *a, const char *b);
bool inf_same_name_n(const char *a, size_t a_len, const char *b);
bool inf_table_add(struct arena *a, struct name_table *t, const char *name, uint32_t value);
bool inf_table_find(const struct name_table *t, const char *name, size_t len, size_t *value);

/* ---- query.c: section lookups ---- */
const inf_line *inf_find_keyed_line(const inf_file *inf, const struct inf_section *s,
                                    const char *key);
const struct inf_section *inf_find_section(const inf_file *inf, const char *name);
const char *inf_first_field(const inf_line *line);
const inf_line *inf_section_line(const inf_file *inf, const struct inf_section *s, size_t i);

/* ---- lexer.c: the parser's failures and its line loop ---- */
__attribute__((format(printf, 2, 3)))
bool inf_fail(struct parser *p, const char *fmt, ...);
bool inf_fail_memory(struct parser *p);
bool inf_parse_lines(struct parser *p);

/* ---- substitute.c ---- */
bool inf_substitute_all(struct parser *p);

#endif /* DISM_ENGINE_INF_INTERNAL_H */
