/*
 * A small interpreter over the portable engine's WIMGAPI (src/include/wimgapi.h),
 * so that tests/engine/test_wimgapi_engine.py can drive every call on real
 * WIMs and check the files with wimlib-imagex and hashes.
 *
 * Reads one command per line from stdin and prints one result line each:
 *   "OK[ extra]" or "ERR <GetLastError> <_WIMPortableGetLastErrorMessage>".
 * Handles live in one-letter variables (a-z).  Commands:
 *   open V PATH ACCESS(q|r|w) DISP(new|always|existing|openalways) FLAGS COMP
 *   capture I V DIR FLAGS          load I V INDEX          close V
 *   apply I DIR|- FLAGS            export I V FLAGS        delete V INDEX
 *   split V PART SIZE              extract I PATH DEST     count V
 *   attrs V                        boot V INDEX            temp V DIR
 *   ref V PATH|- FLAGS             getinfo V               setinfo V XML...
 *   race V DIR (two threads append; see below)
 *   callback V|- MODE              unregister V|- [all]
 *   fsizelimit BYTES               (later writes beyond BYTES fail with EFBIG)
 *   lasterror                      GetLastError and whether a message is there
 * Callback modes: "log" prints every message as "MSG name a b"; "abort:N"
 * answers WIM_MSG_ABORT_IMAGE to the N-th message of any kind;
 * "abortmsg:NAME:N" to the N-th message NAME; "skip:TEXT" answers FALSE to
 * WIM_MSG_PROCESS for paths containing TEXT; "skiperror" logs like "log" and
 * answers WIM_MSG_SKIP_ERROR to WIM_MSG_ERROR; "wait:NAME:FILE" blocks at the
 * first message NAME until FILE exists (printing "WAITING" first).
 */
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "wimgapi.h"

static HANDLE vars[26];

typedef struct {
    char mode[16];
    char arg[512];
    DWORD target_msg; /* 0: any */
    long n, seen;
    int fired;
} cb_state;

static cb_state states[8];
static int state_count;

static wchar_t *wide(const char *s)
{
    size_t n = mbstowcs(NULL, s, 0);
    if (n == (size_t)-1)
        return NULL;
    wchar_t *w = calloc(n + 1, sizeof *w);
    mbstowcs(w, s, n + 1);
    return w;
}

static char *narrow(const wchar_t *w)
{
    size_t n = wcstombs(NULL, w, 0);
    if (n == (size_t)-1)
        return strdup("?");
    char *s = malloc(n + 1);
    wcstombs(s, w, n + 1);
    return s;
}

static const char *msg_name(DWORD m)
{
    static const char *names[] = {"TEXT", "PROGRESS", "PROCESS", "SCANNING", "SETRANGE",
                                  "SETPOS", "STEPIT", "COMPRESS", "ERROR", "ALIGNMENT",
                                  "RETRY", "SPLIT", "FILEINFO", "INFO", "WARNING"};
    if (m > WIM_MSG && m <= WIM_MSG_WARNING)
        return names[m - WIM_MSG - 1];
    return m == WIM_MSG_QUERY_ABORT ? "QUERY_ABORT" : "OTHER";
}

static DWORD msg_of(const char *name)
{
    for (DWORD m = WIM_MSG_TEXT; m <= WIM_MSG_WARNING; m++)
        if (strcmp(msg_name(m), name) == 0)
            return m;
    return strcmp(name, "QUERY_ABORT") == 0 ? WIM_MSG_QUERY_ABORT : 0;
}

