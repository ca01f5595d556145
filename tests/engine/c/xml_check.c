/*
 * Checks of the servicing-manifest XML scanner (src/engine/formats/xml/xmlscan.c): a
 * realistic .mum read the way the engine reads one, decoding, encodings,
 * prefixes, stopping early, one document per class of malformation, and a
 * hostile-input loop that must never crash, hang or leak.
 *
 * Usage: xml_check   (exit status 0 when every check passed)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/xml/xmlscan.h"

static int failures;

#define CHECK(cond, ...)                                                \
    do {                                                                \
        if (!(cond)) {                                                  \
            printf("FAIL (line %d) ", __LINE__);                        \
            printf(__VA_ARGS__);                                        \
            printf("\n");                                               \
            failures++;                                                 \
        }                                                               \
    } while (0)

/* ---- a growable byte string for building inputs and event logs ---- */

struct buf {
    char *data;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap - b->len < n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_repeat(struct buf *b, const char *s, size_t times)
{
    for (size_t i = 0; i < times; i++)
        buf_str(b, s);
}

static void buf_free(struct buf *b)
{
    free(b->data);
    *b = (struct buf){0};
}

/* ---- a handler that writes every event as one line ---- */

struct recorder {
    struct buf log;
    bool keep_blank_text;
    const char *stop_on_start; /* element name whose nth start stops the scan */
    int stop_on_nth;
    int stop_value;
    const char *stop_on_end;
    const char *stop_on_text;
};

static bool blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!strchr(" \t\n", text[i]))
            return false;
    }
    return true;
}

static int record_start(void *ctx, const char *name, const xml_attr *attrs, size_t count,
                        unsigned depth)
{
    struct recorder *r = ctx;
    char head[64];
    snprintf(head, sizeof head, "@%u", depth);
    buf_str(&r->log, "+");
    buf_str(&r->log, name);
    buf_str(&r->log, head);
    for (size_t i = 0; i < count; i++) {
        buf_str(&r->log, "[");
        buf_str(&r->log, attrs[i].name);
        buf_str(&r->log, "=");
        buf_str(&r->log, attrs[i].value);
        buf_str(&r->log, "]");
    }
    buf_str(&r->log, "\n");
    if (r->stop_on_start && strcmp(name, r->stop_on_start) == 0 && --r->stop_on_nth == 0)
        return r->stop_value;
    return 0;
}

static int record_end(void *ctx, const char *name, unsigned depth)
{
    struct recorder *r = ctx;
    char tail[64];
    snprintf(tail, sizeof tail, "@%u\n", depth);
    buf_str(&r->log, "-");
    buf_str(&r->log, name);
    buf_str(&r->log, tail);
    return r->stop_on_end && strcmp(name, r->stop_on_end) == 0 ? r->stop_value : 0;
}

static int record_text(void *ctx, const char *text, size_t len, unsigned depth)
{
    struct recorder *r = ctx;
    if (!r->keep_blank_text && blank(text, len))
        return 0;
    char tail[64];
    snprintf(tail, sizeof tail, "'@%u\n", depth);
    buf_str(&r->log, "'");
    buf_add(&r->log, text, len);
    buf_str(&r->log, tail);
    return r->stop_on_text && strstr(text, r->stop_on_text) ? r->stop_value : 0;
}

static const xml_handler recording = {record_start, record_end, record_text};

/* Scans doc with a fresh recorder and compares the event log. */
static void expect_log(const char *what, const void *doc, size_t len, const char *expected)
{
    struct recorder r = {0};
    char error[256];
    int rc = xml_scan(doc, len, &recording, &r, error, sizeof error);
    CHECK(rc == 0, "%s: rc %d (%s)", what, rc, error);
    CHECK(r.log.data && strcmp(r.log.data, expected) == 0, "%s: log\n%s\nexpected\n%s", what,
          r.log.data ? r.log.data : "(none)", expected);
    buf_free(&r.log);
}

/* ---- a realistic servicing manifest, read the way the engine reads it ---- */

static const char *const MUM =
    "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n"
    "<assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\" manifestVersion=\"1.0\" "
    "copyright=\"Copyright (c) Microsoft Corporation. All Rights Reserved.\">\r\n"
    "  <assemblyIdentity name=\"Microsoft-Hyper-V-ClientEdition-Package\" "
    "version=\"10.0.26100.1742\" processorArchitecture=\"amd64\" language=\"neutral\" "
    "buildType=\"release\" publicKeyToken=\"31bf3856ad364e35\" />\r\n"
    "  <!-- generated by the build; <update> elements below are the features -->\r\n"
    "  <package identifier=\"Microsoft-Hyper-V-ClientEdition\" releaseType=\"Feature Pack\" "
    "restart=\"required\">\r\n"
    "    <update name=\"Microsoft-Hyper-V\" displayName=\"Hyper-V Platform\" "
    "description=\"Provides services &amp; management tools for creating and running "
    "virtual machines.\">\r\n"
    "      <applicable disposition=\"detect\"><detectUpdate><update "
    "name=\"Microsoft-Hyper-V-All\" /></detectUpdate></applicable>\r\n"
    "      <selectable disposition=\"staged\"><detectNone default=\"true\" /></selectable>\r\n"
    "      <component>\r\n"
    "        <assemblyIdentity name=\"Microsoft-Hyper-V-Drivers-Hypervisor\" "
    "version=\"10.0.26100.1742\" processorArchitecture=\"amd64\" language=\"neutral\" "
    "buildType=\"release\" publicKeyToken=\"31bf3856ad364e35\" />\r\n"
    "      </component>\r\n"
    "    </update>\r\n"
    "    <update name='Microsoft-Hyper-V-Management-Clients' displayName='Hyper-V GUI "
    "Management Tools' description='Includes the Hyper-V Manager snap-in &quot;virtmgmt&quot;.'>\r\n"
    "      <parent name=\"Microsoft-Hyper-V-Tools-All\" disposition=\"staged\" "
    "integrate=\"separate\"><detectNone default=\"true\" /></parent>\r\n"
    "    </update>\r\n"
    "    <update name=\"TelnetClient\" displayName=\"Telnet Client\" "
    "description=\"Telnet Client uses the TELNET protocol &#x2014; &#8220;remote&#8221; "
    "access.\">\r\n"
    "      <selectable disposition=\"staged\"><detectNone default=\"false\" /></selectable>\r\n"
    "    </update>\r\n"
    "    <declareCapability><capability><capabilityIdentity "
    "name=\"Microsoft.Windows.HyperV~~~~0.0.1.0\" /></capability></declareCapability>\r\n"
    "  </package>\r\n"
    "</assembly>\r\n";

