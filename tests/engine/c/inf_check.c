/*
 * inf_check.c - checks src/engine/formats/inf/inf.c, the INF reader of the portable engine.
 *
 * Usage: inf_check [scratch-dir]
 *
 * Every check prints what differed when it fails; the program exits 1 if any
 * did.  The last part feeds the parser truncated and mutated INFs (fixed
 * seed, so a failure reproduces) and random bytes: those must give a result
 * or an error, and whatever comes back must be valid UTF-8.  Run it under
 * AddressSanitizer to turn a stray read into a failure.
 */
#include "inf_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

unsigned checks, failures;

void failed(const char *file, int line, const char *what)
{
    failures++;
    const char *name = strrchr(file, '/');
    printf("FAIL %s:%d: %s\n", name ? name + 1 : file, line, what);
}

void check_true(const char *file, int line, bool ok, const char *expr)
{
    checks++;
    if (!ok)
        failed(file, line, expr);
}

void check_str(const char *file, int line, const char *actual, const char *expected, const char *expr)
{
    checks++;
    if (actual && expected && strcmp(actual, expected) == 0)
        return;
    if (!actual && !expected)
        return;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: expected %s%s%s, got %s%s%s", expr, expected ? "\"" : "",
             expected ? expected : "NULL", expected ? "\"" : "", actual ? "\"" : "",
             actual ? actual : "NULL", actual ? "\"" : "");
    failed(file, line, msg);
}

void check_uint(const char *file, int line, unsigned long long actual, unsigned long long expected,
                       const char *expr)
{
    checks++;
    if (actual == expected)
        return;
    char msg[512];
    snprintf(msg, sizeof msg, "%s: expected %llu, got %llu", expr, expected, actual);
    failed(file, line, msg);
}

void check_contains(const char *file, int line, const char *text, const char *part, const char *expr)
{
    checks++;
    if (text && strstr(text, part))
        return;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: expected text containing \"%s\", got \"%s\"", expr, part,
             text ? text : "(null)");
    failed(file, line, msg);
}

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

char error[512];

inf_file *parse_at(const char *file, int line, const void *data, size_t len)
{
    error[0] = '\0';
    inf_file *inf = inf_parse(data, len, error, sizeof error);
    if (!inf) {
        char msg[700];
        snprintf(msg, sizeof msg, "inf_parse failed: %s", error);
        failed(file, line, msg);
    }
    checks++;
    return inf;
}

/* Reads the driver of a parsed INF for an x64 image; not managing to is a
 * failed check naming `what` and the reader's message. */
bool read_driver_at(const char *file, int line, inf_file *inf, inf_driver *d, const char *what)
{
    checks++;
    if (inf && inf_read_driver(inf, PROCESSOR_ARCHITECTURE_AMD64, d, error, sizeof error) == 0)
        return true;
    char msg[700];
    snprintf(msg, sizeof msg, "%s: %s", what, inf ? error : "not parsed");
    failed(file, line, msg);
    return false;
}

void text_add(struct text *t, const char *format, ...)
{
    for (;;) {
        va_list args;
        va_start(args, format);
        int n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0,
                          format, args);
        va_end(args);
        if (n < 0) {
            printf("cannot format generated INF text\n");
            exit(2);
        }
        if (t->data && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len <= (size_t)n)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            printf("out of memory for generated INF text\n");
            exit(2);
        }
        t->data = grown;
        t->cap = cap;
    }
}

/* One manufacturer whose [Models] section names `count` devices, all
 * installed by [Inst]: the start of the large driver INFs below. */
void add_models(struct text *t, size_t count)
{
    text_add(t, "[Version]\nSignature=$Windows NT$\n[Manufacturer]\nM = Models\n[Models]\n");
    for (size_t i = 0; i < count; i++)
        text_add(t, "D%zu = Inst, HW%zu\n", i, i);
}

/* The parse must fail with a message containing `part`. */
void expect_parse_error(const char *file, int line, const void *data, size_t len, const char *part)
{
    error[0] = '\0';
    inf_file *inf = inf_parse(data, len, error, sizeof error);
    checks++;
    if (inf) {
        char msg[300];
        snprintf(msg, sizeof msg, "inf_parse succeeded, expected an error with \"%s\"", part);
        failed(file, line, msg);
        inf_free(inf);
        return;
    }
    check_contains(file, line, error, part, "inf_parse error");
}

void expect_line(const char *file, int line, const inf_file *inf, const char *section, size_t index,
                        const char *key, const char *const *fields, size_t count)
{
    const inf_line *l = inf_line_at(inf, section, index);
    char what[300];
    snprintf(what, sizeof what, "[%s] line %zu", section, index);
    checks++;
    if (!l) {
        failed(file, line, strcat(what, " is missing"));
        return;
    }
    check_str(file, line, l->key, key, strcat(what, " key"));
    snprintf(what, sizeof what, "[%s] line %zu field count", section, index);
    check_uint(file, line, l->field_count, count, what);
    for (size_t i = 0; i < count && i < l->field_count; i++) {
        snprintf(what, sizeof what, "[%s] line %zu field %zu", section, index, i);
        check_str(file, line, l->fields[i], fields[i], what);
    }
}

