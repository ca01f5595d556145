/*
 * servicing.h - what the servicing calls share: the image's CBS package
 * table, packages named by a DISM identifier, the shape of a read that
 * hands the caller a result, and the argument checks every servicing
 * function makes.  Each DISM servicing call lives in the file of
 * its concern; all read the image through offline/ (offline.h).
 *   packages.c      CBS packages: list, info, add/remove validation
 *   features.c      optional features
 *   capabilities.c  capabilities (Features on Demand) and languages
 *   drivers.c       the driver store
 *   edition.c       edition, product key, reserved storage, registry paths
 *   appx.c          provisioned appx packages
 *   health.c        image health, unattend
 *   calls.c         servicing_read, the argument checks and refusals
 */
#ifndef DISM_ENGINE_SERVICING_H
#define DISM_ENGINE_SERVICING_H

#include "offline/offline.h"

/* ---- packages.c: the CBS package table (SOFTWARE hive) ---- */

typedef struct {
    char *identity;            /* the key name: Name~Token~Arch~Language~Version */
    uint32_t state;            /* CurrentState, a CBS code */
    bool has_state;
    uint32_t visibility;       /* 1 visible, 2 hidden */
    uint64_t install_time;     /* FILETIME, 0 if unknown */
    char *install_client, *install_name;
    hive_node_h node;
} cbs_package;

typedef struct {
    hive_h *hive;
    cbs_package *items;
    size_t count;
} cbs_table;

/* The image's packages; an image whose SOFTWARE hive has no CBS key (WinPE
 * built without servicing, a container layer) gives an empty table. */
HRESULT cbs_load(offline_image *img, cbs_table *out);
void cbs_free(cbs_table *table);
const cbs_package *cbs_find(const cbs_table *table, const char *identity);
/* Compares the version parts of two identities numerically. */
int cbs_compare_versions(const char *identity_a, const char *identity_b);

/* A package as the caller names it: the identifier and what kind it is. */
typedef struct {
    PCWSTR identifier;
    DismPackageIdentifier type;
} package_name;

/* A package named by a DISM identifier, resolved to its manifest and, when
 * installed, its registry entry.  by_path: a folder with an expanded package
 * (update.mum) or a .cab; by name: an identity in the table. */
typedef struct {
    char *identity;
    const cbs_package *installed;  /* NULL when the image does not hold it */
    mum_info mum;
    bool has_mum;
} package_ref;
HRESULT package_resolve(offline_image *img, const cbs_table *table, const package_name *name,
                        package_ref *out);
void package_ref_free(package_ref *ref);

/* ---- calls.c: the shape of a read, and validation ---- */

/* Reads the image and builds a result from `pool`: *result and, for a list,
 * *count.  Success with *result left NULL means the pool ran out of memory. */
typedef HRESULT (*image_read)(offline_image *img, result_pool *pool, const void *args,
                              void **result, UINT *count);
/* A DismGet* call after its own argument checks: opens the session's image,
 * runs `read` with a fresh result pool and hands the result to the caller
 * (DismDelete frees it).  *result is NULL and *count 0 unless it succeeds;
 * `count` is NULL for a call that returns one structure. */
HRESULT servicing_read(DismSession session, const char *function, image_read read,
                       const void *args, void **result, UINT *count);

/* Checks a call's arguments against the image: a write's checks ending in
 * its refusal, or a read that answers through its own output argument. */
typedef HRESULT (*image_check)(offline_image *img, const void *args);
/* Opens the session's image, runs `check` on it and closes it again. */
HRESULT servicing_check(DismSession session, const char *function, image_check check,
                        const void *args);
/* What most writes are given: a name or path, and source paths; `what`
 * names the change for its refusal when one check serves several calls. */
typedef struct {
    PCWSTR name;
    PCWSTR *sources;
    UINT source_count;
    const char *what;
} write_args;

/* Every write that needs Windows' servicing stack ends here, after its
 * arguments were checked: nothing in the image has been touched. */
HRESULT not_supported_offline(const char *function, const char *what);
/* Every read whose answer needs Windows' servicing stack ends here; its
 * message does not speak of changes, as nothing was to be changed. */
HRESULT read_not_supported_offline(const char *function, const char *what);
/* A path argument that must name an existing file or directory. */
HRESULT existing_path_arg(const char *function, PCWSTR path, const char *what, char **out,
                          bool *is_dir);
/* An array of source paths: present when counted, no NULL or empty entry.
 * Whether a source exists is not checked: DISM falls back to other sources. */
HRESULT source_paths_arg(const char *function, PCWSTR *paths, UINT count);

#endif /* DISM_ENGINE_SERVICING_H */
