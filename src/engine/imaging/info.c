/*
 * info.c - WIMGetImageInformation and WIMSetImageInformation: the XML of a
 * WIM (<WIM> root, from a WIM handle) or of one image (<IMAGE> root, from
 * an image handle), as wide text starting with a BOM.
 *
 * wimlib cannot replace the document, so a Set is a diff: the given XML is
 * read (formats/xml), and for each image it names, NAME, DESCRIPTION,
 * FLAGS, DISPLAYNAME and DISPLAYDESCRIPTION that differ from the image's
 * are changed with wimlib_set_image_property (absent or empty removes
 * one).  Counts and times are wimlib's to compute.  The change is written
 * before the call returns.
 */
#include "imaging.h"
#include "formats/xml/xmlscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROPERTY_COUNT 5
static const char *const properties[PROPERTY_COUNT] = {"NAME", "DESCRIPTION", "FLAGS",
                                                       "DISPLAYNAME", "DISPLAYDESCRIPTION"};

/* ---- get ---- */

/* UTF-16LE bytes -> wide string (no BOM), or NULL. */
static wchar_t *from_utf16le(const unsigned char *b, size_t len, size_t *out_len)
{
    wchar_t *w = malloc((len / 2 + 1) * sizeof *w);
    size_t n = 0;
    for (size_t i = 0; w && i + 1 < len; i += 2) {
        uint32_t c = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8;
        if (c >= 0xD800 && c < 0xDC00 && i + 3 < len) {
            uint32_t lo = (uint32_t)b[i + 2] | (uint32_t)b[i + 3] << 8;
            if (lo >= 0xDC00 && lo < 0xE000) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        if (n == 0 && c == 0xFEFF)
            continue;
        w[n++] = (wchar_t)c;
    }
    if (w)
        w[n] = L'\0';
    *out_len = n;
    return w;
}

static wchar_t *wim_xml(wim_file *f, size_t *len)
{
    if (f->pending) {
        static const wchar_t empty[] = L"<WIM><TOTALBYTES>0</TOTALBYTES></WIM>";
        *len = wcslen(empty);
        return wcsdup(empty);
    }
    void *buf = NULL;
    size_t size = 0;
    int rc = wimlib_get_xml_data(f->wim, &buf, &size);
    if (rc != 0) {
        wim_fail_wimlib(rc, "WIMGetImageInformation: cannot read the XML of '%s'", f->path);
        return NULL;
    }
    wchar_t *w = from_utf16le(buf, size, len);
    free(buf);
    return w;
}

/* The <IMAGE INDEX="n"> element of a WIM's XML, cut out in place. */
static bool cut_image(wchar_t *xml, size_t *len, int index)
{
    wchar_t open[40];
    swprintf(open, 40, L"<IMAGE INDEX=\"%d\"", index);
    wchar_t *start = wcsstr(xml, open);
    wchar_t *end = start ? wcsstr(start, L"</IMAGE>") : NULL;
    if (!end)
        return false;
    end += wcslen(L"</IMAGE>");
    *len = (size_t)(end - start);
    memmove(xml, start, *len * sizeof *xml);
    xml[*len] = L'\0';
    return true;
}

BOOL WINAPI WIMGetImageInformation(HANDLE Object, PVOID *ImageInfo, PDWORD cbImageInfo)
{
    wim_begin();
    if (!ImageInfo || !cbImageInfo)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMGetImageInformation: ImageInfo and "
                        "cbImageInfo are required.");
    *ImageInfo = NULL;
    *cbImageInfo = 0;
    wim_image *img = handle_image(Object);
    wim_file *f = file_lock(Object, true, "WIMGetImageInformation");
    if (!f)
        return FALSE;
    size_t len = 0;
    wchar_t *xml = wim_xml(f, &len);
    BOOL ok = xml != NULL;
    if (ok && img && !cut_image(xml, &len, img->index))
        ok = wim_fail(ERROR_FILE_CORRUPT, "WIMGetImageInformation: the XML of '%s' has no "
                      "entry for image %d.", f->path, img->index);
    pthread_mutex_unlock(&f->lock);
    wchar_t *out = ok ? malloc((len + 2) * sizeof *out) : NULL;
    if (ok && !out)
        ok = wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMGetImageInformation: out of memory.");
    if (ok) {
        out[0] = 0xFEFF;
        memcpy(out + 1, xml, (len + 1) * sizeof *out);
        *ImageInfo = out;
        /* Bytes of BOM and text; the terminating NUL is not counted. */
        *cbImageInfo = (DWORD)((len + 1) * sizeof *out);
    }
    free(xml);
    return ok;
}

/* ---- set ---- */

typedef struct {
    bool seen;
    char *values[PROPERTY_COUNT]; /* NULL: absent */
} image_props;

typedef struct {
    unsigned image_depth;  /* depth of <IMAGE> elements: 1 or 2 */
    int fixed_index;       /* an image handle's index, or 0 */
    const char *root;      /* "WIM" or "IMAGE" */
    image_props *images;
    size_t image_count;
    int current;           /* 1-based index being read, 0 outside */
    int property;          /* index into properties[] being read, -1 outside */
    char error[160];
} set_ctx;