#define MAX_FEATURES 8

struct manifest {
    char identity[128], version[64], arch[16], token[32], release_type[32], capability[64];
    char feature[MAX_FEATURES][64], display[MAX_FEATURES][64], description[MAX_FEATURES][128];
    int features, nested_updates, starts, ends, max_depth;
    bool in_package;
};

static void copy_attr(char *to, size_t size, const xml_attr *attrs, size_t count, const char *name)
{
    const char *value = xml_attr_get(attrs, count, name);
    snprintf(to, size, "%s", value ? value : "(missing)");
}

static int manifest_start(void *ctx, const char *name, const xml_attr *attrs, size_t count,
                          unsigned depth)
{
    struct manifest *m = ctx;
    m->starts++;
    if ((int)depth > m->max_depth)
        m->max_depth = (int)depth;
    if (depth == 2 && strcmp(name, "assemblyIdentity") == 0) {
        copy_attr(m->identity, sizeof m->identity, attrs, count, "name");
        copy_attr(m->version, sizeof m->version, attrs, count, "version");
        copy_attr(m->arch, sizeof m->arch, attrs, count, "processorArchitecture");
        copy_attr(m->token, sizeof m->token, attrs, count, "publicKeyToken");
    } else if (depth == 2 && strcmp(name, "package") == 0) {
        m->in_package = true;
        copy_attr(m->release_type, sizeof m->release_type, attrs, count, "releaseType");
    } else if (strcmp(name, "update") == 0 && depth == 3 && m->in_package) {
        if (m->features < MAX_FEATURES) {
            int f = m->features;
            copy_attr(m->feature[f], sizeof m->feature[f], attrs, count, "name");
            copy_attr(m->display[f], sizeof m->display[f], attrs, count, "displayName");
            copy_attr(m->description[f], sizeof m->description[f], attrs, count, "description");
        }
        m->features++;
    } else if (strcmp(name, "update") == 0) {
        m->nested_updates++;
    } else if (strcmp(name, "capabilityIdentity") == 0) {
        copy_attr(m->capability, sizeof m->capability, attrs, count, "name");
    }
    return 0;
}

static int manifest_end(void *ctx, const char *name, unsigned depth)
{
    struct manifest *m = ctx;
    m->ends++;
    if (depth == 2 && strcmp(name, "package") == 0)
        m->in_package = false;
    return 0;
}

static void check_realistic_manifest(void)
{
    const xml_handler handler = {manifest_start, manifest_end, NULL};
    struct manifest m = {0};
    char error[256];
    int rc = xml_scan(MUM, strlen(MUM), &handler, &m, error, sizeof error);
    CHECK(rc == 0, "manifest scans: %d %s", rc, error);
    CHECK(strcmp(error, "") == 0, "success leaves an empty message: %s", error);
    CHECK(strcmp(m.identity, "Microsoft-Hyper-V-ClientEdition-Package") == 0, "identity %s",
          m.identity);
    CHECK(strcmp(m.version, "10.0.26100.1742") == 0, "version %s", m.version);
    CHECK(strcmp(m.arch, "amd64") == 0, "arch %s", m.arch);
    CHECK(strcmp(m.token, "31bf3856ad364e35") == 0, "token %s", m.token);
    CHECK(strcmp(m.release_type, "Feature Pack") == 0, "releaseType %s", m.release_type);
    CHECK(m.features == 3, "three features, got %d", m.features);
    CHECK(strcmp(m.feature[0], "Microsoft-Hyper-V") == 0, "feature 0 %s", m.feature[0]);
    CHECK(strcmp(m.display[0], "Hyper-V Platform") == 0, "display 0 %s", m.display[0]);
    CHECK(strcmp(m.description[0], "Provides services & management tools for creating and "
                                   "running virtual machines.") == 0,
          "description 0 %s", m.description[0]);
    CHECK(strcmp(m.feature[1], "Microsoft-Hyper-V-Management-Clients") == 0, "feature 1 %s",
          m.feature[1]);
    CHECK(strcmp(m.display[1], "Hyper-V GUI Management Tools") == 0, "display 1 %s",
          m.display[1]);
    CHECK(strcmp(m.description[1], "Includes the Hyper-V Manager snap-in \"virtmgmt\".") == 0,
          "description 1 %s", m.description[1]);
    CHECK(strcmp(m.feature[2], "TelnetClient") == 0, "feature 2 %s", m.feature[2]);
    CHECK(strcmp(m.description[2], "Telnet Client uses the TELNET protocol \xE2\x80\x94 "
                                   "\xE2\x80\x9Cremote\xE2\x80\x9D access.") == 0,
          "description 2 %s", m.description[2]);
    CHECK(m.nested_updates == 1, "one nested detectUpdate/update, got %d", m.nested_updates);
    CHECK(strcmp(m.capability, "Microsoft.Windows.HyperV~~~~0.0.1.0") == 0, "capability %s",
          m.capability);
    CHECK(m.starts == 20 && m.ends == 20, "20 balanced elements: %d starts, %d ends", m.starts,
          m.ends);
    CHECK(m.max_depth == 6, "deepest element at depth 6, got %d", m.max_depth);

    /* A NULL handler only checks well-formedness. */
    CHECK(xml_scan(MUM, strlen(MUM), NULL, NULL, error, sizeof error) == 0,
          "NULL handler: %s", error);
}

