/*
 * convert.c - DISM results as plain Python values.
 *
 * Each DISM record is described once, by a table of rows (the field's name,
 * where it sits, what kind of value it is), in the order of the tuple the
 * extension returns for it.  That order is the order of the record's
 * dataclass in dism/types.py, which builds every record from its tuple with
 * one generic _from_raw; RECORD_FIELDS exports the names so a test catches
 * a table and a dataclass that drift apart.  A new field is one row here and
 * one dataclass field there.
 *
 * The structures are packed (#pragma pack(1), as Microsoft declares them),
 * so fields are read with memcpy, never through a cast pointer.
 */
#include "ext.h"

#include <string.h>

enum field_kind {
    FIELD_WIDE,       /* PCWSTR -> str or None */
    FIELD_INT,        /* a C enum -> int */
    FIELD_UINT,       /* UINT / DWORD -> int */
    FIELD_UINT64,     /* UINT64 -> int */
    FIELD_BOOL,       /* BOOL -> bool */
    FIELD_TIME,       /* SYSTEMTIME -> (y, m, d, h, min, s, ms), or None when unset */
    FIELD_UINT_RUN,   /* `count` UINTs in a row -> tuple of ints (a version) */
    FIELD_LIST,       /* pointer + UINT count -> list of `items` tuples */
    FIELD_STRINGS,    /* DismString pointer + UINT count -> list of str */
    FIELD_CUSTOM,     /* custom(record) */
};

typedef struct {
    const char *name;   /* the C field(s) it reads, as RECORD_FIELDS exports it */
    size_t offset;
    enum field_kind kind;
    size_t count_offset; /* FIELD_LIST, FIELD_STRINGS: the UINT count */
    unsigned count;      /* FIELD_UINT_RUN: how many UINTs */
    const record_type *items;          /* FIELD_LIST: what each item is */
    PyObject *(*custom)(const void *); /* FIELD_CUSTOM */
    /* A field of a structure the record points to (DismImageInfo's
     * CustomizedInfo): the pointer's offset + 1, or 0 for a field of the
     * record itself.  A NULL pointer gives None. */
    size_t via;
} field;

struct record_type {
    const char *name; /* the DISM structure */
    size_t size;
    const field *fields;
    Py_ssize_t nfields;
};