static void log_message(DWORD m, WPARAM w, LPARAM l)
{
    if (m == WIM_MSG_PROCESS || m == WIM_MSG_WARNING || m == WIM_MSG_ERROR ||
        m == WIM_MSG_FILEINFO) {
        char *p = w ? narrow((const wchar_t *)w) : strdup("-");
        if (m == WIM_MSG_FILEINFO) {
            const WIN32_FIND_DATAW *fd = (const WIN32_FIND_DATAW *)l;
            unsigned long long size = (unsigned long long)fd->nFileSizeHigh << 32 |
                                      fd->nFileSizeLow;
            unsigned long long mtime = (unsigned long long)fd->ftLastWriteTime.dwHighDateTime
                                           << 32 |
                                       fd->ftLastWriteTime.dwLowDateTime;
            printf("MSG FILEINFO %s attr=%u size=%llu mtime=%llu\n", p,
                   (unsigned)fd->dwFileAttributes, size, mtime);
        } else {
            printf("MSG %s %s %ld\n", msg_name(m), p, m == WIM_MSG_PROCESS ? 0L : (long)l);
        }
        free(p);
    } else if (m == WIM_MSG_SPLIT) {
        char *p = narrow(*(PWSTR *)w);
        printf("MSG SPLIT %s %lld\n", p, (long long)((PLARGE_INTEGER)l)->QuadPart);
        free(p);
    } else if (m != WIM_MSG_QUERY_ABORT) {
        printf("MSG %s %lu %ld\n", msg_name(m), (unsigned long)w, (long)l);
    }
}

static DWORD CALLBACK on_message(DWORD m, WPARAM w, LPARAM l, PVOID user)
{
    cb_state *s = user;
    if (strcmp(s->mode, "log") == 0) {
        log_message(m, w, l);
        return WIM_MSG_SUCCESS;
    }
    if (strcmp(s->mode, "skiperror") == 0) {
        log_message(m, w, l);
        return m == WIM_MSG_ERROR ? WIM_MSG_SKIP_ERROR : WIM_MSG_SUCCESS;
    }
    if (strcmp(s->mode, "skip") == 0 && m == WIM_MSG_PROCESS) {
        char *p = narrow((const wchar_t *)w);
        if (strstr(p, s->arg))
            *(PBOOL)l = FALSE;
        free(p);
        return WIM_MSG_SUCCESS;
    }
    if (s->target_msg && m != s->target_msg)
        return WIM_MSG_SUCCESS;
    if (strcmp(s->mode, "wait") == 0 && !s->fired) {
        s->fired = 1;
        printf("WAITING\n");
        fflush(stdout);
        while (access(s->arg, F_OK) != 0)
            usleep(10000);
        return WIM_MSG_SUCCESS;
    }
    if (strcmp(s->mode, "abort") == 0 && ++s->seen >= s->n)
        return WIM_MSG_ABORT_IMAGE;
    return WIM_MSG_SUCCESS;
}

static void report(BOOL ok, const char *extra)
{
    if (ok) {
        printf("OK%s%s\n", extra && *extra ? " " : "", extra ? extra : "");
        return;
    }
    DWORD code = GetLastError();
    PCWSTR m = _WIMPortableGetLastErrorMessage();
    char *s = m ? narrow(m) : strdup("(no message)");
    printf("ERR %u %s\n", (unsigned)code, s);
    free(s);
}

static HANDLE var(const char *name)
{
    return strcmp(name, "-") == 0 ? NULL : vars[name[0] - 'a'];
}

static HANDLE *slot(const char *name) { return &vars[name[0] - 'a']; }

static DWORD disposition_of(const char *s)
{
    return strcmp(s, "new") == 0        ? WIM_CREATE_NEW
           : strcmp(s, "always") == 0   ? WIM_CREATE_ALWAYS
           : strcmp(s, "existing") == 0 ? WIM_OPEN_EXISTING
           : strcmp(s, "openalways") == 0 ? WIM_OPEN_ALWAYS
                                          : 99;
}

static DWORD access_of(const char *s)
{
    return strcmp(s, "w") == 0 ? WIM_GENERIC_WRITE | WIM_GENERIC_READ
           : strcmp(s, "r") == 0 ? WIM_GENERIC_READ
                                 : 0;
}

