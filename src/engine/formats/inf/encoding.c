/*
 * encoding.c - the INF reader's text: decoding the input to UTF-8 (INFs come
 * as UTF-16LE, UTF-8 or the "ANSI" code page, which for driver INFs is in
 * practice Windows-1252), and error messages that stay valid UTF-8 when cut.
 */
#include "internal.h"
#include "core/utf8.h"

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
void inf_vset_error(char *error, size_t size, const char *fmt, va_list ap)
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
void inf_set_error(char *error, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    inf_vset_error(error, size, fmt, ap);
    va_end(ap);
}

/* How many bytes of s to quote in a message: at most about `max`, ending on
 * a character boundary. */
int inf_quote_length(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* ------------------------------------------------------------------------
 * Decoding to UTF-8
 * ------------------------------------------------------------------------ */

#define REPLACEMENT_CHARACTER 0xFFFDu


bool inf_is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

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
        if (!inf_is_continuation(s[i]))
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

char *inf_decode_text(const unsigned char *s, size_t len, size_t *out_len, char *error,
                      size_t error_size)
{
    char *text;
    if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        inf_set_error(error, error_size, "UTF-16 big-endian INF files are not supported");
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
        inf_set_error(error, error_size, "out of memory decoding the INF file");
    return text;
}