static void check_attr_get(void)
{
    const xml_attr attrs[] = {{"name", "a"}, {"Name", "b"}, {"version", "1"}};
    CHECK(strcmp(xml_attr_get(attrs, 3, "name"), "a") == 0, "xml_attr_get exact match");
    CHECK(strcmp(xml_attr_get(attrs, 3, "Name"), "b") == 0, "xml_attr_get is case-sensitive");
    CHECK(xml_attr_get(attrs, 3, "nam") == NULL, "xml_attr_get no prefix match");
    CHECK(xml_attr_get(attrs, 2, "version") == NULL, "xml_attr_get honours count");
    CHECK(xml_attr_get(NULL, 0, "name") == NULL, "xml_attr_get with no attributes");
}

/* ---- decoding ---- */

static void check_decoding(void)
{
    const char *entities =
        "<a t=\"&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x1F600;&#0000000067;\" u='say \"hi\"' "
        "v = \"a&#10;b\tc\r\nd\">x &amp; y&#x2603;</a>";
    expect_log("entities and references", entities, strlen(entities),
               "+a@1[t=<>&'\"AB\xF0\x9F\x98\x80" "C][u=say \"hi\"][v=a\nb c d]\n"
               "'x & y\xE2\x98\x83'@1\n"
               "-a@1\n");

    const char *cdata = "<a><![CDATA[<not> &amp; markup]]]]><![CDATA[]]>tail]]&gt;</a>";
    expect_log("CDATA is delivered verbatim", cdata, strlen(cdata),
               "+a@1\n'<not> &amp; markup]]'@1\n'tail]]>'@1\n-a@1\n");

    const char *line_ends = "<a>one\r\ntwo\rthree\n</a>";
    struct recorder r = {.keep_blank_text = true};
    CHECK(xml_scan(line_ends, strlen(line_ends), &recording, &r, NULL, 0) == 0, "line ends");
    CHECK(r.log.data && strcmp(r.log.data, "+a@1\n'one\ntwo\nthree\n'@1\n-a@1\n") == 0,
          "line ends normalized: %s", r.log.data ? r.log.data : "");
    buf_free(&r.log);

    const char *comments = "<!-- before --><a><!-- inner <b> & \"--></a>\n<!-- after -->\n";
    expect_log("comments are skipped", comments, strlen(comments), "+a@1\n-a@1\n");

    const char *pis = "<?xml version='1.0'?><?xml-stylesheet href='s.xsl'?>"
                      "<a><?pi <b> data?></a><?tail?>";
    expect_log("processing instructions are skipped", pis, strlen(pis), "+a@1\n-a@1\n");

    const char *doctype = "<!DOCTYPE a SYSTEM \"a]>.dtd\" [\n<!ENTITY x \"y>]\">\n"
                          "<!-- ]> -->\n<?pi ]>?>\n]>\n<a b = 'c' />";
    expect_log("DOCTYPE skipped, brackets in literals", doctype, strlen(doctype),
               "+a@1[b=c]\n-a@1\n");

    const char *prefixes =
        "<asm:assembly xmlns:asm=\"urn:schemas-microsoft-com:asm.v3\" xmlns=\"urn:x\">"
        "<asm:update asm:name=\"X\" plain='p'><inner/></asm:update></asm:assembly>";
    expect_log("namespace prefixes stripped", prefixes, strlen(prefixes),
               "+assembly@1[xmlns:asm=urn:schemas-microsoft-com:asm.v3][xmlns=urn:x]\n"
               "+update@2[name=X][plain=p]\n+inner@3\n-inner@3\n-update@2\n-assembly@1\n");

    const char *empty_value = "<a x=\"\" y=''></a>";
    expect_log("empty values", empty_value, strlen(empty_value), "+a@1[x=][y=]\n-a@1\n");
}

/* ---- encodings ---- */