/* Decodes UTF-8 (trusted: only the test's own literals) and writes UTF-16LE. */
unsigned char *to_utf16le(const char *utf8, bool bom, size_t *out_len)
{
    size_t n = strlen(utf8);
    unsigned char *out = malloc(4 * n + 2), *o = out;
    if (!out)
        abort();
    if (bom) {
        *o++ = 0xFF;
        *o++ = 0xFE;
    }
    for (const unsigned char *s = (const unsigned char *)utf8; *s;) {
        uint32_t c;
        if (*s < 0x80) {
            c = *s++;
        } else if (*s < 0xE0) {
            c = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
            s += 2;
        } else if (*s < 0xF0) {
            c = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
            s += 3;
        } else {
            c = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
                (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
            s += 4;
        }
        if (c >= 0x10000) {
            uint32_t high = 0xD800 + ((c - 0x10000) >> 10), low = 0xDC00 + (c & 0x3FF);
            *o++ = (unsigned char)high;
            *o++ = (unsigned char)(high >> 8);
            c = low;
        }
        *o++ = (unsigned char)c;
        *o++ = (unsigned char)(c >> 8);
    }
    *out_len = (size_t)(o - out);
    return out;
}

bool valid_utf8(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t len = *s < 0x80 ? 1 : *s >= 0xC2 && *s <= 0xDF ? 2 : *s >= 0xE0 && *s <= 0xEF ? 3
                   : *s >= 0xF0 && *s <= 0xF4 ? 4 : 0;
        if (len == 0)
            return false;
        for (size_t i = 1; i < len; i++)
            if ((s[i] & 0xC0) != 0x80)
                return false;
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
            (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
            return false;
        s += len;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * The sample driver: every feature inf_read_driver uses
 * ------------------------------------------------------------------------ */

const char sample_inf[] =
    "; Contoso network adapters - a sample INF for inf_check.c\r\n"
    "[Version]\r\n"
    "Signature   = \"$WINDOWS NT$\"\r\n"
    "Class       = Net\r\n"
    "ClassGuid   = {4d36e972-e325-11ce-bfc1-08002be10318}\r\n"
    "Provider    = %ProviderName%\r\n"
    "CatalogFile = generic.cat\r\n"
    "CatalogFile.NT = nt.cat\r\n"
    "CatalogFile.NTamd64 = contoso64.cat\r\n"
    "DriverVer   = 06/21/2023,10.1.2.3   ; date, then version\r\n"
    "\r\n"
    "[Manufacturer]\r\n"
    "%MfgName% = Contoso, ntAMD64.10.0...16299, NTx86, NTarm64, NTmips\r\n"
    "Fabrikam                        ; a bare models-section name\r\n"
    "\r\n"
    "[Contoso]\r\n"
    "%Dev.Generic% = Generic_Inst, ROOT\\CONTOSO_GENERIC\r\n"
    "\r\n"
    "[Contoso.NTamd64.10.0...16299]\r\n"
    "%Dev.Fast% = Fast_Inst, PCI\\VEN_1234&DEV_0001, \\\r\n"
    "             PCI\\VEN_1234&CC_0200, \\  ; ids go on\r\n"
    "             PCI\\CC_0200\r\n"
    "%Dev.Slow% = Slow_Inst, PCI\\VEN_1234&DEV_0002\r\n"
    "\r\n"
    "[Contoso.NTx86]\r\n"
    "%Dev.Fast% = Fast_Inst, PCI\\VEN_1234&DEV_0001\r\n"
    "\r\n"
    "[Contoso.NTarm64]\r\n"
    "%Dev.Arm% = Arm_Inst, ACPI\\CTSO0001\r\n"
    "\r\n"
    "[Fabrikam]\r\n"
    "\"Fabrikam \"\"Quoted\"\" Device\" = Fab_Inst, USB\\VID_0001&PID_0002\r\n"
    "\r\n"
    "[Fast_Inst.NTamd64]\r\n"
    "CopyFiles = Fast.Copy\r\n"
    "ExcludeId = PCI\\VEN_1234&DEV_0001&SUBSYS_00000000\r\n"
    "ExcludeId = PCI\\VEN_1234&DEV_0001&REV_FF, PCI\\VEN_1234&DEV_0001&SUBSYS_DEAD\r\n"
    "\r\n"
    "[Fast_Inst.NTamd64.Services]\r\n"
    "AddService = FastFilter, , Filter_Service       ; a filter, not the function driver\r\n"
    "AddService = FastNet, 0x00000002, FastNet_Service\r\n"
    "\r\n"
    "[Fast_Inst.NT]\r\n"
    "CopyFiles = Fast.Copy\r\n"
    "[Fast_Inst.NT.Services]\r\n"
    "AddService = FastNetNT, 0x2, FastNet_Service\r\n"
    "\r\n"
    "[Fast_Inst]\r\n"
    "ExcludeId = NEVER_READ\r\n"
    "[Fast_Inst.Services]\r\n"
    "AddService = NeverRead, 2, FastNet_Service\r\n"
    "\r\n"
    "[Slow_Inst]\r\n"
    "[Slow_Inst.Services]\r\n"
    "AddService = SlowNet, , SlowNet_Service\r\n"
    "AddService = SlowHelper, 0x00000000, SlowNet_Service\r\n"
    "\r\n"
    "[Arm_Inst.NTarm64]\r\n"
    "[Arm_Inst.NTarm64.Services]\r\n"
    "AddService = ArmBoot, 0x00000002, ArmBoot_Service\r\n"
    "\r\n"
    "[Generic_Inst]\r\n"
    "[Generic_Inst.Services]\r\n"
    "AddService = , 0x00000002          ; a NULL service\r\n"
    "\r\n"
    "[Fab_Inst]\r\n"
    "\r\n"
    "[Filter_Service]\r\n"
    "StartType = 3\r\n"
    "[FastNet_Service]\r\n"
    "ServiceType = 1\r\n"
    "StartType = %SERVICE_DEMAND_START%\r\n"
    "[SlowNet_Service]\r\n"
    "StartType = 0x3\r\n"
    "[ArmBoot_Service]\r\n"
    "StartType = %SERVICE_BOOT_START%\r\n"
    "\r\n"
    "[Strings]\r\n"
    "ProviderName = \"Contoso; Ltd.\"\r\n"
    "MfgName = Contoso Société \xE2\x84\xA2 \xF0\x9F\x98\x80\r\n"
    "Dev.Generic = Contoso Generic Device\r\n"
    "Dev.Fast = \"Contoso Fast \"\"Ethernet\"\" Adapter\"\r\n"
    "Dev.Slow = Contoso Slow Adapter\r\n"
    "Dev.Arm = Contoso ARM Adapter\r\n"
    "SERVICE_DEMAND_START = 3\r\n"
    "SERVICE_BOOT_START = 0\r\n";

#define MFG "Contoso Société \xE2\x84\xA2 \xF0\x9F\x98\x80"

static void expect_device(const char *file, int line, const inf_device *d, const char *manufacturer,
                          const char *description, const char *hardware_id,
                          const char *compatible, const char *exclude, const char *service,
                          unsigned architecture)
{
    check_str(file, line, d->manufacturer, manufacturer, "manufacturer");
    check_str(file, line, d->description, description, "description");
    check_str(file, line, d->hardware_id, hardware_id, "hardware_id");
    check_str(file, line, d->compatible_ids, compatible, "compatible_ids");
    check_str(file, line, d->exclude_ids, exclude, "exclude_ids");
    check_str(file, line, d->service, service, "service");
    check_uint(file, line, d->architecture, architecture, "architecture");
}

/* Checks everything inf_read_driver gives for the sample, as parsed from one
 * encoding of it. */
void check_sample_driver(const char *file, int line, const inf_file *inf)
{
    inf_driver d;
    error[0] = '\0';
    int rc = inf_read_driver(inf, PROCESSOR_ARCHITECTURE_AMD64, &d, error, sizeof error);
    check_uint(file, line, (unsigned)rc, 0, "inf_read_driver");
    if (rc != 0) {
        printf("  error: %s\n", error);
        return;
    }
    check_str(file, line, d.class_name, "Net", "class_name");
    check_str(file, line, d.class_guid, "{4d36e972-e325-11ce-bfc1-08002be10318}", "class_guid");
    check_str(file, line, d.provider, "Contoso; Ltd.", "provider");
    check_str(file, line, d.catalog_file, "contoso64.cat", "catalog_file");
    check_true(file, line, d.has_date && d.year == 2023 && d.month == 6 && d.day == 21, "date");
    check_true(file, line, d.has_version && d.version[0] == 10 && d.version[1] == 1 &&
                         d.version[2] == 2 && d.version[3] == 3, "version 10.1.2.3");
    check_true(file, line, d.boot_critical, "boot_critical (ArmBoot has StartType 0)");
    check_uint(file, line, d.device_count, 6, "device_count");
    if (d.device_count == 6) {
        /* The undecorated models section counts for the image's architecture. */
        expect_device(file, line, &d.devices[0], MFG, "Contoso Generic Device",
                      "ROOT\\CONTOSO_GENERIC", "", "", "", PROCESSOR_ARCHITECTURE_AMD64);
        expect_device(file, line, &d.devices[1], MFG, "Contoso Fast \"Ethernet\" Adapter",
                      "PCI\\VEN_1234&DEV_0001", "PCI\\VEN_1234&CC_0200,PCI\\CC_0200",
                      "PCI\\VEN_1234&DEV_0001&SUBSYS_00000000,PCI\\VEN_1234&DEV_0001&REV_FF,"
                      "PCI\\VEN_1234&DEV_0001&SUBSYS_DEAD",
                      "FastNet", PROCESSOR_ARCHITECTURE_AMD64);
        expect_device(file, line, &d.devices[2], MFG, "Contoso Slow Adapter", "PCI\\VEN_1234&DEV_0002",
                      "", "", "SlowNet", PROCESSOR_ARCHITECTURE_AMD64);
        /* No Fast_Inst.NTx86: Fast_Inst.NT is the most specific one. */
        expect_device(file, line, &d.devices[3], MFG, "Contoso Fast \"Ethernet\" Adapter",
                      "PCI\\VEN_1234&DEV_0001", "", "", "FastNetNT", PROCESSOR_ARCHITECTURE_INTEL);
        expect_device(file, line, &d.devices[4], MFG, "Contoso ARM Adapter", "ACPI\\CTSO0001", "", "",
                      "ArmBoot", PROCESSOR_ARCHITECTURE_ARM64);
        expect_device(file, line, &d.devices[5], "Fabrikam", "Fabrikam \"Quoted\" Device",
                      "USB\\VID_0001&PID_0002", "", "", "", PROCESSOR_ARCHITECTURE_AMD64);
    }
    inf_driver_free(&d);
    check_true(file, line, d.devices == NULL && d.device_count == 0 && d.class_name == NULL,
               "inf_driver_free clears the struct");
}

static void test_sample_encodings(void)
{
    inf_file *inf = PARSE(sample_inf);
    if (inf) {
        check_sample_driver(__FILE__, __LINE__, inf);
        CHECK_STR(inf_value(inf, "version", "signature"), "$WINDOWS NT$");
        CHECK_STR(inf_value(inf, "Strings", "MfgName"), MFG);
        inf_free(inf);
    }

    size_t len = strlen(sample_inf);
    char *with_bom = malloc(len + 3);
    memcpy(with_bom, "\xEF\xBB\xBF", 3);
    memcpy(with_bom + 3, sample_inf, len);
    if ((inf = PARSE_BYTES(with_bom, len + 3))) {
        check_sample_driver(__FILE__, __LINE__, inf);
        inf_free(inf);
    }
    free(with_bom);

    unsigned char *utf16 = to_utf16le(sample_inf, true, &len);
    if ((inf = PARSE_BYTES(utf16, len))) {
        check_sample_driver(__FILE__, __LINE__, inf);
        inf_free(inf);
    }
    free(utf16);

    utf16 = to_utf16le(sample_inf, false, &len);
    if ((inf = PARSE_BYTES(utf16, len))) {
        check_sample_driver(__FILE__, __LINE__, inf);
        inf_free(inf);
    }
    free(utf16);
}

static void test_driver_for_other_images(void)
{
    inf_file *inf = PARSE(sample_inf);
    if (!inf)
        return;
    inf_driver d;
    CHECK(inf_read_driver(inf, PROCESSOR_ARCHITECTURE_INTEL, &d, error, sizeof error) == 0);
    /* No CatalogFile.NTx86: CatalogFile.NT. */
    CHECK_STR(d.catalog_file, "nt.cat");
    CHECK_UINT(d.device_count, 6);
    if (d.device_count == 6) {
        CHECK_UINT(d.devices[0].architecture, PROCESSOR_ARCHITECTURE_INTEL);
        CHECK_UINT(d.devices[5].architecture, PROCESSOR_ARCHITECTURE_INTEL);
        /* Generic_Inst for an x86 image: still the plain section. */
        CHECK_STR(d.devices[0].service, "");
    }
    inf_driver_free(&d);
    inf_free(inf);

    static const char plain_catalog[] =
        "[Version]\nSignature=$Windows NT$\nCatalogFile=only.cat\nDriverVer=1/2/2020\n";
    if ((inf = PARSE(plain_catalog))) {
        CHECK(inf_read_driver(inf, PROCESSOR_ARCHITECTURE_ARM64, &d, error, sizeof error) == 0);
        CHECK_STR(d.catalog_file, "only.cat");
        CHECK(d.has_date && d.year == 2020 && d.month == 1 && d.day == 2);
        CHECK(!d.has_version);
        CHECK_UINT(d.version[0], 0);
        CHECK_UINT(d.device_count, 0);
        CHECK_STR(d.class_name, "");
        CHECK_STR(d.provider, "");
        CHECK(!d.boot_critical);
        inf_driver_free(&d);
        inf_free(inf);
    }
}

static void test_boot_critical(void)
{
    static const char system_start[] =
        "[Version]\nSignature=\"$Windows NT$\"\nClass=SCSIAdapter\n"
        "[Manufacturer]\n%M%=Models,NTamd64\n"
        "[Models.NTamd64]\n%D%=Inst,PCI\\VEN_1AF4&DEV_1001\n"
        "[Inst.NTamd64]\n[Inst.NTamd64.Services]\nAddService=viostor,0x2,Svc\n"
        "[Svc]\nStartType=%START%\n"
        "[Strings]\nM=Red Hat\nD=VirtIO SCSI\nSTART=1\n";
    inf_file *inf = PARSE(system_start);
    inf_driver d;
    if (READ_DRIVER(inf, &d, "system_start driver readable")) {
        CHECK(!d.boot_critical);
        CHECK_UINT(d.device_count, 1);
        if (d.device_count == 1)
            CHECK_STR(d.devices[0].service, "viostor");
        inf_driver_free(&d);
    }
    inf_free(inf);

    char boot_start[sizeof system_start + 16];
    memcpy(boot_start, system_start, sizeof system_start);
    *strstr(boot_start, "START=1") = '\0';
    strcat(boot_start, "START=0x0\n");
    inf = PARSE(boot_start);
    if (READ_DRIVER(inf, &d, "boot_start driver readable")) {
        CHECK(d.boot_critical);
        inf_driver_free(&d);
    }
    inf_free(inf);
}

static void test_ansi(void)
{
    /* Windows-1252: 0xE9 is e-acute, 0x99 the trade mark sign, 0x80 the euro. */
    static const char ansi[] =
        "[Version]\r\nSignature=\"$Windows NT$\"\r\nProvider=%P%\r\n"
        "[Strings]\r\nP=\"Soci\xE9t\xE9 G\xE9n\xE9rale\x99 \x80\"\r\n";
    inf_file *inf = PARSE(ansi);
    if (inf) {
        CHECK_STR(inf_value(inf, "Version", "Provider"),
                  "Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale\xE2\x84\xA2 \xE2\x82\xAC");
        inf_free(inf);
    }
}

static void test_decoding_edges(void)
{
    /* A dangling odd byte and an unpaired surrogate become U+FFFD. */
    size_t len;
    unsigned char *utf16 = to_utf16le("[S]\r\nk = ab", true, &len);
    unsigned char *odd = malloc(len + 1);
    memcpy(odd, utf16, len);
    odd[len] = 'c';
    inf_file *inf = PARSE_BYTES(odd, len + 1);
    if (inf) {
        CHECK_STR(inf_value(inf, "S", "k"), "ab\xEF\xBF\xBD");
        inf_free(inf);
    }
    free(odd);
    free(utf16);

    static const unsigned char lone_surrogate[] = {
        0xFF, 0xFE, '[', 0, 'S', 0, ']', 0, '\n', 0, 'k', 0, '=', 0, 'x', 0, 0x00, 0xD8, 'y', 0,
        0x00, 0xDC, '\n', 0};
    if ((inf = PARSE_BYTES(lone_surrogate, sizeof lone_surrogate))) {
        CHECK_STR(inf_value(inf, "S", "k"), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
        inf_free(inf);
    }

    /* A UTF-8 BOM keeps valid sequences and replaces each bad byte. */
    static const char bad_utf8[] = "\xEF\xBB\xBF[S]\nk = caf\xC3\xA9 \xC3 \xFF";
    if ((inf = PARSE(bad_utf8))) {
        CHECK_STR(inf_value(inf, "S", "k"), "caf\xC3\xA9 \xEF\xBF\xBD \xEF\xBF\xBD");
        inf_free(inf);
    }

    /* Without a BOM, text that is not UTF-8 is Windows-1252 (0xC3 0x28 is not UTF-8). */
    static const char not_utf8[] = "[S]\nk = \xC3\x28";
    if ((inf = PARSE(not_utf8))) {
        CHECK_STR(inf_value(inf, "S", "k"), "\xC3\x83(");
        inf_free(inf);
    }

    static const unsigned char big_endian[] = {0xFE, 0xFF, 0, '[', 0, 'S', 0, ']'};
    expect_parse_error(__FILE__, __LINE__, big_endian, sizeof big_endian, "big-endian");

    /* Empty input: a valid file with nothing in it. */
    if ((inf = PARSE_BYTES("", 0))) {
        CHECK(!inf_has_section(inf, "Version"));
        inf_driver d;
        CHECK(inf_read_driver(inf, PROCESSOR_ARCHITECTURE_AMD64, &d, error, sizeof error) == -1);
        CHECK_CONTAINS(error, "[Version]");
        CHECK(d.devices == NULL && d.class_name == NULL);
        inf_free(inf);
    }
}

/* ------------------------------------------------------------------------
 * Syntax
 * ------------------------------------------------------------------------ */

static void test_lines_and_fields(void)
{
    static const char text[] =
        "; a comment before any section\n"
        "   \n"
        "[Fields]\n"
        "plain = one, two ,three\n"
        "  spaced key   =   inner  space  ,  x  \n"
        "quoted = \"a, b\", \"x;y\", \" padded \", \"\", \"say \"\"hi\"\"\"\n"
        "mixed = ab\"c d\"e, \"\"\"\"\n"
        "\"quoted key\" = v\n"
        "no key, here\n"
        "alone\n"
        "a, b = c\n"
        "empty =\n"
        "path = C:\\dir\\file.sys, \\\\server\\share\n"
        "comment = value ; a comment, with \"quotes\n"
        "semicolon = \"x ; y\" ; real comment\n"
        "eq = a=b, c=d\n"
        "tabs\t=\tt1\t,\tt2\t\n"
        "[ Spaced Name ]  trailing text is ignored\n"
        "k = 1\n";
    inf_file *inf = PARSE(text);
    if (!inf)
        return;
    EXPECT_LINE(inf, "Fields", 0, "plain", "one", "two", "three");
    EXPECT_LINE(inf, "Fields", 1, "spaced key", "inner  space", "x");
    EXPECT_LINE(inf, "Fields", 2, "quoted", "a, b", "x;y", " padded ", "", "say \"hi\"");
    EXPECT_LINE(inf, "Fields", 3, "mixed", "abc de", "\"");
    EXPECT_LINE(inf, "Fields", 4, "quoted key", "v");
    EXPECT_LINE(inf, "Fields", 5, NULL, "no key", "here");
    EXPECT_LINE(inf, "Fields", 6, NULL, "alone");
    EXPECT_LINE(inf, "Fields", 7, NULL, "a", "b = c");
    EXPECT_LINE(inf, "Fields", 8, "empty", "");
    EXPECT_LINE(inf, "Fields", 9, "path", "C:\\dir\\file.sys", "\\\\server\\share");
    EXPECT_LINE(inf, "Fields", 10, "comment", "value");
    EXPECT_LINE(inf, "Fields", 11, "semicolon", "x ; y");
    EXPECT_LINE(inf, "Fields", 12, "eq", "a=b", "c=d");
    EXPECT_LINE(inf, "Fields", 13, "tabs", "t1", "t2");
    CHECK_UINT(inf_line_count(inf, "Fields"), 14);
    CHECK(inf_line_at(inf, "Fields", 14) == NULL);
    CHECK_STR(inf_value(inf, "Fields", "EMPTY"), "");
    CHECK_STR(inf_value(inf, "fields", "Quoted Key"), "v");
    CHECK_STR(inf_value(inf, "Fields", "missing"), NULL);
    CHECK_STR(inf_value(inf, "Nowhere", "plain"), NULL);
    CHECK_STR(inf_value(inf, "Spaced Name", "k"), "1");
    CHECK(inf_has_section(inf, "spaced name"));
    CHECK(!inf_has_section(inf, "Spaced"));
    CHECK_UINT(inf_line_count(inf, "Nowhere"), 0);
    CHECK(inf_line_at(inf, "Nowhere", 0) == NULL);
    CHECK(!inf_has_section(NULL, "Fields"));
    CHECK(!inf_has_section(inf, NULL));
    CHECK_STR(inf_value(inf, "Fields", NULL), NULL);
    inf_free(inf);
}

static void test_continuations(void)
{
    static const char text[] =
        "[C]\n"
        "ids = a, \\\n"
        "      b, \\    ; comment after the backslash\n"
        "\tc\n"
        "joined = Long\\\n"
        "   Name\n"
        "quoted = \"one \" \\\n"
        "  \"two\"\n"
        "broken = x, \\\n"
        "; a comment line ends the logical line\n"
        "next = y\n"
        "section = s, \\\n"
        "  [NotASection]\n"
        "last = end \\";
    inf_file *inf = PARSE(text);
    if (!inf)
        return;
    EXPECT_LINE(inf, "C", 0, "ids", "a", "b", "c");
    /* Blanks around the join disappear, as in SetupAPI. */
    EXPECT_LINE(inf, "C", 1, "joined", "LongName");
    /* Two quoted strings, not an escaped quote across the join. */
    EXPECT_LINE(inf, "C", 2, "quoted", "one two");
    EXPECT_LINE(inf, "C", 3, "broken", "x", "");
    EXPECT_LINE(inf, "C", 4, "next", "y");
    EXPECT_LINE(inf, "C", 5, "section", "s", "[NotASection]");
    EXPECT_LINE(inf, "C", 6, "last", "end");
    CHECK_UINT(inf_line_count(inf, "C"), 7);
    CHECK(!inf_has_section(inf, "NotASection"));
    inf_free(inf);
}

static void test_sections(void)
{
    static const char text[] =
        "[A]\nx = 1\n[B]\ny = 2\n[a]\nz = 3\nx = 4\n[]\nempty = yes\n[Name With ; Semicolon]\n"
        "k = v\n[Empty]\n";
    inf_file *inf = PARSE(text);
    if (!inf)
        return;
    /* Repeated sections merge, in file order; the first x wins. */
    CHECK_UINT(inf_line_count(inf, "A"), 3);
    EXPECT_LINE(inf, "a", 1, "z", "3");
    CHECK_STR(inf_value(inf, "A", "x"), "1");
    CHECK_UINT(inf_line_count(inf, "B"), 1);
    CHECK_STR(inf_value(inf, "", "empty"), "yes");
    CHECK_STR(inf_value(inf, "Name With ; Semicolon", "k"), "v");
    CHECK(inf_has_section(inf, "EMPTY"));
    CHECK_UINT(inf_line_count(inf, "Empty"), 0);
    inf_free(inf);
}

static void test_line_endings(void)
{
    static const char text[] = "[S]\r\na = 1\rb = 2\n\nc = 3\r\n\x1a" "d = never read\n";
    inf_file *inf = PARSE(text);
    if (inf) {
        CHECK_UINT(inf_line_count(inf, "S"), 3);
        CHECK_STR(inf_value(inf, "S", "b"), "2");
        CHECK_STR(inf_value(inf, "S", "c"), "3");
        CHECK_STR(inf_value(inf, "S", "d"), NULL);
        inf_free(inf);
    }
    static const char padded[] = "[S]\na = 1\n\0\0\0";
    if ((inf = PARSE_BYTES(padded, sizeof padded))) {
        CHECK_STR(inf_value(inf, "S", "a"), "1");
        inf_free(inf);
    }
}

static void test_strings(void)
{
    static const char text[] =
        "[Use]\n"
        "%Key% = %Value%, 100%%, %Unknown%, %value%%VALUE%, 50% off, %, %Spaced Key%\n"
        "nested = %Outer%\n"
        "comma = %Comma%\n"
        "quoted = \"%Value%\"\n"
        "[Strings.0407]\n"
        "Value = deutsch\n"
        "[Strings]\n"
        "Key = resolved key\n"
        "Value = v\n"
        "value = second definition loses\n"
        "Outer = %Value%\n"
        "Comma = \"a, b\"\n"
        "Spaced Key = \" s \"\n"
        "Percent = 100%%\n";
    inf_file *inf = PARSE(text);
    if (!inf)
        return;
    EXPECT_LINE(inf, "Use", 0, "resolved key", "v", "100%", "%Unknown%", "vv", "50% off", "%",
                " s ");
    /* Not recursive: the value of Outer is used as written. */
    EXPECT_LINE(inf, "Use", 1, "nested", "%Value%");
    /* A comma in a string value does not split the field. */
    EXPECT_LINE(inf, "Use", 2, "comma", "a, b");
    EXPECT_LINE(inf, "Use", 3, "quoted", "v");
    /* [Strings] itself is not substituted. */
    CHECK_STR(inf_value(inf, "Strings", "Outer"), "%Value%");
    CHECK_STR(inf_value(inf, "Strings", "Percent"), "100%%");
    inf_free(inf);

    /* Without [Strings], the first localized section is used. */
    static const char localized[] =
        "[V]\nk = %Name%\n[Strings.0409]\nName = English\n[Strings.0407]\nName = Deutsch\n";
    if ((inf = PARSE(localized))) {
        CHECK_STR(inf_value(inf, "V", "k"), "English");
        inf_free(inf);
    }
    static const char none[] = "[V]\n%k% = %Name%\n";
    if ((inf = PARSE(none))) {
        EXPECT_LINE(inf, "V", 0, "%k%", "%Name%");
        inf_free(inf);
    }
}

/* A [Version] section whose DriverVer is `value` parses, but reading the
 * driver must fail with a message containing `part`. */
static void expect_driver_ver_refused(const char *file, int line, const char *value, const char *part)
{
    char text[200];
    snprintf(text, sizeof text, "[Version]\nDriverVer = %s\n", value);
    inf_file *inf = parse_at(file, line, text, strlen(text));
    inf_driver d;
    if (!inf)
        return;
    int rc = inf_read_driver(inf, PROCESSOR_ARCHITECTURE_AMD64, &d, error, sizeof error);
    check_true(file, line, rc == -1, value);
    check_contains(file, line, error, part, value);
    inf_free(inf);
}

static void test_driver_ver_errors(void)
{
    static const char *const bad_dates[] = {
        "13/01/2020", "02/30/2021", "02/29/2023", "1/1/20", "01/01/2020/1", "01.01.2020",
        "01/01-2020", "", "aa/bb/cccc", "01/01/1600",
    };
    char value[100];
    for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
        snprintf(value, sizeof value, "%s, 1.0", bad_dates[i]);
        expect_driver_ver_refused(__FILE__, __LINE__, value, "DriverVer");
    }
    static const char *const bad_versions[] = {"1.2.3.4.5", "70000", "1..2", "1.2.", "v1", "-1"};
    for (size_t i = 0; i < sizeof bad_versions / sizeof bad_versions[0]; i++) {
        snprintf(value, sizeof value, "02/29/2024, %s", bad_versions[i]);
        expect_driver_ver_refused(__FILE__, __LINE__, value, "version");
    }
    inf_file *inf = PARSE("[Version]\nDriverVer = 2-29-2024, 7\n");
    inf_driver d;
    if (READ_DRIVER(inf, &d, "DriverVer = 2-29-2024, 7 is accepted")) {
        CHECK(d.year == 2024 && d.month == 2 && d.day == 29);
        CHECK(d.has_version && d.version[0] == 7 && d.version[1] == 0 && d.version[3] == 0);
        inf_driver_free(&d);
    }
    inf_free(inf);

    /* A message cut short by a small buffer is still valid UTF-8. */
    inf = PARSE("[Version]\nDriverVer = \xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\n");
    if (inf) {
        for (size_t size = 1; size < 60; size++) {
            char small[60];
            memset(small, 'X', sizeof small);
            CHECK(inf_read_driver(inf, PROCESSOR_ARCHITECTURE_AMD64, &d, small, size) == -1);
            check_true(__FILE__, __LINE__, memchr(small, '\0', size) && valid_utf8(small),
                       "truncated message is UTF-8");
        }
        inf_free(inf);
    }
}

static void test_parse_errors(void)
{
    EXPECT_PARSE_ERROR("[S]\nok = 1\nbad = \"never closed\n", "line 3: unterminated quoted string");
    EXPECT_PARSE_ERROR("[S]\nk = \"open \\\n close\"\n", "line 2: unterminated");
    EXPECT_PARSE_ERROR("[S]\n[Broken\nk = v\n", "line 2:");
    EXPECT_PARSE_ERROR("key = before any section\n[S]\n", "line 1:");
    static const char nul[] = "[S]\nk = a\0b\n";
    expect_parse_error(__FILE__, __LINE__, nul, sizeof nul - 1, "line 2: NUL");

    char *long_line = malloc(2 * INF_MAX_LINE);
    strcpy(long_line, "[S]\nk = ");
    size_t n = strlen(long_line);
    memset(long_line + n, 'x', INF_MAX_LINE);
    long_line[n + INF_MAX_LINE] = '\0';
    EXPECT_PARSE_ERROR(long_line, "line 2: line longer than");
    /* The limit counts joined continuation lines together. */
    strcpy(long_line, "[S]\nk = ");
    n = strlen(long_line);
    for (size_t i = 0; i < 40; i++, n += 2000) {
        memcpy(long_line + n, "\\\n", 2);
        memset(long_line + n + 2, 'y', 1998);
    }
    long_line[n] = '\0';
    EXPECT_PARSE_ERROR(long_line, "line longer than");
    free(long_line);

    char name[600] = "[";
    memset(name + 1, 'n', 256);
    strcpy(name + 257, "]\n");
    EXPECT_PARSE_ERROR(name, "section name longer than 255");
    name[256] = ']';
    name[257] = '\0';
    inf_file *inf = PARSE(name); /* exactly 255 characters is fine */
    inf_free(inf);

    char *too_big = calloc(1, (size_t)INF_MAX_BYTES + 1);
    expect_parse_error(__FILE__, __LINE__, too_big, (size_t)INF_MAX_BYTES + 1, "larger than");
    free(too_big);

    CHECK(inf_parse(NULL, 5, error, sizeof error) == NULL);
    inf_free(NULL);
    inf_driver_free(NULL);
    CHECK(inf_read_driver(NULL, 0, NULL, NULL, 0) == -1);
    /* A NULL error buffer is allowed. */
    CHECK(inf_parse("[S", 2, NULL, 0) == NULL);
}

int main(int argc, char **argv)
{
    char dir_template[] = "/tmp/inf_check.XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(dir_template);
    if (!dir) {
        perror("mkdtemp");
        return 2;
    }
    test_sample_encodings();
    test_driver_for_other_images();
    test_boot_critical();
    test_ansi();
    test_decoding_edges();
    test_lines_and_fields();
    test_continuations();
    test_sections();
    test_line_endings();
    test_strings();
    test_driver_ver_errors();
    test_parse_errors();
    test_expansion_limits();
    test_large_file_is_fast();
    test_models_read_once();
    test_shared_sections_are_read_once();
    test_driver_output_is_bounded();
    test_load(dir);
    test_hostile_input();
    if (argc <= 1)
        rmdir(dir);
    printf("%u checks, %u failures\n", checks, failures);
    return failures ? 1 : 0;
}
