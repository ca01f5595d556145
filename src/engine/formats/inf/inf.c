/*
 * inf.c - a reader for Windows INF files.
 *
 * The input is decoded to UTF-8 first (INFs come as UTF-16LE, UTF-8 or the
 * "ANSI" code page, which for driver INFs is in practice Windows-1252), then
 * read line by line into sections of lines of fields, following Microsoft's
 * "General Syntax Rules for INF Files".  %strkey% tokens are replaced once the
 * whole file is read, because [Strings] usually comes last.
 *
 * Where the documentation is silent, the behaviour follows SetupAPI as Wine
 * documents it: a Ctrl-Z ends the file, text after a section's ']' is ignored,
 * an '=' after the first ',' is an ordinary character, whitespace around a
 * line continuation disappears, and an unknown %key% is left as written.
 *
 * Every byte of memory a parse needs is charged to a budget proportional to
 * the input, so no input can make the parser allocate without bound.
 */
#include "inf.h"
#include "core/utf8.h"
#include "dismapi.h"

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

#define CONTROL_Z '\x1a'
#define ARENA_BLOCK_SIZE (64u * 1024u)
/* A parse may use this much memory besides its input.  A file made of tiny
 * sections needs about 6 bytes per byte of text (section table, line
 * table, hash slots); a pathological one would need far more and meets the
 * wall instead. */
#define BUDGET_BASE (16u * 1024u * 1024u)
#define BUDGET_PER_TEXT_BYTE 8u
#define BUDGET_MAX (256u * 1024u * 1024u)
/* Devices share strings an INF writes once (a long ExcludeId list, say), so
 * a driver description is capped on its own. */
#define DRIVER_MAX_BYTES (64u * 1024u * 1024u)
#define SPSVCINST_ASSOCSERVICE 0x2u
#define SERVICE_BOOT_START 0u

/* ------------------------------------------------------------------------
 * Error messages
 * ------------------------------------------------------------------------ */

/* Cuts a truncated message at a character boundary, so what the caller gets
 * is always valid UTF-8 even when its buffer was too small. */
