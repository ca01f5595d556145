#!/usr/bin/env python3
"""Checks a repaired Linux wheel: it must carry libwim and libhivex in
dismapi.libs/, and every ELF file in it (the extension, the dism-mountd
helper, the bundled libraries themselves) must load only bundled copies or
libraries every Linux has, found through an RPATH/RUNPATH that points at
dismapi.libs/.

auditwheel does this repair, but whether it also patches an executable that
is not an extension module depends on its version; an unpatched helper would
load the system's libwim (or fail on a machine without one) while the tests
on a build machine that has it would still pass.  Hence this independent
check, run by scripts/test-wheel.sh and by cibuildwheel after the repair.

Usage: check-bundled-libs.py WHEEL
"""
from __future__ import annotations

import posixpath
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

LIBS_DIR = "dismapi.libs"
REQUIRED_BUNDLED = ("libwim", "libhivex")
MUST_POINT_AT_BUNDLE = ("dism/_dism", "dism/_libexec/dism-mountd")
# What auditwheel's manylinux policies leave to the system (their
# lib_whitelist, less the X11/GL/GLib entries this project never links, plus
# the dynamic loader); anything else must come from the bundle.
SYSTEM_LIBRARY = re.compile(
    r"^(libc|libm|libmvec|libdl|libpthread|librt|libutil|libresolv|libanl|libnsl|libatomic"
    r"|libgcc_s|libstdc\+\+|libz|libexpat)\.so\.\d+$"
    r"|^ld-linux[-\w.]*\.so\.\d+$")
DYNAMIC_ENTRY = re.compile(r"\((NEEDED|RPATH|RUNPATH)\)\s+[^\[]*\[(.*)\]")
ELF_MAGIC = b"\x7fELF"


def fail(message: str) -> None:
    print(f"check-bundled-libs: {message}", file=sys.stderr)
    sys.exit(1)


def elf_members(wheel: zipfile.ZipFile) -> list[str]:
    return [name for name in wheel.namelist()
            if not name.endswith("/") and wheel.read(name)[:4] == ELF_MAGIC]


def dynamic_section(path: Path) -> tuple[list[str], list[str]]:
    """NEEDED names and RPATH/RUNPATH entries of an ELF file."""
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                         check=True).stdout
    needed, search = [], []
    for kind, value in DYNAMIC_ENTRY.findall(out):
        if kind == "NEEDED":
            needed.append(value)
        else:
            search.extend(value.split(":"))
    return needed, search


def resolve_origin(member: str, entry: str) -> str | None:
    """The wheel-relative directory an $ORIGIN-relative search entry names,
    or None for an absolute one (which points outside the wheel)."""
    for origin in ("$ORIGIN", "${ORIGIN}"):
        if entry.startswith(origin):
            relative = entry[len(origin):].lstrip("/")
            return posixpath.normpath(posixpath.join(posixpath.dirname(member), relative))
    return None


def problems_of(member: str, path: Path, bundled: set[str]) -> list[str]:
    needed, search = dynamic_section(path)
    problems = []
    for name in needed:
        if name not in bundled and not SYSTEM_LIBRARY.match(name):
            problems.append(f"{member} needs {name}, which is neither bundled nor a system library")
    needs_bundle = any(name in bundled for name in needed)
    finds_bundle = any(resolve_origin(member, entry) == LIBS_DIR for entry in search)
    if needs_bundle and not finds_bundle:
        problems.append(f"{member} needs bundled libraries but its RPATH/RUNPATH {search} "
                        f"does not lead to {LIBS_DIR}/")
    return problems


def check(wheel_path: Path) -> None:
    with zipfile.ZipFile(wheel_path) as wheel, tempfile.TemporaryDirectory() as tmp:
        members = elf_members(wheel)
        bundled = {posixpath.basename(m) for m in members if m.startswith(LIBS_DIR + "/")}
        for prefix in REQUIRED_BUNDLED:
            if not any(name.startswith(prefix + "-") for name in bundled):
                fail(f"{prefix} is not bundled in {LIBS_DIR}/ (found: {sorted(bundled)})")
        problems = []
        for prefix in MUST_POINT_AT_BUNDLE:
            matches = [m for m in members if m.startswith(prefix)]
            if not matches:
                problems.append(f"no {prefix}* in the wheel")
            for member in matches:
                needed, _ = dynamic_section(Path(wheel.extract(member, tmp)))
                if not any(name.startswith("libwim-") and name in bundled for name in needed):
                    problems.append(f"{member} does not load the bundled libwim (NEEDED: {needed})")
        for member in members:
            problems += problems_of(member, Path(wheel.extract(member, tmp)), bundled)
        if problems:
            fail("\n  ".join([f"{wheel_path.name}:"] + problems))
        print(f"check-bundled-libs: {wheel_path.name}: {len(members)} ELF files load only "
              f"{LIBS_DIR}/ ({', '.join(sorted(bundled))}) and system libraries")


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        fail("usage: check-bundled-libs.py WHEEL")
    wheel = Path(argv[1])
    if not wheel.is_file():
        fail(f"no wheel at {wheel}")
    check(wheel)


if __name__ == "__main__":
    main(sys.argv)
