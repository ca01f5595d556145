/*
 * xmlscan.c - the XML scanner declared in xmlscan.h.
 *
 * The document is first brought to UTF-8 and checked once for characters
 * XML forbids (NUL above all), so the scanner proper can treat it as text in
 * which '\0' never occurs.  The scan then runs left to right exactly once:
 * every terminator is found with memchr/memmem from the current position
 * and the position moves past it, which keeps the work linear even for
 * hostile input.  Decoded names and values go to one scratch buffer that is
 * reset for every tag or text run, so memory stays proportional to the
 * largest single token.
 */
#include "xmlscan.h"
#include "core/utf8.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCAN_FAILED (-1)

/* Names quoted in error messages are cut to this many bytes, so a hostile
 * megabyte-long name cannot swamp the message. */
#define SHOWN(len) ((int)((len) > 80 ? 80 : (len)))

struct span {
    const char *ptr;
    size_t len;
};

/* Decoded strings of the current token.  Callers keep offsets, not pointers,
 * because the buffer moves when it grows. */
struct scratch {
    char *data;
    size_t len, cap;
};

struct attr_slot {
    size_t name, value; /* offsets into the scratch buffer */
    size_t pos;         /* where the attribute starts in the document */
};

struct scanner {
    const char *doc;
    size_t len, pos;
    const xml_handler *handler;
    void *ctx;
    char *error;
    size_t error_size;
    struct span open[XML_MAX_DEPTH]; /* raw names of the open elements */
    unsigned depth;
    bool seen_root, seen_doctype;
    struct scratch scratch;
    struct attr_slot slots[XML_MAX_ATTRS];
    xml_attr attrs[XML_MAX_ATTRS];
};

enum decode_mode { DECODE_TEXT, DECODE_ATTRIBUTE, DECODE_CDATA };

/* ---- errors ---- */

static unsigned long line_at(const struct scanner *s, size_t pos)
{
    unsigned long line = 1;
    for (size_t i = 0; i < pos && i < s->len; i++) {
        bool crlf = s->doc[i] == '\r' && i + 1 < s->len && s->doc[i + 1] == '\n';
        if (s->doc[i] == '\n' || (s->doc[i] == '\r' && !crlf))
            line++;
    }
    return line;
}

static int fail_at(struct scanner *s, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct scanner *s, size_t pos, const char *fmt, ...)
{
    if (!s->error || s->error_size == 0)
        return SCAN_FAILED;
    int n = snprintf(s->error, s->error_size, "line %lu: ", line_at(s, pos));
    if (n >= 0 && (size_t)n < s->error_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->error + n, s->error_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return SCAN_FAILED;
}

static int fail_out_of_memory(struct scanner *s)
{
    return fail_at(s, s->pos, "out of memory");
}

/* ---- characters ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ASCII follows the XML grammar; every non-ASCII byte is accepted in names
 * because manifests never rely on the finer Unicode classes and the input
 * has already been checked to be well-formed UTF-8. */
static bool is_name_start(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || u == '_' || u == ':' || u >= 0x80;
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* The XML 1.0 Char production. */
static bool is_xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}


/* Length of the UTF-8 sequence at p if it encodes an XML Char, else 0
 * (malformed, overlong, surrogate, out of range or a forbidden control). */
static size_t xml_char_length(const unsigned char *p, size_t avail)
{
    static const uint32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len;
    uint32_t c;
    if (p[0] < 0x80) {
        len = 1;
        c = p[0];
    } else if ((p[0] & 0xE0) == 0xC0) {
        len = 2;
        c = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3;
        c = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4;
        c = p[0] & 0x07;
    } else {
        return 0;
    }
    if (len > avail)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < smallest[len] || !is_xml_char(c))
        return 0;
    return len;
}

static int check_characters(struct scanner *s)
{
    const unsigned char *p = (const unsigned char *)s->doc;
    size_t i = 0;
    while (i < s->len) {
        size_t n = xml_char_length(p + i, s->len - i);
        if (n == 0) {
            if (p[i] < 0x20)
                return fail_at(s, i, "character U+%04X is not allowed in XML", p[i]);
            return fail_at(s, i, "invalid UTF-8 sequence (byte 0x%02X)", p[i]);
        }
        i += n;
    }
    return 0;
}

