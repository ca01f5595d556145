/*
 * inf_check_limits.c - the second half of inf_check: size and expansion
 * limits, reading INFs from disk, and hostile input (truncated, mutated and
 * random bytes, fixed seed).  main() in inf_check.c runs these tests.
 */
#include "inf_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Size and expansion limits
 * ------------------------------------------------------------------------ */

void test_expansion_limits(void)
{
    /* One field may not grow past INF_MAX_LINE through substitution. */
    size_t big = 40000, cap = big + 4096;
    char *text = malloc(cap);
    int n = snprintf(text, cap, "[S]\nk = %%b%%%%b%%\nfine = %%b%%, %%b%%\n[Strings]\nb = ");
    memset(text + n, 'x', big);
    text[n + big] = '\0';
    EXPECT_PARSE_ERROR(text, "line 2: a field is longer than");
    free(text);

    /* Many small references to a big string: the memory budget stops it. */
    size_t refs = 60000;
    cap = big + refs * 4 + 256;
    text = malloc(cap);
    size_t len = (size_t)snprintf(text, cap, "[S]\nk = ");
    for (size_t i = 0; i < refs; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s", i % 8 == 7 ? "%b%\n" : "%b%,");
    len += (size_t)snprintf(text + len, cap - len, "\n[Strings]\nb = ");
    memset(text + len, 'x', big);
    text[len + big] = '\0';
    EXPECT_PARSE_ERROR(text, "more memory than");
    free(text);
}

/* A file with very many sections, lines and strings parses, and every
 * lookup in it answers.  The time it took is printed, never asserted (speed
 * belongs to measurements, not to pass/fail): quadratic lookups would show
 * as minutes here. */
void test_large_file_is_fast(void)
{
    const size_t count = 100000;
    struct text t = {0};
    for (size_t i = 0; i < count; i++)
        text_add(&t, "[Section%zu]\nkey = %%S%zu%%\n", i, i);
    text_add(&t, "[Strings]\n");
    for (size_t i = 0; i < count; i++)
        text_add(&t, "S%zu = value %zu\n", i, i);
    clock_t start = clock();
    inf_file *inf = PARSE_BYTES(t.data, t.len);
    double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    if (inf) {
        CHECK_STR(inf_value(inf, "section99999", "KEY"), "value 99999");
        CHECK_STR(inf_value(inf, "Section0", "key"), "value 0");
        inf_free(inf);
    }
    printf("large file: %zu bytes parsed in %.2f s\n", t.len, seconds);
    free(t.data);
}

void test_models_read_once(void)
{
    /* Listing a models section again (or two manufacturers sharing it) must
     * not multiply its devices. */
    char text[8192];
    size_t len = (size_t)snprintf(text, sizeof text,
                                  "[Version]\nSignature=$Windows NT$\n[Manufacturer]\n"
                                  "A = M, NTamd64, NTamd64, NTAMD64\nB = M, NTamd64\n[M.NTamd64]\n");
    for (int i = 0; i < 50; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "D%d = I, HW%d\n", i, i);
    inf_file *inf = PARSE_BYTES(text, len);
    inf_driver d;
    if (READ_DRIVER(inf, &d, "shared models INF readable")) {
        CHECK_UINT(d.device_count, 50);
        if (d.device_count == 50) {
            CHECK_STR(d.devices[49].hardware_id, "HW49");
            CHECK_STR(d.devices[49].manufacturer, "A");
        }
        inf_driver_free(&d);
    }
    inf_free(inf);
}

/* Appends format (with one size_t conversion) once for each of 0..count-1. */
static void add_numbered_lines(struct text *t, const char *format, size_t count)
{
    for (size_t i = 0; i < count; i++)
        text_add(t, format, i);
}

/* `count` model lines sharing one install section [Inst], which holds
 * `first` and then one numbered line per model. */
static struct text models_sharing_inst(size_t count, const char *first, const char *format)
{
    struct text t = {0};
    add_models(&t, count);
    text_add(&t, "[Inst]\n%s", first);
    add_numbered_lines(&t, format, count);
    return t;
}

/* Many model lines sharing one large install section, services section and
 * service-install section: each is read once, not once per device. */
void test_shared_sections_are_read_once(void)
{
    const size_t count = 40000;
    struct text t = models_sharing_inst(count, "ExcludeId = X\n", "CopyFiles = Files%zu\n");
    text_add(&t, "[Inst.Services]\n");
    for (size_t i = 0; i < count; i++)
        text_add(&t, "AddService = S%zu, %s, Svc\n", i, i == count - 1 ? "0x2" : "0");
    text_add(&t, "[Svc]\n");
    add_numbered_lines(&t, "Description = line %zu\n", count);
    text_add(&t, "StartType = 0\n");

    inf_file *inf = PARSE_BYTES(t.data, t.len);
    inf_driver d;
    clock_t start = clock();
    if (READ_DRIVER(inf, &d, "shared-sections INF readable")) {
        double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
        printf("shared sections: %zu devices read in %.2f s\n", d.device_count, seconds);
        CHECK_UINT(d.device_count, count);
        CHECK(d.boot_critical);
        if (d.device_count == count) {
            CHECK_STR(d.devices[0].service, "S39999");
            CHECK_STR(d.devices[count - 1].service, "S39999");
            CHECK_STR(d.devices[count - 1].exclude_ids, "X");
        }
        inf_driver_free(&d);
    }
    inf_free(inf);
    free(t.data);
}

/* Each device gets its own copy of a shared ExcludeId list: the total is
 * capped instead of growing with devices x ids. */
void test_driver_output_is_bounded(void)
{
    const size_t count = 3000;
    struct text t = models_sharing_inst(count, "",
                                        "ExcludeId = PCI\\VEN_1234&DEV_%04zX&SUBSYS_00000000\n");
    inf_file *inf = PARSE_BYTES(t.data, t.len);
    inf_driver d;
    if (inf) {
        CHECK(inf_read_driver(inf, PROCESSOR_ARCHITECTURE_AMD64, &d, error, sizeof error) == -1);
        CHECK_CONTAINS(error, "driver description is larger than");
        CHECK(d.devices == NULL && d.device_count == 0);
        inf_free(inf);
    }
    free(t.data);
}

/* ------------------------------------------------------------------------
 * inf_load
 * ------------------------------------------------------------------------ */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        printf("cannot write %s\n", path);
        exit(2);
    }
}

