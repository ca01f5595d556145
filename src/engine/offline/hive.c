/*
 * hive.c - small typed accessors over hivex, and the per-call view of an
 * offline image (offline_begin / offline_end).
 *
 * hivex reports "missing" and "broken" the same way for most calls (0 or
 * NULL), telling them apart only through errno.  The servicing functions
 * treat both as "the image does not hold this fact": a damaged key gives an
 * empty or partial answer, never a value made up from garbage.  Opening a
 * hive that exists but is not a hive is the one hard error.
 */
#include "offline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/stat.h>

/* No value the engine reads is legitimately larger than this. */
#define HIVE_STRING_MAX (1u << 20)
/* Far above any real key (the Packages key of a serviced Windows 11 image
 * has ~5,000 subkeys); guards against a hostile subkey list. */
#define HIVE_CHILDREN_MAX 1000000u

static const char *const hive_files[HIVE_COUNT] = {
    [HIVE_SOFTWARE] = "SOFTWARE",
    [HIVE_SYSTEM] = "SYSTEM",
    [HIVE_DRIVERS] = "DRIVERS",
    [HIVE_COMPONENTS] = "COMPONENTS",
};

const char *hive_file_name(hive_kind kind) { return hive_files[kind]; }

/* ---- the image view ---- */

HRESULT offline_begin(DismSession session, const char *function, offline_image *img)
{
    memset(img, 0, sizeof *img);
    HRESULT hr = engine_require_initialized(function);
    if (FAILED(hr))
        return hr;
    hr = session_acquire_image(session, function, img->root, img->windows_dir, sizeof img->root);
    if (FAILED(hr))
        return hr;
    img->session = session;
    img->function = function;
    engine_clear_error();
    return S_OK;
}

/* The manifest listing (mum_listing) lives as long as the image view. */
static void forget_manifest_listing(offline_image *img)
{
    for (size_t i = 0; i < img->manifest_count; i++)
        free(img->manifests[i]);
    free(img->manifests);
    img->manifests = NULL;
    img->manifest_count = 0;
    img->manifests_listed = false;
}

void offline_end(offline_image *img)
{
    for (int i = 0; i < HIVE_COUNT; i++) {
        if (img->hives[i])
            hivex_close(img->hives[i]);
        img->hives[i] = NULL;
    }
    forget_manifest_listing(img);
    if (img->function)
        session_release(img->session);
    img->function = NULL;
}

/* The real path of `path`, when it lies inside the image root: a link in
 * the image (a directory tree, or a WIM holding a symbolic link) must not
 * lead the engine to read the host's files as if they were the image's. */
bool offline_inside_image(const offline_image *img, const char *path, char *out, size_t size)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return false;
    size_t n = strlen(img->root);
    if (strncmp(real, img->root, n) != 0 || (real[n] != '/' && real[n] != '\0' && n > 1))
        return false;
    snprintf(out, size, "%s", real);
    return true;
}

bool offline_windows_path(const offline_image *img, const char *relative, char *out, size_t size)
{
    char current[ENGINE_PATH_MAX], next[ENGINE_PATH_MAX], part[256];
    snprintf(current, sizeof current, "%s", img->windows_dir);
    for (const char *p = relative; *p;) {
        p += strspn(p, "/");
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (len >= sizeof part)
            return false;
        memcpy(part, p, len);
        part[len] = '\0';
        p += len;
        if (!strcmp(part, ".") || !strcmp(part, "..") || !find_child_ci(current, part, next, sizeof next))
            return false;
        memcpy(current, next, sizeof current);
    }
    return offline_inside_image(img, current, out, size);
}

bool offline_hive_path(offline_image *img, hive_kind kind, char *out, size_t size)
{
    char relative[64];
    snprintf(relative, sizeof relative, "System32/config/%s", hive_files[kind]);
    return offline_windows_path(img, relative, out, size);
}

hive_h *offline_hive(offline_image *img, hive_kind kind, HRESULT *hr)
{
    *hr = S_OK;
    if (img->tried[kind]) {
        *hr = img->open_failure[kind];
        return img->hives[kind];
    }
    img->tried[kind] = true;
    char path[ENGINE_PATH_MAX];
    if (!offline_hive_path(img, kind, path, sizeof path))
        return NULL;
    struct stat st = {0};
    /* Read-only: hivex maps the file and never writes it.  Only a regular
     * file is opened (a FIFO would block the open). */
    hive_h *h = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? hivex_open(path, 0) : NULL;
    if (!h) {
        int err = S_ISREG(st.st_mode) ? errno : EINVAL;
        *hr = engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT),
                          "%s: the %s hive '%s' cannot be read as a registry hive (%s).",
                          img->function, hive_files[kind], path, strerror(err));
        engine_log(LOG_ERROR, "%s", engine_last_error());
        img->open_failure[kind] = *hr;
        return NULL;
    }
    img->hives[kind] = h;
    return h;
}