/* ---- bringing the input to UTF-8 ---- */

static uint16_t utf16_unit(const unsigned char *p, bool big_endian)
{
    return big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

/* Converts UTF-16 (after its BOM) into a malloc'd UTF-8 document owned by
 * the caller through *owned.  Errors are reported against the text converted
 * so far, which is what gives them a line number. */
static int convert_utf16(struct scanner *s, const unsigned char *in, size_t len, bool big_endian,
                         char **owned)
{
    /* Each 2-byte unit becomes at most 3 bytes; a 4-byte pair becomes 4. */
    char *out = malloc(len / 2 * 3 + 1);
    if (!out)
        return fail_out_of_memory(s);
    *owned = out;
    s->doc = out;
    s->len = 0;
    size_t i = 0;
    while (i + 1 < len) {
        uint32_t c = utf16_unit(in + i, big_endian);
        i += 2;
        if (c >= 0xD800 && c <= 0xDBFF) {
            uint32_t low = i + 1 < len ? utf16_unit(in + i, big_endian) : 0;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail_at(s, s->len, "unpaired UTF-16 high surrogate 0x%04X", (unsigned)c);
            i += 2;
            c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            return fail_at(s, s->len, "unpaired UTF-16 low surrogate 0x%04X", (unsigned)c);
        }
        s->len += utf8_encode(c, out + s->len);
    }
    if (i < len)
        return fail_at(s, s->len, "UTF-16 input ends in the middle of a character");
    return check_characters(s);
}

static int load_document(struct scanner *s, const unsigned char *data, size_t len, char **owned)
{
    s->doc = "";
    s->len = 0;
    if (len > XML_MAX_INPUT)
        return fail_at(s, 0, "document is larger than %u MiB", XML_MAX_INPUT >> 20);
    if (len > 0 && !data)
        return fail_at(s, 0, "no data");
    if (len >= 2 && data[0] == 0xFF && data[1] == 0xFE)
        return convert_utf16(s, data + 2, len - 2, false, owned);
    if (len >= 2 && data[0] == 0xFE && data[1] == 0xFF)
        return convert_utf16(s, data + 2, len - 2, true, owned);
    if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) {
        data += 3;
        len -= 3;
    }
    if (len > 0) {
        s->doc = (const char *)data;
        s->len = len;
    }
    return check_characters(s);
}

/* ---- moving through the document ---- */

static bool at_end(const struct scanner *s)
{
    return s->pos >= s->len;
}

/* The current character, or '\0' at the end (the text holds no NUL). */
static char peek(const struct scanner *s)
{
    return at_end(s) ? '\0' : s->doc[s->pos];
}

static bool looking_at(const struct scanner *s, const char *literal)
{
    size_t n = strlen(literal);
    return s->len - s->pos >= n && memcmp(s->doc + s->pos, literal, n) == 0;
}

static bool skip_spaces(struct scanner *s)
{
    size_t start = s->pos;
    while (!at_end(s) && is_space(s->doc[s->pos]))
        s->pos++;
    return s->pos > start;
}

/* Offset of the first `literal` at or after `from`, or SIZE_MAX. */
static size_t find(const struct scanner *s, size_t from, const char *literal)
{
    if (from > s->len)
        return SIZE_MAX;
    const char *hit = memmem(s->doc + from, s->len - from, literal, strlen(literal));
    return hit ? (size_t)(hit - s->doc) : SIZE_MAX;
}

/* ---- the scratch buffer ---- */

static bool scratch_reserve(struct scratch *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    char *grown = realloc(b->data, cap);
    if (!grown)
        return false;
    b->data = grown;
    b->cap = cap;
    return true;
}

