"""The extension keeps to CPython's limited API (3.10 floor), so one abi3
wheel per platform serves every CPython from 3.10 on.

Two checks: the C sources compile with Py_LIMITED_API set (a non-limited
call is an implicit declaration or an incomplete type there, which -Werror
turns into a failure), and abi3audit finds no symbol outside the stable ABI
in the extension that was actually built and imported."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import c_layout
from dism import _dism
from support import REPO

LIMITED_API = "0x030A0000"
LIMITED_API_DOTTED = "3.10"
SOURCES = [os.path.relpath(p, "src") for p in c_layout.extension_sources()]

free_threaded = pytest.mark.skipif(
    bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    reason="free-threaded CPython has no limited API; setup.py builds it version-specific")


def python_include_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return sorted({paths["include"], paths["platinclude"]})


def compile_limited(source: Path, out: Path) -> subprocess.CompletedProcess:
    """Compiles one file as setup.py does, with the limited API enforced."""
    cc = shutil.which("gcc")
    if not cc:
        pytest.skip("no gcc to compile with")
    includes = [f"-I{d}" for d in
                [REPO / "src" / "include", REPO / "src" / "engine", *python_include_dirs()]]
    cmd = [cc, "-std=c11", "-D_GNU_SOURCE", f"-DPy_LIMITED_API={LIMITED_API}", "-Wall",
           "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-format-truncation",
           "-Wno-missing-field-initializers", *includes, "-c", str(source), "-o", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@free_threaded
@pytest.mark.parametrize("name", SOURCES)
def test_source_compiles_under_the_limited_api(tmp_path, name):
    obj = tmp_path / (Path(name).name + ".o")
    built = compile_limited(REPO / "src" / name, obj)
    assert built.returncode == 0, built.stderr
    assert obj.stat().st_size > 0


@free_threaded
def test_the_limited_api_check_rejects_a_non_limited_call(tmp_path):
    """The flags above really do shut out the full API: the same call the
    extension once made (PyList_SET_ITEM, a macro over the list's struct)
    fails to compile."""
    source = tmp_path / "full_api.c"
    source.write_text('#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n'
                      'void fill(PyObject *list, PyObject *item)\n'
                      '{ PyList_SET_ITEM(list, 0, item); }\n')
    built = compile_limited(source, tmp_path / "full_api.o")
    assert built.returncode != 0
    assert "PyList_SET_ITEM" in built.stderr


@free_threaded
def test_the_imported_extension_is_the_abi3_build():
    """A version-tagged build left beside the abi3 one would be imported
    first; this says so instead of auditing the wrong file."""
    abi3_suffixes = [s for s in importlib.machinery.EXTENSION_SUFFIXES if "abi3" in s]
    if not abi3_suffixes:
        pytest.skip("this interpreter has no abi3 extension suffix")
    assert Path(_dism.__file__).name.endswith(tuple(abi3_suffixes)), _dism.__file__


def abi3audit(path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs abi3audit's CLI on one shared object; returns the run and the
    audit result of that object from its JSON report."""
    if importlib.util.find_spec("abi3audit") is None:
        # The test extra installs it, so CI has it: there it must run.
        if os.environ.get("CI"):
            pytest.fail("abi3audit is required in CI (the test extra installs it)")
        pytest.skip("abi3audit is not installed (pip install abi3audit)")
    run = subprocess.run([sys.executable, "-m", "abi3audit", "--strict", "--report",
                          "--assume-minimum-abi3", LIMITED_API_DOTTED, str(path)],
                         capture_output=True, text=True, timeout=300)
    report = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    objects = [spec["object"] for spec in report.get("specs", {}).values()]
    assert [o["name"] for o in objects] == [path.name], run.stdout + run.stderr
    return run, objects[0]["result"]


@free_threaded
def test_abi3audit_finds_no_violation_in_the_built_extension():
    run, result = abi3audit(Path(_dism.__file__))
    assert run.returncode == 0, run.stdout + run.stderr
    assert result["is_abi3"] and result["non_abi3_symbols"] == [], result
    # The symbols it uses need no CPython newer than the floor.
    assert result["is_abi3_baseline_compatible"], result
    assert result["future_abi3_objects"] == {}, result


@free_threaded
def test_abi3audit_reports_a_symbol_outside_the_stable_abi(tmp_path):
    """The audit can fail: an object calling PyUnicode_AsUTF8 (stable only
    from 3.13) is caught."""
    cc = shutil.which("gcc")
    if not cc:
        pytest.skip("no gcc to compile with")
    source = tmp_path / "bad.c"
    source.write_text('#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n'
                      'const char *name_of(PyObject *s) { return PyUnicode_AsUTF8(s); }\n')
    bad = tmp_path / "bad.abi3.so"
    includes = [f"-I{d}" for d in python_include_dirs()]
    built = subprocess.run([cc, "-shared", "-fPIC", *includes, str(source), "-o", str(bad)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    run, result = abi3audit(bad)
    assert run.returncode != 0
    assert "PyUnicode_AsUTF8" in json.dumps(result["non_abi3_symbols"]), result


SECOND_INTERPRETER = """
import dism
try:
    import _xxsubinterpreters as interpreters
    run = lambda i, code: interpreters.run_string(i, code)
    create = lambda: interpreters.create(isolated=False)
except ImportError:
    import _interpreters as interpreters
    create = lambda: interpreters.create("legacy")
    def run(i, code):
        failure = interpreters.run_string(i, code)
        if failure is not None:
            raise RuntimeError(failure.msg)
interp = create()
try:
    run(interp, "import dism._dism")
except Exception as error:
    print("REFUSED", error)
else:
    print("LOADED")
"""


def test_a_second_interpreter_cannot_load_the_extension():
    """DISM's state is per process: a second (shared-GIL) interpreter must be
    refused even though the abi3 module cannot say so with a slot."""
    ran = subprocess.run([sys.executable, "-c", SECOND_INTERPRETER], capture_output=True,
                         text=True, timeout=60)
    if "No module named '_interpreters'" in ran.stderr:
        pytest.skip("this CPython has no subinterpreter module to test with")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("REFUSED"), ran.stdout
    assert "another interpreter" in ran.stdout
