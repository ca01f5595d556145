"""Two writers on one WIM at once: the one that loses gets BusyError and
must leave the winner's change alone (the cancel rule's "put the old file
back" is for the loser's own bytes, never for another writer's)."""
from __future__ import annotations

import threading
from pathlib import Path

import dism
from support.imaging import PORTABLE_ENGINE_ONLY, wimlib_names

pytestmark = PORTABLE_ENGINE_ONLY


def _many_files(root: Path) -> Path:
    """A tree whose scan takes a while: the window in which another writer
    changes the WIM under an open handle."""
    for d in range(40):
        (root / f"d{d}").mkdir(parents=True)
        for n in range(250):
            (root / f"d{d}" / f"f{n}.txt").write_text(f"{d}/{n}")
    return root


class _StartOther:
    """A cancel token that never cancels: on its first poll (the append is
    running, its handle has read the WIM) it runs another writer to the end."""

    def __init__(self, other) -> None:
        self.other = other
        self.started = False

    def is_set(self) -> bool:
        if not self.started:
            self.started = True
            thread = threading.Thread(target=self.other)
            thread.start()
            thread.join()
        return False


def test_losing_writer_keeps_the_winners_change(tmp_path):
    wim = tmp_path / "shared.wim"
    small = tmp_path / "small"
    small.mkdir()
    (small / "a.txt").write_text("a")
    dism.capture_image(small, wim, name="First")
    dism.capture_image(small, wim, name="Second", append=True)
    outcome = {}

    def delete_first():
        try:
            dism.delete_image(wim, name="First")
            outcome["delete"] = True
        except dism.BusyError:
            outcome["delete"] = False

    try:
        dism.capture_image(_many_files(tmp_path / "many"), wim, name="Appended",
                           append=True, cancel=_StartOther(delete_first))
        outcome["append"] = True
    except dism.BusyError:
        outcome["append"] = False
    names = wimlib_names(wim)
    assert outcome["delete"] or outcome["append"]
    assert ("First" not in names) == outcome["delete"], (outcome, names)
    assert ("Appended" in names) == outcome["append"], (outcome, names)


def _small(tmp_path: Path) -> Path:
    small = tmp_path / "small"
    small.mkdir(exist_ok=True)
    (small / "a.txt").write_text("a")
    return small


def test_failed_capture_keeps_a_file_someone_else_created(tmp_path):
    """The engine refuses to replace a file created while it wrote
    (ERROR_FILE_EXISTS, "nothing was replaced"); the file is not ours to remove."""
    wim = tmp_path / "new.wim"
    small = _small(tmp_path)

    def create_theirs():
        dism.capture_image(small, wim, name="Theirs")

    try:
        dism.capture_image(_many_files(tmp_path / "many"), wim, name="Mine",
                           cancel=_StartOther(create_theirs))
    except dism.DismError as error:
        assert error.hresult == 0x80070050
    assert wimlib_names(wim) == ["Theirs"]


def test_failed_export_keeps_a_file_someone_else_created(tmp_path):
    small = _small(tmp_path)
    source = tmp_path / "source.wim"
    dism.capture_image(_many_files(tmp_path / "many"), source, name="Big")
    dest = tmp_path / "dest.wim"

    def create_theirs():
        dism.capture_image(small, dest, name="Theirs")

    try:
        dism.export_image(source, dest, index=1, compression="max",
                          cancel=_StartOther(create_theirs))
    except dism.DismError as error:
        assert error.hresult == 0x80070050
    assert wimlib_names(dest) == ["Theirs"]