static int push_string(struct scanner *s, struct span text, size_t *offset)
{
    if (!scratch_reserve(&s->scratch, text.len + 1))
        return fail_out_of_memory(s);
    *offset = s->scratch.len;
    memcpy(s->scratch.data + s->scratch.len, text.ptr, text.len);
    s->scratch.len += text.len;
    s->scratch.data[s->scratch.len++] = '\0';
    return 0;
}

/* ---- names ---- */

static struct span local_name(struct span qname)
{
    const char *colon = memchr(qname.ptr, ':', qname.len);
    if (!colon)
        return qname;
    return (struct span){colon + 1, qname.len - (size_t)(colon + 1 - qname.ptr)};
}

/* Namespace declarations keep their prefix so that "xmlns:a" and "xmlns:b"
 * stay distinct and are never mistaken for ordinary attributes. */
static bool is_namespace_declaration(struct span qname)
{
    return qname.len > 6 && memcmp(qname.ptr, "xmlns:", 6) == 0;
}

/* A prefixed name needs exactly one colon with a name on either side;
 * anything else would leave an empty or ambiguous name after stripping. */
static int check_qname(struct scanner *s, size_t at, struct span qname)
{
    const char *colon = memchr(qname.ptr, ':', qname.len);
    if (!colon)
        return 0;
    struct span local = local_name(qname);
    if (colon != qname.ptr && local.len > 0 && is_name_start(local.ptr[0]) &&
        !memchr(local.ptr, ':', local.len))
        return 0;
    return fail_at(s, at, "malformed qualified name '%.*s'", SHOWN(qname.len), qname.ptr);
}

static int scan_name(struct scanner *s, struct span *name, const char *what)
{
    size_t start = s->pos;
    if (at_end(s) || !is_name_start(s->doc[s->pos]))
        return fail_at(s, s->pos, "expected %s name", what);
    while (!at_end(s) && is_name_char(s->doc[s->pos]))
        s->pos++;
    *name = (struct span){s->doc + start, s->pos - start};
    return 0;
}

static int scan_qname(struct scanner *s, struct span *name, const char *what)
{
    size_t start = s->pos;
    if (scan_name(s, name, what))
        return SCAN_FAILED;
    return check_qname(s, start, *name);
}

/* ---- references and decoding ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int digit_value(char c, bool hex)
{
    if (hex)
        return hex_digit(c);
    return c >= '0' && c <= '9' ? c - '0' : -1;
}

/* Parses "&#123;" or "&#x1F600;" starting at `at`; *next is set past ';'. */
static int parse_char_ref(struct scanner *s, size_t at, size_t to, uint32_t *c, size_t *next)
{
    size_t i = at + 2;
    bool hex = i < to && s->doc[i] == 'x';
    if (hex)
        i++;
    size_t digits = i;
    uint32_t value = 0;
    bool too_big = false;
    int d;
    while (i < to && (d = digit_value(s->doc[i], hex)) >= 0) {
        /* Stop accumulating once out of range; the digits are still consumed
         * so the reference is reported whole, and value cannot overflow. */
        if (!too_big) {
            value = value * (hex ? 16u : 10u) + (uint32_t)d;
            too_big = value > 0x10FFFF;
        }
        i++;
    }
    if (i == digits || i >= to || s->doc[i] != ';')
        return fail_at(s, at, "malformed character reference");
    if (too_big || !is_xml_char(value))
        return fail_at(s, at, "character reference '%.*s' is not an allowed character",
                       SHOWN(i + 1 - at), s->doc + at);
    *c = value;
    *next = i + 1;
    return 0;
}

static bool predefined_entity(struct span name, uint32_t *c)
{
    static const struct {
        const char *name;
        char value;
    } table[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"apos", '\''}, {"quot", '"'}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strlen(table[i].name) == name.len && memcmp(table[i].name, name.ptr, name.len) == 0) {
            *c = (uint32_t)table[i].value;
            return true;
        }
    }
    return false;
}

/* Parses "&name;" starting at `at`.  Entities a DOCTYPE declares are
 * deliberately unknown: expanding them is how entity bombs work. */