static void drop_partial_utf8(char *s, size_t len)
{
    size_t start = len;
    while (start > 0 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    unsigned char lead = (unsigned char)s[start - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (start - 1) < need)
        s[start - 1] = '\0';
}

__attribute__((format(printf, 3, 0)))
static void vset_error(char *error, size_t size, const char *fmt, va_list ap)
{
    if (!error || size == 0)
        return;
    int n = vsnprintf(error, size, fmt, ap);
    if (n < 0)
        error[0] = '\0';
    else if ((size_t)n >= size)
        drop_partial_utf8(error, size - 1);
}

__attribute__((format(printf, 3, 4)))
static void set_error(char *error, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(error, size, fmt, ap);
    va_end(ap);
}

/* How many bytes of s to quote in a message: at most about `max`, ending on
 * a character boundary. */
static int quote_length(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* ------------------------------------------------------------------------
 * ASCII case-insensitive names
 * ------------------------------------------------------------------------ */

/* Not tolower(): section names must compare the same in every locale. */
static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static bool same_name_n(const char *a, size_t a_len, const char *b)
{
    for (size_t i = 0; i < a_len; i++, b++)
        if (*b == '\0' || fold((unsigned char)a[i]) != fold((unsigned char)*b))
            return false;
    return *b == '\0';
}

static bool same_name(const char *a, const char *b)
{
    return same_name_n(a, strlen(a), b);
}

static bool has_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (fold((unsigned char)*s) != fold((unsigned char)*prefix))
            return false;
    return true;
}

static uint32_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= fold((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* ------------------------------------------------------------------------
 * Memory: an arena for everything a parsed file hands out, and the budget
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

static bool charge(struct arena *a, size_t bytes)
{
    if (bytes > a->limit - a->charged) {
        a->over_budget = true;
        return false;
    }
    a->charged += bytes;
    return true;
}

static void *arena_alloc(struct arena *a, size_t size, size_t align)
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
    return arena_alloc(a, size, align);
}

static void arena_free(struct arena *a)
{
    while (a->blocks) {
        struct arena_block *next = a->blocks->next;
        free(a->blocks);
        a->blocks = next;
    }
}

/* Copies s[0..len) into the arena; empty strings share one literal. */
static const char *arena_string(struct arena *a, const char *s, size_t len)
{
    if (len == 0)
        return "";
    char *copy = arena_alloc(a, len + 1, 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Returns `items` with room for one more element, or NULL; the growth is
 * charged to the budget. */
static void *grow_array(struct arena *a, void *items, size_t *cap, size_t count, size_t elem)
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

struct name_slot {
    const char *name; /* NULL: empty slot */
    uint32_t hash;
    uint32_t value;   /* a section or line index: both stay below UINT32_MAX */
};

struct name_table {
    struct name_slot *slots;
    size_t cap, count; /* cap is 0 or a power of two */
};

static bool table_find(const struct name_table *t, const char *name, size_t len, size_t *value)
{
    if (t->cap == 0)
        return false;
    uint32_t hash = hash_name(name, len);
    for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        const struct name_slot *slot = &t->slots[i];
        if (!slot->name)
            return false;
        if (slot->hash == hash && same_name_n(name, len, slot->name)) {
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
static bool table_add(struct arena *a, struct name_table *t, const char *name, uint32_t value)
{
    if (!table_reserve(a, t))
        return false;
    struct name_slot entry = {name, hash_name(name, strlen(name)), value};
    table_place(t->slots, t->cap, entry);
    t->count++;
    return true;
}

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

void inf_free(inf_file *inf)
{
    if (!inf)
        return;
    for (size_t i = 0; i < inf->section_count; i++)
        free(inf->sections[i].lines);
    free(inf->sections);
    free(inf->lines);
    free(inf->section_index.slots);
    arena_free(&inf->arena);
    free(inf);
}

static const struct inf_section *find_section_n(const inf_file *inf, const char *name,
                                                size_t len)
{
    size_t index;
    if (!inf || !name || !table_find(&inf->section_index, name, len, &index))
        return NULL;
    return &inf->sections[index];
}

static const struct inf_section *find_section(const inf_file *inf, const char *name)
{
    return name ? find_section_n(inf, name, strlen(name)) : NULL;
}

static const inf_line *section_line(const inf_file *inf, const struct inf_section *s, size_t i)
{
    return &inf->lines[s->lines[i]].pub;
}

static const inf_line *find_keyed_line(const inf_file *inf, const struct inf_section *s,
                                       const char *key)
{
    for (size_t i = 0; s && key && i < s->count; i++) {
        const inf_line *line = section_line(inf, s, i);
        if (line->key && same_name(line->key, key))
            return line;
    }
    return NULL;
}

static const char *first_field(const inf_line *line)
{
    return !line ? NULL : line->field_count ? line->fields[0] : "";
}

bool inf_has_section(const inf_file *inf, const char *section)
{
    return find_section(inf, section) != NULL;
}

size_t inf_line_count(const inf_file *inf, const char *section)
{
    const struct inf_section *s = find_section(inf, section);
    return s ? s->count : 0;
}

const inf_line *inf_line_at(const inf_file *inf, const char *section, size_t index)
{
    const struct inf_section *s = find_section(inf, section);
    return s && index < s->count ? section_line(inf, s, index) : NULL;
}

const char *inf_value(const inf_file *inf, const char *section, const char *key)
{
    return first_field(find_keyed_line(inf, find_section(inf, section), key));
}

/* ------------------------------------------------------------------------
 * Decoding to UTF-8
 * ------------------------------------------------------------------------ */

#define REPLACEMENT_CHARACTER 0xFFFDu


static bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || len > left)
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!is_continuation(s[i]))
            return 0;
    unsigned char second = s[1];
    if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) ||
        (c == 0xF0 && second < 0x90) || (c == 0xF4 && second > 0x8F))
        return 0;
    return len;
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* A UTF-8 file announced by its BOM keeps its good sequences; each bad byte
 * becomes U+FFFD. */
static char *utf8_repaired(const unsigned char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(s + i, len - i);
        if (n == 0) {
            o += utf8_encode(REPLACEMENT_CHARACTER, o);
            i++;
        } else {
            memcpy(o, s + i, n);
            o += n;
            i += n;
        }
    }
    *out_len = (size_t)(o - out);
    return out;
}

/* Windows-1252 0x80..0x9F; the five unassigned bytes map to the C1
 * controls, as MultiByteToWideChar does. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static char *cp1252_to_utf8(const unsigned char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        uint32_t c = s[i] >= 0x80 && s[i] < 0xA0 ? cp1252_high[s[i] - 0x80] : s[i];
        o += utf8_encode(c, o);
    }
    *out_len = (size_t)(o - out);
    return out;
}

/* Unpaired surrogates and a dangling odd byte become U+FFFD. */
static char *utf16le_to_utf8(const unsigned char *s, size_t len, size_t *out_len)
{
    size_t units = len / 2;
    char *out = malloc(units * 3 + 4), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = s[2 * i] | (uint32_t)s[2 * i + 1] << 8;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
            uint32_t low = s[2 * i + 2] | (uint32_t)s[2 * i + 3] << 8;
            if (low >= 0xDC00 && low <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                i++;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            c = REPLACEMENT_CHARACTER;
        o += utf8_encode(c, o);
    }
    if (len % 2)
        o += utf8_encode(REPLACEMENT_CHARACTER, o);
    *out_len = (size_t)(o - out);
    return out;
}

/* Without a BOM, UTF-16LE shows itself by the zero high bytes of its ASCII
 * characters (INF syntax is ASCII); UTF-8 and ANSI text has no NUL bytes. */
static bool looks_like_utf16le(const unsigned char *s, size_t len)
{
    size_t units = len / 2 < 4096 ? len / 2 : 4096, ascii = 0;
    for (size_t i = 0; i < units; i++)
        if (s[2 * i + 1] == 0 && s[2 * i] != 0)
            ascii++;
    return units > 0 && ascii * 2 >= units;
}

static char *decode_text(const unsigned char *s, size_t len, size_t *out_len, char *error,
                         size_t error_size)
{
    char *text;
    if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        set_error(error, error_size, "UTF-16 big-endian INF files are not supported");
        return NULL;
    }
    if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE)
        text = utf16le_to_utf8(s + 2, len - 2, out_len);
    else if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        text = utf8_repaired(s + 3, len - 3, out_len);
    else if (looks_like_utf16le(s, len))
        text = utf16le_to_utf8(s, len, out_len);
    else if (valid_utf8(s, len))
        text = utf8_repaired(s, len, out_len);
    else
        text = cp1252_to_utf8(s, len, out_len);
    if (!text)
        set_error(error, error_size, "out of memory decoding the INF file");
    return text;
}

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

