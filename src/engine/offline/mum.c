/*
 * mum.c - servicing manifests.
 *
 * A package's manifest (Windows\servicing\Packages\<identity>.mum) is where
 * the metadata the registry lacks lives: display name and description,
 * release type, restart behaviour, the features ("updates") it owns with
 * their own names and parents, the capability it declares, and custom
 * information.  The element vocabulary is CBS's own (namespace
 * urn:schemas-microsoft-com:asm.v3): undocumented, but plain and stable
 * across the real manifests it was read from [C].
 */
#include "offline.h"
#include "formats/xml/xmlscan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A real .mum is a few kilobytes; language packs reach a few hundred. */
#define MUM_MAX_BYTES (16u << 20)
#define MUM_MAX_DEPTH 64
/* Real manifests carry a handful of custom properties with short paths;
 * the caps keep a hostile one from costing memory per element. */
#define MUM_MAX_PROPERTIES 4096
#define MUM_MAX_PROPERTY_PATH 1024

typedef struct {
    mum_info *mum;
    const char *stack[MUM_MAX_DEPTH + 1]; /* element names by depth (borrowed) */
    char *owned[MUM_MAX_DEPTH + 1];
    mum_update *current_update;           /* the <package><update> being read */
    unsigned update_depth;
    unsigned custom_depth;                /* depth of <customInformation>, 0 outside */
    char *text;                           /* text of the innermost element */
    size_t text_len;
    bool child_seen[MUM_MAX_DEPTH + 1];
    bool failed;     /* out of memory */
    bool too_big;    /* beyond the caps above */
} mum_reader;

static const char *parent_name(const mum_reader *r, unsigned depth, unsigned up)
{
    return depth > up && depth - up <= MUM_MAX_DEPTH ? r->stack[depth - up] : NULL;
}

static bool named(const char *a, const char *b) { return a && !strcmp(a, b); }

static bool grow(void **array, size_t count, size_t elem)
{
    if (count & (count - 1)) /* not a power of two: room is left */
        return true;
    void *p = realloc(*array, (count ? count * 2 : 1) * elem);
    if (!p)
        return false;
    *array = p;
    return true;
}

static void set_attr(char **field, const xml_attr *attrs, size_t n, const char *name)
{
    const char *v = xml_attr_get(attrs, n, name);
    if (v && !*field)
        *field = strdup(v);
}

static void read_assembly(mum_info *m, const xml_attr *a, size_t n)
{
    set_attr(&m->display_name, a, n, "displayName");
    set_attr(&m->description, a, n, "description");
    set_attr(&m->company, a, n, "company");
    set_attr(&m->copyright, a, n, "copyright");
    set_attr(&m->support_information, a, n, "supportInformation");
    set_attr(&m->creation_time, a, n, "creationTimeStamp");
    set_attr(&m->last_update_time, a, n, "lastUpdateTimeStamp");
}

static void read_identity(mum_info *m, const xml_attr *a, size_t n)
{
    set_attr(&m->name, a, n, "name");
    set_attr(&m->version, a, n, "version");
    set_attr(&m->arch, a, n, "processorArchitecture");
    set_attr(&m->language, a, n, "language");
    set_attr(&m->token, a, n, "publicKeyToken");
}

static mum_update *add_update(mum_info *m, const xml_attr *a, size_t n)
{
    if (!grow((void **)&m->updates, m->update_count, sizeof *m->updates))
        return NULL;
    mum_update *u = &m->updates[m->update_count++];
    memset(u, 0, sizeof *u);
    set_attr(&u->name, a, n, "name");
    set_attr(&u->display_name, a, n, "displayName");
    set_attr(&u->description, a, n, "description");
    set_attr(&u->restart, a, n, "restart");
    return u;
}

