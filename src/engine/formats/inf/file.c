/*
 * file.c - the INF reader's entry points (inf_parse, inf_load) and the
 * parsed file's lifetime (inf_free).  The reader as a whole:
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

#define CONTROL_Z '\x1a'
/* A parse may use this much memory besides its input.  A file made of tiny
 * sections needs about 6 bytes per byte of text (section table, line
 * table, hash slots); a pathological one would need far more and meets the
 * wall instead. */
#define BUDGET_BASE (16u * 1024u * 1024u)
#define BUDGET_PER_TEXT_BYTE 8u
#define BUDGET_MAX (256u * 1024u * 1024u)

void inf_free(inf_file *inf)
{
    if (!inf)
        return;
    for (size_t i = 0; i < inf->section_count; i++)
        free(inf->sections[i].lines);
    free(inf->sections);
    free(inf->lines);
    free(inf->section_index.slots);
    inf_arena_free(&inf->arena);
    free(inf);
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
        inf_set_error(error, error_size, "out of memory");
    } else {
        inf->arena.limit = memory_budget(len);
        ok = inf_parse_lines(&p) && inf_substitute_all(&p);
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
        inf_set_error(error, error_size, "no data");
        return NULL;
    }
    if (len > INF_MAX_BYTES) {
        inf_set_error(error, error_size, "the INF file is larger than %u bytes", INF_MAX_BYTES);
        return NULL;
    }
    size_t text_len = 0;
    char *text = inf_decode_text(data ? data : "", len, &text_len, error, error_size);
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
        inf_set_error(error, error_size, "cannot stat the INF file: %s", strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *err_no = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        inf_set_error(error, error_size, "the INF path is not a regular file");
        return NULL;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > INF_MAX_BYTES) {
        *err_no = EFBIG;
        inf_set_error(error, error_size, "the INF file is larger than %u bytes", INF_MAX_BYTES);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        *err_no = ENOMEM;
        inf_set_error(error, error_size, "out of memory reading the INF file");
        return NULL;
    }
    inf_file *inf = NULL;
    if (!read_all(fd, buf, size, &got)) {
        *err_no = errno;
        inf_set_error(error, error_size, "cannot read the INF file: %s", strerror(errno));
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
        inf_set_error(error, error_size, "no INF path");
        return NULL;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
     * right after as not a regular file. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *err_no = errno;
        inf_set_error(error, error_size, "cannot open the INF file: %s", strerror(errno));
        return NULL;
    }
    inf_file *inf = load_open_file(fd, error, error_size, err_no);
    close(fd);
    return inf;
}
