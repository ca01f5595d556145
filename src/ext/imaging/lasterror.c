/*
 * lasterror.c - the error every WIMGAPI failure raises: GetLastError() read
 * on the failing thread straight after the call (before any Python call can
 * change it), with its sentence, then raised as the typed DismError.  Used by
 * the handles (close), the short calls and the long ones alike.
 */
#include "imaging.h"

#include <string.h>

/* The system's sentence for a Win32 code: FormatMessageW on Windows, the
 * engine's own (it says what wimlib said, and about which file) elsewhere. */
static wchar_t *sentence_for(DWORD code)
{
#ifdef _WIN32
    wchar_t buf[512];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             code, 0, buf, sizeof buf / sizeof buf[0], NULL);
    while (n > 0 && (buf[n - 1] == L'\r' || buf[n - 1] == L'\n' || buf[n - 1] == L' '))
        n--;
    if (n == 0)
        return NULL;
    buf[n] = L'\0';
    return wide_copy(buf);
#else
    (void)code;
    PCWSTR text = _WIMPortableGetLastErrorMessage();
    return text ? wide_copy(text) : NULL;
#endif
}

/* Whether the sentence already starts with "<function>:" (the engine's do). */
static int names_function(const wchar_t *sentence, const char *function)
{
    size_t i = 0;
    for (; function[i]; i++)
        if (sentence[i] != (wchar_t)(unsigned char)function[i])
            return 0;
    return sentence[i] == L':';
}

/* "<function>: <sentence>" (or "<function> failed with error <code>"). */
static wchar_t *name_the_function(const char *function, DWORD code, wchar_t *sentence)
{
    if (sentence && names_function(sentence, function))
        return sentence;
    size_t name_len = strlen(function), text_len = sentence ? wcslen(sentence) : 32;
    wchar_t *out = malloc((name_len + text_len + 40) * sizeof(wchar_t));
    if (out) {
        for (size_t i = 0; i <= name_len; i++)
            out[i] = (wchar_t)(unsigned char)function[i];
        if (sentence) {
            wcscat(out, L": ");
            wcscat(out, sentence);
        } else {
            wchar_t digits[16];
            size_t n = 0;
            do
                digits[n++] = (wchar_t)(L'0' + code % 10);
            while ((code /= 10) && n < 15);
            wcscat(out, L" failed with error ");
            size_t end = wcslen(out);
            while (n)
                out[end++] = digits[--n];
            out[end] = L'\0';
        }
    }
    free(sentence);
    return out;
}

HRESULT wim_capture_error(const char *function, captured_message *out)
{
    DWORD code = GetLastError();
    out->text = name_the_function(function, code, sentence_for(code));
    /* A failure without a code must still raise. */
    return code ? HRESULT_FROM_WIN32(code) : E_FAIL;
}

PyObject *wim_raise(PyObject *module, HRESULT hr, captured_message *msg)
{
    return raise_dism_error(get_state(module), hr, msg);
}
