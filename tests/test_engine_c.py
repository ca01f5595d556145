"""The engine as a C library: the seed documents' examples and the API
contract, compiled against src/include/dismapi.h and run as C programs."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dism.testing import WindowsImageSpec, build_windows_tree

from c_layout import engine_sources, include_dirs
from conftest import REPO

HELPER = REPO / "dism" / "_libexec" / "dism-mountd"


SANITIZERS = ["-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=all"]


def compile_program(source: Path, out: Path, sanitize: bool = False) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler")
    sources = engine_sources(REPO)
    cmd = [cc, *(SANITIZERS if sanitize else []), "-std=c11", "-D_GNU_SOURCE", "-Wall",
           "-Wextra", "-Werror",
           "-Wno-unused-parameter", "-Wno-format-truncation", "-Wno-missing-field-initializers",
           *(f"-I{d}" for d in include_dirs(REPO)), str(source), *sources,
           "-o", str(out), "-lwim", "-lhivex", "-lpthread", "-ldl", "-lrt"]
    built = subprocess.run(cmd, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return out


def test_header_compiles_alone_with_strict_warnings(tmp_path):
    src = tmp_path / "only_header.c"
    src.write_text('#include "dismapi.h"\nint main(void) { return sizeof(DismImageInfo) == 140 ? 0 : 1; }\n')
    built = subprocess.run(["gcc", "-std=c11", "-pedantic", "-Wall", "-Wextra", "-Werror",
                            "-I", str(REPO / "src" / "include"), str(src), "-o",
                            str(tmp_path / "h")], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert subprocess.run([str(tmp_path / "h")]).returncode == 0


# The sanitized builds run the same programs under AddressSanitizer (with
# its leak checker) and UndefinedBehaviorSanitizer: any report fails them.
@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "asan-ubsan"])
def test_seed_examples_run_against_the_engine(tmp_path, sample_wim, mount_dir, sanitize):
    program = compile_program(Path(__file__).parent / "c" / "seed_examples.c", tmp_path / "seed",
                              sanitize)
    env = {**os.environ, "DISM_STATE_DIR": str(tmp_path / "state"),
           "DISM_MOUNT_HELPER": str(HELPER), "LC_ALL": "C.UTF-8"}
    run = subprocess.run([str(program), str(sample_wim), str(mount_dir)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "DismMountImage: 0x00000000" in run.stdout
    assert f"mounted: {mount_dir} index 1 mode 0 status 0" in run.stdout
    assert "DismOpenSession(DISM_ONLINE_IMAGE): 0x80070032" in run.stdout
    assert os.listdir(mount_dir) == []


@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "asan-ubsan"])
def test_api_contract_in_c(tmp_path, sanitize):
    program = compile_program(Path(__file__).parent / "c" / "api_contract.c", tmp_path / "api",
                              sanitize)
    root = build_windows_tree(tmp_path / "offline", WindowsImageSpec(name="C"))
    env = {**os.environ, "DISM_STATE_DIR": str(tmp_path / "state"), "LC_ALL": "C.UTF-8"}
    run = subprocess.run([str(program), str(root)], capture_output=True, text=True, env=env,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failure(s)" in run.stdout
