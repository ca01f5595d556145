/*
 * inf.h - a reader for Windows INF files (driver setup information).
 *
 * The engine answers DismGetDrivers / DismGetDriverInfo from the INF files
 * of an offline image, so it needs what SetupAPI would see: sections, lines,
 * comma-separated fields with quotes removed and %strkey% tokens replaced
 * from [Strings].  Everything handed out is UTF-8 and stays valid until
 * inf_free.  The parser depends only on libc and dismapi.h (for the
 * PROCESSOR_ARCHITECTURE_* values), and treats every input as hostile: a
 * malformed file gives an error message, never a crash or an unbounded
 * allocation.
 */
#ifndef DISM_ENGINE_INF_H
#define DISM_ENGINE_INF_H

#include <stdbool.h>
#include <stddef.h>

/* Files larger than this are refused: real INFs are far smaller. */
#define INF_MAX_BYTES (32u * 1024u * 1024u)
/* Longest logical line (continuations joined) and longest field after
 * %strkey% substitution, in bytes of UTF-8. */
#define INF_MAX_LINE (64u * 1024u)
/* Windows limits section names to 255 characters. */
#define INF_MAX_SECTION_NAME 255u

typedef struct inf_file inf_file;

typedef struct {
    const char *key;            /* NULL for a line without '=' */
    size_t field_count;
    const char *const *fields;  /* comma-separated fields, unquoted, %strkey% substituted */
} inf_line;

/* Parses an INF held in memory.  Encodings: UTF-16LE (BOM FF FE, or no BOM
 * but clearly UTF-16LE), UTF-8 (BOM EF BB BF, or valid UTF-8), otherwise
 * Windows-1252 converted to UTF-8.  Returns NULL with a message in `error`
 * (which may be NULL) on failure. */
inf_file *inf_parse(const void *data, size_t len, char *error, size_t error_size);

/* Reads a regular file (refuses non-regular files and files larger than
 * INF_MAX_BYTES; does not follow a symlink at the last component).
 * *err_no (may be NULL) gets errno on I/O failure, 0 for a parse failure. */
inf_file *inf_load(const char *path, char *error, size_t error_size, int *err_no);

void inf_free(inf_file *inf);

/* Section and key lookups ignore ASCII case.  A section that appears several
 * times in the file is one section with the lines of all its parts. */
bool inf_has_section(const inf_file *inf, const char *section);
size_t inf_line_count(const inf_file *inf, const char *section); /* 0 if absent */
const inf_line *inf_line_at(const inf_file *inf, const char *section, size_t index);
/* First field of the first line whose key is `key` in `section`, or NULL
 * ("" for "key =" with nothing after it). */
const char *inf_value(const inf_file *inf, const char *section, const char *key);

typedef struct {
    char *manufacturer;     /* the manufacturer's display name (key of the [Manufacturer] line) */
    char *description;      /* device description (key of the model line) */
    char *hardware_id;      /* first id of the model line */
    char *compatible_ids;   /* remaining ids of the model line joined with ","; "" if none */
    char *exclude_ids;      /* ExcludeId= entries of the DDInstall section joined with ","; "" if none */
    char *service;          /* AddService name flagged 0x2 (SPSVCINST_ASSOCSERVICE), else the
                             * first AddService, else "" */
    unsigned architecture;  /* PROCESSOR_ARCHITECTURE_* from the models-section decoration */
} inf_device;

typedef struct {
    char *class_name;       /* [Version] Class; "" if none */
    char *class_guid;       /* [Version] ClassGuid, as written (braces kept); "" if none */
    char *provider;         /* [Version] Provider; "" if none */
    char *catalog_file;     /* CatalogFile.NT<arch> for the image, else CatalogFile.NT, else
                             * CatalogFile; "" if none */
    bool has_date;          /* [Version] DriverVer=mm/dd/yyyy[,w.x.y.z] */
    unsigned year, month, day;
    bool has_version;
    unsigned version[4];    /* missing trailing parts are 0 */
    bool boot_critical;     /* some device's service is installed with StartType = 0 */
    inf_device *devices;
    size_t device_count;
} inf_driver;

/* Reads the driver description: [Version], then [Manufacturer] -> models
 * sections (every decoration listed, plus the undecorated section when it
 * exists) -> one inf_device per model line.  image_arch
 * (PROCESSOR_ARCHITECTURE_*) stands for undecorated and "NT" decorations and
 * chooses the catalog file.  Returns 0, or -1 with a message (also when the
 * description would take more than 64 MiB); on failure *out holds nothing
 * that needs freeing. */
int inf_read_driver(const inf_file *inf, unsigned image_arch, inf_driver *out, char *error,
                    size_t error_size);
void inf_driver_free(inf_driver *driver);

#endif
