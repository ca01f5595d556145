/*
 * servicing.h - what the servicing calls share: the image's CBS package
 * table, packages named by a DISM identifier, and the argument checks every
 * servicing function makes.  Each DISM servicing call lives in the file of
 * its concern; all read the image through offline/ (offline.h).
 *   packages.c      CBS packages: list, info, add/remove validation
 *   features.c      optional features
 *   capabilities.c  capabilities (Features on Demand) and languages
 *   drivers.c       the driver store
 *   edition.c       edition, product key, reserved storage, registry paths
 *   appx.c          provisioned appx packages
 *   health.c        image health, unattend
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

/* A package named by a DISM identifier, resolved to its manifest and, when
 * installed, its registry entry.  by_path: a folder with an expanded package
 * (update.mum) or a .cab; by name: an identity in the table. */
typedef struct {
    char *identity;
    const cbs_package *installed;  /* NULL when the image does not hold it */
    mum_info mum;
    bool has_mum;
} package_ref;
HRESULT package_resolve(offline_image *img, const cbs_table *table, PCWSTR identifier,
                        DismPackageIdentifier type, package_ref *out);
void package_ref_free(package_ref *ref);

/* ---- validation shared by the servicing functions ---- */

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