/* Encodes UTF-8 as UTF-16 with a BOM; the test's own inputs are valid. */
static void utf16_from_utf8(struct buf *out, const char *in, bool big_endian)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char bom[2] = {0xFF, 0xFE};
    if (big_endian) {
        bom[0] = 0xFE;
        bom[1] = 0xFF;
    }
    buf_add(out, bom, 2);
    while (*p) {
        uint32_t c;
        int extra = *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : *p >= 0xC0 ? 1 : 0;
        c = extra == 3 ? *p & 0x07 : extra == 2 ? *p & 0x0F : extra == 1 ? *p & 0x1F : *p;
        for (p++; extra > 0; extra--, p++)
            c = (c << 6) | (*p & 0x3F);
        uint16_t units[2];
        int n = 1;
        if (c >= 0x10000) {
            units[0] = (uint16_t)(0xD800 + ((c - 0x10000) >> 10));
            units[1] = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
            n = 2;
        } else {
            units[0] = (uint16_t)c;
        }
        for (int i = 0; i < n; i++) {
            unsigned char b[2] = {(unsigned char)(units[i] & 0xFF), (unsigned char)(units[i] >> 8)};
            if (big_endian) {
                b[0] = (unsigned char)(units[i] >> 8);
                b[1] = (unsigned char)(units[i] & 0xFF);
            }
            buf_add(out, b, 2);
        }
    }
}

static const char *const INTERNATIONAL =
    "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n"
    "<assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\">\n"
    "  <update name=\"Gr\xC3\xB6\xC3\x9F" "e\" displayName=\"\xE6\xBC\xA2\xE5\xAD\x97 "
    "\xF0\x9F\x98\x80\">caf\xC3\xA9 &#x1F600;</update>\n"
    "</assembly>\n";

static char *log_of(const void *doc, size_t len, int *rc, char *error, size_t size)
{
    struct recorder r = {0};
    *rc = xml_scan(doc, len, &recording, &r, error, size);
    return r.log.data;
}

static void check_encodings(void)
{
    char error[256];
    int rc;
    char *reference = log_of(INTERNATIONAL, strlen(INTERNATIONAL), &rc, error, sizeof error);
    CHECK(rc == 0 && reference, "UTF-8 reference: %s", error);
    CHECK(reference && strstr(reference, "[name=Gr\xC3\xB6\xC3\x9F" "e]"), "non-ASCII value");

    struct buf bom8 = {0};
    buf_str(&bom8, "\xEF\xBB\xBF");
    buf_str(&bom8, INTERNATIONAL);
    char *with_bom = log_of(bom8.data, bom8.len, &rc, error, sizeof error);
    CHECK(rc == 0 && reference && with_bom && strcmp(with_bom, reference) == 0,
          "UTF-8 BOM gives the same events: %s", error);

    for (int big = 0; big <= 1; big++) {
        struct buf wide = {0};
        utf16_from_utf8(&wide, INTERNATIONAL, big);
        char *log = log_of(wide.data, wide.len, &rc, error, sizeof error);
        CHECK(rc == 0 && reference && log && strcmp(log, reference) == 0,
              "UTF-16%s with BOM gives the same events: %s\n%s", big ? "BE" : "LE", error,
              log ? log : "");
        free(log);
        buf_free(&wide);
    }

    struct buf mum16 = {0};
    utf16_from_utf8(&mum16, MUM, false);
    const xml_handler handler = {manifest_start, manifest_end, NULL};
    struct manifest m = {0};
    CHECK(xml_scan(mum16.data, mum16.len, &handler, &m, error, sizeof error) == 0 &&
              m.features == 3 && strcmp(m.feature[2], "TelnetClient") == 0,
          "UTF-16LE manifest read: %s", error);
    buf_free(&mum16);
    free(with_bom);
    buf_free(&bom8);
    free(reference);
}

/* ---- stopping early ---- */

static void check_early_stop(void)
{
    char error[64] = "untouched";
    struct recorder r = {.stop_on_start = "update", .stop_on_nth = 3, .stop_value = 42};
    int rc = xml_scan(MUM, strlen(MUM), &recording, &r, error, sizeof error);
    CHECK(rc == 42, "start handler's value is returned: %d", rc);
    CHECK(strcmp(error, "") == 0, "no message for a handler stop: %s", error);
    CHECK(r.log.data && strstr(r.log.data, "Microsoft-Hyper-V-Management-Clients"),
          "the stopping event was delivered");
    CHECK(r.log.data && !strstr(r.log.data, "TelnetClient") && !strstr(r.log.data, "+parent"),
          "nothing after the stop");
    buf_free(&r.log);

    struct recorder e = {.stop_on_end = "assemblyIdentity", .stop_value = 7};
    rc = xml_scan(MUM, strlen(MUM), &recording, &e, error, sizeof error);
    CHECK(rc == 7, "end handler's value (self-closing element) is returned: %d", rc);
    CHECK(e.log.data && !strstr(e.log.data, "+package"), "nothing after the end stop");
    buf_free(&e.log);

    const char *doc = "<a>first<![CDATA[second]]>third</a>";
    struct recorder t = {.stop_on_text = "second", .stop_value = -5};
    rc = xml_scan(doc, strlen(doc), &recording, &t, error, sizeof error);
    CHECK(rc == -5, "text handler's value is returned: %d", rc);
    CHECK(t.log.data && strcmp(t.log.data, "+a@1\n'first'@1\n'second'@1\n") == 0,
          "events up to the text stop: %s", t.log.data ? t.log.data : "");
    buf_free(&t.log);
}

/* ---- malformed documents ---- */

struct malformed {
    const char *doc;
    size_t len; /* 0: strlen(doc) */
    int line;
    const char *message;
};

