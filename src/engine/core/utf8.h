/*
 * utf8.h - the one UTF-8 encoder of the engine, header-only so that the
 * parsers that use it (inf.c, xmlscan.c) still build on libc alone.
 */
#ifndef DISM_ENGINE_UTF8_H
#define DISM_ENGINE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Writes the UTF-8 form of the scalar value c (at most 4 bytes) to out and
 * returns its length.  The caller has checked that c is a valid scalar. */
static inline size_t utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

#endif /* DISM_ENGINE_UTF8_H */