#define ROW(type, member, kind_) {#member, offsetof(type, member), kind_}
#define WIDE(type, member) ROW(type, member, FIELD_WIDE)
#define INT(type, member) ROW(type, member, FIELD_INT)
#define UINT_(type, member) ROW(type, member, FIELD_UINT)
#define BOOL_(type, member) ROW(type, member, FIELD_BOOL)
#define TIME(type, member) ROW(type, member, FIELD_TIME)
#define UINT_RUN(type, first, last, n) \
    {#first ".." #last, offsetof(type, first), FIELD_UINT_RUN, 0, n}
#define LIST(type, member, counter, item_type) \
    {#member, offsetof(type, member), FIELD_LIST, offsetof(type, counter), 0, &item_type}
#define STRINGS(type, member, counter) \
    {#member, offsetof(type, member), FIELD_STRINGS, offsetof(type, counter)}
#define VIA(type, pointer, inner, member, kind_)                                               \
    {#pointer "." #member, offsetof(inner, member), kind_, 0, 0, NULL, NULL,                   \
     offsetof(type, pointer) + 1}
#define RECORD(c_name, table) \
    {#c_name, sizeof(c_name), table, (Py_ssize_t)(sizeof table / sizeof table[0])}

/* ---- values ---- */

PyObject *wide_or_none(PCWSTR s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_FromWideChar(s, -1);
}

PyObject *string_or_none(const DismString *s)
{
    return s ? wide_or_none(s->Value) : Py_NewRef(Py_None);
}

PyObject *string_list(const DismString *items, UINT count)
{
    PyObject *list = PyList_New(count);
    for (UINT i = 0; list && i < count; i++) {
        PyObject *item = wide_or_none(items[i].Value);
        if (!item || PyList_SetItem(list, i, item) < 0)
            Py_CLEAR(list);
    }
    return list;
}

/* (year, month, day, hour, minute, second, millisecond), or None when unset. */
static PyObject *systemtime_tuple(SYSTEMTIME t)
{
    if (t.wYear == 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(iiiiiii)", t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond,
                         t.wMilliseconds);
}

static PyObject *uint_run(const char *at, unsigned count)
{
    PyObject *tuple = PyTuple_New(count);
    for (unsigned i = 0; tuple && i < count; i++) {
        UINT v;
        memcpy(&v, at + i * sizeof v, sizeof v);
        PyObject *item = PyLong_FromUnsignedLong(v);
        if (!item || PyTuple_SetItem(tuple, i, item) < 0)
            Py_CLEAR(tuple);
    }
    return tuple;
}

/* Reads the field as c_type (packed: through memcpy) and returns make(value). */
#define READ_AS(c_type, make)                                                                  \
    {                                                                                          \
        c_type v;                                                                              \
        memcpy(&v, at, sizeof v);                                                              \
        return make(v);                                                                        \
    }

static PyObject *field_value(const field *f, const char *record)
{
    if (f->via) {
        memcpy(&record, record + f->via - 1, sizeof record);
        if (!record)
            Py_RETURN_NONE;
    }
    const char *at = record + f->offset;
    switch (f->kind) {
    case FIELD_WIDE: READ_AS(PCWSTR, wide_or_none)
    case FIELD_INT: READ_AS(int, PyLong_FromLong)
    case FIELD_UINT: READ_AS(UINT, PyLong_FromUnsignedLong)
    case FIELD_UINT64: READ_AS(UINT64, PyLong_FromUnsignedLongLong)
    case FIELD_BOOL: READ_AS(BOOL, PyBool_FromLong)
    case FIELD_TIME: READ_AS(SYSTEMTIME, systemtime_tuple)
    case FIELD_UINT_RUN:
        return uint_run(at, f->count);
    case FIELD_LIST:
    case FIELD_STRINGS: {
        const void *items;
        UINT count;
        memcpy(&items, at, sizeof items);
        memcpy(&count, record + f->count_offset, sizeof count);
        if (f->kind == FIELD_STRINGS)
            return string_list(items, count);
        return record_list(f->items, items, count);
    }
    case FIELD_CUSTOM:
        return f->custom(record);
    }
    PyErr_SetString(PyExc_SystemError, "unknown field kind");
    return NULL;
}

PyObject *record_tuple(const record_type *type, const void *item)
{
    PyObject *tuple = PyTuple_New(type->nfields);
    for (Py_ssize_t i = 0; tuple && i < type->nfields; i++) {
        PyObject *value = field_value(&type->fields[i], item);
        if (!value || PyTuple_SetItem(tuple, i, value) < 0)
            Py_CLEAR(tuple);
    }
    return tuple;
}

PyObject *record_list(const record_type *type, const void *items, UINT count)
{
    PyObject *list = PyList_New(count);
    for (UINT i = 0; list && i < count; i++) {
        PyObject *item = record_tuple(type, (const char *)items + (size_t)i * type->size);
        if (!item || PyList_SetItem(list, i, item) < 0)
            Py_CLEAR(list);
    }
    return list;
}

/* ---- the records ---- */

static const field custom_property_fields[] = {
    WIDE(DismCustomProperty, Name),
    WIDE(DismCustomProperty, Value),
    WIDE(DismCustomProperty, Path),
};
const record_type REC_CUSTOM_PROPERTY = RECORD(DismCustomProperty, custom_property_fields);

static const field feature_fields[] = {
    WIDE(DismFeature, FeatureName),
    INT(DismFeature, State),
};
const record_type REC_FEATURE = RECORD(DismFeature, feature_fields);

static const field package_fields[] = {
    WIDE(DismPackage, PackageName),
    INT(DismPackage, PackageState),
    INT(DismPackage, ReleaseType),
    TIME(DismPackage, InstallTime),
};
const record_type REC_PACKAGE = RECORD(DismPackage, package_fields);

/* DismPackageInfoEx is DismPackageInfo with CapabilityId appended: one list
 * of rows serves both. */
#define PACKAGE_INFO_FIELDS(T)                                                                 \
    WIDE(T, PackageName), INT(T, PackageState), INT(T, ReleaseType), TIME(T, InstallTime),     \
        BOOL_(T, Applicable), WIDE(T, Copyright), WIDE(T, Company), TIME(T, CreationTime),     \
        WIDE(T, DisplayName), WIDE(T, Description), WIDE(T, InstallClient),                    \
        WIDE(T, InstallPackageName), TIME(T, LastUpdateTime), WIDE(T, ProductName),            \
        WIDE(T, ProductVersion), INT(T, RestartRequired), INT(T, FullyOffline),                \
        WIDE(T, SupportInformation),                                                           \
        LIST(T, CustomProperty, CustomPropertyCount, REC_CUSTOM_PROPERTY),                     \
        LIST(T, Feature, FeatureCount, REC_FEATURE)

static const field package_info_fields[] = {PACKAGE_INFO_FIELDS(DismPackageInfo)};
const record_type REC_PACKAGE_INFO = RECORD(DismPackageInfo, package_info_fields);

static const field package_info_ex_fields[] = {
    PACKAGE_INFO_FIELDS(DismPackageInfoEx),
    WIDE(DismPackageInfoEx, CapabilityId),
};
const record_type REC_PACKAGE_INFO_EX = RECORD(DismPackageInfoEx, package_info_ex_fields);

static const field feature_info_fields[] = {
    WIDE(DismFeatureInfo, FeatureName),
    INT(DismFeatureInfo, FeatureState),
    WIDE(DismFeatureInfo, DisplayName),
    WIDE(DismFeatureInfo, Description),
    INT(DismFeatureInfo, RestartRequired),
    LIST(DismFeatureInfo, CustomProperty, CustomPropertyCount, REC_CUSTOM_PROPERTY),
};
const record_type REC_FEATURE_INFO = RECORD(DismFeatureInfo, feature_info_fields);

static const field capability_fields[] = {
    WIDE(DismCapability, Name),
    INT(DismCapability, State),
};
const record_type REC_CAPABILITY = RECORD(DismCapability, capability_fields);

static const field capability_info_fields[] = {
    WIDE(DismCapabilityInfo, Name),
    INT(DismCapabilityInfo, State),
    WIDE(DismCapabilityInfo, DisplayName),
    WIDE(DismCapabilityInfo, Description),
    UINT_(DismCapabilityInfo, DownloadSize),
    UINT_(DismCapabilityInfo, InstallSize),
};
const record_type REC_CAPABILITY_INFO = RECORD(DismCapabilityInfo, capability_info_fields);

static const field driver_package_fields[] = {
    WIDE(DismDriverPackage, PublishedName),
    WIDE(DismDriverPackage, OriginalFileName),
    BOOL_(DismDriverPackage, InBox),
    WIDE(DismDriverPackage, CatalogFile),
    WIDE(DismDriverPackage, ClassName),
    WIDE(DismDriverPackage, ClassGuid),
    WIDE(DismDriverPackage, ClassDescription),
    BOOL_(DismDriverPackage, BootCritical),
    INT(DismDriverPackage, DriverSignature),
    WIDE(DismDriverPackage, ProviderName),
    TIME(DismDriverPackage, Date),
    UINT_RUN(DismDriverPackage, MajorVersion, Revision, 4),
};
const record_type REC_DRIVER_PACKAGE = RECORD(DismDriverPackage, driver_package_fields);

static const field driver_fields[] = {
    WIDE(DismDriver, ManufacturerName),
    WIDE(DismDriver, HardwareDescription),
    WIDE(DismDriver, HardwareId),
    UINT_(DismDriver, Architecture),
    WIDE(DismDriver, ServiceName),
    WIDE(DismDriver, CompatibleIds),
    WIDE(DismDriver, ExcludeIds),
};
const record_type REC_DRIVER = RECORD(DismDriver, driver_fields);

static const field appx_package_fields[] = {
    WIDE(DismAppxPackage, PackageName),
    WIDE(DismAppxPackage, DisplayName),
    WIDE(DismAppxPackage, PublisherId),
    UINT_RUN(DismAppxPackage, MajorVersion, RevisionNumber, 4),
    UINT_(DismAppxPackage, Architecture),
    WIDE(DismAppxPackage, ResourceId),
    WIDE(DismAppxPackage, InstallLocation),
    WIDE(DismAppxPackage, Region),
};
const record_type REC_APPX_PACKAGE = RECORD(DismAppxPackage, appx_package_fields);

static const field mounted_image_fields[] = {
    WIDE(DismMountedImageInfo, MountPath),
    WIDE(DismMountedImageInfo, ImageFilePath),
    UINT_(DismMountedImageInfo, ImageIndex),
    INT(DismMountedImageInfo, MountMode),
    INT(DismMountedImageInfo, MountStatus),
};
const record_type REC_MOUNTED_IMAGE = RECORD(DismMountedImageInfo, mounted_image_fields);

/* The default language's name; None when the index is past the list. */
static PyObject *default_language(const void *record)
{
    const char *at = record;
    UINT index, count;
    DismLanguage *languages;
    memcpy(&index, at + offsetof(DismImageInfo, DefaultLanguageIndex), sizeof index);
    memcpy(&count, at + offsetof(DismImageInfo, LanguageCount), sizeof count);
    memcpy(&languages, at + offsetof(DismImageInfo, Language), sizeof languages);
    if (index >= count)
        Py_RETURN_NONE;
    return wide_or_none(languages[index].Value);
}

static const field image_info_fields[] = {
    UINT_(DismImageInfo, ImageIndex),
    WIDE(DismImageInfo, ImageName),
    WIDE(DismImageInfo, ImageDescription),
    ROW(DismImageInfo, ImageSize, FIELD_UINT64),
    UINT_(DismImageInfo, Architecture),
    WIDE(DismImageInfo, EditionId),
    WIDE(DismImageInfo, ProductName),
    WIDE(DismImageInfo, InstallationType),
    UINT_RUN(DismImageInfo, MajorVersion, SpLevel, 5),
    STRINGS(DismImageInfo, Language, LanguageCount),
    {"Language[DefaultLanguageIndex]", 0, FIELD_CUSTOM, 0, 0, NULL, default_language},
    INT(DismImageInfo, Bootable),
    INT(DismImageInfo, ImageType),
    WIDE(DismImageInfo, Hal),
    WIDE(DismImageInfo, ProductType),
    WIDE(DismImageInfo, ProductSuite),
    WIDE(DismImageInfo, SystemRoot),
    VIA(DismImageInfo, CustomizedInfo, DismWimCustomizedInfo, DirectoryCount, FIELD_UINT),
    VIA(DismImageInfo, CustomizedInfo, DismWimCustomizedInfo, FileCount, FIELD_UINT),
    VIA(DismImageInfo, CustomizedInfo, DismWimCustomizedInfo, CreatedTime, FIELD_TIME),
    VIA(DismImageInfo, CustomizedInfo, DismWimCustomizedInfo, ModifiedTime, FIELD_TIME),
};
const record_type REC_IMAGE_INFO = RECORD(DismImageInfo, image_info_fields);

static const record_type *const all_records[] = {
    &REC_IMAGE_INFO, &REC_MOUNTED_IMAGE, &REC_PACKAGE, &REC_PACKAGE_INFO, &REC_PACKAGE_INFO_EX,
    &REC_FEATURE, &REC_FEATURE_INFO, &REC_CAPABILITY, &REC_CAPABILITY_INFO,
    &REC_DRIVER_PACKAGE, &REC_DRIVER, &REC_APPX_PACKAGE, &REC_CUSTOM_PROPERTY,
};

static PyObject *field_names(const record_type *type)
{
    PyObject *names = PyTuple_New(type->nfields);
    for (Py_ssize_t i = 0; names && i < type->nfields; i++) {
        PyObject *name = PyUnicode_FromString(type->fields[i].name);
        if (!name || PyTuple_SetItem(names, i, name) < 0)
            Py_CLEAR(names);
    }
    return names;
}

PyObject *record_fields_dict(void)
{
    PyObject *dict = PyDict_New();
    for (size_t i = 0; dict && i < sizeof all_records / sizeof all_records[0]; i++) {
        PyObject *names = field_names(all_records[i]);
        if (!names || PyDict_SetItemString(dict, all_records[i]->name, names) < 0)
            Py_CLEAR(dict);
        Py_XDECREF(names);
    }
    return dict;
}