__attribute__((format(printf, 2, 3)))
static bool fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(p->error, p->error_size, fmt, ap);
    va_end(ap);
    return false;
}

static bool fail_memory(struct parser *p)
{
    if (p->inf->arena.over_budget)
        return fail(p, "line %u: the INF needs more memory than its size justifies "
                       "(more than %zu bytes)", p->line_no, p->inf->arena.limit);
    return fail(p, "line %u: out of memory", p->line_no);
}

static bool enter_section(struct parser *p, const char *name, size_t len)
{
    inf_file *inf = p->inf;
    size_t index;
    if (!table_find(&inf->section_index, name, len, &index)) {
        struct inf_section *grown = grow_array(&inf->arena, inf->sections, &inf->section_cap,
                                               inf->section_count, sizeof *grown);
        if (!grown)
            return fail_memory(p);
        inf->sections = grown;
        const char *copy = arena_string(&inf->arena, name, len);
        index = inf->section_count; /* fewer sections than lines of text: fits 32 bits */
        if (!copy || !table_add(&inf->arena, &inf->section_index, copy, (uint32_t)index))
            return fail_memory(p);
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
        n += !is_continuation((unsigned char)s[i]);
    return n;
}

/* "[name]": the rest of the line after ']' is ignored, as SetupAPI does. */
static bool parse_section_header(struct parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    if (!close)
        return fail(p, "line %u: section name without a closing ']'", p->line_no);
    const char *name = s + 1;
    size_t len = (size_t)(close - name);
    while (len && is_space(*name)) {
        name++;
        len--;
    }
    while (len && is_space(name[len - 1]))
        len--;
    if (memchr(name, '\0', len))
        return fail(p, "line %u: NUL character in a section name", p->line_no);
    if (utf8_length(name, len) > INF_MAX_SECTION_NAME)
        return fail(p, "line %u: section name longer than %u characters", p->line_no,
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
            return fail(p, "line %u: NUL character in the text", p->line_no);
    }
    if (in_quote)
        return fail(p, "line %u: unterminated quoted string", p->line_no);
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
    struct span *grown = grow_array(&p->inf->arena, b->fields, &b->field_cap, b->field_count,
                                    sizeof *grown);
    if (!grown)
        return fail_memory(p);
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
        } else if (is_space(c)) {
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
        return fail(p, "line %u: too many lines", p->line_no);
    struct line_record *lines = grow_array(&inf->arena, inf->lines, &inf->line_cap,
                                           inf->line_count, sizeof *lines);
    if (!lines)
        return fail_memory(p);
    inf->lines = lines;
    uint32_t *indexes = grow_array(&inf->arena, section->lines, &section->cap, section->count,
                                   sizeof *indexes);
    if (!indexes)
        return fail_memory(p);
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
    const char **fields = arena_alloc(a, b->field_count * sizeof *fields, alignof(const char *));
    if (!fields)
        return fail_memory(p);
    for (size_t i = 0; i < b->field_count; i++)
        if (!(fields[i] = arena_string(a, b->text + b->fields[i].start, b->fields[i].len)))
            return fail_memory(p);
    if (b->has_key && !(record.pub.key = arena_string(a, b->text + b->key.start, b->key.len)))
        return fail_memory(p);
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
    while (i < n && is_space(s[i]))
        i++;
    return i;
}

static size_t trim_end(const char *s, size_t start, size_t end)
{
    while (end > start && is_space(s[end - 1]))
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
            return fail(p, "line %u: text before the first section", p->line_no);
        start_logical_line(b, p->line_no);
    }
    size_t end = 0;
    if (!find_content_end(p, s, n, &end))
        return false;
    end = trim_end(s, start, end);
    bool continued = strip_continuation(s, start, &end);
    size_t segment = end > start ? end - start : 0;
    if (segment > INF_MAX_LINE - b->raw_len)
        return fail(p, "line %u: line longer than %u bytes (continuations included)",
                    p->line_no, INF_MAX_LINE);
    b->raw_len += segment;
    if (!feed_segment(p, s + start, segment))
        return false;
    return continued ? true : finish_logical_line(p);
}