static bool add_parent(mum_update *u, const char *name)
{
    if (!name || !grow((void **)&u->parents, u->parent_count, sizeof *u->parents))
        return name == NULL;
    u->parents[u->parent_count] = strdup(name);
    return u->parents[u->parent_count++] != NULL;
}

/* "Name~~~Language~Version", the identity DISM lists capabilities by [C]. */
static void read_capability_identity(mum_info *m, const xml_attr *a, size_t n)
{
    const char *name = xml_attr_get(a, n, "name");
    if (!name || m->capability)
        return;
    const char *lang = xml_attr_get(a, n, "language");
    const char *version = xml_attr_get(a, n, "version");
    if (lang && !strcasecmp(lang, "neutral"))
        lang = "";
    size_t size = strlen(name) + (lang ? strlen(lang) : 0) + (version ? strlen(version) : 0) + 8;
    m->capability = malloc(size);
    if (m->capability)
        snprintf(m->capability, size, "%s~~~%s~%s", name, lang ? lang : "", version ? version : "");
}

/* The element path below <customInformation>, joined with backslashes. */
static char *custom_path(mum_reader *r, unsigned depth)
{
    size_t size = 1;
    for (unsigned d = r->custom_depth + 1; d <= depth && d <= MUM_MAX_DEPTH; d++)
        size += strlen(r->stack[d]) + 1;
    if (size > MUM_MAX_PROPERTY_PATH) {
        r->too_big = true;
        return NULL;
    }
    char *path = calloc(1, size);
    for (unsigned d = r->custom_depth + 1; path && d <= depth && d <= MUM_MAX_DEPTH; d++) {
        if (*path)
            strcat(path, "\\");
        strcat(path, r->stack[d]);
    }
    return path;
}

static bool add_property(mum_reader *r, const char *name, const char *value, char *path)
{
    mum_info *m = r->mum;
    if (r->too_big || m->property_count >= MUM_MAX_PROPERTIES) {
        r->too_big = true;
        free(path);
        return true;
    }
    if (!grow((void **)&m->properties, m->property_count, sizeof *m->properties)) {
        free(path);
        return false;
    }
    mum_property *p = &m->properties[m->property_count++];
    p->name = strdup(name);
    p->value = strdup(value);
    p->path = path;
    return p->name && p->value;
}

static void read_custom_attributes(mum_reader *r, const xml_attr *a, size_t n, unsigned depth)
{
    for (size_t i = 0; i < n && !r->failed; i++)
        if (!add_property(r, a[i].name, a[i].value, custom_path(r, depth)))
            r->failed = true;
}

static int on_start(void *ctx, const char *name, const xml_attr *a, size_t n, unsigned depth)
{
    mum_reader *r = ctx;
    mum_info *m = r->mum;
    if (depth > MUM_MAX_DEPTH)
        return 0;
    r->owned[depth] = strdup(name);
    r->stack[depth] = r->owned[depth];
    if (!r->stack[depth])
        return r->failed = true, 1;
    r->child_seen[depth] = false;
    if (depth > 1)
        r->child_seen[depth - 1] = true;
    free(r->text);
    r->text = NULL;
    r->text_len = 0;

    const char *parent = parent_name(r, depth, 1);
    if (depth == 1 && named(name, "assembly"))
        read_assembly(m, a, n);
    else if (depth == 2 && named(name, "assemblyIdentity") && named(parent, "assembly"))
        read_identity(m, a, n);
    else if (depth == 2 && named(name, "package")) {
        set_attr(&m->release_type, a, n, "releaseType");
        set_attr(&m->restart, a, n, "restart");
    } else if (depth == 3 && named(name, "update") && named(parent, "package")) {
        r->current_update = add_update(m, a, n);
        r->update_depth = depth;
        if (!r->current_update)
            r->failed = true;
    } else if (r->current_update && named(name, "selectable")) {
        r->current_update->selectable = true;
    } else if (r->current_update && named(name, "update") && named(parent, "detectUpdate") &&
               named(parent_name(r, depth, 2), "applicable")) {
        if (!add_parent(r->current_update, xml_attr_get(a, n, "name")))
            r->failed = true;
    } else if (named(name, "capability") && named(parent, "declareCapability")) {
        set_attr(&m->capability_display_name, a, n, "displayName");
        set_attr(&m->capability_description, a, n, "description");
    } else if (named(name, "capabilityIdentity") && named(parent, "capability")) {
        read_capability_identity(m, a, n);
    } else if (named(name, "customInformation") && !r->custom_depth) {
        r->custom_depth = depth;
    } else if (r->custom_depth && depth > r->custom_depth) {
        read_custom_attributes(r, a, n, depth);
    }
    return r->failed || r->too_big ? 1 : 0;
}

