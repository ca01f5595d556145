/*
 * session.c - DismOpenSession and DismCloseSession.
 *
 * A session names an image root (a mounted image or an offline Windows
 * directory tree) and its Windows directory.  Opening one checks the image
 * path, which needs to know the mounts (wim/); the table of open sessions,
 * and the busy marks that DismCloseSession waits for, are the core's
 * (core/sessions.c).
 */
#include "core/core.h"
#include "wim/wim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <wctype.h>

/* Resolves `relative` under `base` one component at a time, ignoring case as
 * Windows does, so "Windows/System32" finds "WINDOWS/system32". */
static bool resolve_ci(const char *base, const char *relative, char *out, size_t size)
{
    char current[ENGINE_PATH_MAX], part[ENGINE_PATH_MAX];
    snprintf(current, sizeof current, "%s", base);
    const char *p = relative;
    while (*p) {
        while (*p == '/' || *p == '\\')
            p++;
        size_t len = strcspn(p, "/\\");
        if (len == 0)
            break;
        snprintf(part, sizeof part, "%.*s", (int)len, p);
        p += len;
        if (!strcmp(part, "."))
            continue;
        char next[ENGINE_PATH_MAX];
        if (!strcmp(part, "..") || !find_child_ci(current, part, next, sizeof next))
            return false;
        memcpy(current, next, sizeof current);
    }
    snprintf(out, size, "%s", current);
    return true;
}

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The sentence saying that `root` holds no Windows installation. */
static const char *describe_no_windows(const char *root, const char *windows_dir, char *out,
                                       size_t size)
{
    snprintf(out, size, "'%s' does not hold a Windows installation: no '%s' directory with "
             "System32/config was found in it.", root, windows_dir ? windows_dir : "Windows");
    return out;
}

/* A Windows installation has System32 and its registry hives folder.  When
 * there is none, `why` gets the sentence that says so. */
static HRESULT find_windows_dir(const char *root, const char *windows_dir, char *out, size_t size,
                                char *why, size_t why_size)
{
    const char *relative = windows_dir ? windows_dir : "Windows";
    /* An absolute WindowsDirectory must still lie inside the image. */
    size_t rootlen = strlen(root);
    if (relative[0] == '/') {
        if (strncmp(relative, root, rootlen) != 0 || (relative[rootlen] != '/' && relative[rootlen]))
            return engine_fail(E_INVALIDARG, "DismOpenSession: the Windows directory '%s' is not "
                               "inside the image '%s'.", relative, root);
        relative += rootlen;
    }
    char config[ENGINE_PATH_MAX];
    if (!resolve_ci(root, relative, out, size) || !is_directory(out) ||
        !resolve_ci(out, "System32/config", config, sizeof config) || !is_directory(config))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND),
                           "DismOpenSession: %s", describe_no_windows(root, windows_dir, why,
                                                                       why_size));
    return S_OK;
}

/* DISM's SystemDrive names where the boot manager is: a drive ("C:"), which
 * DISM.exe's /SysDriveDir gives as a folder ("C:\").  This platform has no
 * drive letters: a system drive is mounted at a folder, so an existing
 * folder is taken too.  A drive letter is kept with the session; nothing
 * else depends on either. */
static bool is_drive_letter(PCWSTR drive)
{
    size_t n = wcslen(drive);
    return (n == 2 || (n == 3 && (drive[2] == L'\\' || drive[2] == L'/'))) &&
           drive[0] < 128 && iswalpha((wint_t)drive[0]) && drive[1] == L':';
}

static HRESULT check_system_drive(PCWSTR drive, char out[8])
{
    out[0] = '\0';
    if (!drive || !*drive)
        return S_OK;
    if (is_drive_letter(drive)) {
        snprintf(out, 8, "%c:", (char)towupper((wint_t)drive[0]));
        return S_OK;
    }
    char *path = NULL;
    HRESULT hr = path_arg(drive, "DismOpenSession: SystemDrive", &path);
    if (FAILED(hr))
        return hr;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        hr = engine_fail(E_INVALIDARG, "DismOpenSession: SystemDrive '%s' is neither a drive "
                         "letter such as \"C:\" nor an existing folder.", path);
    free(path);
    return hr;
}

/* Whether the registry records a mount at `root`.  No usable state
 * directory means no recorded mounts to ask about, not a failure. */
static bool recorded_mount(const char *root)
{
    mount_record rec;
    bool recorded = false;
    if (FAILED(registry_find_by_mount("DismOpenSession", root, &rec, &recorded)))
        engine_clear_error();
    return recorded;
}

/* A mount point of the registry, or a live wimfs mount made by another tool. */
static bool is_mount(const char *root)
{
    wimfs_info live;
    return recorded_mount(root) || wimfs_query(root, &live) == 0;
}

static HRESULT no_longer_served(const char *mount_path)
{
    return engine_fail(DISMAPI_E_NEEDS_REMOUNT, "DismOpenSession: the image mounted at '%s' is "
                       "no longer served; remount it first (DismRemountImage).", mount_path);
}

/* A recorded mount whose server is gone (killed, or a reboot) shows an empty
 * directory; servicing that would service nothing. */
static HRESULT check_still_served(const char *root)
{
    wimfs_info live;
    if (!recorded_mount(root) || wimfs_query(root, &live) == 0)
        return S_OK;
    return no_longer_served(root);
}

/* Why realpath() refused the image path, as DISM would say it. */
static HRESULT unusable_image_path(const char *path, int err)
{
    if (err == ENOTCONN) /* a mount point whose server died */
        return no_longer_served(path);
    if (err == ENOENT || err == ENOTDIR)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND),
                           "DismOpenSession: the image path '%s' does not exist.", path);
    return engine_fail_errno(err, "DismOpenSession: the image path '%s' cannot be used", path);
}