static int on_start(void *p, const char *name, const xml_attr *attrs, size_t n, unsigned depth)
{
    set_ctx *c = p;
    if (depth == 1 && strcmp(name, c->root) != 0) {
        snprintf(c->error, sizeof c->error, "the root element is <%s>, not <%s>", name, c->root);
        return 1;
    }
    if (depth == c->image_depth && strcmp(name, "IMAGE") == 0) {
        const char *idx = xml_attr_get(attrs, n, "INDEX");
        long i = c->fixed_index ? c->fixed_index : idx ? strtol(idx, NULL, 10) : 0;
        c->current = i >= 1 && (size_t)i <= c->image_count ? (int)i : 0;
        if (!c->current) {
            snprintf(c->error, sizeof c->error, "<IMAGE INDEX=\"%s\"> names no image of the WIM",
                     idx ? idx : "");
            return 1;
        }
        c->images[c->current - 1].seen = true;
    } else if (depth == c->image_depth + 1 && c->current) {
        for (int k = 0; k < PROPERTY_COUNT; k++)
            if (strcmp(name, properties[k]) == 0) {
                c->property = k;
                char **v = &c->images[c->current - 1].values[k];
                if (!*v)
                    *v = strdup("");
            }
    }
    return 0;
}

static int on_end(void *p, const char *name, unsigned depth)
{
    set_ctx *c = p;
    (void)name;
    if (depth == c->image_depth)
        c->current = 0;
    if (depth == c->image_depth + 1)
        c->property = -1;
    return 0;
}

static int on_text(void *p, const char *text, size_t len, unsigned depth)
{
    set_ctx *c = p;
    if (!c->current || c->property < 0 || depth != c->image_depth + 1)
        return 0;
    char **v = &c->images[c->current - 1].values[c->property];
    size_t old = *v ? strlen(*v) : 0;
    char *grown = realloc(*v, old + len + 1);
    if (!grown)
        return 1;
    memcpy(grown + old, text, len);
    grown[old + len] = '\0';
    *v = grown;
    return 0;
}

/* Applies one image's differences; true when something changed. */
static int apply_props(WIMStruct *wim, int index, const image_props *p, bool *changed)
{
    for (int k = 0; k < PROPERTY_COUNT; k++) {
        const char *want = p->values[k] ? p->values[k] : "";
        const char *have = wimlib_get_image_property(wim, index, properties[k]);
        if (strcmp(want, have ? have : "") == 0)
            continue;
        int rc = wimlib_set_image_property(wim, index, properties[k], want);
        if (rc != 0)
            return rc;
        *changed = true;
    }
    return 0;
}

/* The given buffer (BOM, NUL and cb in bytes all optional) as UTF-8. */
static char *given_xml(const void *buf, DWORD cb)
{
    size_t n = cb / sizeof(wchar_t);
    wchar_t *w = malloc((n + 1) * sizeof *w);
    if (!w)
        return NULL;
    memcpy(w, buf, n * sizeof *w);
    w[n] = L'\0';
    wchar_t *start = w[0] == 0xFEFF ? w + 1 : w;
    char *s = wide_to_utf8(start);
    free(w);
    return s;
}

static BOOL set_info(wim_file *f, wim_image *img, const char *xml)
{
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    set_ctx c = {.image_depth = img ? 1 : 2, .fixed_index = img ? img->index : 0,
                 .root = img ? "IMAGE" : "WIM", .image_count = info.image_count,
                 .property = -1};
    c.images = calloc(info.image_count + 1, sizeof *c.images);
    if (!c.images)
        return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMSetImageInformation: out of memory.");
    xml_handler h = {on_start, on_end, on_text};
    char err[200];
    int rc = xml_scan(xml, strlen(xml), &h, &c, err, sizeof err);
    BOOL ok = rc == 0 ? TRUE
                      : wim_fail(ERROR_INVALID_DATA, "WIMSetImageInformation: the XML given for "
                                 "'%s' is not usable: %s.", f->path, rc < 0 ? err : c.error);
    bool changed = false;
    for (size_t i = 0; ok && i < info.image_count; i++) {
        int r = c.images[i].seen ? apply_props(f->wim, (int)i + 1, &c.images[i], &changed) : 0;
        if (r != 0) {
            ok = wim_fail_wimlib(r, "WIMSetImageInformation: cannot change image %zu of '%s'",
                                 i + 1, f->path);
            file_discard(f);
        }
    }
    for (size_t i = 0; i < info.image_count; i++)
        for (int k = 0; k < PROPERTY_COUNT; k++)
            free(c.images[i].values[k]);
    free(c.images);
    if (ok && changed && !f->pending) {
        wim_op op;
        op_init(&op, "WIMSetImageInformation", f, NULL);
        ok = file_commit(f, &op, 0);
    }
    return ok;
}

BOOL WINAPI WIMSetImageInformation(HANDLE Object, PVOID ImageInfo, DWORD cbImageInfo)
{
    wim_begin();
    if (!ImageInfo || cbImageInfo < sizeof(wchar_t))
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMSetImageInformation: the XML is missing.");
    char *xml = given_xml(ImageInfo, cbImageInfo);
    if (!xml)
        return wim_fail(ERROR_INVALID_DATA, "WIMSetImageInformation: the XML is not valid "
                        "Unicode text.");
    wim_image *img = handle_image(Object);
    wim_file *f = file_lock(Object, true, "WIMSetImageInformation");
    BOOL ok = FALSE;
    if (f) {
        ok = file_require_write(f, "WIMSetImageInformation") && set_info(f, img, xml);
        pthread_mutex_unlock(&f->lock);
    }
    free(xml);
    return ok;
}
