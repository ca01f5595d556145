/*
 * offline.h - what offline/ offers: read-only access to an offline Windows
 * image for the servicing functions: its registry hives (through hivex), its
 * servicing manifests and the translation of raw image data into DISM
 * values.  It builds on the core; the file formats it reads are parsed
 * by ../formats/ (inf/inf.h, xml/xmlscan.h), which needs nothing but libc.
 *   hive.c       hivex accessors and the per-call view of an offline image
 *   mum.c        servicing manifests (.mum)
 *   mappings.c   raw image data -> DISM values, each with its source
 *
 * Every servicing call follows the same shape:
 *
 *     offline_image img;
 *     HRESULT hr = offline_begin(Session, "DismGetPackages", &img);
 *     if (FAILED(hr)) return hr;
 *     ... read through img ...
 *     offline_end(&img);
 *
 * offline_begin marks the session busy (DismCloseSession waits for it) and
 * offline_end closes whatever hives the call opened.  Hives are opened
 * read-only and lazily, so a call that needs only SOFTWARE never maps SYSTEM.
 */
#ifndef DISM_ENGINE_OFFLINE_H
#define DISM_ENGINE_OFFLINE_H

#include "core/core.h"

#include <hivex.h>

typedef enum {
    HIVE_SOFTWARE,
    HIVE_SYSTEM,
    HIVE_DRIVERS,
    HIVE_COMPONENTS,
    HIVE_COUNT
} hive_kind;

typedef struct {
    DismSession session;
    const char *function;      /* for error messages */
    char root[ENGINE_PATH_MAX];
    char windows_dir[ENGINE_PATH_MAX];
    hive_h *hives[HIVE_COUNT];
    bool tried[HIVE_COUNT];    /* opened, or found missing, already */
    HRESULT open_failure[HIVE_COUNT]; /* why a tried hive did not open */
    int control_set;           /* resolved ControlSet number, 0 = not yet */
    /* servicing\Packages listed once per call, sorted ignoring case, so
     * finding each of thousands of manifests is a binary search. */
    char manifest_dir[ENGINE_PATH_MAX];
    char **manifests;
    size_t manifest_count;
    bool manifests_listed;
} offline_image;

HRESULT offline_begin(DismSession session, const char *function, offline_image *img);
void offline_end(offline_image *img);

/* The hive, or NULL when the image has no such hive file.  A file that exists
 * but is not a usable hive is an error (returned through *hr). */
hive_h *offline_hive(offline_image *img, hive_kind kind, HRESULT *hr);
/* Like offline_hive, but a missing hive is an error naming what needed it. */
HRESULT offline_require_hive(offline_image *img, hive_kind kind, hive_h **out);
const char *hive_file_name(hive_kind kind);
/* Path of the hive file inside the image, or "" when absent. */
bool offline_hive_path(offline_image *img, hive_kind kind, char *out, size_t size);

/* SYSTEM's ControlSet00N key, resolved through Select\Current as Windows
 * does at boot (there is no CurrentControlSet offline).  0 when absent. */
hive_node_h offline_control_set(offline_image *img);

/* The real path of `path` when it lies inside the image root; false for a
 * path that leads out of it (through a link) or does not exist. */
bool offline_inside_image(const offline_image *img, const char *path, char *out, size_t size);

/* `relative` (with '/' separators) under the Windows directory, matching
 * each component case-insensitively.  False when it does not exist. */
bool offline_windows_path(const offline_image *img, const char *relative, char *out,
                          size_t size);

/* ---- hive helpers (hive.c): all tolerate a 0 node and missing values ---- */

/* Walks a backslash-separated path; 0 when any component is missing. */
hive_node_h hive_lookup(hive_h *h, hive_node_h from, const char *path);
/* REG_SZ / REG_EXPAND_SZ value as malloc'd UTF-8, or NULL. */
char *hive_string(hive_h *h, hive_node_h node, const char *name);
/* REG_DWORD value; false when missing or of another type. */
bool hive_dword(hive_h *h, hive_node_h node, const char *name, uint32_t *out);
/* The same for a value already in hand (no lookup by name). */
bool hive_value_dword(hive_h *h, hive_value_h value, uint32_t *out);
/* REG_MULTI_SZ without the empty strings hivex adds; NULL-terminated, free
 * with hive_free_strings. */
