/*
 * registry.c - the persistent registry of mounts.
 *
 * wimlib forgets a mount the moment its server process dies, while DISM
 * mounts outlive the process that made them and can be listed, remounted or
 * cleaned up later.  So every mount made by the engine is recorded in
 * <state>/mounts/<guid>.mount, a small "key=value" file (the analogue of
 * HKLM\SOFTWARE\Microsoft\WIMMount\Mounted Images\<guid>).  A record is
 * written to a private temporary name and renamed, so a reader never sees a
 * half-written one and a crashed writer leaves the old or the new record.
 * Records are not synced to disk: after a power loss every mount is gone
 * anyway, and cleanup releases whatever a lost record leaves behind.
 *
 * A record is read back only if it is a regular file of this user that no
 * one else may write, with well-formed fields; anything else is skipped.
 */
#include "wim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECORD_MAX_BYTES (4 * ENGINE_PATH_MAX)

static HRESULT mounts_dir(const char *function, char *out, size_t size)
{
    return state_subdir(function, "mounts", out, size);
}

void registry_new_id(char out[40])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != sizeof b) {
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)rand();
    }
    b[6] = (b[6] & 0x0F) | 0x40; /* version 4 */
    b[8] = (b[8] & 0x3F) | 0x80;
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= 40)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '-'))
            return false;
    return true;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int format_record(const mount_record *rec, char *text, size_t size)
{
    return snprintf(text, size,
                    "id=%s\nmount_path=%s\nwim_path=%s\nimage_index=%u\nread_only=%d\n"
                    "server_pid=%d\nserver_start=%llu\nowner_pid=%d\nowner_start=%llu\n"
                    "unmounting_pid=%d\nunmounting_start=%llu\nboot_id=%s\nmnt_ns=%llu\n"
                    "pid_ns=%llu\nstaging_dir=%s\ncreated=%lld\n",
                    rec->id, rec->mount_path, rec->wim_path, rec->image_index,
                    rec->read_only ? 1 : 0, (int)rec->server.pid, rec->server.start,
                    (int)rec->owner.pid, rec->owner.start, (int)rec->unmounting.pid,
                    rec->unmounting.start, rec->boot_id, rec->mnt_ns, rec->pid_ns,
                    rec->staging_dir, rec->created);
}

HRESULT registry_save(const mount_record *rec)
{
    char dir[ENGINE_PATH_MAX], tmp[ENGINE_PATH_MAX + 64], final[ENGINE_PATH_MAX + 64];
    HRESULT hr = mounts_dir("DismMountImage", dir, sizeof dir);
    if (FAILED(hr))
        return hr;
    char text[RECORD_MAX_BYTES];
    int len = format_record(rec, text, sizeof text);
    if (len < 0 || len >= (int)sizeof text)
        return engine_fail(E_INVALIDARG, "The mount registry entry for '%s' is too long.",
                           rec->mount_path);
    char nonce[40];
    registry_new_id(nonce); /* several threads may save the same record at once */
    snprintf(tmp, sizeof tmp, "%s/.%s.%s.tmp", dir, rec->id, nonce);
    snprintf(final, sizeof final, "%s/%s.mount", dir, rec->id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return engine_fail_errno(errno, "Cannot write the mount registry entry '%s'", tmp);
    if (write_all(fd, text, (size_t)len) != 0) {
        int err = errno;
        close(fd);
        unlink(tmp);
        return engine_fail_errno(err, "Cannot write the mount registry entry '%s'", tmp);
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        int err = errno;
        unlink(tmp);
        return engine_fail_errno(err, "Cannot store the mount registry entry '%s'", final);
    }
    return S_OK;
}

#define TEMPORARY_GRACE_SECONDS 60

void registry_sweep_temporaries(void)
{
    char dir[ENGINE_PATH_MAX];
    if (FAILED(mounts_dir("DismCleanupMountpoints", dir, sizeof dir))) {
        engine_clear_error();
        return;
    }
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        struct stat st;
        /* A writer renames its file within microseconds; an old one is a
         * dead writer's. */
        if (e->d_name[0] == '.' && has_suffix_ci(e->d_name, ".tmp") &&
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            time(NULL) - st.st_mtime >= TEMPORARY_GRACE_SECONDS)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d)
        closedir(d);
}

HRESULT registry_remove(const char *id)
{
    char dir[ENGINE_PATH_MAX], path[ENGINE_PATH_MAX + 64];
    if (!valid_id(id))
        return E_INVALIDARG;
    HRESULT hr = mounts_dir("DismUnmountImage", dir, sizeof dir);
    if (FAILED(hr))
        return hr;
    snprintf(path, sizeof path, "%s/%s.mount", dir, id);
    if (unlink(path) != 0 && errno != ENOENT)
        return engine_fail_errno(errno, "Cannot remove the mount registry entry '%s'", path);
    return S_OK;
}

/* ---- reading records back, trusting nothing ---- */

static bool parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_pid(const char *s, pid_t *out)
{
    unsigned long long v;
    if (!parse_u64(s, INT_MAX, &v))
        return false;
    *out = (pid_t)v;
    return true;
}

static bool copy_text(char *dst, size_t size, const char *value)
{
    return snprintf(dst, size, "%s", value) < (int)size;
}