static int on_text(void *ctx, const char *text, size_t len, unsigned depth)
{
    mum_reader *r = ctx;
    if (!r->custom_depth || depth <= r->custom_depth || depth > MUM_MAX_DEPTH)
        return 0;
    char *grown = realloc(r->text, r->text_len + len + 1);
    if (!grown)
        return r->failed = true, 1;
    memcpy(grown + r->text_len, text, len);
    r->text_len += len;
    grown[r->text_len] = '\0';
    r->text = grown;
    return 0;
}

static bool is_blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

static int on_end(void *ctx, const char *name, unsigned depth)
{
    mum_reader *r = ctx;
    if (depth > MUM_MAX_DEPTH)
        return 0;
    /* A leaf element with text inside <customInformation> is a property
     * named after the element, its path being the elements around it. */
    if (r->custom_depth && depth > r->custom_depth && !r->child_seen[depth] && r->text &&
        !is_blank(r->text)) {
        if (!add_property(r, name, r->text, custom_path(r, depth - 1)))
            r->failed = true;
    }
    free(r->text);
    r->text = NULL;
    r->text_len = 0;
    if (depth == r->custom_depth)
        r->custom_depth = 0;
    if (depth == r->update_depth) {
        r->current_update = NULL;
        r->update_depth = 0;
    }
    free(r->owned[depth]);
    r->owned[depth] = NULL;
    r->stack[depth] = NULL;
    return r->failed || r->too_big ? 1 : 0;
}

char *mum_load(const char *function, const char *path, size_t *len, HRESULT *hr)
{
    int err;
    char *data = read_small_file(path, MUM_MAX_BYTES, len, &err);
    *hr = data ? S_OK
               : engine_fail_errno(err, "%s: cannot read the package manifest '%s'", function,
                                   path);
    return data;
}

HRESULT mum_read(const char *function, const char *path, mum_info *out)
{
    memset(out, 0, sizeof *out);
    size_t len;
    HRESULT hr;
    char *data = mum_load(function, path, &len, &hr);
    if (data)
        hr = mum_parse(function, path, data, len, out);
    free(data);
    return hr;
}

HRESULT mum_parse(const char *function, const char *path, const char *data, size_t len,
                  mum_info *out)
{
    memset(out, 0, sizeof *out);
    mum_reader r = {.mum = out};
    static const xml_handler handler = {on_start, on_end, on_text};
    char message[256] = "";
    int rc = xml_scan(data, len, &handler, &r, message, sizeof message);
    free(r.text);
    for (unsigned d = 0; d <= MUM_MAX_DEPTH; d++)
        free(r.owned[d]);
    if (r.failed) {
        mum_free(out);
        return engine_fail(E_OUTOFMEMORY, "%s: out of memory reading '%s'.", function, path);
    }
    if (r.too_big) {
        mum_free(out);
        return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT), "%s: the package manifest "
                           "'%s' has more custom information than a manifest holds (over %d "
                           "properties, or paths over %d bytes).", function, path,
                           MUM_MAX_PROPERTIES, MUM_MAX_PROPERTY_PATH);
    }
    if (rc != 0) {
        mum_free(out);
        return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT),
                           "%s: the package manifest '%s' is not well-formed XML: %s.", function,
                           path, message);
    }
    return S_OK;
}

