"""The DISM.exe corpus's machinery (tests/cli/test_dism_exe_corpus.py): a
script line with its variables expanded to the test's paths, run through
dism.cli.main(), and the checks its effects share.

A line is written as a script writes it, with `{tree}`, `{wim}`... where a
script has %IMAGE% or $wim; World.argv() expands them (each path quoted, so
the line splits as cmd.exe would split it: `/Name:"A B"` is one argument
`/Name:A B`, `/Name:A B` is two)."""
from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import dism
from dism.cli.report import SUCCESS

from . import wimfs_mounts
from .cli import run
from .imaging import tree_digest

#: The Windows-style "Error: <code>" header DISM.exe prints above its message.
_ERROR_HEADER = re.compile(r"Error: (0x[0-9A-Fa-f]{8}|-?\d+)\Z")


@dataclass
class World:
    """The paths one line works on: the module's servicing tree (read-only
    for every line), a private copy of each WIM, an empty mount folder and
    the test's own folder for whatever a line writes."""

    tree: Path
    wim: Path
    big: Path
    src: Path
    mnt: Path
    tmp: Path
    wim_sha: str = ""   # the WIM's SHA-256 as built, before any line ran

    def paths(self) -> Dict[str, Path]:
        return {"tree": self.tree, "wim": self.wim, "big": self.big, "src": self.src,
                "mnt": self.mnt, "tmp": self.tmp}

    def expand(self, text: str) -> str:
        """`text` with its variables replaced by the paths themselves."""
        return text.format(**{name: str(path) for name, path in self.paths().items()})

    def argv(self, line: str) -> List[str]:
        """The argument vector a shell hands DISM.exe for `line`."""
        quoted = {name: shlex.quote(str(path)) for name, path in self.paths().items()}
        return shlex.split(line.format(**quoted))

    def snapshot(self) -> Dict[str, Dict[str, Tuple[str, str]]]:
        """Every file below the servicing tree and the test's folder, hashed."""
        return {"tree": tree_digest(self.tree), "tmp": tree_digest(self.tmp)}

    def release_mounts(self) -> None:
        """Unmount (discarding) what a line left mounted below the test's
        folder, once its checks are done."""
        for point in wimfs_mounts():
            if point.startswith(str(self.tmp)):
                dism.unmount(point, commit=False)


@dataclass(repr=False)
class Ran:
    """One line's run: its exit status, what it printed, and the snapshot
    taken just before it."""

    world: World
    line: str
    code: int
    out: str
    err: str
    before: Dict[str, Dict[str, Tuple[str, str]]]

    def __repr__(self) -> str:  # pytest's assertion messages: the line, not the snapshots
        return f"Ran({self.line!r}, exit {self.code})"

    def shown(self) -> str:
        return f"{self.line}\n-> exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


Effect = Callable[[Ran], None]


@dataclass(frozen=True)
class Line:
    """A corpus entry: the script line, the exit status DISM.exe's contract
    gives it here, and the check of what it did.  `before` are script lines
    that must succeed first (a mount before a commit); `prepare` changes the
    world between them and the line (a file written into the mount)."""

    text: str
    status: int
    effect: Effect
    before: Tuple[str, ...] = ()
    prepare: Optional[Callable[[World], None]] = None
    mounts: bool = False


def run_line(capsys, world: World, line: Line) -> Ran:
    for setup in line.before:
        code, out, err = run(capsys, *world.argv(setup))
        assert code == 0, f"setup line failed: {setup}\nexit {code}\n{out}\n{err}"
    if line.prepare is not None:
        line.prepare(world)
    before = world.snapshot()
    code, out, err = run(capsys, *world.argv(line.text))
    return Ran(world, line.text, code, out, err, before)


# ---------------------------------------------------------------------------
# Checks shared by many lines
# ---------------------------------------------------------------------------

def nothing_changed(ran: Ran) -> None:
    assert SUCCESS not in ran.out, f"a failure reported as a success\n{ran.shown()}"
    after = ran.world.snapshot()
    for area in ("tree", "tmp"):
        changed = sorted(set(ran.before[area].items()) ^ set(after[area].items()))
        assert not changed, f"{area} changed: {changed[:8]}\n{ran.shown()}"


def argparse_spelling(option: str) -> str:
    """`/FeatureName` -> `--feature-name`: the spelling a DISM.exe user never typed."""
    return "--" + re.sub(r"(?<=[a-z])(?=[A-Z])", "-", option.lstrip("/")).lower()


def message_lines(err: str) -> List[str]:
    """stderr's lines with text, less DISM.exe's "Error: <code>" header."""
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    if lines and _ERROR_HEADER.match(lines[0]):
        lines = lines[1:]
    return lines


def refused(option: str) -> Effect:
    """A line DISM.exe rejects: the message names `option` as DISM.exe spells
    it (not as the argparse option behind it) and nothing changed."""
    def check(ran: Ran) -> None:
        assert option.lower() in ran.err.lower(), f"{option} not named\n{ran.shown()}"
        if option.startswith("/"):
            assert argparse_spelling(option) not in ran.err, ran.shown()
        nothing_changed(ran)
    return check


def _bare(text: str) -> str:
    """Lower case without hyphens: /Cleanup-Image /RestoreHealth's action is
    named whether as RestoreHealth (DISM.exe) or restore-health (this CLI)."""
    return text.lower().replace("-", "")


def unsupported(verb: str) -> Effect:
    """A line whose operation cannot run here: one error line, naming the
    verb (either spelling) and saying it is not supported, and nothing changed."""
    def check(ran: Ran) -> None:
        lines = message_lines(ran.err)
        assert len(lines) == 1, f"expected one error line\n{ran.shown()}"
        assert _bare(verb) in _bare(lines[0]), f"{verb} not named\n{ran.shown()}"
        assert "not supported" in lines[0].lower(), ran.shown()
        nothing_changed(ran)
    return check


def shows(*texts: str) -> Effect:
    """stdout holds `texts`, in this order; stderr holds no error."""
    def check(ran: Ran) -> None:
        at = 0
        for text in texts:
            found = ran.out.find(text, at)
            assert found >= 0, f"{text!r} not shown (after offset {at})\n{ran.shown()}"
            at = found + len(text)
        assert "error" not in ran.err.lower(), ran.shown()
    return check


def all_of(*effects: Effect) -> Effect:
    def check(ran: Ran) -> None:
        for effect in effects:
            effect(ran)
    return check


def files_below(root: Path) -> Dict[str, bytes]:
    """name -> bytes for every file below root (the names are unique in the
    trees these tests build)."""
    return {path.name: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def copy_one_driver(tree: Path, inf_folder: str, destination: Path) -> Path:
    """A driver package folder of the tree's driver store, copied out as a
    vendor's download would be."""
    store = tree / "Windows" / "System32" / "DriverStore" / "FileRepository"
    shutil.copytree(store / inf_folder, destination)
    return destination


def names_in_order(text: str, names: Sequence[str]) -> bool:
    positions = [text.find(name) for name in names]
    return all(p >= 0 for p in positions) and positions == sorted(positions)
