"""dism.imaging on bad input and under cancellation: typed errors with an
HRESULT and a sentence naming the file and the choices, and nothing
changed; a cancel at random points of each long call leaves no new file
behind and an existing WIM byte-identical; names that would escape the
target are refused before anything is written."""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

import dism
from dism import _dism
from dism.imaging.read import refuse_unsafe, unsafe_reason
from support.imaging import PORTABLE_ENGINE_ONLY, build_tree, wimlib

pytestmark = PORTABLE_ENGINE_ONLY


@pytest.fixture
def tree(tmp_path) -> Path:
    root = build_tree(tmp_path / "tree")
    for n in range(3):
        (root / f"random{n}.bin").write_bytes(os.urandom(1_500_000))
    return root


@pytest.fixture
def wim(tree, tmp_path) -> Path:
    path = tmp_path / "image.wim"
    dism.capture_image(tree, path, name="First", compression="fast")
    dism.capture_image(tree / "Windows", path, name="Second", append=True)
    return path


# --- choosing an image ----------------------------------------------------------------

def test_bad_index_names_the_file_and_the_choices(wim):
    before = wim.read_bytes()
    with pytest.raises(dism.InvalidImageIndexError) as caught:
        dism.delete_image(wim, index=3)
    error = caught.value
    assert error.hresult == _dism.DISMAPI_E_INVALID_IMAGE_INDEX
    assert str(wim) in error.message and "'First'" in error.message
    assert "'Second'" in error.message
    assert wim.read_bytes() == before


def test_bad_name(wim, tmp_path):
    with pytest.raises(dism.InvalidImageNameError) as caught:
        dism.apply_image(wim, tmp_path, name="Third")
    assert caught.value.hresult == _dism.DISMAPI_E_INVALID_IMAGE_NAME
    assert "'First'" in caught.value.message


@pytest.mark.parametrize("choose", [{}, {"index": 1, "name": "First"}])
def test_exactly_one_of_index_and_name(wim, tmp_path, choose):
    with pytest.raises(dism.InvalidImageNameError, match="exactly one"):
        dism.export_image(wim, tmp_path / "x.wim", **choose)
    assert not (tmp_path / "x.wim").exists()


def test_index_must_be_an_int(wim):
    with pytest.raises(TypeError):
        list(dism.list_image(wim, index="1"))


def test_list_image_raises_when_called_not_when_iterated(wim):
    """list_image's docstring: the listing is made when called (errors raise
    there), so a wrong index or a cancel never waits for the first next()."""
    with pytest.raises(dism.InvalidImageIndexError, match="no image 3"):
        dism.list_image(wim, index=3)
    token = dism.CancelToken()
    token.set()
    with pytest.raises(dism.CancelledError) as caught:
        dism.list_image(wim, index=1, cancel=token)
    assert caught.value.completed is False


# --- refusals that change nothing ----------------------------------------------------

def test_delete_refuses_the_last_image(tree, tmp_path):
    path = tmp_path / "one.wim"
    dism.capture_image(tree, path, name="Only")
    before = path.read_bytes()
    with pytest.raises(dism.DismError, match="only image") as caught:
        dism.delete_image(path, index=1)
    assert caught.value.hresult == 0x80070005
    assert path.read_bytes() == before


def test_capture_refuses_an_existing_file(tree, wim):
    before = wim.read_bytes()
    with pytest.raises(dism.DismError, match="already exists") as caught:
        dism.capture_image(tree, wim, name="x")
    assert caught.value.hresult == 0x80070050
    assert wim.read_bytes() == before


def test_append_with_another_compression_is_an_error(tree, wim):
    before = wim.read_bytes()
    with pytest.raises(dism.InvalidArgumentError, match="'fast'"):
        dism.capture_image(tree, wim, name="x", append=True, compression="max")
    assert wim.read_bytes() == before


def test_export_into_existing_with_another_compression(wim, tmp_path):
    dest = tmp_path / "max.wim"
    dism.export_image(wim, dest, index=1, compression="max")
    before = dest.read_bytes()
    with pytest.raises(dism.InvalidArgumentError, match="'max'"):
        dism.export_image(wim, dest, index=2, compression="none")
    assert dest.read_bytes() == before


