"""Build of the dism extension.

The one platform split of the build lives here:
  * Windows: the extension's sources (src/ext/) and src/windows/library.c,
    linked with /DELAYLOAD against DismAPI.lib: the Windows ADK's when one is
    installed, else one made from stub objects and src/windows/dismapi.def
    as src/import_library.py says (the ADK is the only source of
    Microsoft's, and build machines lack it); and against wimgapi.lib, made
    the same way from src/windows/wimgapi.def, with /DELAYLOAD too.
  * elsewhere: the extension (src/ext/) plus the portable engine in src/engine/, linked
    with the system's libwim, and the dism-mountd helper program in
    src/mountd/ that serves mounts (installed as dism/_libexec/dism-mountd);
    the servicing side reads registry hives with the system's libhivex.
    src/c_layout.py lists their sources and include directories.
"""
import os
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# setuptools' build backend does not put this folder on sys.path.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))
import c_layout  # noqa: E402
import import_library  # noqa: E402

IS_WINDOWS = sys.platform == "win32"
EXTENSION_SOURCES = c_layout.extension_sources()
WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-format-truncation",
            "-Wno-missing-field-initializers"]
# 3.10 is the first limited API with PyType_FromModuleAndSpec, PyModule_AddType,
# PyModule_AddObjectRef and Py_NewRef, which the extension is built on.
LIMITED_API_HEX = "0x030A0000"
LIMITED_API_WHEEL_TAG = "cp310"


def builds_for_stable_abi():
    """One abi3 wheel per platform then serves CPython 3.10 and later.  A
    free-threaded CPython has no limited API (abi3 fixes an object header
    that build changes), so there the extension is built for that version."""
    return not sysconfig.get_config_var("Py_GIL_DISABLED")


STABLE_ABI = builds_for_stable_abi()
LIMITED_API_MACROS = [("Py_LIMITED_API", LIMITED_API_HEX)] if STABLE_ABI else []


WINDOWS_SOURCES = c_layout.windows_sources()
# build_ext's plat_name -> the ADK's folder name.
ADK_ARCHITECTURES = {"win32": "x86", "win-amd64": "amd64", "win-arm64": "arm64"}
ADK_DISMAPI_LIB = ("Assessment and Deployment Kit", "Deployment Tools", "SDKs", "DismApi", "Lib")


def windows_extension():
    return Extension(
        "dism._dism",
        sources=EXTENSION_SOURCES + WINDOWS_SOURCES,
        include_dirs=["src", "src/include"],
        define_macros=[("WIN32_LEAN_AND_MEAN", "1")] + LIMITED_API_MACROS,
        # delayimp: the delay-load helper; version: the DLL's file version;
        # advapi32: the token query behind is_elevated().
        libraries=["DismAPI", "wimgapi", "delayimp", "version", "advapi32"],
        extra_compile_args=["/std:c11", "/W3"],
        # Nothing loads DismApi.dll until the package has chosen which one;
        # wimgapi.dll is loaded at the first WIMGAPI call, from System32 only
        # (the delay-load hook in src/windows/library.c hands out both).
        extra_link_args=["/DELAYLOAD:DismApi.dll", "/DELAYLOAD:wimgapi.dll"],
        py_limited_api=STABLE_ABI,
    )


def dism_extension():
    if IS_WINDOWS:
        return windows_extension()
    return Extension(
        "dism._dism",
        sources=EXTENSION_SOURCES + c_layout.engine_sources(),
        include_dirs=c_layout.include_dirs(),
        define_macros=[("_GNU_SOURCE", "1")] + LIMITED_API_MACROS,
        libraries=["wim", "hivex", "dl", "pthread", "rt"],
        extra_compile_args=["-std=c11", "-fvisibility=hidden"] + WARNINGS,
        py_limited_api=STABLE_ABI,
    )


def adk_import_library_dir(plat_name):
    """The installed Windows ADK's DismApi.lib folder for this target, if any."""
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE,
                            r"SOFTWARE\Microsoft\Windows Kits\Installed Roots", 0,
                            winreg.KEY_READ | winreg.KEY_WOW64_32KEY) as key:
            root = winreg.QueryValueEx(key, "KitsRoot10")[0]
    except OSError:
        return None
    folder = os.path.join(root, *ADK_DISMAPI_LIB, ADK_ARCHITECTURES[plat_name])
    return folder if os.path.isfile(os.path.join(folder, "DismApi.lib")) else None


class build_ext_with_helper(build_ext):
    """Builds the extension, then the mount server helper beside it; on
    Windows, first provides the import libraries the extension links."""

    def build_extensions(self):
        if IS_WINDOWS:
            lib_dirs = [self.dismapi_import_library(),
                        self.stub_import_library(import_library.WIMGAPI)]
            for ext in self.extensions:
                ext.library_dirs.extend(lib_dirs)
        super().build_extensions()

    def dismapi_import_library(self):
        adk_dir = adk_import_library_dir(self.plat_name)
        return adk_dir or self.stub_import_library(import_library.DISMAPI)

    def stub_import_library(self, library):
        """Makes `library`'s import library by the stub route; its folder."""
        out_dir = os.path.abspath(os.path.join(self.build_temp, library.stem))
        os.makedirs(out_dir, exist_ok=True)
        if not getattr(self.compiler, "initialized", True):
            self.compiler.initialize(self.plat_name)
        def_file, stub_file = import_library.write_sources(out_dir, library)
        # /GL-: a plain object, which the linker reads without /LTCG.
        stub_objects = self.compiler.compile([stub_file], output_dir=out_dir,
                                             extra_postargs=["/GL-"])
        self.compiler.spawn([self.compiler.linker, *import_library.linker_arguments(
            self.plat_name, def_file, stub_objects[0], out_dir, library)])
        import_library.remove_stub_dll(out_dir, library)
        return out_dir

    def run(self):
        super().run()
        if not IS_WINDOWS:
            self.build_mount_helper()

    def helper_output_dir(self):
        if self.inplace:
            return os.path.join(os.path.dirname(os.path.abspath(__file__)), "dism", "_libexec")
        return os.path.join(self.build_lib, "dism", "_libexec")

    def build_mount_helper(self):
        out_dir = self.helper_output_dir()
        os.makedirs(out_dir, exist_ok=True)
        objects = self.compiler.compile(
            c_layout.mountd_sources(), output_dir=self.build_temp,
            macros=[("_GNU_SOURCE", "1")], extra_postargs=["-std=c11"] + WARNINGS)
        self.compiler.link_executable(objects, "dism-mountd", output_dir=out_dir,
                                      libraries=["wim", "pthread", "rt"])


setup(ext_modules=[dism_extension()], cmdclass={"build_ext": build_ext_with_helper},
      options={"bdist_wheel": {"py_limited_api": LIMITED_API_WHEEL_TAG}} if STABLE_ABI else {})
