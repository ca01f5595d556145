"""What the portable engine's WIMGAPI promises about files: a new WIM appears
only when its call succeeds, a failed or cancelled change leaves an existing
WIM byte-identical, a second writer gets ERROR_SHARING_VIOLATION, and an apply
or extraction never writes outside its target whatever the image or the
target holds."""
from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

import pytest

from support.imaging import tree_digest, wimlib
from support.wimgapi import (ERROR_DISK_FULL, ERROR_REQUEST_ABORTED, ERROR_SHARING_VIOLATION,
                             WIM_FLAG_CHUNKED, Engine, build_check_program, capture_script,
                             error_code, make_tree, rename_in_metadata, sha1, wim_dir, wim_verify)

CANCEL_POINTS = ["abortmsg:PROCESS:1", "abortmsg:PROCESS:6", "abortmsg:SCANNING:1",
                 "abortmsg:PROGRESS:1", "abortmsg:PROGRESS:2", "abortmsg:QUERY_ABORT:3",
                 "abortmsg:QUERY_ABORT:8"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(build_check_program(tmp_path_factory.mktemp("wimgapi")))


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = make_tree(tmp_path_factory.mktemp("tree") / "src")
    for i in range(300):  # enough files for SCANNING messages
        (root / "empty" / f"f{i:03}.txt").write_text(f"file {i}\n" * (i + 1))
    return root


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """New data for an append (the tree itself would be all single-instanced)."""
    root = tmp_path_factory.mktemp("fresh") / "src"
    for i in range(300):
        (root / f"d{i % 7}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 7}" / f"r{i}.bin").write_bytes(os.urandom(8192 + i))
    return root


@pytest.fixture
def wim(engine, tree, tmp_path) -> Path:
    path = tmp_path / "base.wim"
    engine.results(capture_script(path, tree))
    return path


@pytest.mark.parametrize("point", CANCEL_POINTS)
def test_cancelled_capture_leaves_no_destination(engine, tree, tmp_path, point):
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    lines = engine.results(f"open w {dest_dir}/new.wim w new 0 2\ncallback w {point}\n"
                           f"capture i w {tree} 0\nclose w\n")
    assert error_code(lines[2]) == ERROR_REQUEST_ABORTED, lines
    assert "WIM_MSG_ABORT_IMAGE" in lines[2]
    assert list(dest_dir.iterdir()) == []  # neither the WIM nor its temporary file


def test_create_always_replaces_keeping_the_permissions(engine, tree, wim):
    wim.chmod(0o640)
    lines = engine.results(f"open w {wim} w always 0 1\ncapture i w {tree}/Windows 0\nclose i\n"
                           "close w\n")
    assert lines == ["OK created", "OK", "OK", "OK"]
    assert wim.stat().st_mode & 0o777 == 0o640
    assert wim_dir(wim)[:2] == ["/", "/System32"]


@pytest.mark.parametrize("point", CANCEL_POINTS[3:])
def test_cancelled_create_always_keeps_the_old_file(engine, tree, wim, point):
    before = sha1(wim)
    lines = engine.results(f"open w {wim} w always 0 1\ncallback w {point}\n"
                           f"capture i w {tree} 0\nclose w\n")
    assert lines[0] == "OK created" and error_code(lines[2]) == ERROR_REQUEST_ABORTED
    assert sha1(wim) == before
    assert sorted(p.name for p in wim.parent.iterdir()) == ["base.wim"]


@pytest.mark.parametrize("point", CANCEL_POINTS)
def test_cancelled_append_leaves_the_wim_byte_identical(engine, fresh, wim, point):
    before = sha1(wim)
    lines = engine.results(f"open w {wim} w existing 0 0\ncallback w {point}\n"
                           f"capture i w {fresh} 0\ncount w\nclose w\n")
    assert error_code(lines[2]) == ERROR_REQUEST_ABORTED
    assert lines[3] == "OK 1"  # the handle still sees the file as it is
    assert sha1(wim) == before
    wim_verify(wim)


@pytest.mark.parametrize("point", ["abortmsg:PROGRESS:1", "abortmsg:QUERY_ABORT:2"])
def test_cancelled_export_into_an_existing_wim_changes_nothing(engine, fresh, wim, tmp_path,
                                                               point):
    other = tmp_path / "other.wim"
    engine.results(capture_script(other, fresh, name="Other"))
    before = sha1(wim)
    lines = engine.results(f"open s {other} r existing 0 0\nload i s 1\n"
                           f"open d {wim} w existing 0 0\ncallback d {point}\nexport i d 0\n"
                           "count d\nclose d\nclose i\nclose s\n")
    assert error_code(lines[4]) == ERROR_REQUEST_ABORTED and lines[5] == "OK 1"
    assert sha1(wim) == before


@pytest.mark.parametrize("change", ["delete w 2", "boot w 2",
                                    'setinfo w <WIM><IMAGE INDEX="2"><NAME>N</NAME></IMAGE></WIM>'])
def test_cancelled_metadata_changes_leave_the_wim_byte_identical(engine, tree, wim, change):
    engine.results(f"open w {wim} w existing 0 0\ncapture i w {tree}/Windows 0\nclose i\n"
                   "close w\n")
    before = sha1(wim)
    lines = engine.results(f"open w {wim} w existing 0 0\ncallback w abort:1\n{change}\nclose w\n")
    assert error_code(lines[2]) == ERROR_REQUEST_ABORTED, lines
    assert sha1(wim) == before


@pytest.fixture
def small_fs(tmp_path):
    """A 6 MiB tmpfs, so a write runs out of space half-way (root only)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.parametrize("change", [
    'setinfo w <WIM><IMAGE INDEX="1"><NAME>A much longer name than before, so the XML grows '
    'past the end of the file</NAME><DESCRIPTION>and a description too</DESCRIPTION></IMAGE></WIM>',
    "capture i w {fresh} 0", "delete w 2"])
def test_a_write_that_fails_half_way_is_undone(engine, tree, fresh, wim, change):
    """wimlib rewrites the XML in place for an information-only change and
    does not put it back when that write fails: the engine does."""
    engine.results(f"open w {wim} w existing 0 0\ncapture i w {tree}/Windows 0\nclose i\n"
                   "close w\n")
    before, size = sha1(wim), wim.stat().st_size
    lines = engine.results(f"open w {wim} w existing 0 0\nfsizelimit {size}\n"
                           f"{change.format(fresh=fresh)}\ncount w\nclose w\n")
    assert error_code(lines[2]) == ERROR_DISK_FULL and "left as it was" in lines[2], lines
    assert lines[3] == "OK 2" and sha1(wim) == before
    wim_verify(wim)


def test_append_that_runs_out_of_space_is_undone(engine, tree, tmp_path, small_fs):
    small = tmp_path / "small-src"
    small.mkdir()
    (small / "a.txt").write_text("small\n")
    wim = small_fs / "w.wim"
    engine.results(capture_script(wim, small, compression=0))
    before = sha1(wim)
    big = tmp_path / "big-src"
    big.mkdir()
    (big / "random.bin").write_bytes(os.urandom(8 << 20))
    lines = engine.results(f"open w {wim} w existing 0 0\ncapture i w {big} 0\nclose w\n")
    assert error_code(lines[1]) == ERROR_DISK_FULL and "left as it was" in lines[1], lines
    assert sha1(wim) == before
    wim_verify(wim)


def test_two_threads_appending_one_wim(engine, tree, wim):
    lines = engine.results(f"race {wim} {tree}/Windows\n")
    assert lines == [f"OK first=1/0 second=0/{ERROR_SHARING_VIOLATION}"]
    wim_verify(wim)
    assert len([x for x in wimlib("info", str(wim)).stdout.splitlines()
                if x.startswith("Index:")]) == 2


def _hold_in_write(engine: Engine, script: str, release: Path) -> subprocess.Popen:
    proc = engine.start("")
    proc.stdin.write(script)
    proc.stdin.flush()
    assert proc.stdout.readline().startswith("OK")  # open
    while True:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if line.strip() == "WAITING":
            return proc


def _finish(proc: subprocess.Popen, release: Path) -> str:
    release.write_text("")
    out, _ = proc.communicate(timeout=60)
    return out


@pytest.mark.parametrize("pipable", [False, True], ids=["append-in-place", "rebuild"])
def test_another_process_cannot_write_while_we_do(engine, tree, tmp_path, pipable):
    wim = tmp_path / "shared.wim"
    if pipable:  # wimlib rebuilds a pipable WIM through a temporary file
        wimlib("capture", str(tree / "Windows"), str(wim), "Base", "--pipable")
    else:
        engine.results(capture_script(wim, tree / "Windows"))
    release = tmp_path / "release"
    proc = _hold_in_write(engine, f"open w {wim} w existing 0 0\ncallback w wait:PROGRESS:{release}\n"
                          f"capture i w {tree} 0\nclose i\nclose w\n", release)
    try:
        lines = engine.results(f"open w {wim} w existing 0 0\ncapture i w {tree} 0\nclose w\n")
        assert error_code(lines[1]) == ERROR_SHARING_VIOLATION and "another program" in lines[1]
        if not pipable:  # wimlib's own rebuild takes no lock, so only ours can stop it
            other = wimlib("append", str(tree / "empty"), str(wim), "Intruder", check=False)
            assert other.returncode != 0 and "locked" in (other.stdout + other.stderr).lower()
    finally:
        out = _finish(proc, release)
    assert out.splitlines()[-3:] == ["OK", "OK", "OK"], out
    wim_verify(wim)
    assert "Intruder" not in wimlib("info", str(wim)).stdout


def test_we_do_not_write_while_another_program_does(engine, tree, wim):
    with open(wim, "rb") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)  # what wimlib-imagex holds while appending
        before = sha1(wim)
        lines = engine.results(f"open w {wim} w existing 0 0\ncapture i w {tree} 0\n"
                               "delete w 1\nclose w\n")
    assert error_code(lines[1]) == ERROR_SHARING_VIOLATION
    assert sha1(wim) == before


def test_create_always_does_not_replace_a_file_being_written(engine, tree, wim):
    with open(wim, "rb") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)
        lines = engine.results(f"open w {wim} w always 0 1\ncapture i w {tree}/Windows 0\n"
                               "close w\n")
    assert error_code(lines[1]) == ERROR_SHARING_VIOLATION
    assert sorted(p.name for p in wim.parent.iterdir()) == ["base.wim"]


# ---- apply and extraction stay inside their target ----


def test_links_in_the_target_are_never_followed(engine, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me\n")
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    os.symlink(str(outside), first / "a")  # image 1: a link to outside the target
    os.symlink(str(outside / "victim.txt"), first / "f.txt")
    (second / "a").mkdir()  # image 2: a folder of the same name, with files
    (second / "a" / "victim.txt").write_text("overwritten?\n")
    (second / "a" / "new.txt").write_text("new\n")
    (second / "f.txt").write_text("data\n")
    wim = tmp_path / "hostile.wim"
    engine.results(f"open w {wim} w new 0 1\ncapture i w {first} 0\nclose i\n"
                   f"capture j w {second} 0\nclose j\nclose w\n")
    target = tmp_path / "target"
    target.mkdir()
    (outside / "linked.txt").write_text("keep me too\n")
    os.link(outside / "linked.txt", target / "f.txt")  # a hard link out, where a file lands
    lines = engine.results(f"open w {wim} r existing 0 0\nload i w 1\napply i {target} 0\n"
                           f"close i\nload j w 2\napply j {target} 0\nclose j\nclose w\n")
    assert lines.count("OK") >= 6, lines
    assert (outside / "victim.txt").read_text() == "keep me\n"
    assert (outside / "linked.txt").read_text() == "keep me too\n"
    assert sorted(p.name for p in outside.iterdir()) == ["linked.txt", "victim.txt"]
    assert (target / "a").is_dir() and not (target / "a").is_symlink()
    assert (target / "a" / "new.txt").read_text() == "new\n"
    assert (target / "f.txt").read_text() == "data\n" and not (target / "f.txt").is_symlink()


def test_dot_dot_and_backslash_names_stay_inside(engine, tmp_path):
    src = tmp_path / "src"
    (src / "deep").mkdir(parents=True)
    (src / "deep" / "..\\..\\escape.txt").write_text("backslashes are only characters\n")
    (src / "deep" / "dotdot").write_text("renamed to .. below\n")
    (src / "deep" / "ok.txt").write_text("fine\n")
    wim = tmp_path / "names.wim"
    engine.results(capture_script(wim, src, compression=0))
    # wimlib lets a dentry be renamed "..": the hostile entry a WIM can carry.
    done = subprocess.run(["wimlib-imagex", "update", str(wim), "1"], input="rename /deep/dotdot /deep/..\n",
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "box" / "target"
    target.parent.mkdir()
    lines = engine.run(f"open w {wim} r existing 0 0\nload i w 1\ncallback i log\n"
                       f"apply i {target} 0\nclose i\nclose w\n")
    assert "OK" in lines
    assert sorted(p.name for p in (tmp_path / "box").iterdir()) == ["target"]
    assert sorted(p.name for p in (target / "deep").iterdir()) == ["..\\..\\escape.txt", "ok.txt"]
    assert not any(".." == Path(p).name for p in wim_dir(wim))


def test_extraction_replaces_a_link_at_the_destination(engine, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "file.txt").write_text("from the image\n")
    wim = tmp_path / "x.wim"
    engine.results(capture_script(wim, src))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    dest = tmp_path / "out.txt"
    os.symlink(str(victim), dest)
    lines = engine.results(f"open w {wim} r existing 0 0\nload i w 1\nextract i file.txt {dest}\n"
                           "close i\nclose w\n")
    assert lines[2] == "OK"
    assert victim.read_text() == "keep me\n"
    assert not dest.is_symlink() and dest.read_text() == "from the image\n"


def test_esd_flag_creates_a_solid_wim_that_appends_solid(engine, tree, tmp_path):
    esd = tmp_path / "x.esd"
    engine.results(capture_script(esd, tree / "Windows", compression=3, flags=WIM_FLAG_CHUNKED))
    lines = engine.results(f"open w {esd} w existing {WIM_FLAG_CHUNKED} 0\n"
                           f"capture i w {tree}/empty 0\nclose i\nclose w\n")
    assert lines[1] == "OK"
    wim_verify(esd)
    assert "Version:        3584" in wimlib("info", str(esd)).stdout
    out = tmp_path / "out"
    engine.results(f"open w {esd} r existing {WIM_FLAG_CHUNKED} 0\nload i w 2\napply i {out} 0\n"
                   "close i\nclose w\n")
    assert tree_digest(out) == tree_digest(tree / "empty")


def test_every_call_under_sanitizers(tmp_path, tree):
    """AddressSanitizer (with its leak checker) and UndefinedBehaviorSanitizer
    over every entry point, failures and cancels included."""
    engine = Engine(build_check_program(tmp_path, sanitize=True))
    (tmp_path / "parts").mkdir()
    out = engine.run(
        f"open w {tmp_path}/s.wim w new 2 2\ncallback w log\n"
        f"capture i w {tree} 0\nsetinfo i <IMAGE><NAME>One</NAME></IMAGE>\n"
        f"capture j w {tree}/Windows 0\nclose j\n"
        'setinfo w <WIM><IMAGE INDEX="2"><NAME>Two</NAME></IMAGE></WIM>\nboot w 2\ngetinfo i\n'
        f"open d {tmp_path}/x.esd w new {WIM_FLAG_CHUNKED} 3\nexport i d 0\nexport i d 0\nclose d\n"
        f"callback i skip:drivers\napply i {tmp_path}/o 128\napply i - 136\n"
        f"extract i notes.txt {tmp_path}/n.txt\nclose i\ndelete w 1\n"
        f"split w {tmp_path}/parts/p.swm 0\nsplit w {tmp_path}/parts/p.swm 4000000\n"
        f"ref w {tmp_path}/parts/p.swm {0x10000}\nref w - {0x20000}\nrace {tmp_path}/s.wim {tree}/empty\n"
        f"callback w abortmsg:PROGRESS:1\ncapture k w {tmp_path}/parts 0\nunregister -\n"
        "unregister w\nclose w\nlasterror\n")
    assert not any("Sanitizer" in x or "runtime error" in x for x in out), out
    results = [x for x in out if x.startswith(("OK", "ERR"))]
    assert sum(x.startswith("ERR") for x in results) == 3, results  # duplicate, size query, cancel
    assert (tmp_path / "n.txt").read_text() == "plain text\n"


def test_a_handle_that_read_an_older_file_does_not_overwrite_a_newer_one(engine, tree, fresh,
                                                                         wim, tmp_path):
    """wimlib appends where its view of the file ends; after another handle
    (or program) appended, that would destroy the other append."""
    script = (f"open b {wim} w existing 0 0\nopen c {wim} w existing 0 0\n"
              f"capture i b {fresh} 0\nclose i\n"
              f"capture i c {tree}/Windows 0\n"
              f"capture i c {tree}/Windows 0\nclose i\ncount c\nclose b\nclose c\n")
    lines = engine.results(script)
    assert error_code(lines[4]) == ERROR_SHARING_VIOLATION and "try again" in lines[4]
    assert lines[5:8] == ["OK", "OK", "OK 3"]
    wim_verify(wim)
    # The same when the other writer is another program.
    proc = engine.start("")
    proc.stdin.write(f"open w {wim} w existing 0 0\n")
    proc.stdin.flush()
    assert proc.stdout.readline().startswith("OK opened")
    wimlib("append", str(tree / "empty"), str(wim), "By wimlib-imagex")
    out, _ = proc.communicate(f"capture i w {fresh} 0\ncount w\n", timeout=60)
    assert error_code(out.splitlines()[0]) == ERROR_SHARING_VIOLATION
    assert out.splitlines()[1] == "OK 4"
    wim_verify(wim)


@pytest.mark.parametrize("point", ["abortmsg:SPLIT:1", "abortmsg:SPLIT:2", "abortmsg:PROGRESS:1"])
def test_cancelled_split_removes_its_parts(engine, tree, wim, tmp_path, point):
    parts = tmp_path / "parts"
    parts.mkdir()
    before = sha1(wim)
    query = engine.results(f"open w {wim} r existing 0 0\nsplit w {parts}/p.swm 0\nclose w\n")
    minimum = int(query[1].split()[1])  # the smallest part size: two parts at least
    lines = engine.results(f"open w {wim} r existing 0 0\ncallback w {point}\n"
                           f"split w {parts}/p.swm {minimum}\nclose w\n")
    assert error_code(lines[-2]) == ERROR_REQUEST_ABORTED, lines
    assert list(parts.iterdir()) == [] and sha1(wim) == before


def test_cancelled_apply_says_what_stays(engine, wim, tmp_path):
    lines = engine.results(f"open w {wim} r existing 0 0\nload i w 1\n"
                           f"callback i abortmsg:PROGRESS:2\napply i {tmp_path}/out 0\n")
    assert error_code(lines[3]) == ERROR_REQUEST_ABORTED and "stay in the target" in lines[3]


def test_a_name_linux_cannot_hold_is_a_warning_not_a_silent_loss(engine, tmp_path):
    """Names crafted into the metadata: "zz/zz" (no Linux directory can hold
    it: a warning per file left out) and ".." (wimlib drops it on reading)."""
    src = tmp_path / "src"
    (src / "zzQzz").mkdir(parents=True)
    (src / "zzQzz" / "inner.txt").write_text("inside\n")
    (src / "d").mkdir()
    (src / "d" / "keep.txt").write_text("kept\n")
    (src / "d" / "qq").mkdir()  # becomes a folder named ".." holding a file
    (src / "d" / "qq" / "evil.txt").write_text("must not land above d\n")
    wim = tmp_path / "slash.wim"
    engine.results(capture_script(wim, src, compression=0))
    rename_in_metadata(wim, "zzQzz", "zz/zz")
    rename_in_metadata(wim, "qq", "..")
    target = tmp_path / "target"
    lines = engine.run(f"open w {wim} r existing 0 0\nload i w 1\ncallback i log\n"
                       f"apply i {target} 0\nclose i\nclose w\n")
    assert [x for x in lines if x.startswith(("OK", "ERR"))][-3:] == ["OK"] * 3, lines
    warnings = [x for x in lines if x.startswith("MSG WARNING")]
    assert f"MSG WARNING {target}/zz/zz 123" in warnings
    assert f"MSG WARNING {target}/zz/zz/inner.txt 123" in warnings
    assert tree_digest(target) == {"d": ("dir", ""), "d/keep.txt": tree_digest(src)["d/keep.txt"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slash.wim", "src", "target"]
    assert not any(p.name == "evil.txt" for p in tmp_path.rglob("*") if "src" not in p.parts)


def test_a_new_wim_is_written_privately_beside_its_destination(engine, tree, tmp_path):
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    release = tmp_path / "release"
    proc = _hold_in_write(engine, f"open w {dest_dir}/new.wim w new 0 1\n"
                          f"callback w wait:PROGRESS:{release}\ncapture i w {tree} 0\n"
                          "close i\nclose w\n", release)
    try:
        during = list(dest_dir.iterdir())
        assert len(during) == 1 and during[0].name.startswith(".new.wim.dism-")
        assert during[0].stat().st_mode & 0o777 == 0o600
    finally:
        out = _finish(proc, release)
    assert out.splitlines()[-3:] == ["OK", "OK", "OK"]
    assert [p.name for p in dest_dir.iterdir()] == ["new.wim"]
    umask = os.umask(0)
    os.umask(umask)
    assert (dest_dir / "new.wim").stat().st_mode & 0o777 == 0o666 & ~umask
    wim_verify(dest_dir / "new.wim")