static int parse_entity_ref(struct scanner *s, size_t at, size_t to, uint32_t *c, size_t *next)
{
    size_t i = at + 1;
    while (i < to && is_name_char(s->doc[i]))
        i++;
    struct span name = {s->doc + at + 1, i - (at + 1)};
    if (name.len == 0)
        return fail_at(s, at, "'&' does not start a reference (write &amp;)");
    if (i >= to || s->doc[i] != ';')
        return fail_at(s, at, "entity reference '&%.*s' lacks its ';'", SHOWN(name.len), name.ptr);
    if (!predefined_entity(name, c))
        return fail_at(s, at, "undefined entity '&%.*s;'", SHOWN(name.len), name.ptr);
    *next = i + 1;
    return 0;
}

static int parse_reference(struct scanner *s, size_t at, size_t to, uint32_t *c, size_t *next)
{
    if (at + 1 < to && s->doc[at + 1] == '#')
        return parse_char_ref(s, at, to, c, next);
    return parse_entity_ref(s, at, to, c, next);
}

/*
 * Appends doc[from, to) to the scratch buffer, decoded for its context, plus
 * a NUL.  Decoding never lengthens the text (the shortest reference, "&#9;",
 * is longer than the UTF-8 it stands for), so one reservation suffices.
 */
static int decode_span(struct scanner *s, size_t from, size_t to, enum decode_mode mode,
                       size_t *offset)
{
    if (!scratch_reserve(&s->scratch, to - from + 1))
        return fail_out_of_memory(s);
    *offset = s->scratch.len;
    char *out = s->scratch.data + s->scratch.len;
    size_t i = from;
    while (i < to) {
        char c = s->doc[i];
        if (c == '&' && mode != DECODE_CDATA) {
            uint32_t code = 0;
            if (parse_reference(s, i, to, &code, &i))
                return SCAN_FAILED;
            out += utf8_encode(code, out);
        } else if (c == '\r') {
            /* Line ends become "\n"; in attribute values every whitespace
             * character becomes a space, as XML's value normalization says. */
            *out++ = mode == DECODE_ATTRIBUTE ? ' ' : '\n';
            i += i + 1 < to && s->doc[i + 1] == '\n' ? 2 : 1;
        } else if (mode == DECODE_ATTRIBUTE && (c == '\t' || c == '\n')) {
            *out++ = ' ';
            i++;
        } else if (mode == DECODE_ATTRIBUTE && c == '<') {
            return fail_at(s, i, "'<' in an attribute value");
        } else if (mode == DECODE_TEXT && c == ']' && to - i >= 3 && memcmp(s->doc + i, "]]>", 3) == 0) {
            return fail_at(s, i, "']]>' in character data");
        } else {
            *out++ = c;
            i++;
        }
    }
    *out++ = '\0';
    s->scratch.len = (size_t)(out - s->scratch.data);
    return 0;
}

/* ---- events ---- */

static int deliver_text(struct scanner *s, size_t from, size_t to, enum decode_mode mode)
{
    if (from == to)
        return 0;
    size_t offset;
    s->scratch.len = 0;
    /* Decoded even without a text callback: a bad reference is an error. */
    if (decode_span(s, from, to, mode, &offset))
        return SCAN_FAILED;
    size_t len = s->scratch.len - offset - 1;
    if (len == 0 || !s->handler || !s->handler->text)
        return 0;
    return s->handler->text(s->ctx, s->scratch.data + offset, len, s->depth);
}

static int close_element(struct scanner *s, const char *name)
{
    unsigned depth = s->depth--;
    if (!s->handler || !s->handler->end)
        return 0;
    return s->handler->end(s->ctx, name, depth);
}

/* ---- markup ---- */

static int scan_processing_instruction(struct scanner *s)
{
    size_t at = s->pos;
    s->pos += 2;
    struct span target;
    if (scan_name(s, &target, "processing instruction target"))
        return SCAN_FAILED;
    if (target.len == 3 && strncasecmp(target.ptr, "xml", 3) == 0 && at != 0)
        return fail_at(s, at, "XML declaration not at the start of the document");
    if (!at_end(s) && !is_space(peek(s)) && !looking_at(s, "?>"))
        return fail_at(s, s->pos, "malformed processing instruction");
    size_t close = find(s, s->pos, "?>");
    if (close == SIZE_MAX)
        return fail_at(s, at, "unterminated processing instruction");
    s->pos = close + 2;
    return 0;
}

