/*
 * text.c - strings and times.  wchar_t is UTF-32 on POSIX; the engine works
 * in UTF-8 internally because wimlib and the file system do.  The converters
 * are written out rather than using wcstombs so the result does not depend
 * on the process locale.
 */
#include "core.h"
#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t utf8_length(uint32_t c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

static bool valid_scalar(uint32_t c) { return c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF); }

char *wide_to_utf8(const wchar_t *w)
{
    size_t n = 0;
    for (const wchar_t *p = w; *p; p++) {
        if (!valid_scalar((uint32_t)*p)) {
            errno = EILSEQ;
            return NULL;
        }
        n += utf8_length((uint32_t)*p);
    }
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const wchar_t *p = w; *p; p++)
        o += utf8_encode((uint32_t)*p, o);
    *o = '\0';
    return out;
}

/* Decodes one UTF-8 sequence; returns its length or 0 when malformed. */
static size_t decode_utf8(const unsigned char *s, uint32_t *c)
{
    size_t len;
    if (s[0] < 0x80) {
        *c = s[0];
        return 1;
    } else if ((s[0] & 0xE0) == 0xC0) {
        *c = s[0] & 0x1F;
        len = 2;
    } else if ((s[0] & 0xF0) == 0xE0) {
        *c = s[0] & 0x0F;
        len = 3;
    } else if ((s[0] & 0xF8) == 0xF0) {
        *c = s[0] & 0x07;
        len = 4;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *c = (*c << 6) | (s[i] & 0x3F);
    }
    if (!valid_scalar(*c) || utf8_length(*c) != len)
        return 0;
    return len;
}

wchar_t *utf8_to_wide(const char *s)
{
    size_t n = strlen(s);
    wchar_t *out = malloc((n + 1) * sizeof *out), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        size_t len = decode_utf8(p, &c);
        if (!len) {
            /* Names on disk need not be UTF-8; keep them visible. */
            c = 0xFFFD;
            len = 1;
        }
        *o++ = (wchar_t)c;
        p += len;
    }
    *o = L'\0';
    return out;
}

HRESULT path_arg(const wchar_t *w, const char *what, char **out)
{
    *out = NULL;
    if (!w || !*w)
        return engine_fail(E_INVALIDARG, "%s is required and must not be empty.", what);
    char *s = wide_to_utf8(w);
    if (!s)
        return engine_fail(errno == ENOMEM ? E_OUTOFMEMORY : E_INVALIDARG,
                           "%s is not a valid Unicode string.", what);
    *out = s;
    return S_OK;
}

/* Civil-from-days conversion (proleptic Gregorian), UTC. */
SYSTEMTIME systemtime_from_filetime(uint64_t filetime)
{
    SYSTEMTIME result;
    SYSTEMTIME *st = &result;
    memset(st, 0, sizeof *st);
    if (filetime == 0)
        return result;
    uint64_t ms_total = filetime / 10000;
    uint64_t days = ms_total / 86400000ULL;
    uint64_t ms = ms_total % 86400000ULL;
    /* FILETIME counts from 1601-01-01, a Monday. */
    st->wDayOfWeek = (WORD)((days + 1) % 7);
    int64_t z = (int64_t)days - 134774 + 719468; /* shift to days since 0000-03-01 */
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    st->wYear = (WORD)(y + (m <= 2));
    st->wMonth = (WORD)m;
    st->wDay = (WORD)d;
    st->wHour = (WORD)(ms / 3600000);
    st->wMinute = (WORD)(ms / 60000 % 60);
    st->wSecond = (WORD)(ms / 1000 % 60);
    st->wMilliseconds = (WORD)(ms % 1000);
    return result;
}

bool has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

void free_string_array(char *const *strings, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
}