static const struct malformed MALFORMED[] = {
    {"<?xml version=\"1.0\"?>\n<assembly>\n <package>\n  <update>\n  </update>\n\n"
     " </pakage>\n</assembly>\n",
     0, 7, "mismatched end tag </pakage>, expected </package>"},
    {"<a>\r\n<b>\r\n</c>", 0, 3, "mismatched end tag </c>, expected </b>"},
    {"<a>\r<b>\r</c>", 0, 3, "mismatched end tag </c>, expected </b>"},
    {"<x:a></y:a>", 0, 1, "mismatched end tag </y:a>, expected </x:a>"},
    {"<a>\n<b>\n</b>\n", 0, 4, "unexpected end of document: <a> is not closed"},
    {"<a>\n<!-- never closed\n</a>", 0, 2, "unterminated comment"},
    {"<a><!--></a>", 0, 1, "unterminated comment"},
    {"<a>\n<![CDATA[ x\n</a>", 0, 2, "unterminated CDATA section"},
    {"<?xml version='1.0'\n<a/>", 0, 1, "unterminated processing instruction"},
    {"<a><?pi", 0, 1, "unterminated processing instruction"},
    {"\n<!DOCTYPE a [ <!ENTITY x 'y'>\n<a/>", 0, 2, "unterminated DOCTYPE"},
    {"<!DOCTYPE a [ <!ENTITY x 'y>\n<a/>", 0, 1, "unterminated literal in DOCTYPE"},
    {"<!DOCTYPE a [ <!-- x \n<a/>", 0, 1, "unterminated comment in DOCTYPE"},
    {"<a\n x=\"1\n/>", 0, 2, "unterminated value of attribute 'x'"},
    {"<a x='1'", 0, 1, "unterminated start tag <a>"},
    {"<a></a", 0, 1, "expected '>' to close end tag </a>"},
    {"<a></a x>", 0, 1, "expected '>' to close end tag </a>"},
    {"<a/>\n<b/>", 0, 2, "more than one root element"},
    {"", 0, 1, "no root element"},
    {"  \n<!-- only a comment -->\n", 0, 3, "no root element"},
    {"hello<a/>", 0, 1, "text before the root element"},
    {"<a/>\n\nx", 0, 3, "text after the root element"},
    {"<a/>&amp;", 0, 1, "text after the root element"},
    {"<a x='1'\n x='2'/>", 0, 2, "duplicate attribute 'x'"},
    {"<a p:x='1' q:x='2'/>", 0, 1, "duplicate attribute 'x'"},
    {"<a>&foo;</a>", 0, 1, "undefined entity '&foo;'"},
    {"<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;\">\n]>\n"
     "<lolz>&lol2;</lolz>",
     0, 5, "undefined entity '&lol2;'"},
    {"<a x='&ext;'/>", 0, 1, "undefined entity '&ext;'"},
    {"<a>&#0;</a>", 0, 1, "character reference '&#0;' is not an allowed character"},
    {"<a>&#x0;</a>", 0, 1, "is not an allowed character"},
    {"<a>&#xD800;</a>", 0, 1, "character reference '&#xD800;' is not an allowed character"},
    {"<a>&#xDFFF;</a>", 0, 1, "is not an allowed character"},
    {"<a>&#x110000;</a>", 0, 1, "character reference '&#x110000;' is not an allowed character"},
    {"<a>&#99999999999999999999;</a>", 0, 1, "is not an allowed character"},
    {"<a>&#1;</a>", 0, 1, "is not an allowed character"},
    {"<a>&#xFFFE;</a>", 0, 1, "is not an allowed character"},
    {"<a>&#;</a>", 0, 1, "malformed character reference"},
    {"<a>&#x;</a>", 0, 1, "malformed character reference"},
    {"<a>&#xZZ;</a>", 0, 1, "malformed character reference"},
    {"<a>&#65</a>", 0, 1, "malformed character reference"},
    {"<a>fish & chips</a>", 0, 1, "'&' does not start a reference"},
    {"<a>&amp</a>", 0, 1, "entity reference '&amp' lacks its ';'"},
    {"<a x='<'/>", 0, 1, "'<' in an attribute value"},
    {"<a x=1/>", 0, 1, "value of attribute 'x' is not quoted"},
    {"<a x/>", 0, 1, "expected '=' after attribute 'x'"},
    {"<a x='1'y='2'/>", 0, 1, "expected whitespace, '>' or '/>' in start tag <a>"},
    {"</a>", 0, 1, "end tag </a> has no start tag"},
    {"<a></a></a>", 0, 1, "end tag </a> has no start tag"},
    {"<a>\xFF</a>", 0, 1, "invalid UTF-8 sequence (byte 0xFF)"},
    {"<a>\n\xC0\x80</a>", 0, 2, "invalid UTF-8 sequence"},
    {"<a>\xED\xA0\x80</a>", 0, 1, "invalid UTF-8 sequence"},
    {"<a>\xF4\x90\x80\x80</a>", 0, 1, "invalid UTF-8 sequence"},
    {"<a>\xE2\x82</a>", 0, 1, "invalid UTF-8 sequence"},
    {"<a>\xE2\x82", 0, 1, "invalid UTF-8 sequence"},
    {"<a>\0</a>", 8, 1, "character U+0000 is not allowed"},
    {"<a>\x01</a>", 0, 1, "character U+0001 is not allowed"},
    {"\xFF\xFE<\0a\0>\0\n\0\x00\xD8<\0/\0a\0>\0", 20, 2, "unpaired UTF-16 high surrogate"},
    {"\xFF\xFE<\0a\0>\0\x00\xD8", 10, 1, "unpaired UTF-16 high surrogate"},
    {"\xFF\xFE<\0a\0>\0\x00\xDC<\0/\0a\0>\0", 18, 1, "unpaired UTF-16 low surrogate"},
    {"\xFE\xFF\0<\0a\0>\xDC\0\0<\0/\0a\0>", 18, 1, "unpaired UTF-16 low surrogate"},
    {"\xFF\xFE<\0a\0/\0>\0\n\0\n", 13, 2, "UTF-16 input ends in the middle of a character"},
    {"\xFF\xFE<\0a\0>\0\0\0<\0/\0a\0>\0", 18, 1, "character U+0000 is not allowed"},
    {"<![CDATA[x]]><a/>", 0, 1, "CDATA section outside the root element"},
    {"<a/>\n<!DOCTYPE a>", 0, 2, "DOCTYPE after the root element"},
    {"<!DOCTYPE a><!DOCTYPE a><a/>", 0, 1, "second DOCTYPE"},
    {" <?xml version='1.0'?><a/>", 0, 1, "XML declaration not at the start of the document"},
    {"<a/>\n<?XML version='1.0'?>", 0, 2, "XML declaration not at the start of the document"},
    {"<a><?pi?x?></a>", 0, 1, "malformed processing instruction"},
    {"<a>]]></a>", 0, 1, "']]>' in character data"},
    {"<1a/>", 0, 1, "expected element name"},
    {"< a/>", 0, 1, "expected element name"},
    {"<a:/>", 0, 1, "malformed qualified name 'a:'"},
    {"<:a/>", 0, 1, "malformed qualified name ':a'"},
    {"<a:b:c/>", 0, 1, "malformed qualified name 'a:b:c'"},
    {"<a p:1='x'/>", 0, 1, "malformed qualified name 'p:1'"},
    {"<a><!ELEMENT a></a>", 0, 1, "unknown markup declaration"},
};