static bool parse_lines(struct parser *p)
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

/* ------------------------------------------------------------------------
 * %strkey% substitution
 * ------------------------------------------------------------------------ */

static bool is_strings_section(const char *name)
{
    return same_name(name, "Strings") || has_prefix(name, "Strings.");
}

/* [Strings], or else the first localized [Strings.<lang>] of the file. */
static const struct inf_section *strings_section(const inf_file *inf)
{
    const struct inf_section *s = find_section(inf, "Strings");
    for (size_t i = 0; !s && i < inf->section_count; i++)
        if (has_prefix(inf->sections[i].name, "Strings."))
            s = &inf->sections[i];
    return s;
}

/* The first definition of a key wins, as in SetupAPI. */
static bool index_strings(struct parser *p, const struct inf_section *s, struct name_table *t)
{
    for (size_t i = 0; s && i < s->count; i++) {
        const inf_line *line = section_line(p->inf, s, i);
        size_t unused;
        if (!line->key || table_find(t, line->key, strlen(line->key), &unused))
            continue;
        if (!table_add(&p->inf->arena, t, line->key, s->lines[i]))
            return fail_memory(p);
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
        else if (table_find(strings, open + 1, key_len, &index)) {
            const char *value = first_field(&p->inf->lines[index].pub);
            expansion_put(&e, value, strlen(value));
        } else {
            expansion_put(&e, open, key_len + 2);
        }
        s = close + 1;
    }
    if (e.overflow)
        return fail(p, "line %u: a field is longer than %u bytes after string substitution",
                    line_no, INF_MAX_LINE);
    const char *expanded = arena_string(&p->inf->arena, e.out, e.len);
    if (!expanded)
        return fail_memory(p);
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

static bool substitute_all(struct parser *p)
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

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------ */

/* Ctrl-Z marks the end of a DOS text file; NULs at the end are padding. */
static size_t usable_length(const char *text, size_t len)
{
    const char *eof = memchr(text, CONTROL_Z, len);
    if (eof)
        len = (size_t)(eof - text);
    while (len && text[len - 1] == '\0')
        len--;
    return len;
}

static size_t memory_budget(size_t text_len)
{
    size_t max_len = (BUDGET_MAX - BUDGET_BASE) / BUDGET_PER_TEXT_BYTE;
    return text_len >= max_len ? BUDGET_MAX : BUDGET_BASE + text_len * BUDGET_PER_TEXT_BYTE;
}

static inf_file *parse_text(const char *text, size_t len, char *error, size_t error_size)
{
    inf_file *inf = calloc(1, sizeof *inf);
    struct parser p = {.inf = inf, .text = text, .len = len, .line_no = 1, .error = error,
                       .error_size = error_size};
    p.b.text = malloc(INF_MAX_LINE);
    p.scratch = malloc(INF_MAX_LINE);
    bool ok = inf && p.b.text && p.scratch;
    if (!ok) {
        set_error(error, error_size, "out of memory");
    } else {
        inf->arena.limit = memory_budget(len);
        ok = parse_lines(&p) && substitute_all(&p);
    }
    free(p.b.fields);
    free(p.b.text);
    free(p.scratch);
    if (!ok) {
        inf_free(inf);
        return NULL;
    }
    return inf;
}

inf_file *inf_parse(const void *data, size_t len, char *error, size_t error_size)
{
    if (!data && len) {
        set_error(error, error_size, "no data");
        return NULL;
    }
    if (len > INF_MAX_BYTES) {
        set_error(error, error_size, "the INF file is larger than %u bytes", INF_MAX_BYTES);
        return NULL;
    }
    size_t text_len = 0;
    char *text = decode_text(data ? data : "", len, &text_len, error, error_size);
    if (!text)
        return NULL;
    inf_file *inf = parse_text(text, usable_length(text, text_len), error, error_size);
    free(text);
    return inf;
}

static bool read_all(int fd, unsigned char *buf, size_t size, size_t *got)
{
    *got = 0;
    while (*got < size) {
        ssize_t n = read(fd, buf + *got, size - *got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break; /* the file shrank since fstat: parse what is there */
        *got += (size_t)n;
    }
    return true;
}

static inf_file *load_open_file(int fd, char *error, size_t error_size, int *err_no)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *err_no = errno;
        set_error(error, error_size, "cannot stat the INF file: %s", strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *err_no = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        set_error(error, error_size, "the INF path is not a regular file");
        return NULL;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > INF_MAX_BYTES) {
        *err_no = EFBIG;
        set_error(error, error_size, "the INF file is larger than %u bytes", INF_MAX_BYTES);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        *err_no = ENOMEM;
        set_error(error, error_size, "out of memory reading the INF file");
        return NULL;
    }
    inf_file *inf = NULL;
    if (!read_all(fd, buf, size, &got)) {
        *err_no = errno;
        set_error(error, error_size, "cannot read the INF file: %s", strerror(errno));
    } else {
        inf = inf_parse(buf, got, error, error_size);
    }
    free(buf);
    return inf;
}

inf_file *inf_load(const char *path, char *error, size_t error_size, int *err_no)
{
    int ignored;
    if (!err_no)
        err_no = &ignored;
    *err_no = 0;
    if (!path) {
        *err_no = EINVAL;
        set_error(error, error_size, "no INF path");
        return NULL;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
     * right after as not a regular file. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *err_no = errno;
        set_error(error, error_size, "cannot open the INF file: %s", strerror(errno));
        return NULL;
    }
    inf_file *inf = load_open_file(fd, error, error_size, err_no);
    close(fd);
    return inf;
}

/* ------------------------------------------------------------------------
 * Numbers, dates and versions
 * ------------------------------------------------------------------------ */

static int digit_value(char c)
{
    unsigned char f = fold((unsigned char)c);
    return c >= '0' && c <= '9' ? c - '0' : f >= 'a' && f <= 'f' ? f - 'a' + 10 : -1;
}

/* "0x1F" or "31", as SetupGetIntField reads them; nothing else around. */
static bool parse_uint32(const char *s, uint32_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t value = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        int d = digit_value(*s);
        if (d < 0 || (unsigned)d >= base)
            return false;
        value = value * base + (unsigned)d;
        if (value > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)value;
    return true;
}

/* 1 to max_digits decimal digits. */
static bool parse_digits(const char **s, unsigned max_digits, unsigned *out)
{
    unsigned value = 0, n = 0;
    while (**s >= '0' && **s <= '9' && n < max_digits) {
        value = value * 10 + (unsigned)(**s - '0');
        (*s)++;
        n++;
    }
    *out = value;
    return n > 0 && !(**s >= '0' && **s <= '9');
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[month - 1] + (month == 2 && leap);
}

/* mm/dd/yyyy (also m/d/yyyy, and '-' as separator). */
static bool parse_driver_date(const char *s, unsigned *year, unsigned *month, unsigned *day)
{
    if (!parse_digits(&s, 2, month) || (*s != '/' && *s != '-'))
        return false;
    char separator = *s++;
    if (!parse_digits(&s, 2, day) || *s++ != separator)
        return false;
    const char *year_start = s;
    if (!parse_digits(&s, 4, year) || s - year_start != 4 || *s != '\0')
        return false;
    /* SYSTEMTIME and FILETIME start at 1601. */
    return *year >= 1601 && *month >= 1 && *month <= 12 && *day >= 1 &&
           *day <= days_in_month(*year, *month);
}

/* w[.x[.y[.z]]], each part 0..65535. */
static bool parse_driver_version(const char *s, unsigned version[4])
{
    memset(version, 0, 4 * sizeof *version);
    for (size_t i = 0; i < 4; i++) {
        if (!parse_digits(&s, 5, &version[i]) || version[i] > 0xFFFF)
            return false;
        if (*s == '\0')
            return true;
        if (*s++ != '.')
            return false;
    }
    return false;
}

/* ------------------------------------------------------------------------
 * The driver description
 * ------------------------------------------------------------------------ */

struct platform {
    const char *name;
    unsigned architecture;
};

static const struct platform platforms[] = {
    {"x86", PROCESSOR_ARCHITECTURE_INTEL}, {"amd64", PROCESSOR_ARCHITECTURE_AMD64},
    {"ia64", PROCESSOR_ARCHITECTURE_IA64}, {"arm", PROCESSOR_ARCHITECTURE_ARM},
    {"arm64", PROCESSOR_ARCHITECTURE_ARM64},
};

static const char *platform_name(unsigned architecture)
{
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
        if (platforms[i].architecture == architecture)
            return platforms[i].name;
    return NULL;
}

/* "NT<platform>[.<os version>...]": the platform gives the architecture;
 * plain "NT[...]" means the image's own.  Anything else is not for NT. */
static bool decoration_architecture(const char *decoration, unsigned image_arch,
                                    unsigned *architecture)
{
    if (!has_prefix(decoration, "NT"))
        return false;
    const char *platform = decoration + 2;
    size_t len = strcspn(platform, ".");
    if (len == 0) {
        *architecture = image_arch;
        return true;
    }
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++) {
        if (same_name_n(platform, len, platforms[i].name)) {
            *architecture = platforms[i].architecture;
            return true;
        }
    }
    return false;
}

