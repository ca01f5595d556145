"""The CI workflows and the release settings, read as text.

* Every action a workflow uses is pinned by commit: a tag can be moved to
  other code after review, a commit cannot.  The tag it was taken from
  stays as a trailing comment, for the reader and for updates.
* No 32-bit Windows wheel is released: the DISM API's architecture must
  match the operating system's (a 32-bit Python on 64-bit Windows cannot
  use it), Windows 11 has no 32-bit edition, and no runner could test one.
  The x86 build keeps being compiled (tests/build_checks/test_windows_build.py,
  test_import_libraries.py), for a source build on 32-bit Windows 10.
"""
from __future__ import annotations

import ast
import re

from support import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.M)
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
TAG_COMMENT = re.compile(r"\s+#\s*v\d[\w.]*\s*$")


def uses_lines() -> list[tuple[str, str, str]]:
    """(workflow, action reference, rest of the line) of every `uses:`."""
    found = []
    for workflow in WORKFLOWS:
        for reference, rest in USES.findall(workflow.read_text()):
            found.append((workflow.name, reference, rest))
    return found


def test_the_workflows_are_read():
    names = {workflow.name for workflow in WORKFLOWS}
    assert {"wheels.yml", "windows.yml"} <= names
    assert {name for name, _, _ in uses_lines()} == names


def test_every_action_is_pinned_by_commit_with_its_tag_noted():
    unpinned = [(name, reference) for name, reference, _ in uses_lines()
                if not PINNED.fullmatch(reference)]
    assert not unpinned
    untagged = [(name, reference) for name, reference, rest in uses_lines()
                if not TAG_COMMENT.fullmatch(rest)]
    assert not untagged


def cibuildwheel_setting(table: str, key: str) -> list[str]:
    """A list-valued setting of pyproject.toml's [tool.cibuildwheel...]
    table (tomllib is 3.11+, the suite runs on 3.10 too)."""
    text = (REPO / "pyproject.toml").read_text()
    start = text.index(f"\n[{table}]\n")
    end = text.find("\n[", start + 1)
    body = text[start:end if end != -1 else len(text)]
    value = re.search(rf"^{key} = (\[.*?\])", body, re.M | re.S)
    assert value, f"{table}.{key}"
    return ast.literal_eval(value.group(1))


def test_no_32_bit_windows_wheel_is_built():
    builds = cibuildwheel_setting("tool.cibuildwheel", "build")
    assert not [b for b in builds if "win32" in b], builds
    assert {b.split("-", 1)[1] for b in builds if "-win" in b} == {"win_amd64", "win_arm64"}
    assert cibuildwheel_setting("tool.cibuildwheel.windows", "archs") == ["AMD64", "ARM64"]


def test_no_workflow_job_builds_a_32_bit_windows_wheel():
    wheels = (REPO / ".github" / "workflows" / "wheels.yml").read_text()
    archs = re.findall(r"^\s+archs:\s*(\S+)\s*$", wheels, re.M)
    assert sorted(archs) == ["AMD64", "ARM64", "aarch64", "x86_64"]
