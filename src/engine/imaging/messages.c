/*
 * messages.c - WIMGAPI's message callbacks: the per-handle and global
 * lists (WIMRegisterMessageCallback and friends), sending a message to
 * them, and the one wimlib progress function that turns wimlib's progress
 * into WIM_MSG_*:
 *   byte counts (extract, write, split, integrity) -> PROGRESS (percent,
 *                                                     estimated ms left)
 *   TEST_FILE_EXCLUSION (capture)                   -> PROCESS (skip a file)
 *   SCAN_DENTRY / SCAN_END                          -> SCANNING
 *   SPLIT_BEGIN_PART                                -> SPLIT
 *   HANDLE_ERROR                                    -> ERROR (SKIP_ERROR goes on)
 * WIM_MSG_ABORT_IMAGE answered to any message (and to the QUERY_ABORT sent
 * with every byte count) stops the call: wimlib gets
 * WIMLIB_PROGRESS_STATUS_ABORT, the call fails with ERROR_REQUEST_ABORTED.
 */
#include "imaging.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t callbacks_lock = PTHREAD_MUTEX_INITIALIZER;
static callback_list global_callbacks;

void callback_list_free(callback_list *list)
{
    free(list->items);
    memset(list, 0, sizeof *list);
}

static callback_list *list_for(HANDLE wim, bool *bad)
{
    *bad = false;
    if (!wim)
        return &global_callbacks;
    wim_file *f = handle_file(wim, true);
    if (!f)
        *bad = true;
    return f ? &f->callbacks : NULL;
}

DWORD WINAPI WIMRegisterMessageCallback(HANDLE Wim, FARPROC MessageProc, PVOID UserData)
{
    wim_begin();
    bool bad;
    callback_list *list = list_for(Wim, &bad);
    if (bad) {
        wim_fail(ERROR_INVALID_HANDLE, "WIMRegisterMessageCallback: the handle is not an open "
                 "WIM or image handle.");
        return INVALID_CALLBACK_VALUE;
    }
    if (!MessageProc) {
        wim_fail(ERROR_INVALID_PARAMETER, "WIMRegisterMessageCallback: the callback is NULL.");
        return INVALID_CALLBACK_VALUE;
    }
    DWORD index = INVALID_CALLBACK_VALUE;
    pthread_mutex_lock(&callbacks_lock);
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        callback_entry *grown = realloc(list->items, cap * sizeof *grown);
        if (grown) {
            list->items = grown;
            list->cap = cap;
        }
    }
    if (list->count < list->cap) {
        list->items[list->count] = (callback_entry){(WIM_MESSAGE_CALLBACK)MessageProc, UserData};
        index = (DWORD)list->count++;
    }
    pthread_mutex_unlock(&callbacks_lock);
    if (index == INVALID_CALLBACK_VALUE)
        wim_fail(ERROR_NOT_ENOUGH_MEMORY, "WIMRegisterMessageCallback: out of memory.");
    return index;
}

BOOL WINAPI WIMUnregisterMessageCallback(HANDLE Wim, FARPROC MessageProc)
{
    wim_begin();
    bool bad;
    callback_list *list = list_for(Wim, &bad);
    if (bad)
        return wim_fail(ERROR_INVALID_HANDLE, "WIMUnregisterMessageCallback: the handle is not "
                        "an open WIM or image handle.");
    size_t removed = 0;
    pthread_mutex_lock(&callbacks_lock);
    size_t kept = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (!MessageProc || list->items[i].fn == (WIM_MESSAGE_CALLBACK)MessageProc)
            removed++;
        else
            list->items[kept++] = list->items[i];
    }
    list->count = kept;
    pthread_mutex_unlock(&callbacks_lock);
    if (MessageProc && !removed)
        return wim_fail(ERROR_NOT_FOUND, "WIMUnregisterMessageCallback: that callback is not "
                        "registered %s.", Wim ? "on this handle" : "globally");
    return TRUE;
}

DWORD WINAPI WIMGetMessageCallbackCount(HANDLE Wim)
{
    wim_begin();
    bool bad;
    callback_list *list = list_for(Wim, &bad);
    if (bad) {
        wim_fail(ERROR_INVALID_HANDLE, "WIMGetMessageCallbackCount: the handle is not an open "
                 "WIM or image handle.");
        return 0;
    }
    pthread_mutex_lock(&callbacks_lock);
    DWORD n = (DWORD)list->count;
    pthread_mutex_unlock(&callbacks_lock);
    return n;
}

/* ---- sending ---- */

void op_init(wim_op *op, const char *function, struct wim_file *a, struct wim_file *b)
{
    memset(op, 0, sizeof *op);
    op->function = function;
    op->files[0] = a;
    op->files[1] = b != a ? b : NULL;
    op->start_ms = now_ms();
    op->last_percent = 101;
}

