"""Lines a demanding user (or an attacker) might write, which once slipped
through: a global option's value given twice, the first silently dropped."""
from __future__ import annotations

import pytest

from support.cli import run


@pytest.mark.parametrize("line", [
    # argparse's spelling: before and after the verb, or twice after it
    ["--log-path", "{tmp}/a.log", "get-mountedimageinfo", "--log-path", "{tmp}/b.log"],
    ["get-mountedimageinfo", "--log-path", "{tmp}/a.log", "--log-path", "{tmp}/b.log"],
    ["get-mountedimageinfo", "--log-level", "1", "--log-level", "4"],
    ["--scratch-dir", "{tmp}", "get-mountedimageinfo", "--scratch-dir", "{tmp}/s"],
    # DISM.exe's spelling, with the program's own option mixed in
    ["/Get-MountedImageInfo", "/LogPath:{tmp}/a.log", "--log-path={tmp}/b.log"],
    ["--log-level", "2", "/Get-MountedImageInfo", "/LogLevel:4"],
])
def test_a_global_option_given_twice_is_refused_not_half_dropped(capsys, tmp_path, line):
    code, out, err = run(capsys, *(word.format(tmp=tmp_path) for word in line))
    assert code == 2, err
    assert "given twice" in err
    # Nothing ran: no log was written to either path.
    assert not list(tmp_path.glob("*.log"))


@pytest.mark.parametrize("line", [
    ["--log-path", "{tmp}/a.log", "get-mountedimageinfo"],
    ["get-mountedimageinfo", "--log-path", "{tmp}/a.log"],
    ["--log-level", "4", "--scratch-dir", "{tmp}", "get-mountedimageinfo", "--log-path",
     "{tmp}/a.log"],
    ["--log-path", "{tmp}/a.log", "/Get-MountedImageInfo", "/LogLevel:4"],
])
def test_a_global_option_given_once_anywhere_still_works(capsys, tmp_path, line):
    code, out, err = run(capsys, *(word.format(tmp=tmp_path) for word in line))
    assert code == 0, err
    assert (tmp_path / "a.log").is_file()
