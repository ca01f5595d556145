/*
 * inf_check.h - what the two halves of the INF reader's check program share:
 * the check counters and CHECK macros, the parse/read helpers and generated
 * text (inf_check.c), and the tests of limits, loading from disk and hostile
 * input (inf_check_limits.c), which main() in inf_check.c runs.
 */
#ifndef INF_CHECK_H
#define INF_CHECK_H

#include "formats/inf/inf.h"
#include "dismapi.h"

#include <stdbool.h>
#include <stddef.h>

extern unsigned checks, failures;
/* The INF most checks read (inf_check.c). */
extern const char sample_inf[];
/* The reader's last error message. */
extern char error[512];

/* A growing text for the generated INFs: appending never overruns, so each
 * test states only what it writes. */
struct text {
    char *data;
    size_t len, cap;
};

void failed(const char *file, int line, const char *what);
void check_true(const char *file, int line, bool ok, const char *expr);
void check_str(const char *file, int line, const char *actual, const char *expected, const char *expr);
void check_uint(const char *file, int line, unsigned long long actual, unsigned long long expected,
                       const char *expr);
void check_contains(const char *file, int line, const char *text, const char *part, const char *expr);
inf_file *parse_at(const char *file, int line, const void *data, size_t len);
bool read_driver_at(const char *file, int line, inf_file *inf, inf_driver *d, const char *what);
void text_add(struct text *t, const char *format, ...);
void add_models(struct text *t, size_t count);
void expect_parse_error(const char *file, int line, const void *data, size_t len, const char *part);
void expect_line(const char *file, int line, const inf_file *inf, const char *section, size_t index,
                        const char *key, const char *const *fields, size_t count);
unsigned char *to_utf16le(const char *utf8, bool bom, size_t *out_len);
bool valid_utf8(const char *text);
void check_sample_driver(const char *file, int line, const inf_file *inf);

#define CHECK(cond) check_true(__FILE__, __LINE__, (cond), #cond)
#define CHECK_STR(actual, expected) check_str(__FILE__, __LINE__, (actual), (expected), #actual)
#define CHECK_UINT(actual, expected) check_uint(__FILE__, __LINE__, (actual), (expected), #actual)
#define CHECK_CONTAINS(text, part) check_contains(__FILE__, __LINE__, (text), (part), #text)
#define PARSE(text) parse_at(__FILE__, __LINE__, (text), strlen(text))
#define PARSE_BYTES(data, len) parse_at(__FILE__, __LINE__, (data), (len))
#define READ_DRIVER(inf, d, what) read_driver_at(__FILE__, __LINE__, (inf), (d), (what))
#define EXPECT_PARSE_ERROR(text, part) expect_parse_error(__FILE__, __LINE__, (text), strlen(text), (part))
#define FIELDS(...) (const char *const[]){__VA_ARGS__}, \
    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define EXPECT_LINE(inf, section, index, key, ...) \
    expect_line(__FILE__, __LINE__, (inf), (section), (index), (key), FIELDS(__VA_ARGS__))

/* inf_check_limits.c */
void test_expansion_limits(void);
void test_large_file_is_fast(void);
void test_models_read_once(void);
void test_shared_sections_are_read_once(void);
void test_driver_output_is_bounded(void);
void test_load(const char *dir);
void test_hostile_input(void);

#endif
