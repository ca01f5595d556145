/*
 * commit.c - writing inside the calls, the way WIMGAPI leaves a file:
 *
 *   - a new WIM is written to a private temporary file beside the
 *     destination (O_EXCL, mode 0600 while it is written) and renamed into
 *     place only when the write succeeded, so a failed or cancelled call
 *     leaves no destination (and CREATE_ALWAYS leaves the old file alone);
 *   - a change to an existing WIM is made with the file locked against
 *     other writers: an open-file-description lock that every engine writer
 *     takes (threads and processes alike, whichever path wimlib takes,
 *     rebuild included), and wimlib's own flock for in-place appends, which
 *     other wimlib programs honour too;
 *   - when that change fails or is cancelled, the file is put back byte for
 *     byte: wimlib truncates an append, but rewrites the XML and integrity
 *     table in place for an information-only change and never restores
 *     them, so the header and everything from the end of the blob table on
 *     are saved first and written back when anything differs.
 * After every successful write the WIMStruct is reopened from disk (wimlib
 * allows nothing but wimlib_free after wimlib_overwrite).
 */
#include "imaging.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define WIM_HEADER_SIZE 208
/* Beyond this much trailing data (XML, integrity table) nothing is saved:
 * wimlib's own truncation is all the protection left. */
#define SNAPSHOT_MAX (256u << 20)

int file_write_flags(const wim_file *f)
{
    int flags = 0;
    if (f->flags & WIM_FLAG_VERIFY)
        flags |= WIMLIB_WRITE_FLAG_CHECK_INTEGRITY;
    /* LZMS with WIM_FLAG_CHUNKED is an ESD: solid resources.  An existing
     * solid WIM stays solid by itself (wimlib's default for appends). */
    if (f->pending && f->compression == WIM_COMPRESS_LZMS && (f->flags & WIM_FLAG_CHUNKED))
        flags |= WIMLIB_WRITE_FLAG_SOLID;
    return flags;
}

BOOL file_require_write(const wim_file *f, const char *function)
{
    if (!(f->access & WIM_GENERIC_WRITE))
        return wim_fail(ERROR_ACCESS_DENIED, "%s: '%s' was opened without WIM_GENERIC_WRITE; "
                        "open it with write access to change it.", function, f->path);
    struct wimlib_wim_info info;
    if (f->wim && (wimlib_get_wim_info(f->wim, &info), info.total_parts > 1))
        return wim_fail(ERROR_NOT_SUPPORTED, "%s: '%s' is one part of a split WIM, which cannot "
                        "be changed; export its images to a single WIM first.", function,
                        f->path);
    return TRUE;
}

/* The handle's WIMSetReferenceFile list, again on a fresh WIMStruct
 * (wimlib keeps references per WIMStruct and cannot forget one). */
static int reference_again(wim_file *f)
{
    if (!f->ref_count || !f->wim)
        return 0;
    int open_flags = (f->ref_flags & WIM_FLAG_VERIFY) ? WIMLIB_OPEN_FLAG_CHECK_INTEGRITY : 0;
    return wimlib_reference_resource_files(f->wim, (const char *const *)f->refs, f->ref_count,
                                           0, open_flags);
}

int file_reopen(wim_file *f)
{
    if (f->wim)
        wimlib_free(f->wim);
    f->wim = NULL;
    int open_flags = 0;
    if (f->access & WIM_GENERIC_WRITE)
        open_flags |= WIMLIB_OPEN_FLAG_WRITE_ACCESS;
    int rc = wimlib_open_wim(f->path, open_flags, &f->wim);
    if (rc == 0) {
        file_remember_header(f);
        rc = reference_again(f);
    }
    return rc;
}

void file_remember_header(wim_file *f)
{
    memset(f->header, 0, sizeof f->header);
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (pread(fd, f->header, sizeof f->header, 0) != (ssize_t)sizeof f->header)
        memset(f->header, 0, sizeof f->header);
    close(fd);
}

void file_discard(wim_file *f)
{
    if (f->pending) {
        if (f->wim)
            wimlib_free(f->wim);
        f->wim = NULL;
        if (wimlib_create_new_wim((enum wimlib_compression_type)f->compression, &f->wim) != 0)
            f->wim = NULL;
        return;
    }
    /* A failed reopen leaves f->wim NULL; later calls then fail cleanly. */
    (void)file_reopen(f);
}

/* ---- a new WIM: private temporary file, renamed into place ---- */

static int make_temporary(const char *path, char *tmp, size_t size)
{
    char *copy = strdup(path), *copy2 = strdup(path);
    if (!copy || !copy2) {
        free(copy);
        free(copy2);
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, size, "%s/.%s.dism-XXXXXX", dirname(copy), basename(copy2));
    free(copy);
    free(copy2);
    /* mkstemp: O_CREAT|O_EXCL, mode 0600, a name nobody else can predict. */
    return mkostemp(tmp, O_CLOEXEC);
}

/* Takes the writers' lock of an existing file: ours (every engine writer)
 * and a probe of wimlib's (other wimlib programs).  -1 with errno
 * EWOULDBLOCK when another writer holds either. */
