"""Trees to capture and ways to compare them, for the image-management
tests: Unicode names, empty folders, hard links, single-instanced data and
a link inside the tree; hashes of a tree as files, directories and links;
wimlib-imagex run on what dism (or the engine's WIMGAPI) wrote.  The one
place of these for every image-management test (api, cli, engine)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "real"
if not REAL.is_dir():
    REAL = Path("/work/shared/testdata/real")

WIMLIB = shutil.which("wimlib-imagex")


def build_tree(root: Path, payload: int = 200_000) -> Path:
    """A small tree with what round trips get wrong."""
    root.mkdir(parents=True)
    (root / "Windows" / "System32" / "drivers").mkdir(parents=True)
    (root / "empty dir" / "nested empty").mkdir(parents=True)
    (root / "Ünïcødé ✓ 名前").mkdir()
    (root / "Ünïcødé ✓ 名前" / "файл.txt").write_text("кириллица\n", encoding="utf-8")
    data = bytes(range(256)) * (payload // 256)
    (root / "Windows" / "System32" / "big.bin").write_bytes(data)
    # single-instanced: the same bytes under another name
    (root / "Windows" / "copy of big.bin").write_bytes(data)
    (root / "Windows" / "System32" / "drivers" / "a.sys").write_bytes(os.urandom(40_000))
    (root / "readme.txt").write_text("hello\n")
    os.link(root / "readme.txt", root / "Windows" / "hardlink to readme.txt")
    (root / "zero.bin").write_bytes(b"")
    os.symlink("readme.txt", root / "link to readme")
    return root


def tree_digest(root: Path) -> Dict[str, Tuple[str, str]]:
    """path -> (kind, sha256 / link target) for everything below root."""
    found: Dict[str, Tuple[str, str]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(folder) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                found[rel] = ("link", os.readlink(full))
            elif full.is_dir():
                found[rel] = ("dir", "")
            else:
                found[rel] = ("file", hashlib.sha256(full.read_bytes()).hexdigest())
    return found


def same_inode(a: Path, b: Path) -> bool:
    return os.stat(a).st_ino == os.stat(b).st_ino


def file_bytes(path: Path) -> bytes:
    return Path(path).read_bytes()


def wimlib(*args: object, check: bool = True) -> subprocess.CompletedProcess:
    """Runs wimlib-imagex; with `check`, a failure fails the test with its output."""
    done = subprocess.run([WIMLIB or "wimlib-imagex", *map(str, args)], capture_output=True,
                          text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def wimlib_xml(path: Path) -> str:
    """`wimlib-imagex info --xml` (UTF-16LE with a BOM) as text."""
    out = subprocess.run([WIMLIB, "info", str(path), "--xml"], capture_output=True,
                         check=True).stdout
    return out.decode("utf-16")


def wimlib_info(path: Path) -> Dict[str, str]:
    """`wimlib-imagex info` header lines as a dict."""
    out = wimlib("info", path, "--header").stdout
    fields = {}
    for line in out.splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            fields[key.strip()] = value.strip()
    return fields


def wimlib_names(path: Path) -> List[str]:
    out = wimlib("info", path).stdout
    return [line.split(":", 1)[1].strip() for line in out.splitlines()
            if line.startswith("Name:")]


def wimlib_dir(path: Path, image: int = 1) -> List[str]:
    """Image paths as `wimlib-imagex dir` lists them, backslashes, no root."""
    out = wimlib("dir", path, image).stdout
    return sorted(line.strip("/").replace("/", "\\") for line in out.splitlines()
                  if line.strip("/"))


def _marks():
    import pytest

    import dism
    return [pytest.mark.skipif(dism.BACKEND != "portable",
                               reason="tests the portable engine; tests/windows covers "
                                      "wimgapi.dll"),
            pytest.mark.skipif(WIMLIB is None, reason="wimlib-imagex is not installed")]


#: The marks of every image-management test module here (pytestmark).
PORTABLE_ENGINE_ONLY = _marks()


def _fixtures():
    import pytest

    import dism

    @pytest.fixture
    def tree(tmp_path) -> Path:
        """A fresh build_tree() below tmp_path."""
        return build_tree(tmp_path / "tree")

    @pytest.fixture
    def wim(tree, tmp_path) -> Path:
        """image.wim: `tree` captured as one image named First, XPRESS ("fast")."""
        path = tmp_path / "image.wim"
        dism.capture_image(tree, path, name="First", description="the first image",
                           compression="fast")
        return path
    return tree, wim


#: Fixtures to import into a test module: `from support.imaging import tree, wim`.
tree, wim = _fixtures()
