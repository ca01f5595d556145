"""dism.Session.open_image_file: a read-only session straight on an image in
a WIM or ESD, without mounting.  Every read is compared with a read-only
mount of the same WIM; the real Windows 10 SYSTEM hive's 238 drivers are
listed by an unprivileged user; writes are refused as on the mount."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import dism
from dism.testing import build_wim, sample_servicing_spec

from support import wimfs_mounts
from support.imagefile import (REAL_DRIVER_COUNT, REAL_SYSTEM_HIVE, areas, capture,
                               export_solid, public_directory, read_as_nobody, read_everything,
                               real_hive_tree, split_wim, write_outcomes)

needs_real = pytest.mark.skipif(not REAL_SYSTEM_HIVE.is_file(),
                                reason="../shared/testdata/real absent")


pytestmark = pytest.mark.usefixtures("engine_tmpdir")


@pytest.fixture(scope="module")
def servicing_wim(tmp_path_factory) -> Path:
    return build_wim(tmp_path_factory.mktemp("wim") / "servicing.wim", [sample_servicing_spec()])


@pytest.fixture(scope="module")
def servicing_esd(servicing_wim, tmp_path_factory) -> Path:
    return export_solid(servicing_wim, tmp_path_factory.mktemp("esd") / "servicing.esd")


@pytest.fixture(scope="module")
def real_wim(tmp_path_factory) -> Path:
    if not REAL_SYSTEM_HIVE.is_file():
        pytest.skip("../shared/testdata/real absent")
    work = tmp_path_factory.mktemp("real")
    return capture(real_hive_tree(work / "tree"), work / "real.wim")


def mounted_reads(wim: Path, mount_dir: Path) -> dict:
    if wim.suffix != ".wim":                    # DISM mounts only what is named .wim
        named = mount_dir.parent / "mountable.wim"
        shutil.copyfile(wim, named)
        wim = named
    with dism.mount(wim, mount_dir, index=1, read_only=True) as mounted:
        with mounted.session() as session:
            return read_everything(session)


@needs_real
@pytest.mark.usefixtures("fuse")
def test_the_238_drivers_of_the_real_hive_as_nobody(real_wim, tmp_path, mount_dir):
    public = public_directory()
    try:
        seen, child_tmp = read_as_nobody(real_wim, public)
        left = list(child_tmp.iterdir())
        # Other programs may mount meanwhile: only mounts where the child
        # could have made one (its folders) count.
        childs_mounts = [point for point in wimfs_mounts()
                         if Path(point).is_relative_to(child_tmp)
                         or Path(point).is_relative_to(public)]
    finally:
        shutil.rmtree(public)
    assert seen["euid"] == 65534 and seen["area_uid"] == 65534
    assert seen["mount"] == "ElevationRequiredError"      # no FUSE rights: it could not mount
    assert len(seen["drivers"]) == REAL_DRIVER_COUNT
    assert seen["edition"] == "Enterprise"
    assert childs_mounts == [], "an unmounted-image session mounted something"
    assert left == [], "the private area outlived the session"
    with dism.mount(real_wim, mount_dir, index=1, read_only=True) as mounted:
        with mounted.session() as session:
            on_mount = sorted(d.published_name for d in session.get_drivers(all_drivers=True))
    assert seen["drivers"] == on_mount


@pytest.mark.usefixtures("fuse")
@pytest.mark.parametrize("which", ["servicing_wim", "servicing_esd", "real_wim"])
def test_every_read_matches_a_read_only_mount(request, which, mount_dir):
    wim = request.getfixturevalue(which)
    with dism.Session.open_image_file(wim) as session:
        unmounted = read_everything(session)
    mounted = mounted_reads(wim, mount_dir)
    assert unmounted.keys() == mounted.keys()
    for key in mounted:
        assert unmounted[key] == mounted[key], key
    if which == "real_wim":
        assert len(unmounted["all drivers"]) == REAL_DRIVER_COUNT


@pytest.mark.usefixtures("fuse")
def test_writes_are_refused_as_on_a_read_only_mount(servicing_wim, mount_dir, tmp_path):
    with dism.Session.open_image_file(servicing_wim, index=1) as session:
        unmounted = write_outcomes(session, tmp_path)
        assert session.get_current_edition() == "Enterprise"   # still usable afterwards
    with dism.mount(servicing_wim, mount_dir, index=1, read_only=True) as mounted:
        with mounted.session() as session:
            on_mount = write_outcomes(session, tmp_path)
    assert unmounted == on_mount
    assert all(result[0] == "raised" for result in unmounted.values()), unmounted
    with dism.Session.open_image_file(servicing_wim) as session:
        session.commit(discard=True)                          # nothing to discard
        with pytest.raises(dism.DismError, match="read-only") as raised:
            session.commit()
    assert raised.value.hresult == 0x80070013                 # ERROR_WRITE_PROTECT


def test_the_session_object(servicing_wim, engine_tmpdir):
    session = dism.Session.open_image_file(servicing_wim, name="Windows 10 Enterprise (servicing)")
    assert session.image_file == str(servicing_wim.resolve())
    assert not session.closed and "servicing.wim" in repr(session)
    system = Path(session.get_registry_mount_point(dism.RegistryHive.SYSTEM))
    area = system.parents[4]
    assert area.parent == engine_tmpdir and area.stat().st_mode & 0o777 == 0o700
    session.close()
    session.close()
    assert not area.exists()
    with pytest.raises(dism.InvalidSessionError):
        session.get_drivers()


def test_choosing_the_image(tmp_path):
    specs = [sample_servicing_spec(), sample_servicing_spec()]
    specs[1] = type(specs[1])(**{**specs[1].__dict__, "name": "Second",
                                 "edition_id": "Professional"})
    wim = build_wim(tmp_path / "two.wim", specs)
    with dism.Session.open_image_file(wim, index=2) as s:
        assert s.get_current_edition() == "Professional"
    with dism.Session.open_image_file(wim, name="second") as s:   # one match ignoring case
        assert s.get_current_edition() == "Professional"
    for index in (0, 3, 2**32 - 1):
        with pytest.raises(dism.InvalidImageIndexError):
            dism.Session.open_image_file(wim, index=index)
    with pytest.raises(dism.InvalidImageIndexError):
        dism.Session.open_image_file(wim, index=2**32)
    with pytest.raises(dism.InvalidImageNameError, match="no image named '2'"):
        dism.Session.open_image_file(wim, name="2")                # a name, never an index
    with pytest.raises(dism.DismError, match="index or by name"):
        dism.Session.open_image_file(wim)                           # two images: say which
    with pytest.raises(ValueError):
        dism.Session.open_image_file(wim, index=1, name="Second")
    with pytest.raises(TypeError):
        dism.Session.open_image_file(wim, index="1")
    with pytest.raises(TypeError, match="index must be an int"):
        dism.Session.open_image_file(wim, index=True)             # a bool is no index


def test_an_index_below_one_says_images_are_numbered_from_1(servicing_wim):
    """As dism.mount says it: not the binding's "from 0 to 4294967295",
    which names 0, never an image index, as allowed."""
    for index in (-1, 0, 2**40):
        with pytest.raises(dism.InvalidImageIndexError, match="numbered from 1") as raised:
            dism.Session.open_image_file(servicing_wim, index=index)
        assert "from 0" not in str(raised.value)


def test_a_wim_without_images_says_so(tmp_path, servicing_wim):
    """Not "the image must be given by index or by name": none would do."""
    empty = tmp_path / "empty.wim"
    shutil.copyfile(servicing_wim, empty)
    subprocess.run(["wimlib-imagex", "delete", str(empty), "1"], check=True,
                   capture_output=True)
    with pytest.raises(dism.InvalidImageIndexError, match="holds no image"):
        dism.Session.open_image_file(empty)


_BAD_NAME_TWICE = """
import sys
import dism
for _ in range(3):
    try:
        dism.Session.open_image_file(sys.argv[1], name="a\\0b")
    except ValueError:
        pass
