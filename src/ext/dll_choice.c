/*
 * dll_choice.c - (Windows) the Python functions over src/windows/library.c:
 * load_library, library_path, file_version, is_elevated; and wimgapi_ready(),
 * which the WIMGAPI binding calls before its first call.
 *
 * They raise OSError with .winerror set; dism/_library.py turns that into
 * DismLibrary and DismLibraryError.
 */
#include "ext.h"

#ifdef _WIN32
#include "windows/library.h"

#define LONG_PATH 32768

static PyObject *module_path(HMODULE dll)
{
    wchar_t *path = PyMem_Malloc(LONG_PATH * sizeof *path);
    if (!path)
        return PyErr_NoMemory();
    DWORD n = library_module_path(dll, path, LONG_PATH);
    PyObject *result = n ? PyUnicode_FromWideChar(path, (Py_ssize_t)n)
                         : PyErr_SetFromWindowsErr(0);
    PyMem_Free(path);
    return result;
}

/* OSError with .winerror = code, so the Python layer reports the HRESULT. */
static PyObject *raise_windows_error(DWORD code, PyObject *message)
{
    if (!message)
        return NULL;
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "iOOk", 0, message, Py_None,
                                          (unsigned long)code);
    Py_DECREF(message);
    if (exc) {
        PyErr_SetObject(PyExc_OSError, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *refuse_other_choice(HMODULE chosen)
{
    PyObject *path = module_path(chosen);
    if (!path)
        return NULL;
    PyObject *message = PyUnicode_FromFormat(
        "this process already uses %S; the DISM library can be chosen only once per "
        "process (start a new process to use another)", path);
    Py_DECREF(path);
    return raise_windows_error(ERROR_ALREADY_INITIALIZED, message);
}

static PyObject *refuse_missing_export(HMODULE dll, const char *name)
{
    PyObject *path = module_path(dll);
    FreeLibrary(dll);
    if (!path)
        return NULL;
    PyObject *message = PyUnicode_FromFormat(
        "%S lacks %s, which every DismApi.dll since Windows 8 exports: it is not a DISM "
        "API library", path, name);
    Py_DECREF(path);
    return raise_windows_error(ERROR_PROC_NOT_FOUND, message);
}

PyDoc_STRVAR(load_library_doc,
"load_library(path=None)\n--\n\n"
"Load DismApi.dll from `path` (a full path) or, for None, the in-box\n"
"System32 copy, and make it the DLL of every DISM call of this process.\n"
"Raises OSError if it cannot be loaded, lacks a core export, or another DLL\n"
"was chosen before.");

static PyObject *load_library(PyObject *module, PyObject *args)
{
    PyObject *path_obj = Py_None;
    if (!PyArg_ParseTuple(args, "|O:load_library", &path_obj))
        return NULL;
    wchar_t *path = NULL;
    if (path_obj != Py_None && !(path = PyUnicode_AsWideCharString(path_obj, NULL)))
        return NULL;
    HMODULE dll;
    DWORD error;
    Py_BEGIN_ALLOW_THREADS
    error = library_load(path, &dll);
    Py_END_ALLOW_THREADS
    PyMem_Free(path);
    if (error != ERROR_SUCCESS)
        return PyErr_SetExcFromWindowsErrWithFilenameObject(PyExc_OSError, (int)error, path_obj);
    const char *missing = library_first_missing_export(dll);
    if (missing)
        return refuse_missing_export(dll, missing);
    HMODULE before = library_current();
    HMODULE chosen = library_choose(dll);
    if (chosen != dll) {
        FreeLibrary(dll);
        return refuse_other_choice(chosen);
    }
    /* Loading the chosen DLL again added a reference it does not need: the
     * first one lasts for the life of the process, since bound thunks use it. */
    if (before == dll)
        FreeLibrary(dll);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(library_path_doc,
"library_path()\n--\n\n"
"The full path of the DismApi.dll this process uses, or None if none is\n"
"loaded yet.");

static PyObject *library_path(PyObject *module, PyObject *unused)
{
    HMODULE dll = library_current();
    if (!dll)
        Py_RETURN_NONE;
    return module_path(dll);
}

PyDoc_STRVAR(file_version_doc,
"file_version(path)\n--\n\n"
"The (major, minor, build, revision) file version in a PE file's version\n"
"resource.");

static PyObject *file_version(PyObject *module, PyObject *path_obj)
{
    wchar_t *path = PyUnicode_AsWideCharString(path_obj, NULL);
    if (!path)
        return NULL;
    unsigned v[4];
    DWORD error = library_file_version(path, v);
    PyMem_Free(path);
    if (error == ERROR_NOT_ENOUGH_MEMORY)
        return PyErr_NoMemory();
    if (error != ERROR_SUCCESS)
        return PyErr_SetExcFromWindowsErrWithFilenameObject(PyExc_OSError, (int)error, path_obj);
    return Py_BuildValue("(kkkk)", (unsigned long)v[0], (unsigned long)v[1],
                         (unsigned long)v[2], (unsigned long)v[3]);
}

PyDoc_STRVAR(is_elevated_doc,
"is_elevated()\n--\n\n"
"Whether the process token is elevated (DISM needs it to be).");

static PyObject *is_elevated(PyObject *module, PyObject *unused)
{
    int elevated = 0;
    DWORD error = library_is_elevated(&elevated);
    if (error != ERROR_SUCCESS)
        return PyErr_SetFromWindowsErr((int)error);
    return PyBool_FromLong(elevated);
}

int wimgapi_ready(PyObject *module)
{
    const char *missing = NULL;
    DWORD error;
    Py_BEGIN_ALLOW_THREADS
    error = library_wimgapi(&missing);
    Py_END_ALLOW_THREADS
    if (error == ERROR_SUCCESS)
        return 0;
    PyObject *sentence =
        missing ? PyUnicode_FromFormat("%%SystemRoot%%\\System32\\wimgapi.dll lacks %s, which "
                                       "every wimgapi.dll since Windows 7 exports", missing)
                : PyUnicode_FromFormat("%%SystemRoot%%\\System32\\wimgapi.dll cannot be loaded "
                                       "(Win32 error %lu); no other copy is ever looked for",
                                       (unsigned long)error);
    if (sentence)
        raise_with_sentence(get_state(module), HR_WIN32(error), sentence);
    return -1;
}

PyMethodDef dll_choice_methods[] = {
    {"load_library", load_library, METH_VARARGS, load_library_doc},
    {"library_path", library_path, METH_NOARGS, library_path_doc},
    {"file_version", file_version, METH_O, file_version_doc},
    {"is_elevated", is_elevated, METH_NOARGS, is_elevated_doc},
    {NULL, NULL, 0, NULL},
};
#endif /* _WIN32 */
