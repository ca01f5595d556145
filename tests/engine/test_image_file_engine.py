"""The engine's side of unmounted-image sessions
(_DismPortableOpenImageFileSession): the private area (mode, owner, no
links, removed on close, on failure and after a process died), the WIM read
under a shared lock (a writer's WIM is refused, never half-read), names
found ignoring case, and several processes at once."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import dism
from dism.testing import WindowsImageSpec, build_wim, build_windows_tree, sample_servicing_spec

from support.imagefile import AREA_PREFIX, areas, capture, read_everything

EXTRA_HIVES = {f"Windows/System32/config/{name}": b"regf" + bytes(4092)
               for name in ("SECURITY", "SAM", "DEFAULT", "COMPONENTS", "DRIVERS")}


pytestmark = pytest.mark.usefixtures("engine_tmpdir")


@pytest.fixture(scope="module")
def wim(tmp_path_factory) -> Path:
    return build_wim(tmp_path_factory.mktemp("wim") / "s.wim", [sample_servicing_spec()])


def area_of(session: dism.Session) -> Path:
    return Path(session.get_registry_mount_point(dism.RegistryHive.SYSTEM)).parents[4]


def test_the_area_is_private_and_holds_only_what_is_read(wim, engine_tmpdir):
    with dism.Session.open_image_file(wim) as s:
        area = area_of(s)
        assert area.parent == engine_tmpdir and area.name.startswith(AREA_PREFIX)
        st = area.stat()
        assert st.st_uid == os.geteuid() and st.st_mode & 0o777 == 0o700
        files = sorted(str(p.relative_to(area / "image")) for p in (area / "image").rglob("*")
                       if p.is_file())
        assert sorted(os.listdir(area)) == [".lock", "image"]
    assert not area.exists()
    assert "Windows/System32/config/SOFTWARE" in files
    assert all(f.endswith((".inf", ".mum")) or "/config/" in f for f in files), files
    assert not any(f.endswith((".sys", ".cat", ".exe", ".dll", ".xml")) for f in files)


def test_every_hive_and_the_default_user_are_there(tmp_path):
    spec = WindowsImageSpec(name="Hives", extra_files={
        **EXTRA_HIVES, "Users/Default/NTUSER.DAT": b"regf" + bytes(4092)})
    image = build_wim(tmp_path / "h.wim", [spec])
    with dism.Session.open_image_file(image) as s:
        for hive in dism.RegistryHive:
            path = Path(s.get_registry_mount_point(hive))
            assert path.is_file() and path.read_bytes()[:4] == b"regf"


def test_links_in_the_image_are_never_extracted(tmp_path, engine_tmpdir):
    tree = build_windows_tree(tmp_path / "tree", sample_servicing_spec())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.inf").write_text("[Version]\n")
    windows = tree / "Windows"
    (windows / "INF" / "oem9.inf").symlink_to(outside / "secret.inf")
    repo = windows / "System32" / "DriverStore" / "FileRepository"
    (repo / "evil.inf_amd64_0000000000000000").symlink_to(outside)
    (windows / "servicing" / "Packages" / "escape.mum").symlink_to("/etc/passwd")
    image = capture(tree, tmp_path / "links.wim")
    with dism.Session.open_image_file(image) as s:
        area = area_of(s)
        links = [p for p in area.rglob("*") if p.is_symlink()]
        assert links == []
        assert {d.published_name for d in s.get_drivers()} == {"oem0.inf", "oem1.inf",
                                                               "oem2.inf"}
    assert sorted(os.listdir(outside)) == ["secret.inf"]


def test_a_name_holding_a_backslash_does_not_make_the_image_unreadable(tmp_path):
    """A Linux capture can hold a file named "a\\b.mum", a name no Windows
    image has and no path can reach (WIM paths are split on backslashes):
    it is passed over, not a failure of the whole open."""
    tree = build_windows_tree(tmp_path / "tree", sample_servicing_spec())
    with dism.Session(tree) as s:
        expected = read_everything(s)
    windows = tree / "Windows"
    (windows / "servicing" / "Packages" / "x\\..\\..\\y.mum").write_text("<assembly/>")
    (windows / "INF" / "a\\b.inf").write_text("[Version]\n")
    repo = windows / "System32" / "DriverStore" / "FileRepository"
    (repo / "odd\\name").mkdir()
    (repo / "odd\\name" / "odd.inf").write_text("[Version]\n")
    image = capture(tree, tmp_path / "backslash.wim")
    with dism.Session.open_image_file(image) as s:
        area = area_of(s)
        assert not [p for p in area.rglob("*") if "\\" in p.name]
        got = read_everything(s)
    assert repr(got).replace(str(area / "image"), "<root>") == \
        repr(expected).replace(str(tree), "<root>")


def test_names_are_found_ignoring_case(tmp_path):
    tree = build_windows_tree(tmp_path / "tree", sample_servicing_spec())
    with dism.Session(tree) as s:
        expected = read_everything(s)
    (tree / "Windows" / "servicing").rename(tree / "Windows" / "SERVICING")
    (tree / "Windows" / "System32").rename(tree / "Windows" / "system32")
    (tree / "Windows").rename(tree / "WINDOWS")
    image = capture(tree, tmp_path / "case.wim")
    with dism.Session.open_image_file(image) as s:
        got = read_everything(s)
    # Paths name the image's own spelling; the rest is the same to the letter.
    assert repr(got).lower() == repr(expected).lower()
    assert repr(got) != repr(expected)


def test_a_wim_being_written_is_refused(wim):
    """wimlib's writers hold an exclusive flock on the WIM while they write."""
    with open(wim, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(dism.BusyError, match="being written") as raised:
            dism.Session.open_image_file(wim)
    assert raised.value.hresult == 0x80070020                  # ERROR_SHARING_VIOLATION
    with dism.Session.open_image_file(wim) as s:                # and fine once it is done
        assert s.get_current_edition() == "Enterprise"


def test_a_wim_marked_as_being_written_is_refused(wim, tmp_path):
    marked = tmp_path / "marked.wim"
    data = bytearray(wim.read_bytes())
    flags = int.from_bytes(data[16:20], "little") | 0x40        # WIM_HDR_FLAG_WRITE_IN_PROGRESS
    data[16:20] = flags.to_bytes(4, "little")
    marked.write_bytes(bytes(data))
    with pytest.raises(dism.BusyError, match="marked as being written"):
        dism.Session.open_image_file(marked)


def test_a_writer_after_the_open_does_not_change_what_the_session_reads(wim, tmp_path):
    """The session reads a copy made under the lock: an image appended by
    wimlib-imagex meanwhile is neither seen nor disturbed."""
    mine = tmp_path / "mine.wim"
    mine.write_bytes(wim.read_bytes())
    with dism.Session.open_image_file(mine) as s:
        before = read_everything(s)
        extra = build_windows_tree(tmp_path / "extra", WindowsImageSpec(name="Extra"))
        subprocess.run(["wimlib-imagex", "append", str(extra), str(mine), "Extra"],
                       check=True, capture_output=True)
        assert read_everything(s) == before
    assert len(dism.get_image_info(mine)) == 2


_OPEN_AND_WAIT = """
import json, sys, time, dism
with dism.Session.open_image_file(sys.argv[1]) as s:
    print(json.dumps(sorted(d.published_name for d in s.get_drivers(all_drivers=True))),
          flush=True)
    if sys.argv[2] == "wait":
        time.sleep(600)
"""


def test_several_processes_at_once(wim, engine_tmpdir):
    children = [subprocess.Popen([sys.executable, "-c", _OPEN_AND_WAIT, str(wim), "go"],
                                 stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [json.loads(c.communicate(timeout=120)[0]) for c in children]
    assert all(c.returncode == 0 for c in children)
    assert all(o == outputs[0] for o in outputs) and len(outputs[0]) == 6


def test_the_area_of_a_killed_process_is_swept_by_the_next_open(wim, engine_tmpdir):
    child = subprocess.Popen([sys.executable, "-c", _OPEN_AND_WAIT, str(wim), "wait"],
                             stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    [left] = areas(engine_tmpdir)
    with dism.Session.open_image_file(wim):                     # its owner still runs
        assert left in areas(engine_tmpdir)
    child.send_signal(signal.SIGKILL)
    child.wait()
    with dism.Session.open_image_file(wim):                     # too young to be swept
        assert left in areas(engine_tmpdir)
    old = time.time() - 3600
    os.utime(engine_tmpdir / left / ".lock", (old, old))
    with dism.Session.open_image_file(wim):
        assert left not in areas(engine_tmpdir)


def test_the_sweep_leaves_what_is_not_an_abandoned_area_of_this_user(wim, engine_tmpdir,
                                                                    tmp_path):
    old = time.time() - 3600
    target = tmp_path / "target"
    target.mkdir()
    (target / ".lock").write_text("")
    os.utime(target / ".lock", (old, old))
    (engine_tmpdir / f"{AREA_PREFIX}link").symlink_to(target)   # a link: never followed
    foreign = engine_tmpdir / f"{AREA_PREFIX}foreign"           # another user's
    foreign.mkdir(mode=0o700)
    (foreign / ".lock").write_text("")
    os.utime(foreign / ".lock", (old, old))
    os.chown(foreign, 65534, 65534)
    nolock = engine_tmpdir / f"{AREA_PREFIX}nolock"             # not one of ours
    nolock.mkdir(mode=0o700)
    with dism.Session.open_image_file(wim):
        pass
    assert (target / ".lock").exists()
    assert foreign.exists() and nolock.exists()
    for p in (engine_tmpdir / f"{AREA_PREFIX}link",):
        p.unlink()
    os.chown(foreign, os.geteuid(), os.getegid())
    for d in (foreign, nolock):
        for f in d.iterdir():
            f.unlink()
        d.rmdir()


def test_no_usable_temporary_directory(wim, monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "missing"))
    with pytest.raises(dism.DismError, match="TMPDIR"):
        dism.Session.open_image_file(wim)


# ---------------------------------------------------------------------------
# The temporary directory: another user must not be able to swap the area
# ---------------------------------------------------------------------------

def _unsafe_parents(tmp_path: Path):
    """Temporary directories in which another user (nobody) could rename the
    area away and put a link in its place: the session would then read, and
    its close remove, whatever the link names."""
    open_dir = tmp_path / "world-writable"                      # 0777, no sticky bit
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    foreign = tmp_path / "nobodys"                              # another user's own
    foreign.mkdir(mode=0o755)
    os.chown(foreign, 65534, 65534)
    below = open_dir / "mine"                                   # ours, below an open one
    below.mkdir(mode=0o700)
    link = tmp_path / "link"                                    # a link to the open one
    link.symlink_to(open_dir)
    return {"world-writable": open_dir, "another user's": foreign, "below": below,
            "link": link}


@pytest.mark.parametrize("which", ["world-writable", "another user's", "below", "link"])
def test_a_temporary_directory_others_can_change_is_refused(wim, monkeypatch, tmp_path,
                                                             which):
    parent = _unsafe_parents(tmp_path)[which]
    monkeypatch.setenv("TMPDIR", str(parent))
    with pytest.raises(dism.DismError, match="not safe.*TMPDIR") as caught:
        dism.Session.open_image_file(wim)
    assert caught.value.hresult == 0x80070005
    assert areas(parent) == []


def test_a_sticky_or_linked_temporary_directory_is_used(wim, monkeypatch, tmp_path):
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    link = tmp_path / "link"
    link.symlink_to(sticky)
    monkeypatch.setenv("TMPDIR", str(link))
    with dism.Session.open_image_file(wim) as s:
        assert area_of(s).parent == sticky                      # reached by its real path
        assert s.get_drivers()
    assert areas(sticky) == []


def test_an_unsafe_scratch_directory_is_refused(wim, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    os.chmod(scratch, 0o777)
    dism.shutdown()
    dism.initialize(scratch_dir=scratch)
    try:
        with pytest.raises(dism.DismError, match="not safe"):
            dism.Session.open_image_file(wim)
    finally:
        dism.shutdown()
    assert areas(scratch) == []


@pytest.fixture
def reachable_by_nobody():
    """A folder nobody can reach (pytest's tmp_path lies in root's 0700 one)."""
    folder = Path(tempfile.mkdtemp(prefix="dism-review-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder)


def test_nobody_cannot_make_close_remove_a_tree_outside_the_area(wim, monkeypatch,
                                                                 reachable_by_nobody):
    """The attack the checks above prevent: nobody renames the area of a
    root session away and links its name to a tree of root's; closing the
    session removed that tree's `image` folder."""
    shared = _unsafe_parents(reachable_by_nobody)["world-writable"]
    victim = reachable_by_nobody / "victim"
    (victim / "image").mkdir(parents=True)
    (victim / "image" / "precious").write_text("kept")
    monkeypatch.setenv("TMPDIR", str(shared))
    try:
        session = dism.Session.open_image_file(wim)
    except dism.DismError:
        return                                                  # refused: nothing to attack
    [area] = areas(shared)
    subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
                    'mv "$1/$2" "$1/stolen" && ln -s "$3" "$1/$2"', "sh", str(shared), area,
                    str(victim)], check=True)
    session.close()
    assert (victim / "image" / "precious").read_text() == "kept"


_OPEN_MANY = """
import sys
import dism
opened = 0
for _ in range(int(sys.argv[2])):
    try:
        dism.Session.open_image_file(sys.argv[1]).close()
        opened += 1
    except dism.DismError:
        pass
print(opened)
"""

_SWAP_FOREVER = """
import os, sys
folder = sys.argv[1]
while True:
    os.link(folder + "/regular.wim", folder + "/a")
    os.rename(folder + "/a", folder + "/x.wim")
    os.link(folder + "/fifo", folder + "/b")
    os.rename(folder + "/b", folder + "/x.wim")
"""


def test_a_fifo_swapped_in_for_the_wim_never_blocks_the_open(wim, tmp_path):
    """Whoever can write the WIM's folder renames a FIFO and the WIM over
    its name in turn: an open checked by name and then opened blocked for
    ever on the FIFO; each open must end, with the image or an error."""
    folder = tmp_path / "swapped"
    folder.mkdir()
    shutil.copyfile(wim, folder / "regular.wim")
    os.mkfifo(folder / "fifo")
    swapper = subprocess.Popen([sys.executable, "-c", _SWAP_FOREVER, str(folder)])
    try:
        done = subprocess.run([sys.executable, "-c", _OPEN_MANY, str(folder / "x.wim"), "1500"],
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("an open blocked on the FIFO")
    finally:
        swapper.kill()
        swapper.wait()
    assert done.returncode == 0, done.stderr


_FORK_AND_EXIT = """
import os, sys
import dism
session = dism.Session.open_image_file(sys.argv[1])
expected = (len(session.get_drivers()), session.get_current_edition())
pid = os.fork()
if pid == 0:
    sys.exit(0)           # the child ends normally: its copy of the session is closed
os.waitpid(pid, 0)
got = (len(session.get_drivers()), session.get_current_edition())
session.close()
print(got == expected, got, expected)
"""


def test_a_forked_child_closing_its_copy_leaves_the_parents_area(wim, engine_tmpdir):
    done = subprocess.run([sys.executable, "-c", _FORK_AND_EXIT, str(wim)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("True"), done.stdout
    assert areas(engine_tmpdir) == []
