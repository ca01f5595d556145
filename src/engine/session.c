/*
 * session.c - DismOpenSession, DismCloseSession and the session table.
 *
 * A session names an image root (a mounted image or an offline Windows
 * directory tree) and its Windows directory.  Calls that use a session mark
 * it busy for their duration; DismCloseSession waits for them, and a call
 * that arrives once the close has begun fails with
 * DISMAPI_E_INVALID_DISM_SESSION, as the DISM documentation describes.
 */
#include "engine.h"
#include "mountinfo.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <wctype.h>

typedef struct session {
    DismSession id;
    char root[ENGINE_PATH_MAX];
    char windows_dir[ENGINE_PATH_MAX];
    char system_drive[8];
    /* Empty windows_dir: a mounted image that holds no Windows installation.
     * It can still be committed; servicing it fails with this sentence. */
    char no_windows[ENGINE_PATH_MAX + 160];
    unsigned busy;
    bool closing;
    struct session *next;
} session;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static session *table;
static DismSession next_id = 1;

static session *lookup(DismSession id)
{
    for (session *s = table; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

unsigned sessions_open_count(void)
{
    unsigned n = 0;
    pthread_mutex_lock(&table_lock);
    for (session *s = table; s; s = s->next)
        n++;
    pthread_mutex_unlock(&table_lock);
    return n;
}

unsigned sessions_open_on(const char *mount_path)
{
    unsigned n = 0;
    pthread_mutex_lock(&table_lock);
    for (session *s = table; s; s = s->next)
        n += strcmp(s->root, mount_path) == 0;
    pthread_mutex_unlock(&table_lock);
    return n;
}

HRESULT session_acquire(DismSession id, const char *function, char *root, size_t size)
{
    return session_acquire_image(id, function, root, NULL, size);
}

HRESULT session_acquire_image(DismSession id, const char *function, char *root, char *windows_dir,
                              size_t size)
{
    pthread_mutex_lock(&table_lock);
    session *s = lookup(id);
    /* Decided under the lock: once it is released a closing session may be
     * freed by DismCloseSession. */
    bool usable = s && !s->closing;
    if (usable && windows_dir && !s->windows_dir[0]) {
        char why[sizeof s->no_windows];
        snprintf(why, sizeof why, "%s", s->no_windows);
        pthread_mutex_unlock(&table_lock);
        return engine_fail(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), "%s: %s", function, why);
    }
    if (usable) {
        s->busy++;
        snprintf(root, size, "%s", s->root);
        if (windows_dir)
            snprintf(windows_dir, size, "%s", s->windows_dir);
    }
    pthread_mutex_unlock(&table_lock);
    if (usable)
        return S_OK;
    return engine_fail(DISMAPI_E_INVALID_DISM_SESSION,
                       "%s: %u is not an open DISM session (never opened, or already closed).",
                       function, (unsigned)id);
}

void session_release(DismSession id)
{
    pthread_mutex_lock(&table_lock);
    session *s = lookup(id);
    if (s && s->busy > 0 && --s->busy == 0)
        pthread_cond_broadcast(&idle);
    pthread_mutex_unlock(&table_lock);
}

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
             "System32\\config was found in it.", root, windows_dir ? windows_dir : "Windows");
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

/* DISM's SystemDrive is the drive letter holding the boot manager ("C:").
 * The portable engine has no drive letters: it checks the form and keeps it
 * with the session, and nothing else depends on it. */
static HRESULT check_system_drive(PCWSTR drive, char out[8])
{
    out[0] = '\0';
    if (!drive || !*drive)
        return S_OK;
    size_t n = wcslen(drive);
    bool ok = (n == 2 || (n == 3 && (drive[2] == L'\\' || drive[2] == L'/'))) &&
              drive[0] < 128 && iswalpha((wint_t)drive[0]) && drive[1] == L':';
    if (!ok)
        return engine_fail(E_INVALIDARG, "DismOpenSession: SystemDrive must be a drive letter "
                           "such as \"C:\".");
    snprintf(out, 8, "%c:", (char)towupper((wint_t)drive[0]));
    return S_OK;
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
                         session *s)
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
    if (*Session != DISM_SESSION_DEFAULT) {
        pthread_mutex_lock(&table_lock);
        bool exists = lookup(*Session) != NULL;
        pthread_mutex_unlock(&table_lock);
        if (exists)
            return engine_fail(HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS),
                               "DismOpenSession: session %u already has an image.",
                               (unsigned)*Session);
    }
    session *s = calloc(1, sizeof *s);
    if (!s)
        return engine_fail(E_OUTOFMEMORY, "DismOpenSession: out of memory.");
    if (FAILED(hr = open_args(ImagePath, WindowsDirectory, SystemDrive, s))) {
        free(s);
        return hr;
    }
    pthread_mutex_lock(&table_lock);
    s->id = next_id++;
    if (next_id == DISM_SESSION_DEFAULT)
        next_id = 1;
    s->next = table;
    table = s;
    pthread_mutex_unlock(&table_lock);
    *Session = s->id;
    engine_log(LOG_INFO, "DismOpenSession: session %u on %s (Windows directory %s)",
               (unsigned)s->id, s->root, s->windows_dir);
    return S_OK;
}

HRESULT WINAPI DismCloseSession(DismSession Session)
{
    HRESULT hr = engine_require_initialized("DismCloseSession");
    if (FAILED(hr))
        return hr;
    pthread_mutex_lock(&table_lock);
    session *s = lookup(Session);
    if (!s || s->closing) {
        pthread_mutex_unlock(&table_lock);
        return engine_fail(DISMAPI_E_INVALID_DISM_SESSION,
                           "DismCloseSession: %u is not an open DISM session.", (unsigned)Session);
    }
    s->closing = true;
    while (s->busy > 0)
        pthread_cond_wait(&idle, &table_lock);
    for (session **p = &table; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    engine_log(LOG_INFO, "DismCloseSession: session %u", (unsigned)Session);
    free(s);
    return S_OK;
}