def test_recovery_needs_an_esd(wim, tmp_path):
    with pytest.raises(dism.InvalidArgumentError, match=r"\.esd"):
        dism.export_image(wim, tmp_path / "x.wim", index=1, compression="recovery")
    assert not (tmp_path / "x.wim").exists()


def test_unknown_compression(tree, tmp_path):
    with pytest.raises(dism.InvalidArgumentError, match="'none', 'fast'"):
        dism.capture_image(tree, tmp_path / "x.wim", name="x", compression="zip")
    assert not (tmp_path / "x.wim").exists()


def test_split_of_a_solid_wim_is_not_supported(wim, tmp_path):
    esd = tmp_path / "x.esd"
    dism.export_image(wim, esd, index=1, compression="recovery")
    with pytest.raises(dism.NotSupportedError, match="non-solid"):
        dism.split_image(esd, tmp_path / "x.swm", file_size_mb=1)
    assert not list(tmp_path.glob("*.swm"))


def test_missing_files_are_path_not_found(tmp_path):
    with pytest.raises(dism.PathNotFoundError, match="nothing.wim"):
        dism.get_wim_info(tmp_path / "nothing.wim")
    with pytest.raises(FileNotFoundError):
        dism.capture_image(tmp_path / "no dir", tmp_path / "x.wim", name="x")
    assert not (tmp_path / "x.wim").exists()


def test_not_a_wim(tmp_path):
    bogus = tmp_path / "bogus.wim"
    bogus.write_bytes(b"not a wim at all" * 100)
    with pytest.raises(dism.DismError):
        dism.get_wim_info(bogus)


def test_capture_needs_a_name_and_a_non_empty_directory(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(dism.InvalidArgumentError, match="empty"):
        dism.capture_image(empty, tmp_path / "x.wim", name="x")
    with pytest.raises(dism.InvalidArgumentError, match="name"):
        dism.capture_image(tmp_path, tmp_path / "y.wim", name="")
    assert not list(tmp_path.glob("*.wim"))


def test_rename_to_an_existing_name_is_refused(wim):
    before = wim.read_bytes()
    with pytest.raises(dism.InvalidArgumentError, match="already named"):
        dism.set_image_info(wim, index=2, new_name="First")
    assert wim.read_bytes() == before


def test_extract_of_a_missing_path(wim, tmp_path):
    with pytest.raises(dism.PathNotFoundError, match="nowhere"):
        dism.extract_files(wim, "nowhere\\x", tmp_path, index=1)


# --- escapes --------------------------------------------------------------------------

def entry(path: str, attributes: int = 0) -> dism.ImageFile:
    return dism.ImageFile(path, attributes, 0, None, None, None)


@pytest.mark.parametrize("path", ["..\\etc\\passwd", "a\\..\\..\\b", "\\abs", "C:\\x",
                                  "C:x", "file.txt:stream", "a\\.\\b", "a\\\\b"])
def test_unsafe_names_are_refused(path):
    assert unsafe_reason(entry(path), set()) is not None
    with pytest.raises(dism.InvalidArgumentError, match="nothing was written"):
        refuse_unsafe([entry("ok"), entry(path)], "x.wim", 1, "apply_image")


def test_entries_below_a_link_are_refused():
    link = entry("Windows\\link", 0x400)
    assert unsafe_reason(entry("Windows\\link\\evil"), {"windows\\link"})
    with pytest.raises(dism.InvalidArgumentError, match="below a link"):
        refuse_unsafe([link, entry("Windows\\LINK\\evil")], "x.wim", 1, "apply_image")
    assert unsafe_reason(entry("Windows\\linked.txt"), {"windows\\link"}) is None


# --- cancel at random points ------------------------------------------------------------

def _cancel_at(calls: int, token: dism.CancelToken):
    seen = []

    def progress(current, total):
        seen.append(current)
        if len(seen) >= calls:
            token.set()
    return progress


def _run_cancelled(action, rng, attempts=3):
    """Runs action(progress, cancel) with a cancel at a random progress call;
    yields the outcome of each: None (it finished before the cancel point),
    or the exception's `completed`."""
    counted = []
    action(lambda c, t: counted.append(c), None)
    for _ in range(attempts):
        token = dism.CancelToken()
        point = rng.randint(1, max(len(counted) - 1, 1))   # before the last report
        try:
            action(_cancel_at(point, token), token)
        except dism.CancelledError as error:
            yield error.completed
        else:
            yield None


def assert_cancelled(outcomes) -> None:
    """At least one of the random cancels stopped the call (False) or came
    too late (True); None means the call ended before its cancel point."""
    outcomes = list(outcomes)
    assert any(outcome is not None for outcome in outcomes), outcomes


@pytest.fixture
def rng():
    seed = random.randrange(1 << 30)
    print("cancel seed", seed)
    return random.Random(seed)


def test_cancelled_capture_leaves_no_file(tree, tmp_path, rng):
    n = iter(range(100))

    def action(progress, cancel):
        target = tmp_path / f"c{next(n)}.wim"
        try:
            dism.capture_image(tree, target, name="x", progress=progress, cancel=cancel)
        except dism.CancelledError as error:
            assert target.exists() == bool(error.completed)
            raise
    assert_cancelled(_run_cancelled(action, rng))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or "tmp" in p.name]


