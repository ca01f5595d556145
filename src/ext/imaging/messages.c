/*
 * messages.c - the WIM_MSG_* trampoline of the long WIMGAPI calls.
 *
 * WIMGAPI calls it on whatever thread it likes, for every message of the
 * operation running on the file it is registered on.  It takes the GIL,
 * hands the Python callable `messages(message, a, b)` plain values (the
 * table in imaging.h's contract, common to both platforms), and turns its
 * answer back into what WIMGAPI expects.  WIMGAPI has no CancelEvent, so a
 * cancel (token, Ctrl+C, an exception of the callback) is this trampoline
 * returning WIM_MSG_ABORT_IMAGE from then on.
 */
#include "imaging.h"

/* How a message's answer goes back to WIMGAPI. */
enum answer {
    ANSWER_IGNORED,  /* PROGRESS and the rest: WIM_MSG_SUCCESS whatever it says */
    ANSWER_CODE,     /* ERROR and its kin: an int is returned as is */
    ANSWER_INCLUDE,  /* PROCESS: False clears *(PBOOL)lParam, an int is returned */
    ANSWER_COMPRESS, /* COMPRESS: False clears *(PBOOL)lParam */
};

typedef struct {
    DWORD message;
    WPARAM wparam;
    LPARAM lparam;
    DWORD result;
} message_call;

static PyObject *text_or_none(const WCHAR *text)
{
    return text ? PyUnicode_FromWideChar(text, -1) : Py_NewRef(Py_None);
}

static unsigned long long filetime(FILETIME t)
{
    return ((unsigned long long)t.dwHighDateTime << 32) | t.dwLowDateTime;
}

static PyObject *find_data_tuple(const WIN32_FIND_DATAW *fd)
{
    if (!fd)
        return Py_NewRef(Py_None);
    unsigned long long size =
        ((unsigned long long)fd->nFileSizeHigh << 32) | fd->nFileSizeLow;
    return Py_BuildValue("(kKKKKk)", (unsigned long)fd->dwFileAttributes,
                         filetime(fd->ftCreationTime), filetime(fd->ftLastAccessTime),
                         filetime(fd->ftLastWriteTime), size, (unsigned long)fd->dwReserved0);
}

/* (a, b) of a message, as a new 2-tuple, and how its answer is read. */
static PyObject *message_arguments(const message_call *m, enum answer *answer)
{
    *answer = ANSWER_IGNORED;
    WPARAM w = m->wparam;
    LPARAM l = m->lparam;
    switch (m->message) {
    case WIM_MSG_PROGRESS:
        return Py_BuildValue("(kk)", (unsigned long)(DWORD)w, (unsigned long)(DWORD)l);
    case WIM_MSG_PROCESS:
        *answer = ANSWER_INCLUDE;
        return Py_BuildValue("(NO)", text_or_none((const WCHAR *)w), Py_None);
    case WIM_MSG_STEPIT:
        return Py_BuildValue("(OO)", Py_None, Py_None);
    case WIM_MSG_ERROR:
    case WIM_MSG_RETRY:
    case WIM_MSG_INFO:
    case WIM_MSG_WARNING:
    case WIM_MSG_WARNING_OBJECTID:
        *answer = ANSWER_CODE;
        return Py_BuildValue("(Nk)", text_or_none((const WCHAR *)w), (unsigned long)(DWORD)l);
    case WIM_MSG_SPLIT: {
        const WCHAR *const *part = (const WCHAR *const *)w;
        const LARGE_INTEGER *size = (const LARGE_INTEGER *)l;
        return Py_BuildValue("(NL)", text_or_none(part ? *part : NULL),
                             size ? (long long)size->QuadPart : 0LL);
    }
    case WIM_MSG_FILEINFO:
        return Py_BuildValue("(NN)", text_or_none((const WCHAR *)w),
                             find_data_tuple((const WIN32_FIND_DATAW *)l));
    case WIM_MSG_TEXT:
        return Py_BuildValue("(NO)", text_or_none((const WCHAR *)l), Py_None);
    case WIM_MSG_COMPRESS:
        *answer = ANSWER_COMPRESS;
        return Py_BuildValue("(NO)", text_or_none((const WCHAR *)w), Py_None);
    case WIM_MSG_ALIGNMENT:
        return Py_BuildValue("(NO)", text_or_none((const WCHAR *)w), Py_None);
    default: /* SCANNING, SETRANGE, SETPOS and any other */
        return Py_BuildValue("(nn)", (Py_ssize_t)w, (Py_ssize_t)l);
    }
}

/* Reads the callable's answer; -1 with TypeError for one it cannot mean. */
static int read_answer(message_call *m, enum answer answer, PyObject *r)
{
    if (r == Py_None || answer == ANSWER_IGNORED)
        return 0;
    if (PyBool_Check(r)) {
        if (r == Py_False && (answer == ANSWER_INCLUDE || answer == ANSWER_COMPRESS) &&
            m->lparam)
            *(BOOL *)m->lparam = FALSE;
        return 0;
    }
    if (PyLong_Check(r) && answer != ANSWER_COMPRESS) {
        unsigned long code = PyLong_AsUnsignedLongMask(r);
        if (code == (unsigned long)-1 && PyErr_Occurred())
            return -1;
        m->result = (DWORD)code;
        return 0;
    }
    raise_wrong_type(answer == ANSWER_COMPRESS ? "None or a bool from the WIM_MSG_COMPRESS callback"
                                               : "None, a bool or an int from the message callback",
                     r);
    return -1;
}

static PyObject *deliver(long_call *call, void *arg)
{
    message_call *m = arg;
    enum answer answer;
    PyObject *ab = message_arguments(m, &answer);
    if (!ab)
        return NULL;
    PyObject *r = PyObject_CallFunction(call->progress, "kOO", (unsigned long)m->message,
                                        PyTuple_GetItem(ab, 0), PyTuple_GetItem(ab, 1));
    Py_DECREF(ab);
    if (!r)
        return NULL;
    int rc = read_answer(m, answer, r);
    Py_DECREF(r);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

DWORD CALLBACK wim_message_trampoline(DWORD message, WPARAM wparam, LPARAM lparam, PVOID user)
{
    long_call *call = user;
    if (call->cancel_requested)
        return WIM_MSG_ABORT_IMAGE;
    if (!call->progress)
        return WIM_MSG_SUCCESS;
    message_call m = {message, wparam, lparam, WIM_MSG_SUCCESS};
    PyGILState_STATE gil = PyGILState_Ensure();
    if (!call->exc_type)
        Py_XDECREF(long_call_callback(call, deliver, &m));
    /* The callback's own abort counts as a cancel from now on. */
    if (m.result == WIM_MSG_ABORT_IMAGE)
        call->cancel_requested = 1;
    int cancelled = call->cancel_requested;
    PyGILState_Release(gil);
    return cancelled ? WIM_MSG_ABORT_IMAGE : m.result;
}
