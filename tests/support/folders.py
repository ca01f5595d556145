"""Folders the process cannot change as it means to (rename one away,
delete what one holds), to make a file-system failure happen at a chosen
point of an operation without mocking anything."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Iterator, Optional

import pytest


def _locked(folder: Path, why: str) -> Optional[str]:
    """Locks `folder`: immutable for root (chattr +i; returns chattr, for
    unlocking), read-only for anyone else (returns None).  Root skips the
    test where chattr +i cannot be set."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return None
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)],
                                        capture_output=True).returncode != 0:
        pytest.skip(f"root cannot be kept from {why} without chattr +i here")
    return chattr


def _unlocked(folders: Iterable[Path], chattr: Optional[str]) -> None:
    for folder in folders:
        if chattr:
            subprocess.run([chattr, "-i", str(folder)], check=True)
        folder.chmod(0o755)


@contextlib.contextmanager
def unmovable(folder: Path) -> Iterator[None]:
    """`folder` made impossible to rename away (moving a folder to another
    parent writes its '..')."""
    chattr = _locked(folder, "renaming a folder")
    try:
        yield
    finally:
        _unlocked([folder], chattr)


@contextlib.contextmanager
def undeletable_contents(folder: Path, moved_below: Path) -> Iterator[None]:
    """What `folder` holds made impossible to delete.  The operation may
    move `folder`: it is found again by its name below `moved_below`."""
    chattr = _locked(folder, "deleting a file")
    try:
        yield
    finally:
        _unlocked(moved_below.rglob(folder.name), chattr)