static void check_malformed(void)
{
    for (size_t i = 0; i < sizeof MALFORMED / sizeof MALFORMED[0]; i++) {
        const struct malformed *t = &MALFORMED[i];
        size_t len = t->len ? t->len : strlen(t->doc);
        char error[256], line[32];
        struct recorder r = {0};
        int rc = xml_scan(t->doc, len, &recording, &r, error, sizeof error);
        snprintf(line, sizeof line, "line %d: ", t->line);
        CHECK(rc == -1, "malformed #%zu gives -1, got %d", i, rc);
        CHECK(strncmp(error, line, strlen(line)) == 0 && strstr(error, t->message),
              "malformed #%zu message \"%s\", expected \"%s...%s\"", i, error, line,
              t->message);
        buf_free(&r.log);
    }
}

static void check_message_fits_small_buffers(void)
{
    char tiny[12];
    memset(tiny, 'x', sizeof tiny);
    CHECK(xml_scan("<a></b>", 7, NULL, NULL, tiny, sizeof tiny) == -1, "small buffer: -1");
    CHECK(memchr(tiny, '\0', sizeof tiny) && strncmp(tiny, "line 1: mis", 11) == 0,
          "message truncated and terminated: %.12s", tiny);
    CHECK(xml_scan("<a></b>", 7, NULL, NULL, NULL, 0) == -1, "NULL error buffer");
    CHECK(xml_scan(NULL, 0, NULL, NULL, NULL, 0) == -1, "NULL data, length 0");
    CHECK(xml_scan(NULL, 5, NULL, NULL, tiny, sizeof tiny) == -1, "NULL data with a length");
}

/* ---- limits ---- */

static void nest(struct buf *b, size_t depth)
{
    buf_repeat(b, "<d>", depth);
    buf_repeat(b, "</d>", depth);
}

static void attributes(struct buf *b, size_t count)
{
    buf_str(b, "<a");
    char one[64];
    for (size_t i = 0; i < count; i++) {
        snprintf(one, sizeof one, " a%zu='%zu'", i, i);
        buf_str(b, one);
    }
    buf_str(b, "/>");
}

struct seen {
    size_t most_attrs;
    unsigned deepest;
};

static int note_extent(void *ctx, const char *name, const xml_attr *attrs, size_t count,
                       unsigned depth)
{
    (void)name;
    (void)attrs;
    struct seen *seen = ctx;
    if (count > seen->most_attrs)
        seen->most_attrs = count;
    if (depth > seen->deepest)
        seen->deepest = depth;
    return 0;
}

static size_t deepest(const struct seen *seen)
{
    return seen->deepest;
}

static size_t most_attrs(const struct seen *seen)
{
    return seen->most_attrs;
}

/* A limit of the scanner: a document built to reach it exactly is scanned
 * (and the handler saw it reached), one built a step past it is refused with
 * `refusal`. */
struct limit {
    const char *what;
    void (*build)(struct buf *, size_t);
    size_t most;
    size_t (*reached)(const struct seen *);
    const char *refusal;
};

static const struct limit limits[] = {
    {"levels", nest, XML_MAX_DEPTH, deepest, "line 1: elements nested deeper than 256"},
    {"attributes", attributes, XML_MAX_ATTRS, most_attrs,
     "line 1: more than 256 attributes on <a>"},
};

static void check_limit(const struct limit *limit)
{
    const xml_handler handler = {note_extent, NULL, NULL};
    char error[256];
    struct seen seen = {0};
    struct buf b = {0};

    limit->build(&b, limit->most);
    CHECK(xml_scan(b.data, b.len, &handler, &seen, error, sizeof error) == 0 &&
              limit->reached(&seen) == limit->most,
          "%zu %s are allowed: %s (reached %zu)", limit->most, limit->what, error,
          limit->reached(&seen));
    buf_free(&b);
    limit->build(&b, limit->most + 1);
    CHECK(xml_scan(b.data, b.len, &handler, &seen, error, sizeof error) == -1 &&
              strcmp(error, limit->refusal) == 0,
          "%zu %s are refused: %s", limit->most + 1, limit->what, error);
    buf_free(&b);
}