static HRESULT open_args(PCWSTR ImagePath, PCWSTR WindowsDirectory, PCWSTR SystemDrive,
                         session_image *s)
{
    if (ImagePath && wcscmp(ImagePath, DISM_ONLINE_IMAGE) == 0)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
                           "DismOpenSession: servicing the running system (DISM_ONLINE_IMAGE) is "
                           "not supported on this platform; it needs Windows.");
    char *path = NULL, *windir = NULL;
    HRESULT hr = path_arg(ImagePath, "DismOpenSession: ImagePath", &path);
    if (FAILED(hr))
        return hr;
    struct stat st;
    if (!realpath(path, s->root) || stat(s->root, &st) != 0) {
        hr = unusable_image_path(path, errno);
    } else if (!S_ISDIR(st.st_mode)) {
        hr = engine_fail(E_INVALIDARG, "DismOpenSession: the image path '%s' is a file; give "
                         "the directory an image is mounted at or a Windows tree is in.", path);
    } else if (WindowsDirectory && *WindowsDirectory &&
               FAILED(hr = path_arg(WindowsDirectory, "WindowsDirectory", &windir))) {
        /* reported by path_arg */
    } else if (SUCCEEDED(hr = check_system_drive(SystemDrive, s->system_drive))) {
        hr = check_still_served(s->root);
        if (SUCCEEDED(hr))
            hr = find_windows_dir(s->root, windir, s->windows_dir, sizeof s->windows_dir,
                                  s->no_windows, sizeof s->no_windows);
        /* Any mounted image can be committed (DismCommitImage), Windows or
         * not: its servicing calls fail later, with the sentence kept. */
        if (hr == HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND) && !windir && is_mount(s->root)) {
            s->windows_dir[0] = '\0';
            hr = S_OK;
        }
    }
    free(path);
    free(windir);
    return hr;
}

HRESULT WINAPI DismOpenSession(PCWSTR ImagePath, PCWSTR WindowsDirectory, PCWSTR SystemDrive,
                               DismSession *Session)
{
    HRESULT hr = engine_require_initialized("DismOpenSession");
    if (FAILED(hr))
        return hr;
    if (!Session)
        return engine_fail(E_INVALIDARG, "DismOpenSession: Session is required.");
    if (*Session != DISM_SESSION_DEFAULT && session_exists(*Session))
        return engine_fail(HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS),
                           "DismOpenSession: session %u already has an image.",
                           (unsigned)*Session);
    session_image *s = calloc(1, sizeof *s);
    if (!s)
        return engine_fail(E_OUTOFMEMORY, "DismOpenSession: out of memory.");
    if (SUCCEEDED(hr = open_args(ImagePath, WindowsDirectory, SystemDrive, s)) &&
        !session_add(s, Session))
        hr = engine_fail(E_OUTOFMEMORY, "DismOpenSession: out of memory.");
    if (SUCCEEDED(hr))
        engine_log(LOG_INFO, "DismOpenSession: session %u on %s (Windows directory %s)",
                   (unsigned)*Session, s->root, s->windows_dir);
    free(s);
    return hr;
}

/* The unmounted-image session: the servicing files of one image of a WIM,
 * extracted by wim/ into a private area that closing the session removes
 * (see wim_extract_for_session).  It is read-only, as a read-only mount is. */
HRESULT WINAPI _DismPortableOpenImageFileSession(PCWSTR ImageFilePath, UINT ImageIndex,
                                                 PCWSTR ImageName,
                                                 DismImageIdentifier ImageIdentifier,
                                                 DismSession *Session)
{
    const char *fn = "_DismPortableOpenImageFileSession";
    HRESULT hr = engine_require_initialized(fn);
    if (FAILED(hr))
        return hr;
    if (!Session)
        return engine_fail(E_INVALIDARG, "%s: Session is required.", fn);
    *Session = DISM_SESSION_DEFAULT;
    session_image *s = calloc(1, sizeof *s);
    if (!s)
        return engine_fail(E_OUTOFMEMORY, "%s: out of memory.", fn);
    hr = wim_extract_for_session(fn, ImageFilePath, ImageIndex, ImageName, ImageIdentifier, s);
    char config[ENGINE_PATH_MAX];
    if (SUCCEEDED(hr) &&
        (!resolve_ci(s->root, "Windows", s->windows_dir, sizeof s->windows_dir) ||
         !resolve_ci(s->windows_dir, "System32/config", config, sizeof config) ||
         !is_directory(config)))
        hr = engine_fail(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), "%s: image %u of '%s' does "
                         "not hold a Windows installation: it has no Windows\\System32\\config "
                         "folder with registry hives.", fn, s->image_index, s->image_file);
    if (SUCCEEDED(hr) && !session_add(s, Session))
        hr = engine_fail(E_OUTOFMEMORY, "%s: out of memory.", fn);
    if (FAILED(hr))
        session_image_discard_area(s);
    else
        engine_log(LOG_INFO, "%s: session %u on image %u of %s (read into %s)", fn,
                   (unsigned)*Session, s->image_index, s->image_file, s->root);
    free(s);
    return hr;
}

HRESULT WINAPI DismCloseSession(DismSession Session)
{
    HRESULT hr = engine_require_initialized("DismCloseSession");
    if (FAILED(hr) || FAILED(hr = session_remove(Session, "DismCloseSession")))
        return hr;
    engine_log(LOG_INFO, "DismCloseSession: session %u", (unsigned)Session);
    return S_OK;
}
