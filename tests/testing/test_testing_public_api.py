"""dism.testing as a public API: what its docstring promises, checked.

tests/testing/test_testing_builders.py and tests/testing/test_servicing_fixtures.py check the
bytes the builders write against independent readers; these check the API
around them: every public name documented, the documented example working,
multi_sz (which only they do not call), and what each builder needs.
"""
from __future__ import annotations

import inspect
import os
import re
import textwrap
from pathlib import Path

import pytest

import dism
import dism.testing
from dism.testing import (
    REG_MULTI_SZ,
    PackageSpec,
    RegValue,
    WindowsImageSpec,
    build_wim,
    build_windows_tree,
    hive_bytes,
    multi_sz,
    sample_servicing_spec,
    write_hive,
)

PUBLIC = dism.testing.__all__


def own_docstring(thing: object) -> str | None:
    """The docstring written for `thing`: a dataclass without one gets its
    signature as __doc__, which documents nothing."""
    doc = inspect.getdoc(thing)
    name = getattr(thing, "__name__", "")
    if doc is None or (inspect.isclass(thing) and doc.startswith(f"{name}(")):
        return None
    return doc


def public_members(cls: type) -> dict[str, object]:
    return {name: member for name, member in vars(cls).items()
            if not name.startswith("_") and (inspect.isfunction(member)
                                              or isinstance(member, property))}


def test_all_lists_exactly_the_public_names() -> None:
    exposed = {name for name, value in vars(dism.testing).items()
               if not name.startswith("_") and not inspect.ismodule(value)}
    assert sorted(PUBLIC) == sorted(exposed)
    assert len(set(PUBLIC)) == len(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_documented(name: str) -> None:
    # The package docstring is the API's reference: each name is in it.
    package_doc = dism.testing.__doc__ or ""
    assert re.search(rf"``{name}\b", package_doc), \
        f"the dism.testing docstring does not mention {name}"
    value = getattr(dism.testing, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert own_docstring(value), f"{name} has no docstring"
    if inspect.isclass(value):
        for member_name, member in public_members(value).items():
            target = member.fget if isinstance(member, property) else member
            assert inspect.getdoc(target), f"{name}.{member_name} has no docstring"


def docstring_example() -> str:
    """The code block of the dism.testing docstring (the indented lines after '::')."""
    found = re.search(r"::\n\n((?:    .*\n|\n)+)", dism.testing.__doc__ or "")
    assert found, "the dism.testing docstring has no example"
    return textwrap.dedent(found.group(1))


def test_the_docstring_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = docstring_example()
    assert "build_wim(" in example and "assert " in example
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "dism.testing docstring", "exec"), {})
    assert (tmp_path / "test.wim").is_file()


def test_multi_sz_encodes_each_string_and_a_final_nul() -> None:
    value = multi_sz(["first", "zweite"])
    assert value == RegValue(REG_MULTI_SZ, "first\0zweite\0\0".encode("utf-16-le"))
    assert multi_sz([]) == RegValue(REG_MULTI_SZ, b"\0\0")
    # A list in a tree means the same value.
    assert hive_bytes({"Key": {"Names": value}}) == hive_bytes({"Key": {"Names": ["first",
                                                                                   "zweite"]}})


def test_multi_sz_refuses_what_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="REG_MULTI_SZ needs str items"):
        multi_sz(["text", b"bytes"])


def test_pure_python_builders_need_no_wimlib(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # As documented: hives and trees are pure Python; only WIMs need
    # wimlib-imagex, and without it build_wim says what to install.
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    write_hive(tmp_path / "SOFTWARE", {"Key": {"Value": "text"}})
    tree = build_windows_tree(tmp_path / "tree", sample_servicing_spec())
    assert (tree / "Windows" / "System32" / "config" / "DRIVERS").is_file()
    with pytest.raises(RuntimeError, match="wimlib-imagex not found.*wimtools"):
        build_wim(tmp_path / "none.wim", [WindowsImageSpec(name="Pro")])
    assert not os.path.exists(tmp_path / "none.wim")


def test_a_session_reads_a_built_tree(tmp_path: Path) -> None:
    # The docstring's promise that dism.Session reads these trees, with
    # servicing content of the caller's own.
    package = PackageSpec("Contoso-Pipeline-Package", version="1.2.3.4",
                          release_type="Update", display_name="Contoso pipeline test")
    root = build_windows_tree(tmp_path / "image",
                              WindowsImageSpec(name="Pro", packages=(package,)))
    with dism.Session(root) as session:
        packages = {found.name: found for found in session.get_packages()}
        info = session.get_package_info(package.identity)
    assert package.identity in packages
    assert info.display_name == "Contoso pipeline test"
