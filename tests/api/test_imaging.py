"""Image management round trips through dism.imaging on the portable engine:
capture -> apply gives the same tree (Unicode names, empty folders, hard
links, single-instanced data, a link); what dism writes passes
`wimlib-imagex verify` and reads back the same through `wimlib-imagex
info`/`dir`; export WIM -> ESD -> WIM; split and apply from the parts;
delete and rename; listing and extraction; the real WIMs of
../shared/testdata/real as export and apply sources."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

import dism
from support.imaging import (PORTABLE_ENGINE_ONLY, REAL, build_tree, same_inode,  # noqa: F401
                             tree, tree_digest, wim, wimlib, wimlib_dir, wimlib_info,
                             wimlib_names, wimlib_xml)

pytestmark = PORTABLE_ENGINE_ONLY


def applied(wim_path: Path, where: Path, **choose) -> Path:
    where.mkdir()
    dism.apply_image(wim_path, where, **(choose or {"index": 1}))
    return where


# --- capture and apply -------------------------------------------------------------

def test_capture_then_apply_gives_the_same_tree(tree, wim, tmp_path):
    out = applied(wim, tmp_path / "out")
    assert tree_digest(out) == tree_digest(tree)
    assert same_inode(out / "readme.txt", out / "Windows" / "hardlink to readme.txt")
    assert (out / "empty dir" / "nested empty").is_dir()


def test_capture_returns_the_new_image_and_writes_what_wimlib_reads(tree, tmp_path):
    path = tmp_path / "new.wim"
    info = dism.capture_image(tree, path, name="Ñame ✓", description="déscription")
    assert (info.index, info.name, info.description) == (1, "Ñame ✓", "déscription")
    assert info.bootable == dism.ImageBootable.NO
    assert info.file_count and info.directory_count
    wimlib("verify", path)
    assert wimlib_names(path) == ["Ñame ✓"]
    listed = sorted(entry.path for entry in dism.list_image(path, index=1))
    assert listed == wimlib_dir(path)


def test_capture_default_compression_is_max(tree, tmp_path):
    path = tmp_path / "max.wim"
    dism.capture_image(tree, path, name="n")
    info = dism.get_wim_info(path)
    assert info.compression == dism.Compression.MAX
    assert not info.solid
    assert wimlib_info(path)["Chunk Size"] == "32768"


@pytest.mark.parametrize("compression, expected", [
    ("none", dism.Compression.NONE), ("MAX", dism.Compression.MAX),
    (dism.Compression.FAST, dism.Compression.FAST), ("maximum", dism.Compression.MAX)])
def test_capture_compression_names(tree, tmp_path, compression, expected):
    path = tmp_path / "c.wim"
    dism.capture_image(tree, path, name="n", compression=compression)
    assert dism.get_wim_info(path).compression == expected
    wimlib("verify", path)


def test_capture_recovery_into_esd_is_solid(tree, tmp_path):
    path = tmp_path / "solid.esd"
    dism.capture_image(tree, path, name="n", compression="recovery")
    info = dism.get_wim_info(path)
    assert info.solid and info.compression == dism.Compression.RECOVERY
    assert wimlib_info(path)["Version"] == "0xe00"
    assert tree_digest(applied(path, tmp_path / "out")) == tree_digest(tree)


def test_append_uses_the_wims_compression_and_single_instances(tree, wim, tmp_path):
    size = wim.stat().st_size
    info = dism.capture_image(tree, wim, name="Second", append=True)
    assert info.index == 2
    after = dism.get_wim_info(wim)
    assert after.image_count == 2 and after.compression == dism.Compression.FAST
    # the same data again adds metadata, not a second copy of the payload
    assert wim.stat().st_size - size < 100_000
    wimlib("verify", wim)
    assert wimlib_names(wim) == ["First", "Second"]
    assert tree_digest(applied(wim, tmp_path / "two", name="Second")) == tree_digest(tree)


def test_bootable_sets_the_boot_index(tree, wim):
    dism.capture_image(tree, wim, name="PE", append=True, bootable=True)
    assert dism.get_wim_info(wim).boot_index == 2
    assert wimlib_info(wim)["Boot Index"] == "2"


def test_check_integrity_writes_an_integrity_table(tree, tmp_path):
    path = tmp_path / "i.wim"
    dism.capture_image(tree, path, name="n", check_integrity=True, verify=True)
    assert dism.get_wim_info(path).integrity
    assert wimlib_info(path)["Integrity Size"] != "0"


def test_config_file_excludes_and_excepts(tree, tmp_path):
    (tree / "skip me").mkdir()
    (tree / "skip me" / "x.txt").write_text("x")
    (tree / "a.tmp").write_text("t")
    (tree / "keep.tmp").write_text("k")
    (tree / "pagefile.sys").write_text("p")
    config = tmp_path / "wimscript.ini"
    config.write_text("[ExclusionList]\n\\skip me\n*.tmp\n\n[ExclusionException]\n"
                      "\\keep.tmp\n", encoding="utf-16")
    path = tmp_path / "c.wim"
    dism.capture_image(tree, path, name="n", config_file=config)
    names = {entry.path for entry in dism.list_image(path, index=1)}
    assert "skip me" not in names and "a.tmp" not in names
    assert "keep.tmp" in names and "pagefile.sys" in names  # the file replaces DISM's list


def test_config_file_as_dism_writes_it(tree, tmp_path):
    """UTF-16 with a BOM, a relative pattern of two components (wimlib's
    own reader refuses it), a quoted name, an exception inside an excluded
    folder; an unknown section is refused before anything is written."""
    config = tmp_path / "WimScript.ini"
    config.write_text("[ExclusionList]\n\\Windows\\System32\nWindows\\*.bin\n"
                      "\"\\Ünïcødé ✓ 名前\"\n[ExclusionException]\n\\Windows\\System32\\drivers\n"
                      "[CompressionExclusionList]\n*.mp3\n", encoding="utf-16")
    path = tmp_path / "cfg.wim"
    dism.capture_image(tree, path, name="n", config_file=config)
    listed = wimlib_dir(path)
    assert "Windows\\System32\\drivers\\a.sys" in listed
    assert "Windows\\System32\\big.bin" not in listed and "Windows\\copy of big.bin" not in listed
    assert not any("Ünïcødé" in p for p in listed) and "readme.txt" in listed
    bad = tmp_path / "bad.ini"
    bad.write_text("[Exclusions]\n*.txt\n")
    with pytest.raises(dism.InvalidArgumentError, match=r"unknown section \[Exclusions\]"):
        dism.capture_image(tree, tmp_path / "bad.wim", name="n", config_file=bad)
    assert not (tmp_path / "bad.wim").exists()


def test_default_exclusions_are_dism_exes(tree, tmp_path):
    (tree / "pagefile.sys").write_text("p")
    (tree / "System Volume Information").mkdir()
    path = tmp_path / "d.wim"
    dism.capture_image(tree, path, name="n")
    names = {entry.path for entry in dism.list_image(path, index=1)}
    assert "pagefile.sys" not in names and "System Volume Information" not in names
    assert "readme.txt" in names


# --- info -------------------------------------------------------------------------

def test_get_wim_info_matches_wimlib(wim):
    info = dism.get_wim_info(wim)
    header = wimlib_info(wim)
    assert info.guid.bytes_le.hex() == header["GUID"]
    assert isinstance(info.guid, uuid.UUID)
    assert (info.image_count, info.part_number, info.total_parts) == (1, 1, 1)
    assert info.boot_index == 0 and not info.integrity and not info.read_only
    assert info.image_names == ("First",)
    assert os.path.samefile(info.path, wim)


# --- export -----------------------------------------------------------------------

def test_export_to_esd_and_back(tree, wim, tmp_path):
    esd = tmp_path / "install.esd"
    info = dism.export_image(wim, esd, index=1, compression="recovery")
    assert info.name == "First"
    assert dism.get_wim_info(esd).solid
    wimlib("verify", esd)
    back = tmp_path / "back.wim"
    dism.export_image(esd, back, name="First", compression="max")
    got = dism.get_wim_info(back)
    assert got.compression == dism.Compression.MAX and not got.solid
    wimlib("verify", back)
    assert tree_digest(applied(back, tmp_path / "out")) == tree_digest(tree)


def test_export_into_existing_appends_with_a_new_name(tree, wim, tmp_path):
    other = tmp_path / "other.wim"
    dism.capture_image(tree / "Windows", other, name="Win", compression="max")
    info = dism.export_image(wim, other, index=1, destination_name="Copied", bootable=True)
    assert info.index == 2 and info.name == "Copied"
    got = dism.get_wim_info(other)
    assert got.compression == dism.Compression.MAX and got.boot_index == 2
    assert wimlib_names(other) == ["Win", "Copied"]
    wimlib("verify", other)


def test_export_default_compression_for_a_new_file_is_fast(wim, tmp_path):
    dest = tmp_path / "d.wim"
    dism.export_image(wim, dest, index=1)
    assert dism.get_wim_info(dest).compression == dism.Compression.FAST


# --- split ------------------------------------------------------------------------

def test_split_and_apply_from_the_parts(tmp_path):
    tree = build_tree(tmp_path / "tree", payload=0)
    for n in range(4):
        (tree / f"random{n}.bin").write_bytes(os.urandom(700_000))
    wim = tmp_path / "install.wim"
    dism.capture_image(tree, wim, name="n", compression="none")
    parts = dism.split_image(wim, tmp_path / "install.swm", file_size_mb=1)
    assert len(parts) >= 2
    assert parts[0] == tmp_path / "install.swm"
    assert parts[1:] == [tmp_path / f"install{n}.swm" for n in range(2, len(parts) + 1)]
    assert all(part.exists() for part in parts)
    info = dism.get_wim_info(parts[1])
    assert (info.part_number, info.total_parts) == (2, len(parts))
    out = tmp_path / "out"
    out.mkdir()
    dism.apply_image(parts[0], out, index=1, swm_files=tmp_path / "install*.swm")
    assert tree_digest(out) == tree_digest(tree)
    wimlib("verify", parts[0], f"--ref={tmp_path}/install*.swm")


# --- delete and rename ------------------------------------------------------------

def test_delete_and_rename(tree, wim):
    dism.capture_image(tree, wim, name="Second", append=True)
    dism.capture_image(tree, wim, name="Third", append=True)
    dism.delete_image(wim, name="Second")
    assert wimlib_names(wim) == ["First", "Third"]
    info = dism.set_image_info(wim, index=2, new_name="Renamed", description="new words",
                               display_name="Shown", flags="Professional")
    assert (info.index, info.name, info.description) == (2, "Renamed", "new words")
    assert wimlib_names(wim) == ["First", "Renamed"]
    xml = wimlib_xml(wim)
    assert "Shown" in xml and "Professional" in xml
    wimlib("verify", wim)
    dism.delete_image(wim, index=1)
    assert dism.get_wim_info(wim).image_names == ("Renamed",)


# --- listing and extraction ---------------------------------------------------------

def test_list_image_gives_files_with_times_and_flags(tree, wim):
    files = {entry.path: entry for entry in dism.list_image(wim, index=1)}
    big = files["Windows\\System32\\big.bin"]
    assert big.size == (tree / "Windows" / "System32" / "big.bin").stat().st_size
    assert not big.is_directory and big.name == "big.bin"
    assert big.modified is not None and big.modified.tzinfo is not None
    assert abs(big.modified.timestamp()
               - (tree / "Windows" / "System32" / "big.bin").stat().st_mtime) < 2
    assert files["empty dir\\nested empty"].is_directory
    assert files["link to readme"].is_reparse_point
    assert "Ünïcødé ✓ 名前\\файл.txt" in files


def test_list_image_under_a_path(wim):
    below = [entry.path for entry in dism.list_image(wim, index=1, path="/Windows/System32")]
    assert sorted(below) == ["Windows\\System32", "Windows\\System32\\big.bin",
                             "Windows\\System32\\drivers", "Windows\\System32\\drivers\\a.sys"]
    with pytest.raises(dism.PathNotFoundError, match="nowhere"):
        dism.list_image(wim, index=1, path="\\nowhere")


def test_extract_files_and_directories(tree, wim, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    dism.extract_files(wim, ["\\readme.txt", "Windows\\System32", "Ünïcødé ✓ 名前/файл.txt"],
                       dest, index=1)
    assert (dest / "readme.txt").read_text() == "hello\n"
    assert ((dest / "System32" / "big.bin").read_bytes()
            == (tree / "Windows" / "System32" / "big.bin").read_bytes())
    assert (dest / "System32" / "drivers" / "a.sys").exists()
    assert (dest / "файл.txt").read_text(encoding="utf-8") == "кириллица\n"
    assert sorted(p.name for p in dest.iterdir()) == ["System32", "readme.txt", "файл.txt"]


def test_extract_never_writes_through_a_link_in_the_destination(wim, tmp_path):
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    os.symlink(outside, dest / "System32")
    with pytest.raises(dism.InvalidArgumentError, match="outside"):
        dism.extract_files(wim, "Windows\\System32", dest, index=1)
    assert list(outside.iterdir()) == []


def test_extract_never_writes_through_a_link_at_the_file_itself(wim, tmp_path):
    """A link already at the name a file lands as is refused too, not
    followed (extract_files' docstring: "not even through a link already
    there"), whether it points at a file outside or at nothing yet."""
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (outside / "victim").write_text("keep\n")
    os.symlink(outside / "victim", dest / "readme.txt")
    os.symlink(outside / "new", dest / "big.bin")
    for image_path in ("readme.txt", "Windows\\System32\\big.bin"):
        with pytest.raises(dism.InvalidArgumentError, match="outside"):
            dism.extract_files(wim, image_path, dest, index=1)
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    assert (outside / "victim").read_text() == "keep\n"


# --- the real WIMs --------------------------------------------------------------------

REAL_WIMS = sorted(REAL.glob("*.wim")) if REAL.is_dir() else []


@pytest.mark.skipif(not REAL_WIMS, reason="../shared/testdata/real is absent")
@pytest.mark.parametrize("source", REAL_WIMS, ids=lambda p: p.name)
def test_real_wims_export_and_apply_as_wimlib_does(source, tmp_path):
    count = dism.get_wim_info(source).image_count
    for index in range(1, count + 1):
        ours, theirs = tmp_path / f"ours{index}", tmp_path / f"theirs{index}"
        ours.mkdir()
        dism.apply_image(source, ours, index=index)
        wimlib("apply", source, index, theirs)
        assert tree_digest(ours) == tree_digest(theirs)
        for compression, suffix in (("max", "wim"), ("recovery", "esd")):
            dest = tmp_path / f"exported{index}.{suffix}"
            dism.export_image(source, dest, index=index, compression=compression)
            wimlib("verify", dest)
            again = tmp_path / f"again{index}{suffix}"
            again.mkdir()
            dism.apply_image(dest, again, index=1)
            assert tree_digest(again) == tree_digest(theirs)


def test_a_special_file_left_out_of_a_capture_is_a_warning(tree, tmp_path, caplog):
    # wimlib cannot store a FIFO in a WIM and leaves it out: never silently.
    os.mkfifo(tree / "a pipe")
    path = tmp_path / "fifo.wim"
    with caplog.at_level("WARNING", logger="dism.imaging"):
        dism.capture_image(tree, path, name="n")
    warned = [record.getMessage() for record in caplog.records if "a pipe" in record.getMessage()]
    assert len(warned) == 1, caplog.text
    assert "a pipe" not in wimlib_dir(path)
