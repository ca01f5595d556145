/*
 * config.c - DISM's capture configuration (WimScript.ini), for
 * _WIMPortableSetCaptureConfig.  wimlib reads its own dialect of the file,
 * which rejects what DISM accepts ("Relative patterns can only include one
 * path component", for "myfolder\*.txt"), so the engine reads DISM's and
 * decides each file itself in the capture's exclusion test (messages.c):
 *
 *   [ExclusionList]        patterns of files and folders left out
 *   [ExclusionException]   patterns kept although an exclusion matches them
 *                          (or a folder above them); the folders on the way
 *                          to an exception are kept so it can be reached
 *   [CompressionExclusionList]  read and ignored: wimlib compresses every
 *                          resource alike (the data is all captured)
 *
 * A pattern starting with "\" (or "X:\") is anchored at the capture root;
 * any other matches the last components of a path at any depth, so
 * "*.tmp" and "myfolder\*.txt" work as in DISM.  "*" and "?" match within
 * one component, case-insensitively, and "*.*" matches every name.  Files
 * may be UTF-16LE with a BOM or UTF-8; "#" and ";" start comments.
 */
#include "imaging.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_MAX_BYTES (1u << 20)

typedef struct {
    char **parts; /* components, '/'-free */
    size_t count;
    bool anchored;
} pattern;

typedef struct {
    pattern *items;
    size_t count;
} pattern_list;

struct capture_config {
    pattern_list exclude, except;
};

static void free_list(pattern_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        for (size_t k = 0; k < l->items[i].count; k++)
            free(l->items[i].parts[k]);
        free(l->items[i].parts);
    }
    free(l->items);
}

void config_free(struct capture_config *c)
{
    if (!c)
        return;
    free_list(&c->exclude);
    free_list(&c->except);
    free(c);
}

/* "C:\a\b" / "\a\b" / "a\*.txt" -> components; false when out of memory. */
static bool parse_pattern(char *text, pattern *p)
{
    memset(p, 0, sizeof *p);
    if (((text[0] | 0x20) >= 'a' && (text[0] | 0x20) <= 'z') && text[1] == ':')
        text += 2;
    for (char *c = text; *c; c++)
        if (*c == '\\')
            *c = '/';
    p->anchored = text[0] == '/';
    size_t cap = 1;
    for (char *c = text; *c; c++)
        cap += *c == '/';
    p->parts = calloc(cap, sizeof *p->parts);
    if (!p->parts)
        return false;
    for (char *save, *t = strtok_r(text, "/", &save); t; t = strtok_r(NULL, "/", &save))
        if (!(p->parts[p->count++] = strdup(strcmp(t, "*.*") == 0 ? "*" : t)))
            return false;
    return true;
}

static bool add_pattern(pattern_list *l, char *text)
{
    pattern *grown = realloc(l->items, (l->count + 1) * sizeof *grown);
    if (!grown)
        return false;
    l->items = grown;
    if (!parse_pattern(text, &l->items[l->count])) {
        l->count++;
        return false;
    }
    if (l->items[l->count].count == 0) { /* "\" alone names nothing */
        free(l->items[l->count].parts);
        return true;
    }
    l->count++;
    return true;
}

/* The file as UTF-8, whichever of DISM's encodings it is in. */
static char *config_text(const unsigned char *raw, size_t len)
{
    if (len >= 2 && raw[0] == 0xFF && raw[1] == 0xFE) {
        wchar_t *w = malloc((len / 2 + 1) * sizeof *w);
        if (!w)
            return NULL;
        size_t n = 0;
        for (size_t i = 2; i + 1 < len; i += 2)
            w[n++] = (wchar_t)(raw[i] | raw[i + 1] << 8);
        w[n] = L'\0';
        char *s = wide_to_utf8(w);
        free(w);
        return s;
    }
    if (len >= 3 && raw[0] == 0xEF && raw[1] == 0xBB && raw[2] == 0xBF)
        return strndup((const char *)raw + 3, len - 3);
    return strndup((const char *)raw, len);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* Which list a section header selects; NULL for an ignored section. */
static bool section_of(struct capture_config *c, const char *name, pattern_list **out)
{
    *out = NULL;
    if (strcasecmp(name, "[ExclusionList]") == 0)
        *out = &c->exclude;
    else if (strcasecmp(name, "[ExclusionException]") == 0)
        *out = &c->except;
    else if (strcasecmp(name, "[CompressionExclusionList]") != 0 &&
             strcasecmp(name, "[CompressionFolderList]") != 0 &&
             strcasecmp(name, "[PrepopulateList]") != 0)
        return false;
    return true;
}

static bool parse_config(struct capture_config *c, char *text, const char *path,
                         const char *function)
{
    pattern_list *current = NULL;
    bool in_section = false;
    unsigned line_no = 0;
    for (char *save, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        char *t = trim(line);
        if (!*t || *t == '#' || *t == ';')
            continue;
        if (*t == '[') {
            if (!section_of(c, t, &current))
                return wim_fail(ERROR_INVALID_DATA, "%s: '%s' line %u: unknown section %s; "
                                "DISM's sections are [ExclusionList], [ExclusionException] and "
                                "[CompressionExclusionList].", function, path, line_no, t);
            in_section = true;
            continue;
        }
        if (!in_section)
            return wim_fail(ERROR_INVALID_DATA, "%s: '%s' line %u: '%s' comes before any "
                            "section such as [ExclusionList].", function, path, line_no, t);
        if (current && !add_pattern(current, t))
            return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "%s: out of memory.", function);
    }
    return TRUE;
}