void op_free(wim_op *op)
{
    for (size_t i = 0; i < op->part_count; i++)
        free(op->parts[i]);
    free(op->parts);
    op->parts = NULL;
    op->part_count = 0;
}

/* The callbacks to ask, in order, copied so none is called under the lock. */
static size_t snapshot(const wim_op *op, callback_entry **out)
{
    pthread_mutex_lock(&callbacks_lock);
    size_t n = global_callbacks.count;
    for (int i = 0; i < 2; i++)
        if (op->files[i])
            n += op->files[i]->callbacks.count;
    *out = n ? malloc(n * sizeof **out) : NULL;
    size_t k = 0;
    if (*out) {
        for (int i = 0; i < 2; i++)
            if (op->files[i])
                for (size_t j = 0; j < op->files[i]->callbacks.count; j++)
                    (*out)[k++] = op->files[i]->callbacks.items[j];
        for (size_t j = 0; j < global_callbacks.count; j++)
            (*out)[k++] = global_callbacks.items[j];
    }
    pthread_mutex_unlock(&callbacks_lock);
    return k;
}

bool op_has_callbacks(const wim_op *op)
{
    callback_entry *items;
    size_t n = snapshot(op, &items);
    free(items);
    return n > 0;
}

DWORD op_send(wim_op *op, DWORD msg, WPARAM w, LPARAM l)
{
    callback_entry *items;
    size_t n = snapshot(op, &items);
    DWORD answer = WIM_MSG_SUCCESS;
    for (size_t i = 0; i < n; i++) {
        DWORD r = items[i].fn(msg, w, l, items[i].user);
        if (r == WIM_MSG_ABORT_IMAGE)
            op->aborted = true;
        if (r == WIM_MSG_DONE)
            break;
        if (r != WIM_MSG_SUCCESS && answer == WIM_MSG_SUCCESS)
            answer = r;
    }
    free(items);
    return answer;
}

DWORD op_send_path(wim_op *op, DWORD msg, const char *path, LPARAM l)
{
    wchar_t *w = path ? utf8_to_wide(path) : NULL;
    DWORD r = op_send(op, msg, (WPARAM)w, l);
    free(w);
    return r;
}

void op_progress(wim_op *op, uint64_t done, uint64_t total)
{
    unsigned percent = total ? (unsigned)(done * 100 / total) : 100;
    if (percent > 100)
        percent = 100;
    /* Every byte count is a point where the caller may cancel. */
    op_send(op, WIM_MSG_QUERY_ABORT, 0, 0);
    if (percent == op->last_percent)
        return;
    op->last_percent = percent;
    uint64_t elapsed = now_ms() - op->start_ms;
    uint64_t left = done && total > done ? elapsed * (total - done) / done : 0;
    op_send(op, WIM_MSG_PROGRESS, (WPARAM)percent, (LPARAM)left);
}

/* ---- wimlib's progress ---- */

/* The WIM being written and its temporary files (".<name>.dism-XXXXXX"). */
static bool is_own_output(const char *path, const char *wim)
{
    if (strcmp(path, wim) == 0)
        return true;
    const char *slash = strrchr(wim, '/');
    size_t dir_len = slash ? (size_t)(slash - wim) : 0;
    const char *name = slash ? slash + 1 : wim;
    if (strncmp(path, wim, dir_len) != 0 || path[dir_len] != '/' || path[dir_len + 1] != '.')
        return false;
    const char *rest = path + dir_len + 2;
    return strncmp(rest, name, strlen(name)) == 0 &&
           strncmp(rest + strlen(name), ".dism-", 6) == 0;
}

static void on_exclusion(wim_op *op, struct wimlib_progress_info_test_file_exclusion *t)
{
    if (op->exclude_path && is_own_output(t->path, op->exclude_path)) {
        t->will_exclude = true;
        return;
    }
    if (!op->listing)
        return;
    BOOL include = TRUE;
    DWORD r = op_send_path(op, WIM_MSG_PROCESS, t->path, (LPARAM)&include);
    if (r != WIM_MSG_ABORT_IMAGE && !include)
        t->will_exclude = true;
}

/* wimlib leaves out what a WIM cannot hold (FIFOs, sockets, device nodes)
 * and says so only in a verbose scan: never a silent loss. */
static void warn_left_out(wim_op *op, struct wimlib_progress_info_scan *s)
{
    engine_log(LOG_WARNING, "%s: '%s' is a special file (FIFO, socket or device) that a WIM "
               "cannot hold; it was left out", op->function, s->cur_path);
    op_send_path(op, WIM_MSG_WARNING, s->cur_path, (LPARAM)ERROR_NOT_SUPPORTED);
}