HRESULT offline_require_hive(offline_image *img, hive_kind kind, hive_h **out)
{
    HRESULT hr;
    *out = offline_hive(img, kind, &hr);
    if (FAILED(hr) || *out)
        return hr;
    return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
                       "%s: the image has no %s registry hive (%s/System32/config/%s).",
                       img->function, hive_files[kind], img->windows_dir, hive_files[kind]);
}

hive_node_h offline_control_set(offline_image *img)
{
    HRESULT hr;
    hive_h *h = offline_hive(img, HIVE_SYSTEM, &hr);
    if (!h)
        return 0;
    hive_node_h root = hivex_root(h);
    if (img->control_set == 0) {
        uint32_t current = 0;
        /* Select\Current names the set Windows boots with [D]; images that
         * lack it are treated as using ControlSet001, as wimlib does. */
        if (!hive_dword(h, hive_lookup(h, root, "Select"), "Current", &current) || current == 0 ||
            current > 999)
            current = 1;
        img->control_set = (int)current;
    }
    char name[32];
    snprintf(name, sizeof name, "ControlSet%03d", img->control_set);
    return hive_lookup(h, root, name);
}

/* ---- typed accessors ---- */

hive_node_h hive_lookup(hive_h *h, hive_node_h from, const char *path)
{
    if (!h || !from)
        return 0;
    hive_node_h node = from;
    char part[256];
    for (const char *p = path; *p && node;) {
        p += strspn(p, "\\");
        size_t len = strcspn(p, "\\");
        if (len == 0)
            break;
        if (len >= sizeof part)
            return 0;
        memcpy(part, p, len);
        part[len] = '\0';
        p += len;
        node = hivex_node_get_child(h, node, part);
    }
    return node;
}

static hive_value_h find_value(hive_h *h, hive_node_h node, const char *name, hive_type *type,
                               size_t *len)
{
    if (!h || !node)
        return 0;
    hive_value_h v = hivex_node_get_value(h, node, name);
    if (!v || hivex_value_type(h, v, type, len) < 0)
        return 0;
    return v;
}

char *hive_string(hive_h *h, hive_node_h node, const char *name)
{
    hive_type type;
    size_t len;
    hive_value_h v = find_value(h, node, name, &type, &len);
    if (!v || (type != hive_t_REG_SZ && type != hive_t_REG_EXPAND_SZ) || len > HIVE_STRING_MAX)
        return NULL;
    return hivex_value_string(h, v);
}

bool hive_dword(hive_h *h, hive_node_h node, const char *name, uint32_t *out)
{
    return h && node && hive_value_dword(h, hivex_node_get_value(h, node, name), out);
}

bool hive_value_dword(hive_h *h, hive_value_h v, uint32_t *out)
{
    hive_type type;
    size_t len;
    if (!h || !v || hivex_value_type(h, v, &type, &len) < 0 ||
        (type != hive_t_REG_DWORD && type != hive_t_REG_DWORD_BIG_ENDIAN) || len < 4)
        return false;
    errno = 0;
    int32_t value = hivex_value_dword(h, v);
    if (value == -1 && errno != 0)
        return false;
    *out = (uint32_t)value;
    return true;
}

void hive_free_strings(char **strings)
{
    if (!strings)
        return;
    for (char **s = strings; *s; s++)
        free(*s);
    free(strings);
}

char **hive_strings(hive_h *h, hive_node_h node, const char *name)
{
    hive_type type;
    size_t len;
    hive_value_h v = find_value(h, node, name, &type, &len);
    if (!v || type != hive_t_REG_MULTI_SZ || len > HIVE_STRING_MAX)
        return NULL;
    char **all = hivex_value_multiple_strings(h, v);
    if (!all)
        return NULL;
    /* hivex turns the terminating empty string into an element [V]. */
    size_t kept = 0;
    for (size_t i = 0; all[i]; i++) {
        if (all[i][0])
            all[kept++] = all[i];
        else
            free(all[i]);
    }
    all[kept] = NULL;
    return all;
}

void *hive_binary(hive_h *h, hive_node_h node, const char *name, size_t max, size_t *len)
{
    hive_type type;
    hive_value_h v = find_value(h, node, name, &type, len);
    if (!v || *len > max)
        return NULL;
    size_t got = 0;
    void *data = hivex_value_value(h, v, &type, &got);
    if (data)
        *len = got;
    return data;
}

char *hive_name(hive_h *h, hive_node_h node)
{
    return h && node ? hivex_node_name(h, node) : NULL;
}

hive_node_h *hive_children(hive_h *h, hive_node_h node, size_t *count)
{
    *count = 0;
    if (!h || !node) {
        hive_node_h *none = calloc(1, sizeof *none);
        if (!none)
            errno = ENOMEM;
        return none;
    }
    hive_node_h *children = hivex_node_children(h, node);
    if (!children)
        return NULL;
    size_t n = 0;
    while (children[n] && n < HIVE_CHILDREN_MAX)
        n++;
    children[n] = 0;
    *count = n;
    return children;
}