def _identical_unless_completed(path: Path, action):
    def run(progress, cancel):
        before = path.read_bytes()
        try:
            action(progress, cancel)
        except dism.CancelledError as error:
            if not error.completed:
                assert path.read_bytes() == before
            raise
    return run


def test_cancelled_append_leaves_the_wim_identical(tree, wim, rng):
    n = iter(range(100))
    run = _identical_unless_completed(wim, lambda progress, cancel: dism.capture_image(
        tree, wim, name=f"more{next(n)}", append=True, progress=progress, cancel=cancel))
    assert_cancelled(_run_cancelled(run, rng))
    wimlib("verify", wim)


def test_cancelled_export_into_existing_leaves_it_identical(wim, tmp_path, rng):
    base = tmp_path / "base.wim"
    dism.capture_image(tmp_path / "tree" / "Windows", base, name="base")
    n = iter(range(100))

    def action(progress, cancel):
        dest = tmp_path / f"dest{next(n)}.wim"
        shutil.copyfile(base, dest)
        _identical_unless_completed(dest, lambda progress, cancel: dism.export_image(
            wim, dest, index=1, progress=progress, cancel=cancel))(progress, cancel)
        wimlib("verify", dest)
    assert_cancelled(_run_cancelled(action, rng))


def test_export_of_an_image_the_destination_holds(wim, tmp_path):
    dest = tmp_path / "d.wim"
    dism.export_image(wim, dest, index=1)
    before = dest.read_bytes()
    with pytest.raises(dism.DismError, match="allow_duplicates=True") as caught:
        dism.export_image(wim, dest, index=1)
    assert caught.value.hresult == 0x800700B7
    assert dest.read_bytes() == before
    assert dism.export_image(wim, dest, index=1, allow_duplicates=True,
                             destination_name="again").index == 2


def test_cancelled_export_to_esd_leaves_no_file(wim, tmp_path, rng):
    n = iter(range(100))

    def action(progress, cancel):
        target = tmp_path / f"e{next(n)}.esd"
        try:
            dism.export_image(wim, target, index=1, compression="recovery",
                              progress=progress, cancel=cancel)
        except dism.CancelledError as error:
            assert target.exists() == bool(error.completed)
            raise
    assert_cancelled(_run_cancelled(action, rng))


def test_cancelled_split_leaves_no_part(tree, tmp_path, rng):
    wim = tmp_path / "s.wim"
    dism.capture_image(tree, wim, name="x", compression="none")
    n = iter(range(100))

    def action(progress, cancel):
        folder = tmp_path / f"split{next(n)}"
        folder.mkdir()
        try:
            dism.split_image(wim, folder / "p.swm", file_size_mb=1, progress=progress,
                             cancel=cancel)
        except dism.CancelledError as error:
            if not error.completed:
                assert list(folder.iterdir()) == []
            raise
    assert_cancelled(_run_cancelled(action, rng))


