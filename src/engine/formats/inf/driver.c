/*
 * driver.c - the driver description (inf_read_driver): [Version], then
 * [Manufacturer] -> models sections -> one device per model line.
 */
#include "internal.h"
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

/* Devices share strings an INF writes once (a long ExcludeId list, say), so
 * a driver description is capped on its own. */
#define DRIVER_MAX_BYTES (64u * 1024u * 1024u)
#define SPSVCINST_ASSOCSERVICE 0x2u
#define SERVICE_BOOT_START 0u

/* ------------------------------------------------------------------------
 * Numbers, dates and versions
 * ------------------------------------------------------------------------ */

static int digit_value(char c)
{
    unsigned char f = inf_fold((unsigned char)c);
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
    if (!inf_has_prefix(decoration, "NT"))
        return false;
    const char *platform = decoration + 2;
    size_t len = strcspn(platform, ".");
    if (len == 0) {
        *architecture = image_arch;
        return true;
    }
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++) {
        if (inf_same_name_n(platform, len, platforms[i].name)) {
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
    inf_set_error(r->error, r->error_size, "%s", message);
    return -1;
}

static int read_driver_ver(struct driver_reader *r, const inf_line *line)
{
    inf_driver *out = r->out;
    const char *date = line->field_count ? line->fields[0] : "";
    if (!parse_driver_date(date, &out->year, &out->month, &out->day)) {
        inf_set_error(r->error, r->error_size, "[Version] DriverVer: bad date '%.*s' "
                      "(expected mm/dd/yyyy)", inf_quote_length(date, 40), date);
        return -1;
    }
    out->has_date = true;
    const char *version = line->field_count > 1 ? line->fields[1] : "";
    if (*version == '\0')
        return 0;
    if (!parse_driver_version(version, out->version)) {
        inf_set_error(r->error, r->error_size, "[Version] DriverVer: bad version '%.*s' "
                      "(expected w.x.y.z)", inf_quote_length(version, 40), version);
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
        value = inf_first_field(inf_find_keyed_line(inf, version, key));
    }
    if (!value || !*value)
        value = inf_first_field(inf_find_keyed_line(inf, version, "CatalogFile.NT"));
    if (!value || !*value)
        value = inf_first_field(inf_find_keyed_line(inf, version, "CatalogFile"));
    return value ? value : "";
}

static int read_version(struct driver_reader *r)
{
    const inf_file *inf = r->inf;
    const struct inf_section *version = inf_find_section(inf, "Version");
    if (!version)
        return reader_fail(r, "the INF has no [Version] section");
    inf_driver *out = r->out;
    out->class_name = dup_or_empty(inf_first_field(inf_find_keyed_line(inf, version, "Class")));
    out->class_guid = dup_or_empty(inf_first_field(inf_find_keyed_line(inf, version, "ClassGuid")));
    out->provider = dup_or_empty(inf_first_field(inf_find_keyed_line(inf, version, "Provider")));
    out->catalog_file = strdup(catalog_file(inf, version, r->image_arch));
    if (!out->class_name || !out->class_guid || !out->provider || !out->catalog_file)
        return reader_fail(r, "out of memory");
    const inf_line *driver_ver = inf_find_keyed_line(inf, version, "DriverVer");
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
        if (compose_name(buf, name, ".", suffix) && inf_find_section(inf, buf))
            return true;
    }
    if (compose_name(buf, name, ".", "NT") && inf_find_section(inf, buf))
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
        const inf_line *line = inf_section_line(inf, install, i);
        if (!line->key || !inf_same_name(line->key, "ExcludeId"))
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
    const struct inf_section *s = inf_find_section(r->inf, service_install);
    if (!s)
        return false;
    struct section_memo *memo = memo_of(r, s);
    if (memo->start == START_UNREAD) {
        const char *start = inf_first_field(inf_find_keyed_line(r->inf, s, "StartType"));
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
        const inf_line *line = inf_section_line(r->inf, services, i);
        if (!line->key || !inf_same_name(line->key, "AddService") || line->field_count == 0)
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
        compose_name(name, install_name, ".", "Services") ? inf_find_section(r->inf, name) : NULL;
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
    const char *excludes = exclude_ids(r, named ? inf_find_section(r->inf, install_name) : NULL);
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
        inf_set_error(r->error, r->error_size, "the driver description is larger than %u bytes",
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
    const struct inf_section *models = inf_find_section(r->inf, name);
    if (!models)
        return 0;
    struct section_memo *memo = memo_of(r, models);
    if (memo->models_read)
        return 0;
    memo->models_read = true;
    for (size_t i = 0; i < models->count; i++) {
        const inf_line *model = inf_section_line(r->inf, models, i);
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
    const struct inf_section *manufacturers = inf_find_section(r->inf, "Manufacturer");
    if (!manufacturers)
        return 0;
    r->memo = calloc(r->inf->section_count, sizeof *r->memo);
    if (!r->memo)
        return reader_fail(r, "out of memory");
    for (size_t i = 0; i < manufacturers->count; i++)
        if (read_manufacturer(r, inf_section_line(r->inf, manufacturers, i)) != 0)
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
        inf_set_error(error, error_size, "inf_read_driver: no %s", out ? "INF" : "output");
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
