/*
 * xmlscan.h - a small event-driven XML scanner for Windows servicing
 * manifests (the .mum files in Windows/servicing/Packages) and similar
 * documents.
 *
 * It reports elements, attributes and character data; it builds no tree and
 * resolves no namespaces (prefixes are simply dropped, which is enough for
 * manifests that use one namespace).  It depends only on libc.
 *
 * Input may be UTF-8 (with or without a BOM) or UTF-16LE/BE with a BOM;
 * everything handed to the callbacks is UTF-8 and NUL-terminated.  The
 * DOCTYPE is skipped and the entities it declares are never expanded, so
 * referring to one is an error, not an expansion.  Hostile input yields -1
 * and a message; the work is linear in the input size and the memory is
 * bounded by a small multiple of it.
 */
#ifndef DISM_XMLSCAN_H
#define DISM_XMLSCAN_H

#include <stddef.h>

#define XML_MAX_DEPTH 256u           /* nesting of elements */
#define XML_MAX_ATTRS 256u           /* attributes on one element */
#define XML_MAX_INPUT (64u << 20)    /* bytes of input, before any conversion */

typedef struct {
    const char *name;   /* UTF-8, prefix removed (see xml_scan) */
    const char *value;  /* UTF-8, references decoded, whitespace normalized */
} xml_attr;

typedef struct {
    /* Each callback returns 0 to continue, nonzero to stop the scan (xml_scan
     * then returns that value).  Any of them may be NULL.  The strings and
     * the attribute array are only valid during the call. */
    int (*start)(void *ctx, const char *name, const xml_attr *attrs, size_t attr_count,
                 unsigned depth);
    int (*end)(void *ctx, const char *name, unsigned depth);
    /* Character data and CDATA inside the root element, references decoded
     * and line ends normalized to "\n".  One contiguous run may arrive in
     * several calls; len is never 0 and text[len] is '\0'.  depth is that of
     * the enclosing element. */
    int (*text)(void *ctx, const char *text, size_t len, unsigned depth);
} xml_handler;

/*
 * Scans a document of len bytes, calling handler's callbacks with ctx.
 *
 * Element and attribute names are given without their namespace prefix
 * ("asm:update" -> "update").  Namespace declarations are passed through as
 * ordinary attributes under their full names ("xmlns", "xmlns:asm").  Two
 * attributes of one element whose names are equal after the prefix is
 * removed are rejected as duplicates.  depth is 1 for the root element, and
 * an element's end callback receives the same depth as its start callback.
 * handler may be NULL to check well-formedness only.
 *
 * Returns 0 on success, a callback's nonzero value if it stopped the scan,
 * or -1 when the input is malformed, too large or memory ran out; then
 * error (when not NULL) holds a message such as
 * "line 7: mismatched end tag </pakage>, expected </package>".
 * error is set to "" on any other outcome.
 */
int xml_scan(const void *data, size_t len, const xml_handler *handler, void *ctx, char *error,
             size_t error_size);

/* The value of the attribute called exactly `name`, or NULL. */
const char *xml_attr_get(const xml_attr *attrs, size_t count, const char *name);

#endif