static int scan_comment(struct scanner *s)
{
    size_t at = s->pos;
    size_t close = find(s, at + 4, "-->");
    if (close == SIZE_MAX)
        return fail_at(s, at, "unterminated comment");
    s->pos = close + 3;
    return 0;
}

static int scan_cdata(struct scanner *s)
{
    size_t at = s->pos;
    if (s->depth == 0)
        return fail_at(s, at, "CDATA section outside the root element");
    size_t from = at + strlen("<![CDATA[");
    size_t close = find(s, from, "]]>");
    if (close == SIZE_MAX)
        return fail_at(s, at, "unterminated CDATA section");
    s->pos = close + 3;
    return deliver_text(s, from, close, DECODE_CDATA);
}

/* Moves past a quoted literal at pos, whatever it contains. */
static int skip_literal(struct scanner *s, const char *what)
{
    size_t at = s->pos;
    const char *close = memchr(s->doc + at + 1, s->doc[at], s->len - at - 1);
    if (!close)
        return fail_at(s, at, "unterminated literal in %s", what);
    s->pos = (size_t)(close - s->doc) + 1;
    return 0;
}

/* Moves past a construct from pos to its terminator, if pos starts one of
 * the two kinds an internal DTD subset may hold that can contain ']' or '>'. */
static int skip_subset_comment_or_pi(struct scanner *s, bool *skipped)
{
    const char *open = looking_at(s, "<!--") ? "<!--" : looking_at(s, "<?") ? "<?" : NULL;
    *skipped = open != NULL;
    if (!open)
        return 0;
    const char *terminator = open[1] == '!' ? "-->" : "?>";
    size_t close = find(s, s->pos + strlen(open), terminator);
    if (close == SIZE_MAX)
        return fail_at(s, s->pos, "unterminated %s in DOCTYPE", open[1] == '!' ? "comment" : "processing instruction");
    s->pos = close + strlen(terminator);
    return 0;
}

/* The DOCTYPE, internal subset included, is skipped unread: nothing it
 * declares is used, which is the whole defence against entity expansion. */
static int scan_doctype(struct scanner *s)
{
    size_t at = s->pos;
    if (s->seen_root)
        return fail_at(s, at, "DOCTYPE after the root element");
    if (s->seen_doctype)
        return fail_at(s, at, "second DOCTYPE");
    s->seen_doctype = true;
    s->pos += strlen("<!DOCTYPE");
    bool in_subset = false;
    while (!at_end(s)) {
        char c = s->doc[s->pos];
        bool skipped = false;
        if (c == '"' || c == '\'') {
            if (skip_literal(s, "DOCTYPE"))
                return SCAN_FAILED;
            continue;
        }
        if (in_subset && skip_subset_comment_or_pi(s, &skipped))
            return SCAN_FAILED;
        if (skipped)
            continue;
        if (c == '[')
            in_subset = true;
        else if (c == ']')
            in_subset = false;
        else if (c == '>' && !in_subset) {
            s->pos++;
            return 0;
        }
        s->pos++;
    }
    return fail_at(s, at, "unterminated DOCTYPE");
}