void test_load(const char *dir)
{
    char path[4096], link_path[4096];
    int err_no = -1;
    snprintf(path, sizeof path, "%s/sample.inf", dir);
    write_file(path, sample_inf, strlen(sample_inf));
    inf_file *inf = inf_load(path, error, sizeof error, &err_no);
    CHECK(inf != NULL);
    CHECK_UINT((unsigned)err_no, 0);
    if (inf) {
        check_sample_driver(__FILE__, __LINE__, inf);
        inf_free(inf);
    }

    snprintf(link_path, sizeof link_path, "%s/link.inf", dir);
    unlink(link_path);
    CHECK(symlink(path, link_path) == 0);
    CHECK(inf_load(link_path, error, sizeof error, &err_no) == NULL);
    CHECK_UINT((unsigned)err_no, ELOOP);

    CHECK(inf_load(dir, error, sizeof error, &err_no) == NULL);
    CHECK_UINT((unsigned)err_no, EISDIR);

    snprintf(path, sizeof path, "%s/missing.inf", dir);
    CHECK(inf_load(path, error, sizeof error, &err_no) == NULL);
    CHECK_UINT((unsigned)err_no, ENOENT);
    CHECK_CONTAINS(error, "cannot open");

    /* A FIFO is refused at once instead of waiting for a writer. */
    snprintf(path, sizeof path, "%s/fifo.inf", dir);
    unlink(path);
    if (mkfifo(path, 0600) == 0) {
        CHECK(inf_load(path, error, sizeof error, &err_no) == NULL);
        CHECK_UINT((unsigned)err_no, EINVAL);
        unlink(path);
    }

    snprintf(path, sizeof path, "%s/huge.inf", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)INF_MAX_BYTES + 1) == 0);
    if (fd >= 0)
        close(fd);
    CHECK(inf_load(path, error, sizeof error, &err_no) == NULL);
    CHECK_UINT((unsigned)err_no, EFBIG);
    unlink(path);

    snprintf(path, sizeof path, "%s/broken.inf", dir);
    write_file(path, "[S]\nk = \"x\n", 11);
    CHECK(inf_load(path, error, sizeof error, &err_no) == NULL);
    CHECK_UINT((unsigned)err_no, 0);
    CHECK_CONTAINS(error, "line 2: unterminated quoted string");
    unlink(path);

    CHECK(inf_load(NULL, error, sizeof error, NULL) == NULL);
    snprintf(path, sizeof path, "%s/sample.inf", dir);
    inf = inf_load(path, NULL, 0, NULL); /* NULL error and err_no are allowed */
    CHECK(inf != NULL);
    inf_free(inf);
    unlink(path);
    unlink(link_path);
}

/* ------------------------------------------------------------------------
 * Hostile input: none of it may crash, hang or hand out invalid UTF-8
 * ------------------------------------------------------------------------ */

static const char *const probe_sections[] = {
    "Version", "Manufacturer", "Contoso", "Contoso.NTamd64.10.0...16299", "Fast_Inst.NTamd64",
    "Fast_Inst.NTamd64.Services", "Strings", "S", "",
};

static bool utf8_or_null(const char *s)
{
    return !s || valid_utf8(s);
}

