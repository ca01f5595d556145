"""Build of the dism extension.

The one platform split of the build lives here:
  * Windows: src/_dism.c against the system's DismApi.dll (DismAPI.lib).
  * elsewhere: src/_dism.c plus the portable engine in src/engine/, linked
    with the system's libwim, and the dism-mountd helper program that serves
    mounts (installed as dism/_libexec/dism-mountd); the servicing side reads
    registry hives with the system's libhivex.
"""
import os
import sys
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

IS_WINDOWS = sys.platform == "win32"
ENGINE_DIR = os.path.join("src", "engine")
HELPER_SOURCE = os.path.join(ENGINE_DIR, "mountd.c")
EXTENSION_SOURCES = ["src/_dism.c", "src/_dism_servicing.c"]
WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-format-truncation",
            "-Wno-missing-field-initializers"]


def engine_sources():
    return sorted(s for s in glob(os.path.join(ENGINE_DIR, "*.c")) if s != HELPER_SOURCE)


def dism_extension():
    if IS_WINDOWS:
        return Extension("dism._dism", sources=EXTENSION_SOURCES, include_dirs=["src/include"],
                         libraries=["DismAPI"])
    return Extension(
        "dism._dism",
        sources=EXTENSION_SOURCES + engine_sources(),
        include_dirs=["src/include", ENGINE_DIR],
        define_macros=[("_GNU_SOURCE", "1")],
        libraries=["wim", "hivex", "dl", "pthread"],
        extra_compile_args=["-std=c11", "-fvisibility=hidden"] + WARNINGS,
    )


class build_ext_with_helper(build_ext):
    """Builds the extension, then the mount server helper beside it."""

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
            [HELPER_SOURCE], output_dir=self.build_temp,
            macros=[("_GNU_SOURCE", "1")], extra_postargs=["-std=c11"] + WARNINGS)
        self.compiler.link_executable(objects, "dism-mountd", output_dir=out_dir,
                                      libraries=["wim"])


setup(ext_modules=[dism_extension()], cmdclass={"build_ext": build_ext_with_helper})
