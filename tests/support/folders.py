"""A folder the process cannot rename away, to make a file-system failure
happen at a chosen point of an operation without mocking anything."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest


@contextlib.contextmanager
def unmovable(folder: Path) -> Iterator[None]:
    """`folder` made impossible to rename away: immutable for root (chattr
    +i), read-only for anyone else (moving a folder to another parent
    writes its '..')."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)],
                                        capture_output=True).returncode != 0:
        pytest.skip("root cannot be kept from renaming a folder without chattr +i here")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)