/* No section name is longer than this many bytes (255 characters of up to
 * four bytes each), so a longer composed name cannot match. */
#define SECTION_NAME_BUFFER (4 * INF_MAX_SECTION_NAME + 1)

static bool compose_name(char buf[SECTION_NAME_BUFFER], const char *base, const char *separator,
                         const char *suffix)
{
    int n = snprintf(buf, SECTION_NAME_BUFFER, "%s%s%s", base, separator, suffix);
    return n >= 0 && (size_t)n < SECTION_NAME_BUFFER;
}

struct strbuf {
    char *data;
    size_t len, cap;
    bool failed;
};

static void sb_append(struct strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n + 1 > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 64;
        while (n + 1 > cap - b->len) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Adds a non-empty item to a comma-separated list. */
static void sb_add_item(struct strbuf *b, const char *item)
{
    if (*item == '\0')
        return;
    if (b->len)
        sb_append(b, ",", 1);
    sb_append(b, item, strlen(item));
}

/* The string built, "" when nothing was added, NULL when out of memory. */
static char *sb_take(struct strbuf *b)
{
    if (b->failed) {
        free(b->data);
        return NULL;
    }
    return b->data ? b->data : strdup("");
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* What has been read of a section, so that each section is read once however
 * many model lines lead to it: without this a hostile INF with many models
 * sharing one large install section would take quadratic time. */
enum start_type { START_UNREAD, START_BOOT, START_OTHER };

struct section_memo {
    bool models_read;          /* a models section yields its devices once */
    char *exclude_ids;         /* of a DDInstall section, once read */
    char *service;             /* chosen AddService of a .Services section, once read */
    bool services_boot_start;  /* one of those services starts at boot */
    enum start_type start;     /* of a service-install section */
};

struct driver_reader {
    const inf_file *inf;
    unsigned image_arch;
    inf_driver *out;
    size_t device_cap;
    size_t output_bytes;       /* size of the description so far, for DRIVER_MAX_BYTES */
    struct section_memo *memo; /* one per section */
    char *error;
    size_t error_size;
};

static int reader_fail(struct driver_reader *r, const char *message)
{
    set_error(r->error, r->error_size, "%s", message);
    return -1;
}

static int read_driver_ver(struct driver_reader *r, const inf_line *line)
{
    inf_driver *out = r->out;
    const char *date = line->field_count ? line->fields[0] : "";
    if (!parse_driver_date(date, &out->year, &out->month, &out->day)) {
        set_error(r->error, r->error_size, "[Version] DriverVer: bad date '%.*s' "
                  "(expected mm/dd/yyyy)", quote_length(date, 40), date);
        return -1;
    }
    out->has_date = true;
    const char *version = line->field_count > 1 ? line->fields[1] : "";
    if (*version == '\0')
        return 0;
    if (!parse_driver_version(version, out->version)) {
        set_error(r->error, r->error_size, "[Version] DriverVer: bad version '%.*s' "
                  "(expected w.x.y.z)", quote_length(version, 40), version);
        return -1;
    }
    out->has_version = true;
    return 0;
}

/* CatalogFile.NT<platform>, else CatalogFile.NT, else CatalogFile. */
static const char *catalog_file(const inf_file *inf, const struct inf_section *version,
                                unsigned image_arch)
{
    const char *platform = platform_name(image_arch);
    char key[64];
    const char *value = NULL;
    if (platform) {
        snprintf(key, sizeof key, "CatalogFile.NT%s", platform);
        value = first_field(find_keyed_line(inf, version, key));
    }
    if (!value || !*value)
        value = first_field(find_keyed_line(inf, version, "CatalogFile.NT"));
    if (!value || !*value)
        value = first_field(find_keyed_line(inf, version, "CatalogFile"));
    return value ? value : "";
}

static int read_version(struct driver_reader *r)
{
    const inf_file *inf = r->inf;
    const struct inf_section *version = find_section(inf, "Version");
    if (!version)
        return reader_fail(r, "the INF has no [Version] section");
    inf_driver *out = r->out;
    out->class_name = dup_or_empty(first_field(find_keyed_line(inf, version, "Class")));
    out->class_guid = dup_or_empty(first_field(find_keyed_line(inf, version, "ClassGuid")));
    out->provider = dup_or_empty(first_field(find_keyed_line(inf, version, "Provider")));
    out->catalog_file = strdup(catalog_file(inf, version, r->image_arch));
    if (!out->class_name || !out->class_guid || !out->provider || !out->catalog_file)
        return reader_fail(r, "out of memory");
    const inf_line *driver_ver = find_keyed_line(inf, version, "DriverVer");
    return driver_ver ? read_driver_ver(r, driver_ver) : 0;
}

/* Names the install section Windows would use, as SetupDiGetActualSectionToInstall
 * does: <name>.NT<platform>, else <name>.NT, else <name> (also when none of
 * them exists, so that <name>.Services is still looked for).  False when the
 * name is too long to be any section's. */
static bool install_section_name(const inf_file *inf, const char *name, unsigned architecture,
                                 char buf[SECTION_NAME_BUFFER])
{
    const char *platform = platform_name(architecture);
    char suffix[16];
    if (platform) {
        snprintf(suffix, sizeof suffix, "NT%s", platform);
        if (compose_name(buf, name, ".", suffix) && find_section(inf, buf))
            return true;
    }
    if (compose_name(buf, name, ".", "NT") && find_section(inf, buf))
        return true;
    return compose_name(buf, name, "", "");
}

static struct section_memo *memo_of(struct driver_reader *r, const struct inf_section *s)
{
    return &r->memo[s - r->inf->sections];
}

static char *read_exclude_ids(const inf_file *inf, const struct inf_section *install)
{
    struct strbuf ids = {0};
    for (size_t i = 0; i < install->count; i++) {
        const inf_line *line = section_line(inf, install, i);
        if (!line->key || !same_name(line->key, "ExcludeId"))
            continue;
        for (size_t f = 0; f < line->field_count; f++)
            sb_add_item(&ids, line->fields[f]);
    }
    return sb_take(&ids);
}

/* NULL when out of memory. */
static const char *exclude_ids(struct driver_reader *r, const struct inf_section *install)
{
    if (!install)
        return "";
    struct section_memo *memo = memo_of(r, install);
    if (!memo->exclude_ids)
        memo->exclude_ids = read_exclude_ids(r->inf, install);
    return memo->exclude_ids;
}

static bool starts_at_boot(struct driver_reader *r, const char *service_install)
{
    const struct inf_section *s = find_section(r->inf, service_install);
    if (!s)
        return false;
    struct section_memo *memo = memo_of(r, s);
    if (memo->start == START_UNREAD) {
        const char *start = first_field(find_keyed_line(r->inf, s, "StartType"));
        uint32_t start_type;
        bool boot = start && parse_uint32(start, &start_type) && start_type == SERVICE_BOOT_START;
        memo->start = boot ? START_BOOT : START_OTHER;
    }
    return memo->start == START_BOOT;
}

/* AddService = name, flags, service-install-section[, ...]: the service
 * flagged SPSVCINST_ASSOCSERVICE, else the first one. */
static char *read_services(struct driver_reader *r, const struct inf_section *services,
                           bool *boot_start)
{
    const char *first = NULL, *associated = NULL;
    for (size_t i = 0; i < services->count; i++) {
        const inf_line *line = section_line(r->inf, services, i);
        if (!line->key || !same_name(line->key, "AddService") || line->field_count == 0)
            continue;
        uint32_t flags = 0;
        if (line->field_count > 1 && !parse_uint32(line->fields[1], &flags))
            flags = 0;
        if (!first)
            first = line->fields[0];
        if (!associated && (flags & SPSVCINST_ASSOCSERVICE))
            associated = line->fields[0];
        if (line->field_count > 2 && starts_at_boot(r, line->fields[2]))
            *boot_start = true;
    }
    return strdup(associated ? associated : first ? first : "");
}

/* The service of <install_name>.Services; NULL when out of memory. */
static const char *service(struct driver_reader *r, const char *install_name)
{
    char name[SECTION_NAME_BUFFER];
    const struct inf_section *services =
        compose_name(name, install_name, ".", "Services") ? find_section(r->inf, name) : NULL;
    if (!services)
        return "";
    struct section_memo *memo = memo_of(r, services);
    if (!memo->service)
        memo->service = read_services(r, services, &memo->services_boot_start);
    if (memo->services_boot_start)
        r->out->boot_critical = true;
    return memo->service;
}

static char *compatible_ids(const inf_line *model)
{
    struct strbuf ids = {0};
    for (size_t i = 2; i < model->field_count; i++)
        sb_add_item(&ids, model->fields[i]);
    return sb_take(&ids);
}

static void device_free(inf_device *d)
{
    free(d->manufacturer);
    free(d->description);
    free(d->hardware_id);
    free(d->compatible_ids);
    free(d->exclude_ids);
    free(d->service);
}

static bool push_device(struct driver_reader *r, inf_device *device)
{
    inf_driver *out = r->out;
    if (out->device_count == r->device_cap) {
        size_t cap = r->device_cap ? r->device_cap * 2 : 8;
        inf_device *grown = cap <= SIZE_MAX / sizeof *grown
                          ? realloc(out->devices, cap * sizeof *grown) : NULL;
        if (!grown)
            return false;
        out->devices = grown;
        r->device_cap = cap;
    }
    out->devices[out->device_count++] = *device;
    return true;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Every device holds its own copies of shared strings (a long ExcludeId
 * list, say), so the description as a whole is bounded as well. */
static bool charge_output(struct driver_reader *r, const char *const *strings, size_t count)
{
    size_t bytes = sizeof(inf_device);
    for (size_t i = 0; i < count; i++)
        bytes += strlen(strings[i]) + 1;
    if (bytes > DRIVER_MAX_BYTES - r->output_bytes)
        return false;
    r->output_bytes += bytes;
    return true;
}

/* %Description% = install-section[, hardware-id[, compatible-id...]] */
static int read_model(struct driver_reader *r, const char *manufacturer, const inf_line *model,
                      unsigned architecture)
{
    const char *install = model->field_count ? model->fields[0] : "";
    char install_name[SECTION_NAME_BUFFER];
    bool named = install_section_name(r->inf, install, architecture, install_name);
    const char *excludes = exclude_ids(r, named ? find_section(r->inf, install_name) : NULL);
    const char *service_name = named ? service(r, install_name) : "";
    char *compatible = compatible_ids(model);
    const char *hardware_id = model->field_count > 1 ? model->fields[1] : "";
    if (!excludes || !service_name || !compatible) {
        free(compatible);
        return reader_fail(r, "out of memory");
    }
    const char *strings[] = {manufacturer, model->key, hardware_id, compatible, excludes,
                             service_name};
    if (!charge_output(r, strings, sizeof strings / sizeof strings[0])) {
        free(compatible);
        set_error(r->error, r->error_size, "the driver description is larger than %u bytes",
                  DRIVER_MAX_BYTES);
        return -1;
    }
    inf_device device = {
        .manufacturer = strdup(manufacturer),
        .description = strdup(model->key),
        .hardware_id = strdup(hardware_id),
        .compatible_ids = compatible,
        .exclude_ids = dup_or_null(excludes),
        .service = dup_or_null(service_name),
        .architecture = architecture,
    };
    if (!device.manufacturer || !device.description || !device.hardware_id ||
        !device.exclude_ids || !device.service || !push_device(r, &device)) {
        device_free(&device);
        return reader_fail(r, "out of memory");
    }
    return 0;
}

static int read_models(struct driver_reader *r, const char *manufacturer, const char *name,
                       unsigned architecture)
{
    const struct inf_section *models = find_section(r->inf, name);
    if (!models)
        return 0;
    struct section_memo *memo = memo_of(r, models);
    if (memo->models_read)
        return 0;
    memo->models_read = true;
    for (size_t i = 0; i < models->count; i++) {
        const inf_line *model = section_line(r->inf, models, i);
        if (model->key && read_model(r, manufacturer, model, architecture) != 0)
            return -1;
    }
    return 0;
}

/* %Manufacturer% = models-section[, decoration...], or a bare models-section
 * name that is also the manufacturer's name. */
static int read_manufacturer(struct driver_reader *r, const inf_line *line)
{
    const char *base = line->field_count ? line->fields[0] : "";
    const char *manufacturer = line->key ? line->key : base;
    if (*base == '\0')
        return 0;
    if (read_models(r, manufacturer, base, r->image_arch) != 0)
        return -1;
    for (size_t i = 1; line->key && i < line->field_count; i++) {
        char name[SECTION_NAME_BUFFER];
        unsigned architecture;
        if (!decoration_architecture(line->fields[i], r->image_arch, &architecture))
            continue;
        if (!compose_name(name, base, ".", line->fields[i]))
            continue;
        if (read_models(r, manufacturer, name, architecture) != 0)
            return -1;
    }
    return 0;
}

static int read_manufacturers(struct driver_reader *r)
{
    const struct inf_section *manufacturers = find_section(r->inf, "Manufacturer");
    if (!manufacturers)
        return 0;
    r->memo = calloc(r->inf->section_count, sizeof *r->memo);
    if (!r->memo)
        return reader_fail(r, "out of memory");
    for (size_t i = 0; i < manufacturers->count; i++)
        if (read_manufacturer(r, section_line(r->inf, manufacturers, i)) != 0)
            return -1;
    return 0;
}

static void free_memo(struct driver_reader *r)
{
    for (size_t i = 0; r->memo && i < r->inf->section_count; i++) {
        free(r->memo[i].exclude_ids);
        free(r->memo[i].service);
    }
    free(r->memo);
}

void inf_driver_free(inf_driver *driver)
{
    if (!driver)
        return;
    free(driver->class_name);
    free(driver->class_guid);
    free(driver->provider);
    free(driver->catalog_file);
    for (size_t i = 0; i < driver->device_count; i++)
        device_free(&driver->devices[i]);
    free(driver->devices);
    memset(driver, 0, sizeof *driver);
}

int inf_read_driver(const inf_file *inf, unsigned image_arch, inf_driver *out, char *error,
                    size_t error_size)
{
    if (!out || !inf) {
        set_error(error, error_size, "inf_read_driver: no %s", out ? "INF" : "output");
        if (out)
            memset(out, 0, sizeof *out);
        return -1;
    }
    memset(out, 0, sizeof *out);
    struct driver_reader r = {.inf = inf, .image_arch = image_arch, .out = out,
                              .error = error, .error_size = error_size};
    int rc = read_version(&r);
    if (rc == 0)
        rc = read_manufacturers(&r);
    free_memo(&r);
    if (rc != 0)
        inf_driver_free(out);
    return rc;
}
