/*
 * create.c - WIMCreateFile, WIMCloseHandle and WIMSetTemporaryPath.
 * Opening reads the WIM with wimlib; creating makes an empty WIM in memory
 * only: the file appears when the first capture or export into it succeeds
 * (commit.c), so a failed one leaves nothing behind.
 */
#include "imaging.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KNOWN_ACCESS (WIM_GENERIC_READ | WIM_GENERIC_WRITE | WIM_GENERIC_MOUNT)

static BOOL check_create_args(DWORD access, DWORD disposition, DWORD compression)
{
    if (access & ~KNOWN_ACCESS)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMCreateFile: unknown access bits 0x%08X.",
                        (unsigned)(access & ~KNOWN_ACCESS));
    if (access & WIM_GENERIC_MOUNT)
        return wim_fail(ERROR_NOT_SUPPORTED, "WIMCreateFile: WIM_GENERIC_MOUNT is not supported "
                        "by the portable engine; mount images with DismMountImage.");
    if (disposition < WIM_CREATE_NEW || disposition > WIM_OPEN_ALWAYS)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMCreateFile: creation disposition %u is not "
                        "one of WIM_CREATE_NEW, WIM_CREATE_ALWAYS, WIM_OPEN_EXISTING, "
                        "WIM_OPEN_ALWAYS.", (unsigned)disposition);
    if (compression > WIM_COMPRESS_LZMS)
        return wim_fail(ERROR_INVALID_PARAMETER, "WIMCreateFile: compression type %u is not "
                        "one of WIM_COMPRESS_NONE, XPRESS, LZX, LZMS.", (unsigned)compression);
    return TRUE;
}