static void do_open(char **a)
{
    wchar_t *p = wide(a[2]);
    DWORD result = 99;
    HANDLE h = WIMCreateFile(p, access_of(a[3]), disposition_of(a[4]),
                             (DWORD)strtoul(a[5], NULL, 0), (DWORD)strtoul(a[6], NULL, 0),
                             &result);
    free(p);
    *slot(a[1]) = h;
    char extra[32];
    snprintf(extra, sizeof extra, "%s", result == WIM_CREATED_NEW ? "created" : "opened");
    report(h != NULL, extra);
}

static void do_callback(char **a, int n)
{
    cb_state *s = &states[state_count++ % 8];
    memset(s, 0, sizeof *s);
    char *mode = a[2];
    char *c1 = strchr(mode, ':');
    if (c1)
        *c1++ = '\0';
    snprintf(s->mode, sizeof s->mode, "%s", strcmp(mode, "abortmsg") == 0 ? "abort" : mode);
    if (strcmp(mode, "abort") == 0 && c1) {
        s->n = strtol(c1, NULL, 10);
    } else if ((strcmp(mode, "abortmsg") == 0 || strcmp(mode, "wait") == 0) && c1) {
        char *c2 = strchr(c1, ':');
        if (c2)
            *c2++ = '\0';
        s->target_msg = msg_of(c1);
        if (strcmp(mode, "abortmsg") == 0)
            s->n = c2 ? strtol(c2, NULL, 10) : 1;
        else
            snprintf(s->arg, sizeof s->arg, "%s", c2 ? c2 : "");
    } else if (c1) {
        snprintf(s->arg, sizeof s->arg, "%s", c1);
    }
    (void)n;
    DWORD idx = WIMRegisterMessageCallback(var(a[1]), (FARPROC)on_message, s);
    char extra[32];
    snprintf(extra, sizeof extra, "%u", (unsigned)idx);
    report(idx != INVALID_CALLBACK_VALUE, extra);
}

/* Two threads append to one WIM through two handles; the first waits
 * inside its write (lock held) until the second has tried. */
typedef struct {
    const char *wim, *dir;
    BOOL ok;
    DWORD err;
} racer;

static pthread_mutex_t race_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t race_cond = PTHREAD_COND_INITIALIZER;
static int race_stage;

static DWORD CALLBACK hold_in_write(DWORD m, WPARAM w, LPARAM l, PVOID user)
{
    (void)w;
    (void)l;
    (void)user;
    if (m != WIM_MSG_PROGRESS)
        return WIM_MSG_SUCCESS;
    pthread_mutex_lock(&race_lock);
    if (race_stage == 0) {
        race_stage = 1;
        pthread_cond_broadcast(&race_cond);
        while (race_stage != 2)
            pthread_cond_wait(&race_cond, &race_lock);
    }
    pthread_mutex_unlock(&race_lock);
    return WIM_MSG_SUCCESS;
}

static void *race_first(void *arg)
{
    racer *r = arg;
    wchar_t *p = wide(r->wim), *d = wide(r->dir);
    HANDLE h = WIMCreateFile(p, WIM_GENERIC_WRITE, WIM_OPEN_EXISTING, 0, 0, NULL);
    WIMRegisterMessageCallback(h, (FARPROC)hold_in_write, NULL);
    HANDLE img = WIMCaptureImage(h, d, 0);
    r->ok = img != NULL;
    r->err = GetLastError();
    if (img)
        WIMCloseHandle(img);
    WIMCloseHandle(h);
    free(p);
    free(d);
    return NULL;
}