print("ok")
"""


def test_a_name_the_binding_refuses_frees_the_path_once(servicing_wim):
    """A name with a NUL fails the binding's argument parsing after the path
    was converted: Python frees the path then (Py_CLEANUP_SUPPORTED), and it
    must not be freed again.  The debug allocator stops at a double free."""
    done = subprocess.run([sys.executable, "-c", _BAD_NAME_TWICE, str(servicing_wim)],
                          capture_output=True, text=True, errors="replace",
                          env={**os.environ, "PYTHONMALLOC": "debug"})
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr[-2000:]


def test_a_name_two_images_share_ignoring_case_is_called_ambiguous(tmp_path, servicing_wim):
    """Not "the WIM has no image named 'pro'" when two are, but for case."""
    wim = tmp_path / "two.wim"
    shutil.copyfile(servicing_wim, wim)
    subprocess.run(["wimlib-imagex", "info", str(wim), "1", "Pro"], check=True,
                   capture_output=True)
    subprocess.run(["wimlib-imagex", "export", str(servicing_wim), "1", str(wim), "PRO"],
                   check=True, capture_output=True)
    with pytest.raises(dism.InvalidImageNameError, match="2 images .* named 'pro' ignoring "
                       "case"):
        dism.Session.open_image_file(wim, name="pro")
    with dism.Session.open_image_file(wim, name="PRO") as s:    # the exact name still works
        assert s.get_current_edition() == "Enterprise"


def test_files_that_are_no_usable_wim(tmp_path, servicing_wim):
    missing = tmp_path / "missing.wim"
    with pytest.raises(dism.PathNotFoundError, match="does not exist"):
        dism.Session.open_image_file(missing)
    with pytest.raises(dism.InvalidArgumentError, match="not a WIM file"):
        dism.Session.open_image_file(tmp_path)
    junk = tmp_path / "junk.wim"
    junk.write_bytes(b"MSWIM\0\0\0" + bytes(range(256)) * 64)
    with pytest.raises(dism.DismError) as raised:
        dism.Session.open_image_file(junk)
    assert raised.value.hresult == 0x8007000B                    # ERROR_BAD_FORMAT
    text = tmp_path / "text.wim"
    text.write_text("not a WIM at all\n")
    with pytest.raises(dism.DismError, match="cannot open"):
        dism.Session.open_image_file(text)
    truncated = tmp_path / "truncated.wim"
    truncated.write_bytes(servicing_wim.read_bytes()[: servicing_wim.stat().st_size // 2])
    with pytest.raises(dism.DismError):
        dism.Session.open_image_file(truncated)


def test_a_corrupt_resource_is_refused_not_half_read(tmp_path):
    """Flipped bytes in the middle of the file (the compressed hives): the
    copy fails on its checksum, and nothing is left behind."""
    wim = build_wim(tmp_path / "c.wim", [sample_servicing_spec()], compression="none")
    data = bytearray(wim.read_bytes())
    at = data.find(b"regf", 4096)
    assert at > 0
    data[at + 4200:at + 4264] = bytes(64)
    wim.write_bytes(bytes(data))
    with pytest.raises(dism.DismError) as raised:
        dism.Session.open_image_file(wim)
    assert raised.value.hresult == 0x80070570                    # ERROR_FILE_CORRUPT


def test_an_image_without_windows(tmp_path):
    tree = tmp_path / "data"
    (tree / "docs").mkdir(parents=True)
    (tree / "docs" / "a.txt").write_text("a")
    wim = capture(tree, tmp_path / "data.wim")
    with pytest.raises(dism.PathNotFoundError, match="does not hold a Windows installation"):
        dism.Session.open_image_file(wim)


def test_concurrent_sessions_on_one_wim(servicing_wim, engine_tmpdir):
    expected = None
    with dism.Session.open_image_file(servicing_wim) as s:
        expected = read_everything(s)
    results, errors = [], []

    def worker():
        try:
            with dism.Session.open_image_file(servicing_wim) as s:
                results.append(read_everything(s))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=worker) for _ in range(6)]
    held = [dism.Session.open_image_file(servicing_wim) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(areas(engine_tmpdir)) == 3                        # one each, all distinct
    for s in held:
        s.close()
    assert errors == [] and len(results) == 6
    assert all(r == expected for r in results)


def test_on_windows_it_is_not_available(servicing_wim):
    dism._dism._hide_export("_DismPortableOpenImageFileSession")
    try:
        with pytest.raises(dism.ExportNotAvailableError,
                           match="_DismPortableOpenImageFileSession"):
            dism.Session.open_image_file(servicing_wim)
    finally:
        dism._dism._hide_export("_DismPortableOpenImageFileSession", False)


def test_a_scratch_directory_is_used_when_given(servicing_wim, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    dism.shutdown()
    dism.initialize(scratch_dir=scratch)
    try:
        with dism.Session.open_image_file(servicing_wim) as s:
            assert len(areas(scratch)) == 1
            assert s.get_registry_mount_point(dism.RegistryHive.SOFTWARE).startswith(
                str(scratch))
        assert areas(scratch) == []
    finally:
        dism.shutdown()
    shutil.rmtree(scratch)


def test_a_part_of_a_split_wim_is_refused(tmp_path, engine_tmpdir):
    """A part holds only some of the image's files: refused as dism.mount
    refuses it, never read half-way, and no private area is left."""
    parts = tmp_path / "split"
    parts.mkdir()
    first = split_wim(parts)
    with pytest.raises(dism.DismError, match="part 1 of a split WIM") as raised:
        dism.Session.open_image_file(first, index=1)
    assert raised.value.hresult == 0x80070032                    # ERROR_NOT_SUPPORTED
    assert areas(engine_tmpdir) == []
