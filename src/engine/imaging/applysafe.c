/*
 * applysafe.c - keeping an apply inside its target, and never losing data
 * silently on a Linux directory.
 *
 * wimlib creates every folder first, then opens files with O_NOFOLLOW and
 * O_EXCL (replacing what stood there), and ignores the children of
 * non-directories and entries named "." or "..", so an image alone cannot
 * make it write outside the target.  What can is the target's own content:
 * a symbolic link (or a file) standing where the image has a folder would
 * be followed on the way to the image's files.  Before applying into a
 * folder that is not empty, every such entry on the image's paths is
 * removed (never followed: lstat and unlink only), parents first.
 *
 * A Linux directory cannot hold NTFS security descriptors, named data
 * streams, short names, Windows attributes or reparse points other than
 * symbolic links and junctions; a file that carries any of them gets one
 * WIM_MSG_WARNING (ERROR_NOT_SUPPORTED) naming it.  A name no Linux
 * directory can hold (one with a '/') is not extracted by wimlib at all: that
 * file and everything below it get a WIM_MSG_WARNING (ERROR_INVALID_NAME).
 */
#include "imaging.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOST_ATTRIBUTES                                                                        \
    (WIMLIB_FILE_ATTRIBUTE_HIDDEN | WIMLIB_FILE_ATTRIBUTE_SYSTEM |                             \
     WIMLIB_FILE_ATTRIBUTE_ENCRYPTED | WIMLIB_FILE_ATTRIBUTE_COMPRESSED |                      \
     WIMLIB_FILE_ATTRIBUTE_SPARSE_FILE | WIMLIB_FILE_ATTRIBUTE_OFFLINE |                       \
     WIMLIB_FILE_ATTRIBUTE_TEMPORARY)

static bool is_image_dir(const struct wimlib_dir_entry *d)
{
    return (d->attributes & (WIMLIB_FILE_ATTRIBUTE_DIRECTORY |
                             WIMLIB_FILE_ATTRIBUTE_REPARSE_POINT)) ==
           WIMLIB_FILE_ATTRIBUTE_DIRECTORY;
}

BOOL apply_clear_entry(const char *target_path, const struct wimlib_dir_entry *d,
                       const char *function)
{
    struct stat st;
    if (d->depth == 0 || lstat(target_path, &st) != 0)
        return TRUE;
    bool in_the_way = S_ISLNK(st.st_mode) || (is_image_dir(d) && !S_ISDIR(st.st_mode));
    if (!in_the_way)
        return TRUE;
    if (unlink(target_path) != 0)
        return wim_fail_errno(errno, "%s: '%s' stands where the image has %s and cannot be "
                              "removed", function, target_path,
                              is_image_dir(d) ? "a folder" : "a file");
    engine_log(LOG_INFO, "%s: removed '%s', which stood in the image's way", function,
               target_path);
    return TRUE;
}

/* A name wimlib will not extract on Linux (it holds a '/'), so the file and
 * everything below it are left out. */
bool apply_name_unusable(const struct wimlib_dir_entry *d)
{
    return d->depth > 0 && d->filename && strchr(d->filename, '/') != NULL;
}

/* What of this file a Linux directory cannot hold; "" when nothing. */
const char *apply_losses(const struct wimlib_dir_entry *d, DWORD flags, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = 0;
    bool keep_acls = !(flags & (WIM_FLAG_NO_DIRACL | WIM_FLAG_NO_FILEACL));
    bool reparse = (d->attributes & WIMLIB_FILE_ATTRIBUTE_REPARSE_POINT) &&
                   d->reparse_tag != WIMLIB_REPARSE_TAG_SYMLINK &&
                   d->reparse_tag != WIMLIB_REPARSE_TAG_MOUNT_POINT;
    const char *what[5] = {
        keep_acls && d->security_descriptor_size ? "its security descriptor" : NULL,
        d->num_named_streams ? "its named data streams" : NULL,
        d->dos_name && *d->dos_name ? "its short name" : NULL,
        (d->attributes & LOST_ATTRIBUTES) ? "its Windows attributes" : NULL,
        reparse ? "its reparse point" : NULL,
    };
    for (int i = 0; i < 5; i++)
        if (what[i] && n < size)
            n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "", what[i]);
    return out;
}