static int lock_writer(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    bool writable = fd >= 0;
    if (fd < 0 && errno == EACCES) /* a read-only file: a read lock still meets writers' */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct flock lk = {.l_type = writable ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_OFD_SETLK, &lk) != 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno == EACCES || errno == EAGAIN ? EWOULDBLOCK : errno;
        close(fd);
        errno = err;
        return -1;
    }
    flock(fd, LOCK_UN);
    return fd;
}

/* A replaced file keeps its permissions; a new one gets the umask's. */
static mode_t new_file_mode(const wim_file *f)
{
    struct stat st;
    if (f->replace && stat(f->path, &st) == 0)
        return st.st_mode & 07777;
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

static BOOL place_new(wim_file *f, const char *tmp, const char *function)
{
    if (!f->replace) {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, f->path, RENAME_NOREPLACE) == 0)
            return TRUE;
        int err = errno;
        if (err == EEXIST)
            return wim_fail(ERROR_FILE_EXISTS, "%s: '%s' was created by someone else while "
                            "this WIM was written; nothing was replaced.", function, f->path);
        if (err != EINVAL && err != ENOSYS)
            return wim_fail_errno(err, "%s: cannot move the new WIM into place as '%s'",
                                  function, f->path);
        if (link(tmp, f->path) == 0) /* a file system without RENAME_NOREPLACE */
            return unlink(tmp), TRUE;
        return wim_fail_errno(errno, "%s: cannot move the new WIM into place as '%s'",
                              function, f->path);
    }
    int lock = lock_writer(f->path);
    if (lock < 0 && errno == EWOULDBLOCK)
        return wim_fail(ERROR_SHARING_VIOLATION, "%s: another program is writing '%s', so it "
                        "was not replaced.", function, f->path);
    int rc = rename(tmp, f->path), err = errno;
    if (lock >= 0)
        close(lock);
    if (rc != 0)
        return wim_fail_errno(err, "%s: cannot move the new WIM into place as '%s'", function,
                              f->path);
    return TRUE;
}

static BOOL commit_new(wim_file *f, wim_op *op, int extra)
{
    char tmp[ENGINE_PATH_MAX + 32];
    int fd = make_temporary(f->path, tmp, sizeof tmp);
    if (fd < 0)
        return wim_fail_errno(errno, "%s: cannot create a temporary file beside '%s'",
                              op->function, f->path);
    op_attach(op, f->wim);
    int rc = wimlib_write_to_fd(f->wim, fd, WIMLIB_ALL_IMAGES, file_write_flags(f) | extra, 0);
    int write_errno = errno;
    op_detach(f->wim);
    if (rc == 0 && (fsync(fd) != 0 || fchmod(fd, new_file_mode(f)) != 0)) {
        rc = WIMLIB_ERR_WRITE;
        write_errno = errno;
    }
    close(fd);
    if (rc != 0)
        unlink(tmp);
    if (rc == WIMLIB_ERR_WRITE && write_errno)
        return wim_fail_errno(write_errno, "%s: cannot write the new WIM '%s'; nothing was "
                              "created", op->function, f->path);
    if (rc != 0)
        return op_fail(op, rc, "%s: cannot write the new WIM '%s'", op->function, f->path);
    if (!place_new(f, tmp, op->function)) {
        unlink(tmp);
        return FALSE;
    }
    f->pending = false;
    f->replace = false;
    rc = file_reopen(f);
    if (rc != 0)
        return wim_fail_wimlib(rc, "%s: '%s' was written but cannot be opened again",
                               op->function, f->path);
    return TRUE;
}

/* ---- an existing WIM: locked, and restored when the change fails ---- */

typedef struct {
    off_t length;
    unsigned char header[WIM_HEADER_SIZE];
    off_t tail_start;
    unsigned char *tail; /* [tail_start, length), or NULL when too large */
} wim_snapshot;

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A resource header: 7 bytes of size, 1 of flags, 8 of offset. */
static uint64_t reshdr_end(const unsigned char *h, uint64_t *offset)
{
    uint64_t size = le64(h) & 0x00FFFFFFFFFFFFFFull;
    *offset = le64(h + 8);
    return *offset + size;
}

static bool read_all(int fd, void *buf, size_t len, off_t at)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, at + (off_t)done);
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t len, off_t at)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, at + (off_t)done);
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

static bool take_snapshot(int fd, wim_snapshot *s)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    if (fstat(fd, &st) != 0 || st.st_size < WIM_HEADER_SIZE)
        return false;
    s->length = st.st_size;
    if (!read_all(fd, s->header, WIM_HEADER_SIZE, 0))
        return false;
    uint64_t blob_off, xml_off;
    uint64_t blob_end = reshdr_end(s->header + 48, &blob_off);
    reshdr_end(s->header + 72, &xml_off);
    uint64_t start = blob_off ? blob_end : WIM_HEADER_SIZE;
    if (xml_off && xml_off < start)
        start = xml_off;
    if (start < WIM_HEADER_SIZE || start > (uint64_t)s->length)
        start = WIM_HEADER_SIZE;
    s->tail_start = (off_t)start;
    size_t n = (size_t)(s->length - s->tail_start);
    if (n > SNAPSHOT_MAX)
        return true;
    s->tail = malloc(n ? n : 1);
    if (!s->tail || !read_all(fd, s->tail, n, s->tail_start)) {
        free(s->tail);
        s->tail = NULL;
        return false;
    }
    return true;
}