static int scan_attribute(struct scanner *s, struct attr_slot *slot)
{
    slot->pos = s->pos;
    struct span qname;
    if (scan_qname(s, &qname, "attribute"))
        return SCAN_FAILED;
    struct span shown = is_namespace_declaration(qname) ? qname : local_name(qname);
    if (push_string(s, shown, &slot->name))
        return SCAN_FAILED;
    skip_spaces(s);
    if (peek(s) != '=')
        return fail_at(s, s->pos, "expected '=' after attribute '%.*s'", SHOWN(qname.len), qname.ptr);
    s->pos++;
    skip_spaces(s);
    char quote = peek(s);
    if (quote != '"' && quote != '\'')
        return fail_at(s, s->pos, "value of attribute '%.*s' is not quoted", SHOWN(qname.len),
                       qname.ptr);
    size_t open = s->pos;
    const char *close = memchr(s->doc + open + 1, quote, s->len - open - 1);
    if (!close)
        return fail_at(s, open, "unterminated value of attribute '%.*s'", SHOWN(qname.len),
                       qname.ptr);
    size_t end = (size_t)(close - s->doc);
    if (decode_span(s, open + 1, end, DECODE_ATTRIBUTE, &slot->value))
        return SCAN_FAILED;
    s->pos = end + 1;
    return 0;
}

/* Reads attributes up to '>' or "/>"; *count is how many were stored in
 * s->slots. */
static int scan_attributes(struct scanner *s, struct span element, size_t *count, bool *empty)
{
    *count = 0;
    for (;;) {
        bool spaced = skip_spaces(s);
        if (at_end(s))
            return fail_at(s, s->pos, "unterminated start tag <%.*s>", SHOWN(element.len),
                           element.ptr);
        if (peek(s) == '>' || looking_at(s, "/>")) {
            *empty = peek(s) == '/';
            s->pos += *empty ? 2 : 1;
            return 0;
        }
        if (!spaced)
            return fail_at(s, s->pos, "expected whitespace, '>' or '/>' in start tag <%.*s>",
                           SHOWN(element.len), element.ptr);
        if (*count == XML_MAX_ATTRS)
            return fail_at(s, s->pos, "more than %u attributes on <%.*s>", XML_MAX_ATTRS,
                           SHOWN(element.len), element.ptr);
        if (scan_attribute(s, &s->slots[*count]))
            return SCAN_FAILED;
        ++*count;
    }
}

struct named_position {
    const char *name;
    size_t pos;
};

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const struct named_position *)a)->name,
                  ((const struct named_position *)b)->name);
}

/* Sorting keeps the check O(n log n) in the number of attributes, so 256
 * long names sharing a prefix cannot cost 256 * 256 comparisons of them. */
static int reject_duplicates(struct scanner *s, size_t count)
{
    struct named_position sorted[XML_MAX_ATTRS];
    for (size_t i = 0; i < count; i++)
        sorted[i] = (struct named_position){s->attrs[i].name, s->slots[i].pos};
    qsort(sorted, count, sizeof sorted[0], compare_names);
    for (size_t i = 1; i < count; i++) {
        if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
            size_t later = sorted[i].pos > sorted[i - 1].pos ? sorted[i].pos : sorted[i - 1].pos;
            return fail_at(s, later, "duplicate attribute '%.80s'", sorted[i].name);
        }
    }
    return 0;
}

static int publish_attributes(struct scanner *s, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        s->attrs[i].name = s->scratch.data + s->slots[i].name;
        s->attrs[i].value = s->scratch.data + s->slots[i].value;
    }
    return count > 1 ? reject_duplicates(s, count) : 0;
}

static int scan_start_tag(struct scanner *s)
{
    size_t at = s->pos;
    if (s->depth == 0 && s->seen_root)
        return fail_at(s, at, "more than one root element");
    if (s->depth == XML_MAX_DEPTH)
        return fail_at(s, at, "elements nested deeper than %u", XML_MAX_DEPTH);
    s->pos++;
    struct span qname;
    size_t name_offset, count;
    bool empty = false;
    s->scratch.len = 0;
    if (scan_qname(s, &qname, "element") || push_string(s, local_name(qname), &name_offset) ||
        scan_attributes(s, qname, &count, &empty) || publish_attributes(s, count))
        return SCAN_FAILED;
    s->open[s->depth++] = qname;
    s->seen_root = true;
    const char *name = s->scratch.data + name_offset;
    if (s->handler && s->handler->start) {
        int rc = s->handler->start(s->ctx, name, s->attrs, count, s->depth);
        if (rc)
            return rc;
    }
    return empty ? close_element(s, name) : 0;
}