static bool set_field(mount_record *rec, const char *key, const char *v)
{
    unsigned long long n;
    if (!strcmp(key, "id"))
        return copy_text(rec->id, sizeof rec->id, v);
    if (!strcmp(key, "mount_path"))
        return copy_text(rec->mount_path, sizeof rec->mount_path, v);
    if (!strcmp(key, "wim_path"))
        return copy_text(rec->wim_path, sizeof rec->wim_path, v);
    if (!strcmp(key, "staging_dir"))
        return copy_text(rec->staging_dir, sizeof rec->staging_dir, v);
    if (!strcmp(key, "boot_id"))
        return copy_text(rec->boot_id, sizeof rec->boot_id, v);
    if (!strcmp(key, "image_index"))
        return parse_u64(v, UINT_MAX, &n) && (rec->image_index = (unsigned)n, true);
    if (!strcmp(key, "read_only"))
        return parse_u64(v, 1, &n) && (rec->read_only = n != 0, true);
    if (!strcmp(key, "server_pid"))
        return parse_pid(v, &rec->server.pid);
    if (!strcmp(key, "owner_pid"))
        return parse_pid(v, &rec->owner.pid);
    if (!strcmp(key, "unmounting_pid"))
        return parse_pid(v, &rec->unmounting.pid);
    if (!strcmp(key, "server_start"))
        return parse_u64(v, ULLONG_MAX, &rec->server.start);
    if (!strcmp(key, "owner_start"))
        return parse_u64(v, ULLONG_MAX, &rec->owner.start);
    if (!strcmp(key, "unmounting_start"))
        return parse_u64(v, ULLONG_MAX, &rec->unmounting.start);
    if (!strcmp(key, "mnt_ns"))
        return parse_u64(v, ULLONG_MAX, &rec->mnt_ns);
    if (!strcmp(key, "pid_ns"))
        return parse_u64(v, ULLONG_MAX, &rec->pid_ns);
    if (!strcmp(key, "created"))
        return parse_u64(v, LLONG_MAX, &n) && (rec->created = (long long)n, true);
    return true; /* a field of a newer engine */
}

/* The staging directory is the only thing cleanup deletes, so a record may
 * name only a directory called like its id inside a "dism-staging" folder. */
static bool staging_dir_plausible(const mount_record *rec)
{
    if (!rec->staging_dir[0])
        return true;
    const char *base = strrchr(rec->staging_dir, '/');
    if (rec->staging_dir[0] != '/' || !base || strcmp(base + 1, rec->id) != 0)
        return false;
    static const char parent[] = "/dism-staging/";
    size_t plen = strlen(parent), prefix = (size_t)(base + 1 - rec->staging_dir);
    return prefix >= plen && !strncmp(base + 1 - plen, parent, plen) &&
           !strstr(rec->staging_dir, "/../") && !strstr(rec->staging_dir, "/./");
}

static bool parse_record(char *text, const char *file_id, mount_record *rec)
{
    memset(rec, 0, sizeof *rec);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            return false;
        *eq = '\0';
        if (!set_field(rec, line, eq + 1))
            return false;
    }
    return valid_id(rec->id) && !strcmp(rec->id, file_id) && rec->mount_path[0] == '/' &&
           rec->wim_path[0] == '/' && staging_dir_plausible(rec) &&
           (rec->read_only || rec->staging_dir[0]);
}

static bool load_one(int dirfd, const char *name, mount_record *rec)
{
    char id[64];
    size_t n = strlen(name) - strlen(".mount");
    if (n >= sizeof id)
        return false;
    memcpy(id, name, n);
    id[n] = '\0';
    size_t len;
    int err;
    char *text = read_private_file(dirfd, name, RECORD_MAX_BYTES, &len, &err);
    if (!text) {
        engine_log(LOG_WARNING, "Mount registry: ignoring '%s' (not a private file of this "
                   "user)", name);
        return false;
    }
    bool ok = parse_record(text, id, rec);
    free(text);
    if (!ok)
        engine_log(LOG_WARNING, "Mount registry: ignoring malformed entry '%s'", name);
    return ok;
}

static bool grow(mount_record **out, size_t count, size_t *cap)
{
    if (count < *cap)
        return true;
    size_t want = *cap ? *cap * 2 : 8;
    mount_record *grown = realloc(*out, want * sizeof **out);
    if (!grown)
        return false;
    *out = grown;
    *cap = want;
    return true;
}

HRESULT registry_load_all(const char *function, mount_record **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    char dir[ENGINE_PATH_MAX];
    HRESULT hr = mounts_dir(function, dir, sizeof dir);
    if (FAILED(hr))
        return hr;
    DIR *d = opendir(dir);
    if (!d)
        return engine_fail_errno(errno, "%s: cannot read the mount registry '%s'", function, dir);
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_suffix_ci(e->d_name, ".mount"))
            continue;
        if (!grow(out, *count, &cap)) {
            closedir(d);
            free(*out);
            *out = NULL;
            *count = 0;
            return engine_fail(E_OUTOFMEMORY, "%s: out of memory reading the mount registry.",
                               function);
        }
        if (load_one(dirfd(d), e->d_name, &(*out)[*count]))
            (*count)++;
    }
    closedir(d);
    return S_OK;
}

HRESULT registry_find_by_mount(const char *function, const char *mount_path, mount_record *out,
                               bool *found)
{
    mount_record *all;
    size_t n;
    *found = false;
    HRESULT hr = registry_load_all(function, &all, &n);
    if (FAILED(hr))
        return hr;
    for (size_t i = 0; i < n && !*found; i++) {
        if (strcmp(all[i].mount_path, mount_path) == 0) {
            *out = all[i];
            *found = true;
        }
    }
    free(all);
    return S_OK;
}

bool registry_reload(const char *function, mount_record *rec)
{
    mount_record fresh;
    bool found = false;
    if (FAILED(registry_find_by_mount(function, rec->mount_path, &fresh, &found)) || !found ||
        strcmp(fresh.id, rec->id) != 0)
        return false;
    *rec = fresh;
    return true;
}