static void do_race(char **a)
{
    racer first = {a[1], a[2], FALSE, 0}, second = first;
    race_stage = 0;
    pthread_t t;
    pthread_create(&t, NULL, race_first, &first);
    pthread_mutex_lock(&race_lock);
    while (race_stage != 1)
        pthread_cond_wait(&race_cond, &race_lock);
    pthread_mutex_unlock(&race_lock);
    wchar_t *p = wide(a[1]), *d = wide(a[2]);
    HANDLE h = WIMCreateFile(p, WIM_GENERIC_WRITE, WIM_OPEN_EXISTING, 0, 0, NULL);
    HANDLE img = h ? WIMCaptureImage(h, d, 0) : NULL;
    second.ok = img != NULL;
    second.err = GetLastError();
    if (img)
        WIMCloseHandle(img);
    if (h)
        WIMCloseHandle(h);
    free(p);
    free(d);
    pthread_mutex_lock(&race_lock);
    race_stage = 2;
    pthread_cond_broadcast(&race_cond);
    pthread_mutex_unlock(&race_lock);
    pthread_join(t, NULL);
    printf("OK first=%d/%u second=%d/%u\n", first.ok, (unsigned)first.err, second.ok,
           (unsigned)second.err);
}

static void do_getinfo(char **a)
{
    PVOID buf = NULL;
    DWORD cb = 0;
    BOOL ok = WIMGetImageInformation(var(a[1]), &buf, &cb);
    if (!ok) {
        report(FALSE, NULL);
        return;
    }
    const wchar_t *w = buf;
    char *s = narrow(w[0] == 0xFEFF ? w + 1 : w);
    printf("OK bom=%d cb=%u len=%zu %s\n", w[0] == 0xFEFF, (unsigned)cb, wcslen(w), s);
    free(s);
    LocalFree(buf);
}

static void do_setinfo(char **a, int n)
{
    char joined[65536] = "";
    for (int i = 2; i < n; i++) {
        strncat(joined, a[i], sizeof joined - strlen(joined) - 2);
        if (i + 1 < n)
            strcat(joined, " ");
    }
    wchar_t *x = wide(joined);
    size_t len = wcslen(x);
    wchar_t *buf = calloc(len + 2, sizeof *buf);
    buf[0] = 0xFEFF;
    memcpy(buf + 1, x, len * sizeof *x);
    report(WIMSetImageInformation(var(a[1]), buf, (DWORD)((len + 2) * sizeof *buf)), NULL);
    free(x);
    free(buf);
}

static void do_attrs(char **a)
{
    WIM_INFO info;
    if (!WIMGetAttributes(var(a[1]), &info, sizeof info)) {
        report(FALSE, NULL);
        return;
    }
    char *path = narrow(info.WimPath), extra[1024];
    snprintf(extra, sizeof extra, "path=%s images=%u comp=%u part=%u/%u boot=%u attr=%u flags=%u",
             path, (unsigned)info.ImageCount, (unsigned)info.CompressionType,
             (unsigned)info.PartNumber, (unsigned)info.TotalParts, (unsigned)info.BootIndex,
             (unsigned)info.WimAttributes, (unsigned)info.WimFlagsAndAttr);
    free(path);
    report(TRUE, extra);
}

static void do_split(char **a)
{
    wchar_t *p = wide(a[2]);
    LARGE_INTEGER size;
    size.QuadPart = strtoll(a[3], NULL, 0);
    BOOL ok = WIMSplitFile(var(a[1]), p, &size, 0);
    free(p);
    if (!ok)
        printf("SIZE %lld\n", (long long)size.QuadPart);
    report(ok, NULL);
}

static void do_image_call(char **a, int n)
{
    const char *c = a[0];
    if (strcmp(c, "capture") == 0 && n >= 5) {
        wchar_t *d = wide(a[3]);
        HANDLE h = WIMCaptureImage(var(a[2]), d, (DWORD)strtoul(a[4], NULL, 0));
        free(d);
        *slot(a[1]) = h;
        report(h != NULL, NULL);
    } else if (strcmp(c, "load") == 0 && n >= 4) {
        HANDLE h = WIMLoadImage(var(a[2]), (DWORD)strtoul(a[3], NULL, 0));
        *slot(a[1]) = h;
        report(h != NULL, NULL);
    } else if (strcmp(c, "apply") == 0 && n >= 4) {
        wchar_t *d = strcmp(a[2], "-") == 0 ? NULL : wide(a[2]);
        report(WIMApplyImage(var(a[1]), d, (DWORD)strtoul(a[3], NULL, 0)), NULL);
        free(d);
    } else if (strcmp(c, "export") == 0 && n >= 4) {
        report(WIMExportImage(var(a[1]), var(a[2]), (DWORD)strtoul(a[3], NULL, 0)), NULL);
    } else if (strcmp(c, "extract") == 0 && n >= 4) {
        wchar_t *p = wide(a[2]), *d = wide(a[3]);
        report(WIMExtractImagePath(var(a[1]), p, d, 0), NULL);
        free(p);
        free(d);
    } else {
        printf("BAD %s\n", c);
    }
}

