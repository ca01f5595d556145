"""Session.export_drivers (DISM.exe's /Export-Driver): every out-of-box
package's store folder copied byte for byte to destination/<folder>; every
package checked before anything is written; links never followed; the
destination trusted, written only inside, never left with a half-copied
folder; a second run replaces what the first exported."""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Dict

import pytest

import dism
from dism.testing import build_windows_tree, sample_servicing_spec
from dism.testing.hive import write_hive
from dism.testing.servicing import driver_database

from support.folders import undeletable_contents, unmovable

STORE = "Windows/System32/DriverStore/FileRepository"
#: The sample spec's third-party packages: published name -> store folder.
OUT_OF_BOX = {"oem0.inf": "contosoraid.inf_amd64_a1b2c3d4e5f60718",
              "oem1.inf": "contosonet.inf_amd64_0123456789abcdef",
              "oem2.inf": "contosoport.inf_amd64_fedcba9876543210"}
IN_BOX = ("1394.inf_amd64_6c9cb6e2b2d9a4a1", "netrtl.inf_amd64_5b1a3e2f86b2f3c0",
          "usbport.inf_amd64_0d1d7a2bd7e83e0a")


@pytest.fixture
def tree(tmp_path) -> Path:
    """A private sample image (tests change its store), each package folder
    given extra payload: binary files and a subfolder."""
    root = build_windows_tree(tmp_path / "image", sample_servicing_spec())
    for number, folder in enumerate(OUT_OF_BOX.values()):
        where = root / STORE / folder
        (where / "payload.bin").write_bytes(bytes(range(256)) * (number + 3))
        (where / "amd64").mkdir()
        (where / "amd64" / "helper.dll").write_bytes(b"MZ\0\xff" + os.urandom(5000))
    return root


@pytest.fixture
def destination(tmp_path) -> Path:
    out = tmp_path / "exported"
    out.mkdir(mode=0o755)
    return out


def files_below(folder: Path) -> Dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def export(tree: Path, destination: Path, **keywords):
    with dism.Session(tree) as session:
        return session.export_drivers(destination, **keywords)


def test_every_out_of_box_package_is_copied_byte_for_byte(tree, destination):
    with dism.Session(tree) as session:
        listed = {p.published_name: p for p in session.get_drivers()}
        exported = session.export_drivers(destination)
    assert [item.package.published_name for item in exported] == ["oem0.inf", "oem1.inf",
                                                                   "oem2.inf"]
    for item in exported:
        assert item.package == listed[item.package.published_name]
        assert item.folder == destination / OUT_OF_BOX[item.package.published_name]
    # Exactly the out-of-box folders: no in-box one, no scratch folder left.
    assert sorted(p.name for p in destination.iterdir()) == sorted(OUT_OF_BOX.values())
    for folder in OUT_OF_BOX.values():
        source = files_below(tree / STORE / folder)
        assert {"payload.bin", "amd64/helper.dll"} <= set(source)
        assert any(name.endswith(".sys") for name in source)
        assert any(name.endswith(".cat") for name in source)
        assert files_below(destination / folder) == source
    assert not any((destination / folder).exists() for folder in IN_BOX)


def test_the_callback_sees_each_package_as_it_lands(tree, destination):
    seen = []
    export(tree, destination, on_exported=lambda item, number, total: seen.append(
        (item.package.published_name, number, total, item.folder.is_dir())))
    assert seen == [("oem0.inf", 1, 3, True), ("oem1.inf", 2, 3, True), ("oem2.inf", 3, 3, True)]