struct capture_config *config_load(const char *path, const char *function)
{
    size_t len = 0;
    int err = 0;
    unsigned char *raw = read_small_file(path, CONFIG_MAX_BYTES, &len, &err);
    if (!raw) {
        wim_fail_errno(err, "%s: cannot read the configuration file '%s'", function, path);
        return NULL;
    }
    char *text = config_text(raw, len);
    free(raw);
    struct capture_config *c = calloc(1, sizeof *c);
    bool ok = text && c;
    if (!ok)
        wim_fail(ERROR_NOT_ENOUGH_MEMORY, "%s: out of memory.", function);
    if (ok && !parse_config(c, text, path, function))
        ok = false;
    free(text);
    if (!ok) {
        config_free(c);
        return NULL;
    }
    return c;
}

/* ---- matching ---- */

static bool component_matches(const char *pat, const char *name, size_t len)
{
    char buf[1024];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return fnmatch(pat, buf, FNM_CASEFOLD) == 0;
}

/* Splits "/a/b/c" into component spans; returns their number. */
static size_t split_path(const char *rel, const char **starts, size_t *lens, size_t max)
{
    size_t n = 0;
    for (const char *p = rel; *p && n < max;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        starts[n] = p;
        lens[n++] = len;
        p += len;
    }
    return n;
}

/* Whether the path made of the first `depth` components matches p. */
static bool pattern_matches(const pattern *p, const char **starts, const size_t *lens,
                            size_t depth)
{
    if (p->count > depth || (p->anchored && p->count != depth))
        return false;
    size_t base = depth - p->count;
    for (size_t k = 0; k < p->count; k++)
        if (!component_matches(p->parts[k], starts[base + k], lens[base + k]))
            return false;
    return true;
}

/* Whether the path itself or a folder above it matches a pattern of l. */
static bool list_matches(const pattern_list *l, const char **starts, const size_t *lens,
                         size_t depth)
{
    for (size_t d = 1; d <= depth; d++)
        for (size_t i = 0; i < l->count; i++)
            if (pattern_matches(&l->items[i], starts, lens, d))
                return true;
    return false;
}

/* Whether an anchored exception lies below this folder (keep the way). */
static bool exception_below(const pattern_list *l, const char **starts, const size_t *lens,
                            size_t depth)
{
    for (size_t i = 0; i < l->count; i++) {
        const pattern *p = &l->items[i];
        if (!p->anchored || p->count <= depth)
            continue;
        bool prefix = true;
        for (size_t k = 0; prefix && k < depth; k++)
            prefix = component_matches(p->parts[k], starts[k], lens[k]);
        if (prefix)
            return true;
    }
    return false;
}

bool config_excludes(const struct capture_config *c, const char *rel)
{
    const char *starts[256];
    size_t lens[256];
    size_t depth = split_path(rel, starts, lens, 256);
    if (depth == 0 || !list_matches(&c->exclude, starts, lens, depth))
        return false;
    if (list_matches(&c->except, starts, lens, depth))
        return false;
    return !exception_below(&c->except, starts, lens, depth);
}

BOOL WINAPI _WIMPortableSetCaptureConfig(HANDLE Wim, PCWSTR ConfigFile)
{
    wim_begin();
    char *path = NULL;
    if (ConfigFile && *ConfigFile &&
        !wide_path_arg(ConfigFile, "_WIMPortableSetCaptureConfig", "the configuration file",
                       &path))
        return FALSE;
    bool given = path != NULL;
    struct capture_config *c = given ? config_load(path, "_WIMPortableSetCaptureConfig") : NULL;
    free(path);
    if (given && !c)
        return FALSE;
    wim_file *f = file_lock(Wim, false, "_WIMPortableSetCaptureConfig");
    if (!f) {
        config_free(c);
        return FALSE;
    }
    config_free(f->config);
    f->config = c;
    pthread_mutex_unlock(&f->lock);
    return TRUE;
}