static void do_wim_call(char **a, int n)
{
    const char *c = a[0];
    char extra[64];
    if (strcmp(c, "delete") == 0 && n >= 3) {
        report(WIMDeleteImage(var(a[1]), (DWORD)strtoul(a[2], NULL, 0)), NULL);
    } else if (strcmp(c, "count") == 0 && n >= 2) {
        snprintf(extra, sizeof extra, "%u", (unsigned)WIMGetImageCount(var(a[1])));
        report(TRUE, extra);
    } else if (strcmp(c, "boot") == 0 && n >= 3) {
        report(WIMSetBootImage(var(a[1]), (DWORD)strtoul(a[2], NULL, 0)), NULL);
    } else if (strcmp(c, "temp") == 0 && n >= 3) {
        wchar_t *d = wide(a[2]);
        report(WIMSetTemporaryPath(var(a[1]), d), NULL);
        free(d);
    } else if (strcmp(c, "ref") == 0 && n >= 4) {
        wchar_t *d = strcmp(a[2], "-") == 0 ? NULL : wide(a[2]);
        report(WIMSetReferenceFile(var(a[1]), d, (DWORD)strtoul(a[3], NULL, 0)), NULL);
        free(d);
    } else if (strcmp(c, "fsizelimit") == 0 && n >= 2) {
        /* Writes past this many bytes fail (EFBIG): a write that fails half-way. */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)strtoull(a[1], NULL, 0), RLIM_INFINITY};
        report(setrlimit(RLIMIT_FSIZE, &rl) == 0, NULL);
    } else if (strcmp(c, "lasterror") == 0) {
        PCWSTR m = _WIMPortableGetLastErrorMessage();
        printf("OK %u %s\n", (unsigned)GetLastError(), m ? "message" : "null");
    } else if (strcmp(c, "close") == 0 && n >= 2) {
        report(WIMCloseHandle(var(a[1])), NULL);
    } else if (strcmp(c, "unregister") == 0 && n >= 2) {
        report(WIMUnregisterMessageCallback(var(a[1]), NULL), NULL);
    } else if (strcmp(c, "callbacks") == 0 && n >= 2) {
        snprintf(extra, sizeof extra, "%u", (unsigned)WIMGetMessageCallbackCount(var(a[1])));
        report(TRUE, extra);
    } else {
        do_image_call(a, n);
    }
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    char line[70000];
    while (fgets(line, sizeof line, stdin)) {
        char *a[64];
        int n = 0;
        for (char *t = strtok(line, " \t\n"); t && n < 64; t = strtok(NULL, " \t\n"))
            a[n++] = t;
        if (n == 0 || a[0][0] == '#')
            continue;
        if (strcmp(a[0], "open") == 0 && n >= 7)
            do_open(a);
        else if (strcmp(a[0], "callback") == 0 && n >= 3)
            do_callback(a, n);
        else if (strcmp(a[0], "race") == 0 && n >= 3)
            do_race(a);
        else if (strcmp(a[0], "getinfo") == 0 && n >= 2)
            do_getinfo(a);
        else if (strcmp(a[0], "setinfo") == 0 && n >= 3)
            do_setinfo(a, n);
        else if (strcmp(a[0], "attrs") == 0 && n >= 2)
            do_attrs(a);
        else if (strcmp(a[0], "split") == 0 && n >= 4)
            do_split(a);
        else
            do_wim_call(a, n);
        fflush(stdout);
    }
    return 0;
}