static void on_scan(wim_op *op, struct wimlib_progress_info_scan *s, bool end)
{
    if (!end && s->status == WIMLIB_SCAN_DENTRY_UNSUPPORTED)
        warn_left_out(op, s);
    if (!end && ++op->scanned % 256 != 0)
        return;
    op_send(op, WIM_MSG_SCANNING, 0, (LPARAM)s->num_nondirs_scanned);
    op_send(op, WIM_MSG_SCANNING, 1, (LPARAM)s->num_dirs_scanned);
}

static void on_split(wim_op *op, struct wimlib_progress_info_split *s)
{
    /* Parts are removed when the split fails, but only those it created:
     * wimlib announces a part before it opens it. */
    char **grown = access(s->part_name, F_OK) != 0
                       ? realloc(op->parts, (op->part_count + 1) * sizeof *grown)
                       : NULL;
    if (grown) {
        op->parts = grown;
        if ((grown[op->part_count] = strdup(s->part_name)))
            op->part_count++;
    }
    LARGE_INTEGER size;
    size.QuadPart = (int64_t)op->part_size;
    wchar_t *w = utf8_to_wide(s->part_name);
    PWSTR name = w;
    /* The callback may point the name elsewhere; wimlib cannot use another
     * name for a part it has already opened, so a change is ignored. */
    op_send(op, WIM_MSG_SPLIT, (WPARAM)&name, (LPARAM)&size);
    free(w);
}

static void on_error(wim_op *op, struct wimlib_progress_info_handle_error *e)
{
    DWORD code = win32_from_wimlib(e->error_code);
    DWORD r = op_send_path(op, WIM_MSG_ERROR, e->path, (LPARAM)(code ? code : ERROR_GEN_FAILURE));
    if (r == WIM_MSG_SKIP_ERROR)
        e->will_ignore = true;
}

static enum wimlib_progress_status on_progress(enum wimlib_progress_msg msg,
                                               union wimlib_progress_info *info, void *ctx)
{
    wim_op *op = ctx;
    if (op->aborted)
        return WIMLIB_PROGRESS_STATUS_ABORT;
    switch (msg) {
    case WIMLIB_PROGRESS_MSG_EXTRACT_STREAMS:
        op_progress(op, info->extract.completed_bytes, info->extract.total_bytes);
        break;
    case WIMLIB_PROGRESS_MSG_WRITE_STREAMS:
        op_progress(op, info->write_streams.completed_bytes, info->write_streams.total_bytes);
        break;
    case WIMLIB_PROGRESS_MSG_SPLIT_END_PART:
        op_progress(op, info->split.completed_bytes, info->split.total_bytes);
        break;
    case WIMLIB_PROGRESS_MSG_VERIFY_INTEGRITY:
        op_progress(op, info->integrity.completed_bytes, info->integrity.total_bytes);
        break;
    case WIMLIB_PROGRESS_MSG_CALC_INTEGRITY:
        op_send(op, WIM_MSG_QUERY_ABORT, 0, 0);
        break;
    case WIMLIB_PROGRESS_MSG_SPLIT_BEGIN_PART: on_split(op, &info->split); break;
    case WIMLIB_PROGRESS_MSG_TEST_FILE_EXCLUSION:
        on_exclusion(op, &info->test_file_exclusion);
        break;
    case WIMLIB_PROGRESS_MSG_SCAN_DENTRY: on_scan(op, &info->scan, false); break;
    case WIMLIB_PROGRESS_MSG_SCAN_END: on_scan(op, &info->scan, true); break;
    case WIMLIB_PROGRESS_MSG_HANDLE_ERROR: on_error(op, &info->handle_error); break;
    default: break;
    }
    return op->aborted ? WIMLIB_PROGRESS_STATUS_ABORT : WIMLIB_PROGRESS_STATUS_CONTINUE;
}

int op_open_wim(wim_op *op, const char *path, int open_flags, WIMStruct **out)
{
    return wimlib_open_wim_with_progress(path, open_flags, out, on_progress, op);
}

void op_attach(wim_op *op, WIMStruct *wim)
{
    wimlib_register_progress_function(wim, on_progress, op);
}

void op_detach(WIMStruct *wim)
{
    if (wim)
        wimlib_register_progress_function(wim, NULL, NULL);
}

BOOL op_fail(wim_op *op, int rc, const char *fmt, ...)
{
    if (op->aborted || rc == WIMLIB_ERR_ABORTED_BY_PROGRESS)
        return wim_fail(ERROR_REQUEST_ABORTED, "%s: cancelled by a message callback "
                        "(WIM_MSG_ABORT_IMAGE); %s.", op->function,
                        op->partial ? "the files already written stay in the target"
                                    : "nothing was changed");
    va_list ap;
    va_start(ap, fmt);
    BOOL ok = wim_vfail_wimlib(rc, fmt, ap);
    va_end(ap);
    return ok;
}