static void check_limits(void)
{
    char error[256];
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        check_limit(&limits[i]);

    size_t big = (size_t)XML_MAX_INPUT + 1;
    char *huge = malloc(big);
    if (huge) {
        memset(huge, ' ', big);
        memcpy(huge, "<a/>", 4);
        CHECK(xml_scan(huge, big, NULL, NULL, error, sizeof error) == -1 &&
                  strcmp(error, "line 1: document is larger than 64 MiB") == 0,
              "input over 64 MiB refused: %s", error);
        CHECK(xml_scan(huge, big - 1, NULL, NULL, error, sizeof error) == 0,
              "input of exactly 64 MiB accepted: %s", error);
        free(huge);
    } else {
        CHECK(0, "could not allocate 64 MiB for the size check");
    }
}

/* ---- hostile input ---- */

/* Checks the callbacks' contract on whatever input: violations are counted,
 * so a scanner that hands out garbage fails even if it does not crash. */
struct strict {
    long violations;
    unsigned depth;
};

static int strict_start(void *ctx, const char *name, const xml_attr *attrs, size_t count,
                        unsigned depth)
{
    struct strict *s = ctx;
    if (!name[0] || strchr(name, ':') || depth != s->depth + 1 || depth > XML_MAX_DEPTH ||
        count > XML_MAX_ATTRS)
        s->violations++;
    for (size_t i = 0; i < count; i++) {
        if (!attrs[i].name[0] || strlen(attrs[i].value) > (size_t)XML_MAX_INPUT * 2)
            s->violations++;
    }
    s->depth = depth;
    return 0;
}

static int strict_end(void *ctx, const char *name, unsigned depth)
{
    struct strict *s = ctx;
    if (!name[0] || depth != s->depth)
        s->violations++;
    s->depth = depth - 1;
    return 0;
}

static int strict_text(void *ctx, const char *text, size_t len, unsigned depth)
{
    struct strict *s = ctx;
    if (len == 0 || strlen(text) != len || depth != s->depth || depth == 0)
        s->violations++;
    return 0;
}

static const xml_handler strict_handler = {strict_start, strict_end, strict_text};

/* Scans hostile input; only 0 or -1 with a "line N:" message are allowed. */
static bool survives(const void *doc, size_t len, int *rc)
{
    struct strict s = {0};
    char error[256];
    *rc = xml_scan(doc, len, &strict_handler, &s, error, sizeof error);
    bool ok = s.violations == 0 && (*rc == 0 || (*rc == -1 && strncmp(error, "line ", 5) == 0));
    if (*rc == 0 && s.depth != 0)
        ok = false;
    return ok;
}

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: deterministic, so a failure can be replayed. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

static const char *const TOKENS[] = {
    "<",        ">",      "/>",  "</",      "&",       ";",  "&#x",      "&#",  "&lt;",
    "<!--",     "-->",    "<?",  "?>",      "<![CDATA[", "]]>", "<!DOCTYPE x [", "]>",
    "\"",       "'",      "=",   ":",       "xmlns:a", "\xF0\x9F", "\xC3", "\xFF\xFE",
    "\xFE\xFF", "&#0;",  "\r",  "<update>", "</update>"};

static void mutate(struct buf *out, const char *doc, size_t len, uint64_t *rng)
{
    buf_add(out, doc, len);
    int edits = 1 + (int)(next_random(rng) % 8);
    for (int e = 0; e < edits && out->len > 0; e++) {
        size_t at = next_random(rng) % out->len;
        switch (next_random(rng) % 4) {
        case 0: /* overwrite a byte */
            out->data[at] = (char)(next_random(rng) & 0xFF);
            break;
        case 1: { /* insert a token */
            const char *token = TOKENS[next_random(rng) % (sizeof TOKENS / sizeof TOKENS[0])];
            struct buf spliced = {0};
            buf_add(&spliced, out->data, at);
            buf_str(&spliced, token);
            buf_add(&spliced, out->data + at, out->len - at);
            buf_free(out);
            *out = spliced;
            break;
        }
        case 2: { /* delete a span */
            size_t n = 1 + next_random(rng) % 16;
            if (n > out->len - at)
                n = out->len - at;
            memmove(out->data + at, out->data + at + n, out->len - at - n);
            out->len -= n;
            break;
        }
        default: /* duplicate a span, which unbalances tags */
        {
            size_t n = 1 + next_random(rng) % 64;
            if (n > out->len - at)
                n = out->len - at;
            struct buf spliced = {0};
            buf_add(&spliced, out->data, at + n);
            buf_add(&spliced, out->data + at, out->len - at);
            buf_free(out);
            *out = spliced;
            break;
        }
        }
    }
}

static void check_truncations(const char *what, const char *doc, size_t len, size_t root_closed)
{
    int bad = 0, accepted_early = 0;
    for (size_t n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past the end. */
        char *copy = malloc(n ? n : 1);
        memcpy(copy, doc, n);
        int rc;
        if (!survives(copy, n, &rc))
            bad++;
        if (n < root_closed && rc != -1)
            accepted_early++;
        free(copy);
    }
    CHECK(bad == 0, "%s: every truncation is handled (%d bad)", what, bad);
    CHECK(accepted_early == 0, "%s: truncations before the root's end are errors (%d accepted)",
          what, accepted_early);
}