/* Reads everything a parse produced, so ASan sees every byte handed out. */
static void exercise(const void *data, size_t len, unsigned long long *parsed)
{
    char message[256];
    message[0] = '\0';
    inf_file *inf = inf_parse(data, len, message, sizeof message);
    if (!inf) {
        if (message[0] == '\0' || !valid_utf8(message)) {
            failed(__FILE__, __LINE__, "a failed parse must give a UTF-8 message");
            printf("  message: \"%s\"\n", message);
        }
        return;
    }
    (*parsed)++;
    for (size_t s = 0; s < sizeof probe_sections / sizeof probe_sections[0]; s++) {
        size_t count = inf_line_count(inf, probe_sections[s]);
        for (size_t i = 0; i < count; i++) {
            const inf_line *line = inf_line_at(inf, probe_sections[s], i);
            bool ok = line && utf8_or_null(line->key);
            for (size_t f = 0; ok && f < line->field_count; f++)
                ok = line->fields[f] && valid_utf8(line->fields[f]);
            if (!ok)
                failed(__FILE__, __LINE__, "a parsed line holds invalid UTF-8 or NULL fields");
        }
    }
    static const unsigned archs[] = {PROCESSOR_ARCHITECTURE_AMD64, PROCESSOR_ARCHITECTURE_INTEL,
                                     PROCESSOR_ARCHITECTURE_NEUTRAL};
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        inf_driver d;
        if (inf_read_driver(inf, archs[a], &d, message, sizeof message) != 0) {
            if (!valid_utf8(message))
                failed(__FILE__, __LINE__, "inf_read_driver message is not UTF-8");
            continue;
        }
        bool ok = valid_utf8(d.class_name) && valid_utf8(d.class_guid) &&
                  valid_utf8(d.provider) && valid_utf8(d.catalog_file);
        for (size_t i = 0; ok && i < d.device_count; i++) {
            const inf_device *dev = &d.devices[i];
            ok = valid_utf8(dev->manufacturer) && valid_utf8(dev->description) &&
                 valid_utf8(dev->hardware_id) && valid_utf8(dev->compatible_ids) &&
                 valid_utf8(dev->exclude_ids) && valid_utf8(dev->service);
        }
        if (!ok)
            failed(__FILE__, __LINE__, "inf_read_driver handed out invalid UTF-8");
        inf_driver_free(&d);
    }
    inf_free(inf);
}

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: fixed seed, so a failure reproduces */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1Du;
}

static size_t mutate(unsigned char *buf, size_t len, size_t cap, uint64_t *rng)
{
    static const unsigned char special[] = {'"', ';', '\\', '[', ']', '=', ',', '%', '\n', '\r',
                                            0, 0x1A, 0xFF, 0xFE, 0xD8, 0xDC, 0xC3, 0x80, ' '};
    unsigned edits = 1 + (unsigned)(next_random(rng) % 8);
    for (unsigned e = 0; e < edits && len > 0; e++) {
        size_t at = (size_t)(next_random(rng) % len);
        switch (next_random(rng) % 5) {
        case 0:
            buf[at] = (unsigned char)next_random(rng);
            break;
        case 1:
            buf[at] = special[next_random(rng) % sizeof special];
            break;
        case 2: { /* delete a run */
            size_t n = (size_t)(next_random(rng) % 64);
            if (n > len - at)
                n = len - at;
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        }
        case 3: { /* duplicate a run */
            size_t n = (size_t)(next_random(rng) % 256);
            if (n > len - at)
                n = len - at;
            if (len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        }
        default:
            len = at;
            break;
        }
    }
    return len;
}

void test_hostile_input(void)
{
    unsigned long long parsed = 0, runs = 0;
    size_t utf8_len = strlen(sample_inf), utf16_len;
    unsigned char *utf16 = to_utf16le(sample_inf, true, &utf16_len);

    for (size_t n = 0; n <= utf8_len; n++, runs++)
        exercise(sample_inf, n, &parsed);
    for (size_t n = 0; n <= utf16_len; n++, runs++)
        exercise(utf16, n, &parsed);
    /* Every prefix ending on a line of the sample is a well-formed INF. */
    CHECK(parsed > 100);

    size_t cap = utf16_len * 4;
    unsigned char *buf = malloc(cap);
    uint64_t rng = 0x1234567887654321u;
    for (int i = 0; i < 6000; i++, runs++) {
        bool wide = next_random(&rng) % 2;
        size_t len = wide ? utf16_len : utf8_len;
        memcpy(buf, wide ? (const void *)utf16 : (const void *)sample_inf, len);
        len = mutate(buf, len, cap, &rng);
        exercise(buf, len, &parsed);
    }
    for (int i = 0; i < 500; i++, runs++) {
        size_t len = (size_t)(next_random(&rng) % 4096);
        for (size_t j = 0; j < len; j++)
            buf[j] = (unsigned char)next_random(&rng);
        exercise(buf, len, &parsed);
    }
    printf("hostile input: %llu runs, %llu parsed\n", runs, parsed);
    free(buf);
    free(utf16);
}