static bool region_equals(int fd, const unsigned char *want, size_t len, off_t at)
{
    unsigned char buf[65536];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof buf ? len - done : sizeof buf;
        if (!read_all(fd, buf, n, at + (off_t)done) || memcmp(buf, want + done, n) != 0)
            return false;
        done += n;
    }
    return true;
}

/* Puts the saved bytes back, touching the file only when it differs. */
static void restore_snapshot(int fd, const wim_snapshot *s)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return;
    size_t tail_len = (size_t)(s->length - s->tail_start);
    bool same = st.st_size == s->length && region_equals(fd, s->header, WIM_HEADER_SIZE, 0) &&
                (!s->tail || region_equals(fd, s->tail, tail_len, s->tail_start));
    if (same)
        return;
    engine_log(LOG_WARNING, "restoring a WIM to its state before a failed change");
    if (ftruncate(fd, s->length) != 0)
        return;
    if (s->tail)
        (void)write_all(fd, s->tail, tail_len, s->tail_start);
    (void)write_all(fd, s->header, WIM_HEADER_SIZE, 0);
    fsync(fd);
}

static BOOL commit_existing(wim_file *f, wim_op *op, int extra)
{
    int fd = lock_writer(f->path);
    if (fd < 0) {
        if (errno == EWOULDBLOCK)
            return wim_fail(ERROR_SHARING_VIOLATION, "%s: another program is writing '%s'; "
                            "nothing was changed. Wait for it to finish and try again.",
                            op->function, f->path);
        return wim_fail_errno(errno, "%s: cannot open '%s' for writing", op->function,
                              f->path);
    }
    wim_snapshot snap;
    if (!take_snapshot(fd, &snap)) {
        close(fd);
        return wim_fail(ERROR_FILE_CORRUPT, "%s: cannot read the header of '%s'.", op->function,
                        f->path);
    }
    /* wimlib writes where this handle's view of the file ends: if another
     * handle or program changed the file since, that would overwrite its
     * change.  Refuse, and read the file again for the next call. */
    if (memcmp(snap.header, f->header, WIM_HEADER_SIZE) != 0) {
        close(fd);
        free(snap.tail);
        file_discard(f);
        return wim_fail(ERROR_SHARING_VIOLATION, "%s: '%s' was changed by another handle or "
                        "program since this handle read it; nothing was changed. The handle "
                        "now sees the new file: try again.", op->function, f->path);
    }
    /* wimlib rebuilds a pipable WIM through a temporary file without its
     * flock; hold it for wimlib then, so wimlib programs wait for us too. */
    struct wimlib_wim_info info;
    wimlib_get_wim_info(f->wim, &info);
    bool hold_flock = info.pipable && flock(fd, LOCK_EX | LOCK_NB) == 0;

    op_attach(op, f->wim);
    int rc = wimlib_overwrite(f->wim, file_write_flags(f) | extra, 0);
    int write_errno = errno;
    op_detach(f->wim);
    if (rc != 0)
        restore_snapshot(fd, &snap);
    if (hold_flock)
        flock(fd, LOCK_UN);
    close(fd);
    free(snap.tail);
    if (rc != 0) {
        BOOL r;
        if (rc == WIMLIB_ERR_ALREADY_LOCKED)
            r = wim_fail(ERROR_SHARING_VIOLATION, "%s: another program is writing '%s'; nothing "
                         "was changed. Wait for it to finish and try again.", op->function,
                         f->path);
        else if (rc == WIMLIB_ERR_WRITE && write_errno)
            r = wim_fail_errno(write_errno, "%s: cannot write the change to '%s'; it was left "
                               "as it was", op->function, f->path);
        else
            r = op_fail(op, rc, "%s: cannot write the change to '%s'; it was left as it was",
                        op->function, f->path);
        file_discard(f);
        return r;
    }
    rc = file_reopen(f);
    if (rc != 0)
        return wim_fail_wimlib(rc, "%s: '%s' was written but cannot be opened again",
                               op->function, f->path);
    return TRUE;
}

BOOL file_commit(wim_file *f, wim_op *op, int extra_write_flags)
{
    /* The last point where a change that sends no byte counts (delete,
     * information, boot index) can be cancelled. */
    op_send(op, WIM_MSG_QUERY_ABORT, 0, 0);
    if (op->aborted) {
        op_fail(op, WIMLIB_ERR_ABORTED_BY_PROGRESS, "%s", op->function);
        file_discard(f);
        return FALSE;
    }
    if (f->pending) {
        BOOL ok = commit_new(f, op, extra_write_flags);
        if (!ok && f->pending)
            file_discard(f);
        return ok;
    }
    return commit_existing(f, op, extra_write_flags);
}