char **hive_strings(hive_h *h, hive_node_h node, const char *name);
void hive_free_strings(char **strings);
/* REG_BINARY (or any type) raw bytes up to `max` long; NULL when missing or larger. */
void *hive_binary(hive_h *h, hive_node_h node, const char *name, size_t max, size_t *len);
/* The node's name as malloc'd UTF-8. */
char *hive_name(hive_h *h, hive_node_h node);

/* Children of a node with an upper bound, so a hostile hive cannot make a
 * caller loop for ever; NULL on error with errno set, else 0-terminated. */
hive_node_h *hive_children(hive_h *h, hive_node_h node, size_t *count);

/* ---- mappings.c: every raw value -> DISM value translation, with sources ---- */

DismPackageFeatureState map_cbs_state(uint32_t cbs_state);
DismPackageFeatureState map_feature_selection(uint32_t selection);
DismReleaseType map_release_type(const char *release_type);
DismRestartType map_restart(const char *restart);
/* processorArchitecture of a manifest or INF decoration ("amd64", "x86", ...). */
UINT map_architecture_name(const char *name);
/* The architecture part of an appx full name ("x64", "neutral", ...). */
UINT map_appx_architecture(const char *name);
DismDriverSignature map_driver_signature(const char *signer_name);
/* A service that starts with the boot loader (Start = 0, SERVICE_BOOT_START). */
bool map_boot_critical(uint32_t service_start);
bool map_inbox_driver(const char *published_name);

/* The 48-byte Version value of a DriverDatabase\DriverPackages entry. */
typedef struct {
    bool valid;
    UINT architecture;
    char class_guid[40];   /* "{xxxxxxxx-...}" lower case */
    uint64_t date_filetime;
    UINT version[4];
} driver_version_blob;
void map_driver_version_blob(const uint8_t *data, size_t len, driver_version_blob *out);

/* An ISO 8601 "2021-06-15T10:20:30Z" manifest time stamp; zero on failure. */
SYSTEMTIME map_manifest_time(const char *text);

/* ---- mum.c: servicing manifests (Windows\servicing\Packages\<id>.mum) ---- */

typedef struct {
    char *name, *display_name, *description, *restart;
    char **parents;            /* features named by <applicable><detectUpdate><update> */
    size_t parent_count;
    bool selectable;           /* has <selectable>: a feature users can turn on and off */
} mum_update;

typedef struct {
    char *name, *value, *path;
} mum_property;

typedef struct {
    char *name, *version, *arch, *language, *token;   /* <assemblyIdentity> */
    char *display_name, *description, *company, *copyright, *support_information;
    char *creation_time, *last_update_time;
    char *release_type, *restart;                      /* <package> */
    mum_update *updates;
    size_t update_count;
    char *capability;          /* "Name~~~Language~Version", or NULL */
    char *capability_display_name, *capability_description;
    mum_property *properties;  /* <customInformation> */
    size_t property_count;
} mum_info;

/* Reads a manifest file.  Errors name the file and what was wrong. */
HRESULT mum_read(const char *function, const char *path, mum_info *out);
/* The two halves of mum_read, for a caller that looks at the bytes first. */
char *mum_load(const char *function, const char *path, size_t *len, HRESULT *hr);
HRESULT mum_parse(const char *function, const char *path, const char *data, size_t len,
                  mum_info *out);
/* Lists servicing\Packages\*.mum once per call: img->manifests[0..n),
 * file names inside img->manifest_dir. */
size_t mum_listing(offline_image *img);
void mum_free(mum_info *mum);
/* Finds Windows\servicing\Packages\<identity>.mum, ignoring case. */
bool mum_path(offline_image *img, const char *identity, char *out, size_t size);
/* The identity string of a manifest's own package: Name~Token~Arch~Lang~Version. */
char *mum_identity(const mum_info *mum);
const mum_update *mum_find_update(const mum_info *mum, const char *name);

#endif /* DISM_ENGINE_OFFLINE_H */