def test_a_missing_folder_or_inf_is_named_and_nothing_is_written(tree, destination):
    gone = tree / STORE / OUT_OF_BOX["oem2.inf"]
    for path in sorted(gone.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    gone.rmdir()
    (tree / STORE / OUT_OF_BOX["oem0.inf"] / "contosoraid.inf").unlink()
    with pytest.raises(dism.PathNotFoundError) as caught:
        export(tree, destination)
    assert caught.value.hresult == 0x80070003
    message = caught.value.message
    assert "oem2.inf (contosoport.inf)" in message and f"'{gone}'" in message
    assert "oem0.inf (contosoraid.inf)" in message and "contosoraid.inf' does not exist" in message
    assert "oem1.inf" not in message and "nothing was exported" in message
    assert list(destination.iterdir()) == []


def test_a_package_folder_that_links_out_of_the_image_is_refused(tree, destination, tmp_path):
    folder = tree / STORE / OUT_OF_BOX["oem1.inf"]
    outside = tmp_path / "outside"
    folder.rename(outside)
    folder.symlink_to(outside, target_is_directory=True)
    with pytest.raises(dism.DismError) as caught:
        export(tree, destination)
    assert caught.value.hresult == 0x80070005
    assert "oem1.inf (contosonet.inf)" in caught.value.message
    assert "links are not followed" in caught.value.message
    assert list(destination.iterdir()) == []


def test_a_link_inside_a_package_folder_is_refused_not_followed(tree, destination, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not the image's to give")
    link = tree / STORE / OUT_OF_BOX["oem0.inf"] / "amd64" / "secret.txt"
    link.symlink_to(secret)
    with pytest.raises(dism.DismError) as caught:
        export(tree, destination)
    assert caught.value.hresult == 0x80070005
    assert f"'{link}' is a link" in caught.value.message
    assert list(destination.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="chown to another user needs root")
def test_a_destination_others_can_write_is_refused(tree, tmp_path):
    open_to_all = tmp_path / "open to all"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    theirs = tmp_path / "nobody's"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, 65534, 65534)
    for folder in (open_to_all, theirs):
        with pytest.raises(dism.DismError, match="other users") as caught:
            export(tree, folder)
        assert caught.value.hresult == 0x80070005
        assert list(folder.iterdir()) == []


def test_a_world_writable_destination_is_refused(tree, tmp_path):
    """The same rule without root: a folder anyone may write to."""
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    with pytest.raises(dism.DismError, match="other users") as caught:
        export(tree, open_to_all)
    assert caught.value.hresult == 0x80070005
    assert list(open_to_all.iterdir()) == []


def test_a_missing_or_file_destination_is_refused(tree, tmp_path):
    with pytest.raises(dism.PathNotFoundError, match="does not exist"):
        export(tree, tmp_path / "absent")
    a_file = tmp_path / "a file"
    a_file.write_text("x")
    with pytest.raises(dism.PathNotFoundError, match="is not a directory"):
        export(tree, a_file)
    assert a_file.read_text() == "x"


def test_a_destination_inside_the_store_is_refused(tree):
    store = tree / STORE
    before = {folder: files_below(store / folder) for folder in OUT_OF_BOX.values()}
    with pytest.raises(dism.InvalidArgumentError, match="overlaps the driver store"):
        export(tree, store)
    with pytest.raises(dism.InvalidArgumentError, match="overlaps the driver store"):
        export(tree, store / OUT_OF_BOX["oem1.inf"])
    assert {folder: files_below(store / folder) for folder in OUT_OF_BOX.values()} == before
    assert not any(p.name.startswith(".dism-export") for p in store.rglob("*"))


def test_running_again_replaces_what_was_exported(tree, destination):
    export(tree, destination)
    stale = destination / OUT_OF_BOX["oem1.inf"] / "stale.txt"
    stale.write_text("from an older export")
    (destination / OUT_OF_BOX["oem0.inf"] / "payload.bin").write_bytes(b"changed")
    (tree / STORE / OUT_OF_BOX["oem2.inf"] / "payload.bin").write_bytes(b"a new payload")
    exported = export(tree, destination)
    assert len(exported) == 3
    assert sorted(p.name for p in destination.iterdir()) == sorted(OUT_OF_BOX.values())
    for folder in OUT_OF_BOX.values():
        assert files_below(destination / folder) == files_below(tree / STORE / folder)


def test_a_failure_while_copying_leaves_no_half_copied_folder(tree, destination, tmp_path):
    """After the first package lands, a link appears in the second package's
    folder (below files already copied): the copy stops, the first package
    stays exported, the second's earlier export stays as it was, and no
    half-built folder or scratch folder is left."""
    export(tree, destination)
    second = destination / OUT_OF_BOX["oem1.inf"]
    earlier = files_below(second)
    (tree / STORE / OUT_OF_BOX["oem1.inf"] / "payload.bin").write_bytes(b"newer")
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")

    def plant_link(item, number, total):
        if number == 1:
            (tree / STORE / OUT_OF_BOX["oem1.inf"] / "zz-link").symlink_to(secret)

    with pytest.raises(dism.DismError, match="became a link") as caught:
        export(tree, destination, on_exported=plant_link)
    if sys.version_info >= (3, 11):   # exceptions have notes from 3.11 on
        assert caught.value.__notes__ == ["exported before the failure: oem0.inf"]
    assert sorted(p.name for p in destination.iterdir()) == sorted(OUT_OF_BOX.values())
    assert files_below(second) == earlier
    assert b"secret" not in b"".join(files_below(destination).values())


def test_ctrl_c_between_packages_leaves_only_whole_folders(tree, destination):
    def interrupt(item, number, total):
        if number == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(tree, destination, on_exported=interrupt)
    assert sorted(p.name for p in destination.iterdir()) == sorted(
        [OUT_OF_BOX["oem0.inf"], OUT_OF_BOX["oem1.inf"]])
    for name in ("oem0.inf", "oem1.inf"):
        folder = OUT_OF_BOX[name]
        assert files_below(destination / folder) == files_below(tree / STORE / folder)


def test_an_image_without_out_of_box_drivers_exports_nothing(offline_tree, destination):
    with dism.Session(offline_tree) as session:
        assert session.get_drivers() == []
        assert session.export_drivers(destination) == []
    assert list(destination.iterdir()) == []


def test_a_closed_session_is_refused(tree, destination):
    session = dism.Session(tree)
    session.close()
    with pytest.raises(dism.InvalidSessionError):
        session.export_drivers(destination)


# --- an image read from its WIM (Session.open_image_file) ------------------------------

def captured(tree: Path, wim: Path, name: str = "Sample", append: bool = False) -> Path:
    dism.capture_image(tree, wim, name=name, append=append)
    return wim


@pytest.mark.usefixtures("engine_tmpdir")
def test_from_an_image_file_the_folders_are_extracted_from_the_wim(tree, destination,
                                                                   tmp_path):
    """The session's private copy holds only the INF files; what lands is
    the whole folder, as the WIM holds it."""
    wim = captured(tree, tmp_path / "sample.wim")
    with dism.Session.open_image_file(wim) as session:
        for package in session.get_drivers():
            inf = Path(package.original_file_name)
            assert [p.name for p in inf.parent.iterdir()] == [inf.name]
        exported = session.export_drivers(destination)
        again = session.export_drivers(destination)
    assert [item.package.published_name for item in exported] == ["oem0.inf", "oem1.inf",
                                                                   "oem2.inf"]
    assert [item.folder for item in again] == [item.folder for item in exported]
    assert sorted(p.name for p in destination.iterdir()) == sorted(OUT_OF_BOX.values())
    for folder in OUT_OF_BOX.values():
        assert files_below(destination / folder) == files_below(tree / STORE / folder)
        assert "payload.bin" in files_below(destination / folder)


@pytest.mark.usefixtures("engine_tmpdir")
def test_from_an_image_file_the_image_chosen_is_the_one_exported(tree, destination, tmp_path):
    wim = captured(tree, tmp_path / "two.wim", name="First")
    (tree / STORE / OUT_OF_BOX["oem1.inf"] / "payload.bin").write_bytes(b"the second image's")
    captured(tree, wim, name="Second", append=True)
    with dism.Session.open_image_file(wim, name="First") as session:
        session.export_drivers(destination)
    assert (destination / OUT_OF_BOX["oem1.inf"] / "payload.bin").read_bytes() != \
        b"the second image's"
    with dism.Session.open_image_file(wim, index=2) as session:
        session.export_drivers(destination)
    assert (destination / OUT_OF_BOX["oem1.inf"] / "payload.bin").read_bytes() == \
        b"the second image's"


@pytest.mark.usefixtures("engine_tmpdir")
def test_from_an_image_file_a_link_in_the_store_is_refused(tree, destination, tmp_path):
    (tree / STORE / OUT_OF_BOX["oem2.inf"] / "elsewhere").symlink_to("/etc/hostname")
    wim = captured(tree, tmp_path / "linked.wim")
    with dism.Session.open_image_file(wim) as session:
        with pytest.raises(dism.DismError) as caught:
            session.export_drivers(destination)
    assert caught.value.hresult == 0x80070005
    assert (f"\\Windows\\System32\\DriverStore\\FileRepository\\{OUT_OF_BOX['oem2.inf']}"
            f"\\elsewhere") in caught.value.message
    assert "nothing was exported" in caught.value.message
    assert list(destination.iterdir()) == []


@pytest.mark.usefixtures("engine_tmpdir")
def test_from_an_image_file_a_missing_folder_is_named(tree, destination, tmp_path):
    gone = tree / STORE / OUT_OF_BOX["oem0.inf"]
    for path in sorted(gone.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    gone.rmdir()
    wim = captured(tree, tmp_path / "damaged.wim")
    with dism.Session.open_image_file(wim) as session:
        with pytest.raises(dism.PathNotFoundError) as caught:
            session.export_drivers(destination)
    assert caught.value.hresult == 0x80070003
    assert "oem0.inf (contosoraid.inf)" in caught.value.message
    assert OUT_OF_BOX["oem0.inf"] in caught.value.message
    assert list(destination.iterdir()) == []


def _database_naming(tree: Path, folder: str) -> None:
    """The image's driver database with oem0.inf's store folder named `folder`."""
    spec = sample_servicing_spec()
    database = driver_database(spec.drivers_in("DRIVERS"), spec.architecture)
    database["DriverPackages"][folder] = database["DriverPackages"].pop(OUT_OF_BOX["oem0.inf"])
    write_hive(tree / "Windows/System32/config/DRIVERS", {"DriverDatabase": database},
               name="DRIVERS")


@pytest.mark.parametrize("folder, planted", [
    # "." names FileRepository itself: every package, in-box ones too.
    (".", "FileRepository/contosoraid.inf"),
    # A path that climbs out of the store to another folder of the image.
    ("x/../../../../../Users", "FileRepository/x/keep.txt"),
    # ".." names DriverStore: the export would replace destination/..
    ("..", "contosoraid.inf"),
])
def test_a_database_folder_name_that_is_not_a_store_folder_is_refused(tree, destination,
                                                                      folder, planted):
    # An image's driver database is the image's to say; a folder name in it
    # that is no plain name below FileRepository must not make the export
    # copy (or replace) some other folder.
    _database_naming(tree, folder)
    placed = tree / "Windows/System32/DriverStore" / planted
    placed.parent.mkdir(parents=True, exist_ok=True)
    placed.write_bytes(b"planted")
    (tree / "Users/contosoraid.inf").write_bytes(b"planted")
    with pytest.raises(dism.DismError) as caught:
        export(tree, destination)
    assert caught.value.hresult == 0x80070005
    assert "oem0.inf (contosoraid.inf)" in caught.value.message
    assert "not a folder of the driver store" in caught.value.message
    assert "nothing was exported" in caught.value.message
    assert list(destination.iterdir()) == []


def test_a_file_system_failure_is_a_typed_error_naming_the_folder(tree, destination):
    """The second package's earlier export cannot be moved aside: a
    DismError with the Win32 code and the folder, not a bare OSError; the
    first package stays exported and no scratch folder is left."""
    stuck = destination / OUT_OF_BOX["oem1.inf"]
    stuck.mkdir()
    with unmovable(stuck):
        with pytest.raises(dism.DismError) as caught:
            export(tree, destination)
    assert caught.value.hresult == 0x80070005
    assert f"'{stuck}'" in caught.value.message
    assert caught.value.message.startswith("export_drivers: ")
    if sys.version_info >= (3, 11):
        assert caught.value.__notes__ == ["exported before the failure: oem0.inf"]
    assert sorted(p.name for p in destination.iterdir()) == sorted(
        [OUT_OF_BOX["oem0.inf"], OUT_OF_BOX["oem1.inf"]])
    assert list(stuck.iterdir()) == []


def test_an_old_export_that_cannot_be_deleted_leaves_the_new_one_counted(tree, destination):
    """The second package replaces an earlier export whose files cannot be
    deleted: the new folder is in place, so the failure counts it as
    exported (its callback ran), rather than saying nothing more was."""
    stale = destination / OUT_OF_BOX["oem1.inf"] / "locked"
    stale.mkdir(parents=True)
    (stale / "old.sys").write_bytes(b"from an earlier export")
    landed = []
    with undeletable_contents(stale, destination):
        with pytest.raises(dism.DismError) as caught:
            export(tree, destination,
                   on_exported=lambda item, number, total: landed.append(
                       item.package.published_name))
    assert landed == ["oem0.inf", "oem1.inf"]
    assert caught.value.message.startswith("export_drivers: ")
    if sys.version_info >= (3, 11):
        assert caught.value.__notes__ == ["exported before the failure: oem0.inf, oem1.inf"]
    assert files_below(destination / OUT_OF_BOX["oem1.inf"]) == \
        files_below(tree / STORE / OUT_OF_BOX["oem1.inf"])


def test_the_refusal_of_a_database_folder_name_uses_one_separator(tree, destination):
    _database_naming(tree, ".")
    (tree / STORE / "contosoraid.inf").write_bytes(b"planted")
    with pytest.raises(dism.DismError) as caught:
        export(tree, destination)
    other = "\\" if os.sep == "/" else "/"
    assert other not in caught.value.message


def test_a_destination_link_is_followed_once_not_at_every_write(tree, destination, tmp_path):
    """A destination given through a link: the folder it names when the
    export checks it is the one written, even if the link is pointed
    elsewhere while the export runs (the check would not cover that one)."""
    link = tmp_path / "link"
    link.symlink_to(destination, target_is_directory=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)

    def retarget(item, number, total):
        if number == 1:
            link.unlink()
            link.symlink_to(elsewhere, target_is_directory=True)

    exported = export(tree, link, on_exported=retarget)
    assert [item.folder.parent for item in exported] == [destination] * 3
    assert sorted(p.name for p in destination.iterdir()) == sorted(OUT_OF_BOX.values())
    assert list(elsewhere.iterdir()) == []


def test_a_windows_8_image_s_driver_database_in_its_system_hive_is_exported(tmp_path,
                                                                         destination):
    # Windows 8 keeps the DriverDatabase in the SYSTEM hive (Windows 10 in
    # DRIVERS): the export finds the packages through either.
    spec = dataclasses.replace(sample_servicing_spec(), driver_database="SYSTEM")
    root = build_windows_tree(tmp_path / "win8", spec)
    assert not (root / "Windows/System32/config/DRIVERS").exists()
    exported = {item.package.published_name: item.folder.name
                for item in export(root, destination)}
    assert exported == OUT_OF_BOX
    for folder in OUT_OF_BOX.values():
        assert files_below(destination / folder) == files_below(root / STORE / folder)
    assert sorted(p.name for p in destination.iterdir()) == sorted(OUT_OF_BOX.values())
