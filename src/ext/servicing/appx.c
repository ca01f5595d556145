/*
 * appx.c - app packages provisioned for every new user (the undocumented
 * _Dism*ProvisionedAppxPackage* exports; exports.c looks them up).
 */
#include "../ext.h"

typedef HRESULT(WINAPI *GetProvisionedAppx_fn)(DismSession, DismAppxPackage **, UINT *);
typedef HRESULT(WINAPI *AddProvisionedAppx_fn)(DismSession, PCWSTR, PCWSTR *, UINT, PCWSTR *,
                                               UINT, PCWSTR *, UINT, BOOL, PCWSTR, PCWSTR,
                                               DismStubPackageOption);

QUERY_CALL(get_appx, void,
           ((GetProvisionedAppx_fn)out->export_fn)(h, (DismAppxPackage **)&out->items,
                                                   &out->count))

PyDoc_STRVAR(get_provisioned_appx_packages_doc,
"get_provisioned_appx_packages(session)\n--\n\n_DismGetProvisionedAppxPackages.");

static PyObject *dism_get_provisioned_appx_packages(PyObject *module, PyObject *session)
{
    query_result out = {&REC_APPX_PACKAGE};
    return export_query(module, session, X_GetProvisionedAppxPackages, call_get_appx, NULL, &out,
                        as_records);
}

typedef struct {
    wide_arg app, data, region;
    wide_array deps, optional, licenses;
    int skip_license, stub;
} add_appx_args;

QUERY_CALL(add_appx, add_appx_args,
           ((AddProvisionedAppx_fn)out->export_fn)(
               h, a->app.wide, a->deps.items, a->deps.count, a->optional.items, a->optional.count,
               a->licenses.items, a->licenses.count, a->skip_license, a->data.wide,
               a->region.wide, (DismStubPackageOption)a->stub))

PyDoc_STRVAR(add_provisioned_appx_package_doc,
"add_provisioned_appx_package(session, app_path, dependencies, optional_packages, licenses,\n"
"                             skip_license, custom_data_path, region, stub_option)\n--\n\n"
"_DismAddProvisionedAppxPackage (the 12-argument form).");

static PyObject *dism_add_provisioned_appx_package(PyObject *module, PyObject *args,
                                                   PyObject *kwargs)
{
    static char *kwlist[] = {"session", "app_path", "dependencies", "optional_packages",
                             "licenses", "skip_license", "custom_data_path", "region",
                             "stub_option", NULL};
    PyObject *session;
    add_appx_args a = {0};
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "OO&O&O&O&pO&O&i:add_provisioned_appx_package", kwlist, &session,
            path_converter, &a.app, wide_array_converter, &a.deps, wide_array_converter,
            &a.optional, wide_array_converter, &a.licenses, &a.skip_license,
            optional_path_converter, &a.data, optional_text_converter, &a.region, &a.stub))
        return NULL;
    query_result out = {0};
    PyObject *result = export_query(module, session, X_AddProvisionedAppxPackage, call_add_appx,
                                    &a, &out, as_code);
    PyMem_Free(a.app.wide);
    PyMem_Free(a.data.wide);
    PyMem_Free(a.region.wide);
    wide_array_free(&a.deps);
    wide_array_free(&a.optional);
    wide_array_free(&a.licenses);
    return result;
}

PyDoc_STRVAR(remove_provisioned_appx_package_doc,
"remove_provisioned_appx_package(session, package_name)\n--\n\n"
"_DismRemoveProvisionedAppxPackage.");

static PyObject *dism_remove_provisioned_appx_package(PyObject *module, PyObject *args)
{
    SessionString_fn fn =
        (SessionString_fn)require_export(module, X_RemoveProvisionedAppxPackage);
    return fn ? session_string_call(module, args, "OO&:remove_provisioned_appx_package", fn)
              : NULL;
}

PyMethodDef appx_methods[] = {
    ONE_METHOD(get_provisioned_appx_packages),
    KW_METHOD(add_provisioned_appx_package),
    POS_METHOD(remove_provisioned_appx_package),
    {NULL, NULL, 0, NULL},
};