void mum_free(mum_info *m)
{
    char **fields[] = {&m->name, &m->version, &m->arch, &m->language, &m->token,
                       &m->display_name, &m->description, &m->company, &m->copyright,
                       &m->support_information, &m->creation_time, &m->last_update_time,
                       &m->release_type, &m->restart, &m->capability,
                       &m->capability_display_name, &m->capability_description};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free(*fields[i]);
    for (size_t i = 0; i < m->update_count; i++) {
        mum_update *u = &m->updates[i];
        FREE_STRINGS(u->name, u->display_name, u->description, u->restart);
        for (size_t k = 0; k < u->parent_count; k++)
            free(u->parents[k]);
        free(u->parents);
    }
    free(m->updates);
    for (size_t i = 0; i < m->property_count; i++)
        FREE_STRINGS(m->properties[i].name, m->properties[i].value, m->properties[i].path);
    free(m->properties);
    memset(m, 0, sizeof *m);
}

static int compare_names(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

static void list_manifests(offline_image *img)
{
    img->manifests_listed = true;
    if (!offline_windows_path(img, "servicing/Packages", img->manifest_dir,
                              sizeof img->manifest_dir))
        return;
    DIR *d = opendir(img->manifest_dir);
    size_t capacity = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!has_suffix_ci(e->d_name, ".mum"))
            continue;
        if (img->manifest_count == capacity) {
            capacity = capacity ? capacity * 2 : 256;
            char **bigger = realloc(img->manifests, capacity * sizeof *bigger);
            if (!bigger)
                break;
            img->manifests = bigger;
        }
        char *name = strdup(e->d_name);
        if (!name)
            break;
        img->manifests[img->manifest_count++] = name;
    }
    if (d)
        closedir(d);
    if (img->manifest_count)
        qsort(img->manifests, img->manifest_count, sizeof *img->manifests, compare_names);
}

size_t mum_listing(offline_image *img)
{
    if (!img->manifests_listed)
        list_manifests(img);
    return img->manifest_count;
}

bool mum_path(offline_image *img, const char *identity, char *out, size_t size)
{
    /* An identity is a file name: it must not climb out of the folder. */
    if (!identity || !*identity || strchr(identity, '/') || strchr(identity, '\\') ||
        strlen(identity) > 200)
        return false;
    mum_listing(img);
    char wanted[256];
    snprintf(wanted, sizeof wanted, "%s.mum", identity);
    const char *key = wanted;
    char **found = img->manifest_count
                       ? bsearch(&key, img->manifests, img->manifest_count,
                                 sizeof *img->manifests, compare_names)
                       : NULL;
    if (!found)
        return false;
    char path[ENGINE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", img->manifest_dir, *found);
    /* A manifest that is a link out of the image is not read. */
    return offline_inside_image(img, path, out, size);
}

char *mum_identity(const mum_info *m)
{
    if (!m->name)
        return NULL;
    const char *lang = m->language && strcasecmp(m->language, "neutral") ? m->language : "";
    size_t size = strlen(m->name) + 5 + (m->token ? strlen(m->token) : 0) +
                  (m->arch ? strlen(m->arch) : 0) + strlen(lang) +
                  (m->version ? strlen(m->version) : 0);
    char *id = malloc(size);
    if (id)
        snprintf(id, size, "%s~%s~%s~%s~%s", m->name, m->token ? m->token : "",
                 m->arch ? m->arch : "", lang, m->version ? m->version : "");
    return id;
}

const mum_update *mum_find_update(const mum_info *m, const char *name)
{
    for (size_t i = 0; i < m->update_count; i++)
        if (m->updates[i].name && !strcasecmp(m->updates[i].name, name))
            return &m->updates[i];
    return NULL;
}