static void free_file(wim_file *f)
{
    if (f->wim)
        wimlib_free(f->wim);
    for (size_t i = 0; i < f->ref_count; i++)
        free(f->refs[i]);
    free(f->refs);
    free(f->path);
    free(f->temp_dir);
    callback_list_free(&f->callbacks);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* wimlib calls a file shorter than a header corrupt; it is simply not a
 * WIM (nor a pipable one, "WLPWM").  1: it is, 0: it is not, else -errno. */
static int has_wim_magic(const char *path)
{
    char magic[8] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    size_t n = fread(magic, 1, sizeof magic, fp);
    fclose(fp);
    return n == sizeof magic && (memcmp(magic, "MSWIM\0\0\0", 8) == 0 ||
                                 memcmp(magic, "WLPWM\0\0\0", 8) == 0);
}

/* Opens an existing WIM; a split part opened for writing stays readable
 * (its changes are refused later with the reason). */
static BOOL open_existing(wim_file *f)
{
    int flags = 0;
    if (f->access & WIM_GENERIC_WRITE)
        flags |= WIMLIB_OPEN_FLAG_WRITE_ACCESS;
    if (f->flags & WIM_FLAG_VERIFY)
        flags |= WIMLIB_OPEN_FLAG_CHECK_INTEGRITY;
    int magic = has_wim_magic(f->path);
    if (magic < 0)
        return wim_fail_errno(-magic, "WIMCreateFile: cannot read '%s'", f->path);
    if (!magic)
        return wim_fail(ERROR_BAD_FORMAT, "WIMCreateFile: '%s' is not a WIM or ESD image (it "
                        "does not start with a WIM header).", f->path);
    wim_op op;
    op_init(&op, "WIMCreateFile", NULL, NULL);
    int rc = op_open_wim(&op, f->path, flags, &f->wim);
    op_detach(f->wim);
    if (rc == WIMLIB_ERR_WIM_IS_READONLY) {
        rc = wimlib_open_wim(f->path, flags & ~WIMLIB_OPEN_FLAG_WRITE_ACCESS, &f->wim);
        struct wimlib_wim_info info;
        if (rc == 0 && (wimlib_get_wim_info(f->wim, &info), info.total_parts <= 1)) {
            wimlib_free(f->wim);
            f->wim = NULL;
            return wim_fail(ERROR_ACCESS_DENIED, "WIMCreateFile: '%s' is read-only (its "
                            "permissions or its header's read-only flag); open it without "
                            "WIM_GENERIC_WRITE or make it writable.", f->path);
        }
    }
    if (rc != 0) {
        f->wim = NULL;
        return op_fail(&op, rc, "WIMCreateFile: cannot open '%s'", f->path);
    }
    file_remember_header(f);
    return TRUE;
}

static BOOL start_new(wim_file *f, bool replace)
{
    if (!(f->access & WIM_GENERIC_WRITE))
        return wim_fail(ERROR_ACCESS_DENIED, "WIMCreateFile: creating '%s' needs "
                        "WIM_GENERIC_WRITE access.", f->path);
    char *copy = strdup(f->path);
    struct stat st;
    bool parent_ok = copy && stat(dirname(copy), &st) == 0 && S_ISDIR(st.st_mode);
    free(copy);
    if (!parent_ok)
        return wim_fail(ERROR_PATH_NOT_FOUND, "WIMCreateFile: the folder of '%s' does not "
                        "exist.", f->path);
    int rc = wimlib_create_new_wim((enum wimlib_compression_type)f->compression, &f->wim);
    if (rc != 0)
        return wim_fail_wimlib(rc, "WIMCreateFile: cannot create '%s'", f->path);
    f->pending = true;
    f->replace = replace;
    return TRUE;
}

static BOOL open_or_create(wim_file *f, DWORD disposition, DWORD *result)
{
    struct stat st;
    bool exists = stat(f->path, &st) == 0;
    int err = errno;
    if (exists && !S_ISREG(st.st_mode))
        return wim_fail(ERROR_ACCESS_DENIED, "WIMCreateFile: '%s' is not a file.", f->path);
    if (!exists && err != ENOENT)
        return wim_fail_errno(err, "WIMCreateFile: cannot use '%s'", f->path);
    if (exists && disposition == WIM_CREATE_NEW)
        return wim_fail(ERROR_FILE_EXISTS, "WIMCreateFile: '%s' already exists "
                        "(WIM_CREATE_NEW).", f->path);
    if (exists && disposition == WIM_CREATE_ALWAYS) {
        *result = WIM_CREATED_NEW;
        return start_new(f, true);
    }
    if (exists) {
        *result = WIM_OPENED_EXISTING;
        return open_existing(f);
    }
    if (disposition == WIM_OPEN_EXISTING ||
        (disposition == WIM_OPEN_ALWAYS && !(f->access & WIM_GENERIC_WRITE)))
        return wim_fail(ERROR_FILE_NOT_FOUND, "WIMCreateFile: '%s' does not exist.", f->path);
    *result = WIM_CREATED_NEW;
    return start_new(f, false);
}

HANDLE WINAPI WIMCreateFile(PCWSTR WimPath, DWORD DesiredAccess, DWORD CreationDisposition,
                            DWORD FlagsAndAttributes, DWORD CompressionType,
                            PDWORD CreationResult)
{
    wim_begin();
    int rc = engine_wimlib_init();
    if (rc != 0)
        return wim_fail_wimlib(rc, "WIMCreateFile: wimlib cannot start"), NULL;
    char *path;
    if (!check_create_args(DesiredAccess, CreationDisposition, CompressionType) ||
        !wide_absolute_path_arg(WimPath, "WIMCreateFile", "the WIM path", &path))
        return NULL;
    wim_file *f = calloc(1, sizeof *f);
    if (!f) {
        free(path);
        return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMCreateFile: out of memory."), NULL;
    }
    f->path = path;
    f->kind = HANDLE_WIM;
    pthread_mutex_init(&f->lock, NULL);
    f->access = DesiredAccess;
    f->disposition = CreationDisposition;
    f->flags = FlagsAndAttributes;
    f->compression = CompressionType;
    DWORD result = WIM_OPENED_EXISTING;
    if (!open_or_create(f, CreationDisposition, &result)) {
        free_file(f);
        return NULL;
    }
    if (!handle_register(f)) {
        free_file(f);
        return wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMCreateFile: out of memory."), NULL;
    }
    if (CreationResult)
        *CreationResult = result;
    return f;
}

static BOOL close_image(wim_image *img)
{
    handles_lock();
    img->file->open_images--;
    handles_unlock();
    free(img);
    return TRUE;
}

BOOL WINAPI WIMCloseHandle(HANDLE Object)
{
    wim_begin();
    wim_image *img = handle_image(Object);
    if (img)
        return handle_unregister(img) ? close_image(img) : TRUE;
    wim_file *f = handle_file(Object, false);
    if (!f)
        return wim_fail(ERROR_INVALID_HANDLE, "WIMCloseHandle: the handle is not an open WIM or "
                        "image handle (or it was already closed).");
    handles_lock();
    unsigned images = f->open_images;
    handles_unlock();
    if (images)
        return wim_fail(ERROR_BUSY, "WIMCloseHandle: %u image handle(s) of '%s' are still "
                        "open; close them first.", images, f->path);
    if (!handle_unregister(f))
        return TRUE;
    /* Waits for a call still running on another thread. */
    pthread_mutex_lock(&f->lock);
    pthread_mutex_unlock(&f->lock);
    free_file(f);
    return TRUE;
}

BOOL WINAPI WIMSetTemporaryPath(HANDLE Wim, PCWSTR Path)
{
    wim_begin();
    wim_file *f = handle_file(Wim, false);
    if (!f)
        return wim_fail(ERROR_INVALID_HANDLE, "WIMSetTemporaryPath: the handle is not an open "
                        "WIM handle.");
    char *dir;
    if (!wide_path_arg(Path, "WIMSetTemporaryPath", "the temporary path", &dir))
        return FALSE;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        BOOL r = wim_fail(ERROR_PATH_NOT_FOUND, "WIMSetTemporaryPath: '%s' is not an existing "
                          "folder.", dir);
        free(dir);
        return r;
    }
    /* wimlib keeps metadata in memory and writes beside the WIM, so the
     * folder is only remembered. */
    pthread_mutex_lock(&f->lock);
    free(f->temp_dir);
    f->temp_dir = dir;
    pthread_mutex_unlock(&f->lock);
    return TRUE;
}