def test_cancelled_apply_raises(wim, tmp_path, rng):
    n = iter(range(100))

    def action(progress, cancel):
        target = tmp_path / f"a{next(n)}"
        target.mkdir()
        dism.apply_image(wim, target, index=1, progress=progress, cancel=cancel)
    assert_cancelled(_run_cancelled(action, rng))


def test_exception_in_progress_cancels_capture(tree, tmp_path):
    class Stop(Exception):
        pass

    def progress(current, total):
        raise Stop

    with pytest.raises(Stop):
        dism.capture_image(tree, tmp_path / "x.wim", name="x", progress=progress)
    assert not (tmp_path / "x.wim").exists()


def test_a_hostile_wim_writes_nothing_outside_and_warns(tmp_path, caplog):
    """Names no tool writes, crafted into the metadata: ".." (wimlib drops it
    on reading, so the listing never shows it) and "zz/zz" (inside the
    target either way; no Linux directory can hold it, so the engine warns
    per file).  Nothing lands outside the target, and each loss is logged."""
    from support.wimgapi import rename_in_metadata
    src = tmp_path / "src"
    (src / "zzQzz").mkdir(parents=True)
    (src / "zzQzz" / "inner.txt").write_text("inside\n")
    (src / "d" / "qq").mkdir(parents=True)
    (src / "d" / "keep.txt").write_text("kept\n")
    (src / "d" / "qq" / "evil.txt").write_text("must not land above d\n")
    wim = tmp_path / "hostile.wim"
    dism.capture_image(src, wim, name="x", compression="none")
    rename_in_metadata(wim, "zzQzz", "zz/zz")
    rename_in_metadata(wim, "qq", "..")
    target = tmp_path / "target"
    target.mkdir()
    with caplog.at_level("WARNING", logger="dism.imaging"):
        dism.apply_image(wim, target, index=1)
    assert (target / "d" / "keep.txt").read_text() == "kept\n"
    assert not any(p.name == "evil.txt" for p in tmp_path.rglob("*") if "src" not in p.parts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.wim", "src", "target"]
    warned = [r.getMessage() for r in caplog.records]
    assert any("zz/zz" in m and "cannot hold (123)" in m for m in warned), warned


def test_split_never_overwrites_an_existing_later_part(tree, tmp_path):
    """The first part's name is refused when it exists; so is a later one
    (install2.swm): a split never clobbers a file it did not create."""
    wim = tmp_path / "s.wim"
    dism.capture_image(tree, wim, name="x", compression="none")
    (tmp_path / "p2.swm").write_bytes(b"someone's file")
    with pytest.raises(dism.DismError, match="p2.swm") as caught:
        dism.split_image(wim, tmp_path / "p.swm", file_size_mb=1)
    assert caught.value.hresult == 0x80070050
    assert (tmp_path / "p2.swm").read_bytes() == b"someone's file"
    assert sorted(p.name for p in tmp_path.glob("*.swm")) == ["p2.swm"]


@pytest.mark.parametrize("text, char", [("a\x00b", "U+0000"), ("bell\x07", "U+0007"),
                                        ("\ufffe", "U+FFFE"), ("\ud800", "U+D800")])
def test_text_xml_cannot_hold_is_refused_by_name(wim, tree, tmp_path, text, char):
    """A value the image's XML cannot hold is refused before anything is
    written, naming the argument and the character (not an XML parse error
    from inside WIMSetImageInformation after the capture was written)."""
    before = wim.read_bytes()
    with pytest.raises(dism.InvalidArgumentError, match=f"description.*U\\+{char[2:]}"):
        dism.set_image_info(wim, index=1, description=text)
    with pytest.raises(dism.InvalidArgumentError, match=f"name.*U\\+{char[2:]}"):
        dism.capture_image(tree, wim, name=text, append=True)
    with pytest.raises(dism.InvalidArgumentError, match=f"destination_name.*U\\+{char[2:]}"):
        dism.export_image(wim, tmp_path / "x.wim", index=1, destination_name=text)
    assert wim.read_bytes() == before and not (tmp_path / "x.wim").exists()


def test_a_file_given_as_a_directory_is_named_as_such(wim, tree, tmp_path):
    """A file where a directory is expected is 'not a directory', not 'does
    not exist' (which sends the user looking for a missing path)."""
    a_file = tree / "readme.txt"
    with pytest.raises(dism.PathNotFoundError, match="is not a directory"):
        dism.capture_image(a_file, tmp_path / "x.wim", name="x")
    with pytest.raises(dism.PathNotFoundError, match="is not a directory"):
        dism.apply_image(wim, a_file, index=1)
    assert not (tmp_path / "x.wim").exists()


def test_delete_on_a_split_part_says_it_is_a_part(tree, tmp_path):
    """A one-image split WIM: the reason it cannot be changed is that it is
    a part, not that its image is the last one."""
    wim = tmp_path / "s.wim"
    dism.capture_image(tree, wim, name="x", compression="none")
    parts = dism.split_image(wim, tmp_path / "p.swm", file_size_mb=1)
    assert len(parts) > 1
    before = parts[0].read_bytes()
    with pytest.raises(dism.NotSupportedError, match="split"):
        dism.delete_image(parts[0], index=1)
    assert parts[0].read_bytes() == before


@pytest.mark.parametrize("size_mb", [10**13, 2**64])
def test_split_with_a_huge_size_gives_one_part(wim, tmp_path, size_mb):
    """A part size beyond what WIMSplitFile's 64-bit size holds is simply
    larger than the WIM: one part, not an OverflowError."""
    parts = dism.split_image(wim, tmp_path / "one.swm", file_size_mb=size_mb)
    assert parts == [tmp_path / "one.swm"]
    assert dism.get_wim_info(parts[0]).total_parts == 1


def test_missing_config_file_is_named_as_the_config_file(tree, tmp_path):
    with pytest.raises(dism.PathNotFoundError, match="config_file") as caught:
        dism.capture_image(tree, tmp_path / "x.wim", name="x",
                           config_file=tmp_path / "wimscript.ini")
    assert "image file" not in str(caught.value)
    assert not (tmp_path / "x.wim").exists()


def test_a_name_already_taken_is_refused_before_capturing(wim, tree):
    """Appending (or exporting as) a name the WIM already holds is refused
    before any work, naming the name, not after capturing the whole tree."""
    before = wim.read_bytes()
    seen = []
    with pytest.raises(dism.DismError, match="'First'") as caught:
        dism.capture_image(tree, wim, name="First", append=True,
                           progress=lambda done, total: seen.append(done))
    assert caught.value.hresult == 0x800700B7 and seen == []
    other = wim.with_name("other.wim")
    dism.export_image(wim, other, index=1)
    other_before = other.read_bytes()
    with pytest.raises(dism.DismError, match="'First'") as caught:
        dism.export_image(wim, other, index=2, destination_name="First",
                          progress=lambda done, total: seen.append(done))
    assert caught.value.hresult == 0x800700B7 and seen == []
    assert wim.read_bytes() == before and other.read_bytes() == other_before


def _shared_folders(tmp_path: Path):
    """Folders others may write to: world-writable, and another user's."""
    open_to_all = tmp_path / "open to all"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    theirs = tmp_path / "nobody's"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    return [open_to_all, theirs]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_apply_and_extract_refuse_a_folder_others_can_write(wim, tmp_path):
    """Another user who can write to the target can swap a folder the apply
    has just made for a link between its creation and the writes below it
    (reproduced with an unprivileged process: every file of the image landed
    outside the target); such a target is refused before anything is written."""
    for folder in _shared_folders(tmp_path):
        with pytest.raises(dism.DismError, match="other users") as caught:
            dism.apply_image(wim, folder, index=1)
        assert caught.value.hresult == 0x80070005
        with pytest.raises(dism.DismError, match="other users") as caught:
            dism.extract_files(wim, ["readme.txt"], folder, index=1)
        assert caught.value.hresult == 0x80070005
        assert list(folder.iterdir()) == []
