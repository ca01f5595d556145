/*
 * registry.c - the persistent registry of mounts.
 *
 * wimlib forgets a mount the moment its server process dies, while DISM
 * mounts outlive the process that made them and can be listed, remounted or
 * cleaned up later.  So every mount made by the engine is recorded in
 * <state>/mounts/<guid>.mount, a small "key=value" file (the analogue of
 * HKLM\SOFTWARE\Microsoft\WIMMount\Mounted Images\<guid>).  Files are written
 * to a private temporary name, synced and renamed, so a reader never sees a
 * half-written record and a crash leaves either the old or the new one.
 */
#include "engine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir_buf[ENGINE_PATH_MAX];

const char *registry_dir(void)
{
    snprintf(dir_buf, sizeof dir_buf, "%s/mounts", engine_state_dir());
    return dir_buf;
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

HRESULT registry_save(const mount_record *rec)
{
    HRESULT hr = make_private_dir(registry_dir());
    if (FAILED(hr))
        return hr;
    char text[3 * ENGINE_PATH_MAX + 512];
    int len = snprintf(text, sizeof text,
                       "id=%s\nmount_path=%s\nwim_path=%s\nimage_index=%u\nread_only=%d\n"
                       "server_pid=%d\nowner_pid=%d\nstaging_dir=%s\ncreated=%lld\n",
                       rec->id, rec->mount_path, rec->wim_path, rec->image_index,
                       rec->read_only ? 1 : 0, (int)rec->server_pid, (int)rec->owner_pid, rec->staging_dir,
                       rec->created);
    char tmp[ENGINE_PATH_MAX], final[ENGINE_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.%s.%d.tmp", registry_dir(), rec->id, (int)getpid());
    snprintf(final, sizeof final, "%s/%s.mount", registry_dir(), rec->id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return engine_fail_errno(errno, "Cannot write the mount registry entry '%s'", tmp);
    if (write_all(fd, text, (size_t)len) != 0 || fsync(fd) != 0) {
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
    int dfd = open(registry_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return S_OK;
}

HRESULT registry_remove(const char *id)
{
    if (!valid_id(id))
        return E_INVALIDARG;
    char path[ENGINE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.mount", registry_dir(), id);
    if (unlink(path) != 0 && errno != ENOENT)
        return engine_fail_errno(errno, "Cannot remove the mount registry entry '%s'", path);
    return S_OK;
}

static void set_field(mount_record *rec, const char *key, const char *value)
{
    if (!strcmp(key, "id"))
        snprintf(rec->id, sizeof rec->id, "%s", value);
    else if (!strcmp(key, "mount_path"))
        snprintf(rec->mount_path, sizeof rec->mount_path, "%s", value);
    else if (!strcmp(key, "wim_path"))
        snprintf(rec->wim_path, sizeof rec->wim_path, "%s", value);
    else if (!strcmp(key, "staging_dir"))
        snprintf(rec->staging_dir, sizeof rec->staging_dir, "%s", value);
    else if (!strcmp(key, "image_index"))
        rec->image_index = (unsigned)strtoul(value, NULL, 10);
    else if (!strcmp(key, "read_only"))
        rec->read_only = atoi(value) != 0;
    else if (!strcmp(key, "server_pid"))
        rec->server_pid = (pid_t)atoi(value);
    else if (!strcmp(key, "owner_pid"))
        rec->owner_pid = (pid_t)atoi(value);
    else if (!strcmp(key, "created"))
        rec->created = atoll(value);
}

static bool load_one(const char *path, mount_record *rec)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    memset(rec, 0, sizeof *rec);
    char line[ENGINE_PATH_MAX + 64];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        set_field(rec, line, eq + 1);
    }
    fclose(f);
    return valid_id(rec->id) && rec->mount_path[0] && rec->wim_path[0];
}

HRESULT registry_load_all(mount_record **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(registry_dir());
    if (!d)
        return errno == ENOENT ? S_OK
                               : engine_fail_errno(errno, "Cannot read the mount registry '%s'",
                                                   registry_dir());
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_suffix_ci(e->d_name, ".mount"))
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            mount_record *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                closedir(d);
                free(*out);
                *out = NULL;
                *count = 0;
                return engine_fail(E_OUTOFMEMORY, "Out of memory reading the mount registry.");
            }
            *out = grown;
        }
        char path[ENGINE_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", registry_dir(), e->d_name);
        if (load_one(path, &(*out)[*count]))
            (*count)++;
    }
    closedir(d);
    return S_OK;
}

bool registry_find_by_mount(const char *mount_path, mount_record *out)
{
    mount_record *all;
    size_t n;
    if (FAILED(registry_load_all(&all, &n)))
        return false;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        if (strcmp(all[i].mount_path, mount_path) == 0) {
            *out = all[i];
            found = true;
        }
    }
    free(all);
    return found;
}