static void check_mutations(const char *what, const char *doc, size_t len, int rounds,
                            uint64_t seed)
{
    uint64_t rng = seed;
    int bad = 0, accepted = 0;
    for (int i = 0; i < rounds; i++) {
        struct buf m = {0};
        mutate(&m, doc, len, &rng);
        char *copy = malloc(m.len ? m.len : 1);
        memcpy(copy, m.data, m.len);
        int rc;
        if (!survives(copy, m.len, &rc)) {
            if (bad++ < 3)
                printf("  %s mutation %d not handled (rc %d)\n", what, i, rc);
        }
        accepted += rc == 0;
        free(copy);
        buf_free(&m);
    }
    printf("  %s: %d seeded mutations, %d accepted, %d mishandled\n", what, rounds, accepted,
           bad);
    CHECK(bad == 0, "%s: %d seeded mutations handled (%d bad)", what, rounds, bad);
    /* Most mutations must be caught; if nearly all were accepted the scanner
     * would not be checking anything. */
    CHECK(accepted < rounds / 2, "%s: %d of %d mutations accepted", what, accepted, rounds);
}

/* Huge documents made of one piece said many times (or built by one of the
 * builders above), and what the scanner must answer: rc, and for a refusal
 * part of its message (NULL: any).  The strict handler watches whatever is
 * reported before the end. */
struct hostile_case {
    const char *what;
    void (*build)(struct buf *, size_t);
    const char *head, *piece, *tail;
    size_t times;
    int rc;
    const char *error_part;
};

static const struct hostile_case hostile_cases[] = {
    {"10000-deep nesting", nest, NULL, NULL, NULL, 10000, -1, "nested deeper than 256"},
    {"100000 attributes", attributes, NULL, NULL, NULL, 100000, -1, "more than 256 attributes"},
    {"100000 equal attributes", NULL, "<a", " x='1'", "/>", 100000, -1, NULL},
    /* Constructs that would be quadratic if each one rescanned the rest. */
    {"a million '&'", NULL, "<a>", "&", "</a>", 1000000, -1, "does not start a reference"},
    {"200000 open comments", NULL, "", "<!--", "", 200000, -1, "unterminated comment"},
    {"100000 siblings", NULL, "<a>", "<b x='1'>text &amp; more</b>", "</a>", 100000, 0, NULL},
};

static void check_hostile_case(const struct hostile_case *c)
{
    char error[256] = "";
    struct buf b = {0};
    if (c->build) {
        c->build(&b, c->times);
    } else {
        buf_str(&b, c->head);
        buf_repeat(&b, c->piece, c->times);
        buf_str(&b, c->tail);
    }
    struct strict s = {0};
    int rc = xml_scan(b.data, b.len, &strict_handler, &s, error, sizeof error);
    CHECK(rc == c->rc && s.violations == 0 && (!c->error_part || strstr(error, c->error_part)),
          "%s: rc %d, %ld violations: %s", c->what, rc, s.violations, error);
    buf_free(&b);
}

static void check_hostile(void)
{
    const char *root_end = strstr(MUM, "</assembly>");
    size_t root_closed = (size_t)(root_end - MUM) + strlen("</assembly>");
    check_truncations("UTF-8 manifest", MUM, strlen(MUM), root_closed);

    struct buf wide = {0};
    utf16_from_utf8(&wide, MUM, false);
    check_truncations("UTF-16LE manifest", wide.data, wide.len, 2 + 2 * root_closed);
    check_mutations("UTF-16LE manifest", wide.data, wide.len, 1000, 0x5eed0002);
    buf_free(&wide);

    check_mutations("UTF-8 manifest", MUM, strlen(MUM), 4000, 0x5eed0001);
    const char *entities = "<a t=\"&lt;&#x1F600;\">x<![CDATA[y]]>&amp;</a>";
    check_mutations("entity document", entities, strlen(entities), 2000, 0x5eed0003);

    for (size_t i = 0; i < sizeof hostile_cases / sizeof hostile_cases[0]; i++)
        check_hostile_case(&hostile_cases[i]);

    char error[256];
    int rc;
    struct buf b = {0};
    /* 256 long names sharing a prefix: the duplicate check must stay fast. */
    buf_str(&b, "<a");
    for (int i = 0; i < 256; i++) {
        char suffix[32];
        buf_str(&b, " ");
        buf_repeat(&b, "n", 20000);
        snprintf(suffix, sizeof suffix, "%d=''", i);
        buf_str(&b, suffix);
    }
    buf_str(&b, "/>");
    rc = xml_scan(b.data, b.len, NULL, NULL, error, sizeof error);
    CHECK(rc == 0, "256 long distinct names: %s", error);
    buf_free(&b);

    /* Quadratic if each reference rescanned the rest. */
    buf_str(&b, "<a>&#");
    buf_repeat(&b, "0", 1000000);
    buf_str(&b, "65;</a>");
    struct recorder r = {0};
    rc = xml_scan(b.data, b.len, &recording, &r, error, sizeof error);
    CHECK(rc == 0 && r.log.data && strcmp(r.log.data, "+a@1\n'A'@1\n-a@1\n") == 0,
          "a million leading zeros: %s", error);
    buf_free(&r.log);
    buf_free(&b);
}

int main(void)
{
    check_realistic_manifest();
    check_attr_get();
    check_decoding();
    check_encodings();
    check_early_stop();
    check_malformed();
    check_message_fits_small_buffers();
    check_limits();
    check_hostile();
    printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