static int scan_end_tag(struct scanner *s)
{
    size_t at = s->pos;
    s->pos += 2;
    struct span qname;
    if (scan_qname(s, &qname, "end tag"))
        return SCAN_FAILED;
    skip_spaces(s);
    if (peek(s) != '>')
        return fail_at(s, s->pos, "expected '>' to close end tag </%.*s>", SHOWN(qname.len),
                       qname.ptr);
    s->pos++;
    if (s->depth == 0)
        return fail_at(s, at, "end tag </%.*s> has no start tag", SHOWN(qname.len), qname.ptr);
    struct span expected = s->open[s->depth - 1];
    if (expected.len != qname.len || memcmp(expected.ptr, qname.ptr, qname.len) != 0)
        return fail_at(s, at, "mismatched end tag </%.*s>, expected </%.*s>", SHOWN(qname.len),
                       qname.ptr, SHOWN(expected.len), expected.ptr);
    size_t name_offset;
    s->scratch.len = 0;
    if (push_string(s, local_name(qname), &name_offset))
        return SCAN_FAILED;
    return close_element(s, s->scratch.data + name_offset);
}

static int scan_markup(struct scanner *s)
{
    if (looking_at(s, "<?"))
        return scan_processing_instruction(s);
    if (looking_at(s, "<!--"))
        return scan_comment(s);
    if (looking_at(s, "<![CDATA["))
        return scan_cdata(s);
    if (looking_at(s, "<!DOCTYPE"))
        return scan_doctype(s);
    if (looking_at(s, "</"))
        return scan_end_tag(s);
    if (looking_at(s, "<!"))
        return fail_at(s, s->pos, "unknown markup declaration");
    return scan_start_tag(s);
}

static int require_only_spaces(struct scanner *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (!is_space(s->doc[i]))
            return fail_at(s, i, "text %s the root element", s->seen_root ? "after" : "before");
    }
    return 0;
}

static int scan_text(struct scanner *s)
{
    size_t from = s->pos;
    const char *lt = memchr(s->doc + from, '<', s->len - from);
    size_t to = lt ? (size_t)(lt - s->doc) : s->len;
    s->pos = to;
    if (s->depth == 0)
        return require_only_spaces(s, from, to);
    return deliver_text(s, from, to, DECODE_TEXT);
}

static int finish_document(struct scanner *s)
{
    if (s->depth > 0) {
        struct span open = s->open[s->depth - 1];
        return fail_at(s, s->len, "unexpected end of document: <%.*s> is not closed",
                       SHOWN(open.len), open.ptr);
    }
    if (!s->seen_root)
        return fail_at(s, s->len, "no root element");
    return 0;
}

static int scan_document(struct scanner *s)
{
    int rc = 0;
    while (rc == 0 && !at_end(s))
        rc = peek(s) == '<' ? scan_markup(s) : scan_text(s);
    return rc ? rc : finish_document(s);
}

int xml_scan(const void *data, size_t len, const xml_handler *handler, void *ctx, char *error,
             size_t error_size)
{
    if (error && error_size)
        error[0] = '\0';
    /* On the heap: the fixed tables are ~12 KiB, too much for small thread
     * stacks the engine may run on. */
    struct scanner *s = calloc(1, sizeof *s);
    if (!s) {
        if (error && error_size)
            snprintf(error, error_size, "line 1: out of memory");
        return SCAN_FAILED;
    }
    s->handler = handler;
    s->ctx = ctx;
    s->error = error;
    s->error_size = error_size;
    char *owned = NULL;
    int rc = load_document(s, data, len, &owned);
    if (rc == 0)
        rc = scan_document(s);
    free(owned);
    free(s->scratch.data);
    free(s);
    return rc;
}

const char *xml_attr_get(const xml_attr *attrs, size_t count, const char *name)
{
    if (!attrs || !name)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        if (attrs[i].name && strcmp(attrs[i].name, name) == 0)
            return attrs[i].value;
    }
    return NULL;
}
