"""The portable engine's WIMGAPI (src/engine/imaging/) through its C API:
capture, apply, listing, export (WIM <-> ESD), split, delete, information,
boot index, integrity, reference files and the error codes, on WIMs built
at test time and on the real WIMs in ../shared/testdata/real, cross-checked
with wimlib-imagex."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from support import SHARED_REAL
from support.imaging import tree_digest, wimlib
from support.wimgapi import (ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_BAD_FORMAT,
                             ERROR_FILE_CORRUPT, ERROR_FILE_EXISTS, ERROR_FILE_NOT_FOUND,
                             ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, ERROR_MORE_DATA,
                             ERROR_NOT_SUPPORTED, WIM_EXPORT_ALLOW_DUPLICATES,
                             WIM_FLAG_APPLY_COMPACT, WIM_FLAG_CHUNKED, WIM_FLAG_FILEINFO,
                             WIM_FLAG_NO_APPLY, WIM_FLAG_VERIFY, WIM_FLAG_WIM_BOOT,
                             WIM_REFERENCE_APPEND, Engine, build_check_program, capture_script,
                             error_code, make_tree, wim_dir, wim_info, wim_verify)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(build_check_program(tmp_path_factory.mktemp("wimgapi")))


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return make_tree(tmp_path_factory.mktemp("tree") / "src")


@pytest.fixture
def wim(engine, tree, tmp_path) -> Path:
    path = tmp_path / "base.wim"
    assert engine.results(capture_script(path, tree)) == ["OK created", "OK", "OK", "OK", "OK"]
    return path


def real(name: str) -> Path:
    path = SHARED_REAL / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def test_capture_then_apply_gives_the_same_tree(engine, tree, wim, tmp_path):
    wim_verify(wim)
    info = wim_info(wim)
    assert "Image Count:    1" in info and "Name:                   Base" in info
    assert "Compression:    LZX" in info
    out = tmp_path / "applied"
    assert engine.results(f"open w {wim} r existing 0 0\nload i w 1\napply i {out} 0\n"
                          "close i\nclose w\n") == ["OK opened", "OK", "OK", "OK", "OK"]
    assert tree_digest(out) == tree_digest(tree)
    # Hard links stay one file; identical data is stored once.
    assert os.stat(out / "hardlink-target.txt").st_ino == os.stat(out / "hardlink-other.txt").st_ino
    assert "/Ünïcødé ☃ dir/日本語.txt" in wim_dir(wim)


def test_append_then_apply_each_image(engine, tree, wim, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "only-in-two.txt").write_text("two\n")
    before = wim.stat().st_size
    lines = engine.results(f"open w {wim} w existing 0 0\ncapture i w {other} 0\n"
                           "setinfo i <IMAGE><NAME>Two</NAME></IMAGE>\nclose i\ncount w\n"
                           "close w\n")
    assert lines == ["OK opened", "OK", "OK", "OK", "OK 2", "OK"]
    assert wim.stat().st_size > before
    wim_verify(wim)
    assert wim_dir(wim, 2) == ["/", "/only-in-two.txt"]
    out = tmp_path / "two"
    engine.results(f"open w {wim} r existing 0 0\nload i w 2\napply i {out} 0\nclose i\nclose w\n")
    assert tree_digest(out) == {"only-in-two.txt": tree_digest(other)["only-in-two.txt"]}


def test_listing_without_applying(engine, wim, tmp_path):
    out = engine.run(f"open w {wim} r existing 0 0\nload i w 1\ncallback i log\n"
                     f"apply i - {WIM_FLAG_NO_APPLY | WIM_FLAG_FILEINFO}\nclose i\nclose w\n")
    processed = [line.split(" ", 2)[2].rsplit(" ", 1)[0] for line in out
                 if line.startswith("MSG PROCESS")]
    assert processed == wim_dir(wim)
    infos = {line.split()[2]: line for line in out if line.startswith("MSG FILEINFO")}
    assert "size=3145728" in infos["/big.bin"]
    assert "attr=16" in infos["/Windows"]
    assert re.search(r"mtime=1\d{17}", infos["/notes.txt"])  # a FILETIME of this century


def test_apply_skips_what_process_refuses(engine, wim, tree, tmp_path):
    out = tmp_path / "partial"
    lines = engine.results(f"open w {wim} r existing 0 0\nload i w 1\ncallback i skip:System32\n"
                           f"apply i {out} 0\nclose i\nclose w\n")
    assert lines[-3:] == ["OK", "OK", "OK"]
    got = tree_digest(out)
    assert "Windows/System32" not in got and not any("a.dll" in p for p in got)
    assert got["notes.txt"] == tree_digest(tree)["notes.txt"]
    assert got["empty/nested-empty"] == ("dir", "")


def test_capture_skips_what_process_refuses(engine, tree, tmp_path):
    path = tmp_path / "skip.wim"
    lines = engine.results(f"open w {path} w new 0 1\ncallback w skip:drivers\n"
                           f"capture i w {tree} 0\nclose i\nclose w\n")
    assert lines == ["OK created", "OK 0", "OK", "OK", "OK"]
    listed = wim_dir(path)
    assert "/Windows/System32" in listed and not any("drivers" in p for p in listed)


def test_set_and_get_image_information(engine, wim):
    xml = ("<IMAGE><NAME>Renamed</NAME><DESCRIPTION>A &amp; B</DESCRIPTION><FLAGS>Pro</FLAGS>"
           "<DISPLAYNAME>Shown</DISPLAYNAME><DISPLAYDESCRIPTION>Long</DISPLAYDESCRIPTION></IMAGE>")
    lines = engine.results(f"open w {wim} w existing 0 0\nload i w 1\nsetinfo i {xml}\n"
                           "getinfo i\nclose i\ngetinfo w\nclose w\n")
    assert lines[2] == "OK"
    image_xml, wim_xml = lines[3], lines[5]
    assert "bom=1" in image_xml and '<IMAGE INDEX="1">' in image_xml
    assert "<NAME>Renamed</NAME>" in image_xml and "A &amp; B" in image_xml
    assert wim_xml.split(" ", 4)[4].startswith("<WIM>")
    info = wimlib("info", str(wim), "1").stdout
    for want in ("Renamed", "A & B", "Pro", "Shown", "Long"):
        assert want in info
    # Through the WIM handle, and removing the description.
    engine.results(f"open w {wim} w existing 0 0\n"
                   'setinfo w <WIM><IMAGE INDEX="1"><NAME>Again</NAME></IMAGE></WIM>\nclose w\n')
    info = wimlib("info", str(wim), "1").stdout
    assert "Again" in info and "A & B" not in info
    wim_verify(wim)


def test_boot_index_and_attributes(engine, wim, tree, tmp_path, monkeypatch):
    engine.results(f"open w {wim} w existing 0 0\ncapture i w {tree} 0\nclose i\nclose w\n")
    monkeypatch.chdir(tmp_path)
    lines = engine.results(f"open w {wim.name} w existing 0 0\nboot w 2\nattrs w\nboot w 9\n"
                           "close w\n")
    assert lines[1] == "OK"
    assert f"path={wim} images=2 comp=2 part=1/1 boot=2" in lines[2]  # WimPath is absolute
    assert error_code(lines[3]) == ERROR_INVALID_PARAMETER
    assert "Boot Index:     2" in wim_info(wim)


def test_error_codes_come_with_sentences(engine, wim, tmp_path):
    not_wim = tmp_path / "not.wim"
    not_wim.write_text("hello")
    lines = engine.results(
        f"open a {tmp_path}/missing.wim r existing 0 0\n"
        f"open b {not_wim} r existing 0 0\n"
        f"open c {wim} w new 0 0\n"
        f"open w {wim} w existing 0 0\n"
        "load i w 2\n"
        "delete w 3\n"
        "delete w 1\n"
        "load i w 1\n"
        f"apply i {tmp_path}/x {WIM_FLAG_WIM_BOOT}\n"
        f"apply i {tmp_path}/x {WIM_FLAG_APPLY_COMPACT}\n"
        f"capture j w {tmp_path} {WIM_FLAG_WIM_BOOT}\n"
        "close w\n"
        "close i\n"
        "close i\n"
        "close w\n")
    codes = [error_code(line) for line in lines]
    assert codes == [ERROR_FILE_NOT_FOUND, ERROR_BAD_FORMAT, ERROR_FILE_EXISTS, None,
                     ERROR_INVALID_PARAMETER, ERROR_INVALID_PARAMETER, ERROR_ACCESS_DENIED,
                     None, ERROR_NOT_SUPPORTED, ERROR_NOT_SUPPORTED, ERROR_NOT_SUPPORTED,
                     170, None, ERROR_INVALID_HANDLE, None]
    for line in lines:
        if line.startswith("ERR"):
            assert len(line.split(" ", 2)[2]) > 30  # a sentence, not a bare code
    assert "missing.wim" in lines[0] and "not a WIM" in lines[1]


def test_the_last_error_belongs_to_the_last_call(engine, wim, tmp_path):
    lines = engine.results(f"open w {tmp_path}/missing.wim r existing 0 0\nlasterror\n"
                           f"open w {wim} r existing 0 0\nlasterror\nclose w\n")
    assert lines[1] == "OK 2 message" and lines[3] == "OK 0 null"


def test_read_only_handles_refuse_changes(engine, wim, tmp_path):
    lines = engine.results(f"open w {wim} r existing 0 0\ncapture i w {tmp_path} 0\n"
                           "delete w 1\nboot w 1\nclose w\n")
    assert [error_code(x) for x in lines[1:4]] == [ERROR_ACCESS_DENIED] * 3


def test_export_to_esd_and_back(engine, wim, tree, tmp_path):
    esd = tmp_path / "install.esd"
    lines = engine.results(f"open s {wim} r existing 0 0\nload i s 1\n"
                           f"open d {esd} w new {WIM_FLAG_CHUNKED} 3\nexport i d 0\n"
                           "export i d 0\nclose d\nclose i\nclose s\n")
    assert lines[3] == "OK"
    assert error_code(lines[4]) == ERROR_ALREADY_EXISTS and "ALLOW_DUPLICATES" in lines[4]
    info = wim_info(esd)
    assert "Compression:    LZMS" in info and "Version:        3584" in info  # solid
    wim_verify(esd)
    back = tmp_path / "back.wim"
    engine.results(f"open s {esd} r existing {WIM_FLAG_CHUNKED} 0\nload i s 1\n"
                   f"open d {back} w new 0 1\nexport i d 0\nclose d\nclose i\nclose s\n")
    assert "Compression:    XPRESS" in wim_info(back)
    out = tmp_path / "out"
    engine.results(f"open s {back} r existing 0 0\nload i s 1\napply i {out} 0\nclose i\n"
                   "close s\n")
    assert tree_digest(out) == tree_digest(tree)
    # A duplicate on purpose keeps both, with distinct names for wimlib.
    lines = engine.results(f"open s {wim} r existing 0 0\nload i s 1\nopen d {back} w existing 0 0\n"
                           f"export i d {WIM_EXPORT_ALLOW_DUPLICATES}\ncount d\nclose d\nclose i\n"
                           "close s\n")
    assert lines[3:5] == ["OK", "OK 2"]
    assert "Base (2)" in wim_info(back)


def test_split_query_parts_and_apply_from_parts(engine, wim, tree, tmp_path):
    part = tmp_path / "parts" / "install.swm"
    part.parent.mkdir()
    lines = engine.results(f"open w {wim} r existing 0 0\nsplit w {part} 0\nclose w\n")
    assert lines[1].startswith("SIZE ") and error_code(lines[2]) == ERROR_MORE_DATA
    minimum = int(lines[1].split()[1])
    assert 3 << 20 < minimum < 4 << 20  # the big random file is the largest resource
    lines = engine.run(f"open w {wim} r existing 0 0\ncallback w log\n"
                       f"split w {part} {minimum}\nclose w\n")
    assert "OK" in lines and any(line.startswith("MSG SPLIT") for line in lines)
    parts = sorted(part.parent.iterdir())
    assert [p.name for p in parts] == ["install.swm", "install2.swm"]
    wim_verify(parts[0], parts[1])
    out = tmp_path / "out"
    script = (f"open w {parts[0]} r existing 0 0\nref w {parts[1]} {WIM_REFERENCE_APPEND}\n"
              f"attrs w\nload i w 1\napply i {out} 0\nclose i\nclose w\n")
    lines = engine.results(script)
    assert "part=1/2" in lines[2] and lines[-3:] == ["OK", "OK", "OK"]
    assert tree_digest(out) == tree_digest(tree)
    # Without the other part the data is missing, and the sentence says what to do.
    lines = engine.results(f"open w {parts[0]} r existing 0 0\nload i w 1\n"
                           f"apply i {tmp_path}/out2 0\nclose i\nclose w\n")
    assert error_code(lines[2]) == ERROR_FILE_NOT_FOUND and "WIMSetReferenceFile" in lines[2]
    # Exporting from the parts needs them all too.
    whole = tmp_path / "joined.wim"
    lines = engine.results(f"open w {parts[0]} r existing 0 0\nref w {parts[1]} {WIM_REFERENCE_APPEND}\n"
                           f"load i w 1\nopen d {whole} w new 0 2\nexport i d 0\nclose d\nclose i\n"
                           "close w\n")
    assert lines[4] == "OK"
    wim_verify(whole)
    # A split part cannot be changed.
    lines = engine.results(f"open w {parts[0]} w existing 0 0\ndelete w 1\nclose w\n")
    assert error_code(lines[1]) == ERROR_NOT_SUPPORTED


def test_split_of_a_solid_wim_is_not_supported(engine, wim, tmp_path):
    esd = tmp_path / "x.esd"
    wimlib("export", str(wim), "1", str(esd), "--solid")
    lines = engine.results(f"open w {esd} r existing {WIM_FLAG_CHUNKED} 0\n"
                           f"split w {tmp_path}/x.swm 100000000\nclose w\n")
    assert error_code(lines[2]) == ERROR_NOT_SUPPORTED and "non-solid" in lines[2]
    assert not (tmp_path / "x.swm").exists()


def test_delete_is_soft_like_dism(engine, wim, tree, tmp_path):
    engine.results(f"open w {wim} w existing 0 0\ncapture i w {tree}/Windows 0\n"
                   "setinfo i <IMAGE><NAME>Second</NAME></IMAGE>\nclose i\nclose w\n")
    size = wim.stat().st_size
    assert engine.results(f"open w {wim} w existing 0 0\ndelete w 1\ncount w\nclose w\n") == \
        ["OK opened", "OK", "OK 1", "OK"]
    assert wim.stat().st_size >= size  # metadata only: the file data stays
    wim_verify(wim)
    assert "Name:                   Second" in wim_info(wim)


def test_integrity_table_written_and_checked(engine, tree, tmp_path):
    path = tmp_path / "checked.wim"
    engine.results(capture_script(path, tree, flags=WIM_FLAG_VERIFY))
    assert "Integrity info" in wim_info(path)
    lines = engine.results(f"open w {path} r existing 0 0\nattrs w\nclose w\n")
    assert "attr=12" in lines[1]  # VERIFY_DATA | RP_FIX
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF  # inside the big file's resource
    path.write_bytes(bytes(data))
    lines = engine.results(f"open w {path} r existing {WIM_FLAG_VERIFY} 0\nclose w\n")
    assert error_code(lines[0]) == ERROR_FILE_CORRUPT


def test_extract_one_path(engine, wim, tree, tmp_path):
    dest = tmp_path / "x.sys"
    lines = engine.results(f"open w {wim} r existing 0 0\nload i w 1\n"
                           f"extract i \\Windows\\System32\\drivers\\x.sys {dest}\n"
                           f"extract i Windows/nothing.here {tmp_path}/y\n"
                           f"extract i WINDOWS\\system32\\A.DLL {tmp_path}/a.dll\nclose i\nclose w\n")
    assert lines[2] == "OK" and error_code(lines[3]) == 3
    assert lines[4] == "OK"  # image paths are case-insensitive, as on Windows
    assert (tmp_path / "a.dll").read_bytes() == (tree / "Windows" / "System32" / "a.dll").read_bytes()
    assert dest.read_bytes() == (tree / "Windows" / "System32" / "drivers" / "x.sys").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dll", "base.wim", "x.sys"]


def test_message_callbacks_registration(engine, wim, tmp_path):
    lines = engine.run(f"callback - log\ncallbacks -\nopen w {wim} r existing 0 0\n"
                       "callback w log\ncallbacks w\nload i w 1\n"
                       f"apply i {tmp_path}/o 0\nunregister w\ncallbacks w\nunregister -\n"
                       "callbacks -\nclose i\nclose w\n")
    results = [x for x in lines if x.startswith(("OK", "ERR"))]
    assert results[:2] == ["OK 0", "OK 1"] and results[3] == "OK 0" and results[4] == "OK 1"
    assert "OK 0" == results[8] == results[10]
    progress = [x for x in lines if x.startswith("MSG PROGRESS")]
    assert progress[-2:] == ["MSG PROGRESS 100 0"] * 2  # both callbacks heard it


@pytest.mark.parametrize("name", ["sevenzipjbinding__archive1.zip.0.wim",
                                  "sevenzipjbinding__archive1.zip.1.wim",
                                  "sevenzipjbinding__archive1.zip.2.wim"])
def test_real_microsoft_wims_apply_like_wimlib(engine, tmp_path, name):
    source = real(name)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    lines = engine.results(f"open w {source} r existing 0 0\nload i w 1\napply i {ours} 0\n"
                           "close i\nclose w\n")
    assert lines == ["OK opened", "OK", "OK", "OK", "OK"]
    wimlib("apply", str(source), "1", str(theirs))
    assert tree_digest(ours) == tree_digest(theirs)
    assert len(tree_digest(ours)) == 283  # 284 entries with the root


def test_real_microsoft_wim_warns_what_linux_cannot_hold(engine, tmp_path):
    source = real("sevenzipjbinding__archive1.zip.0.wim")
    lines = engine.run(f"open w {source} r existing 0 0\nload i w 1\ncallback i log\n"
                       f"apply i {tmp_path}/o 0\nclose i\nclose w\n")
    warned = {line.split()[2] for line in lines if line.startswith("MSG WARNING")}
    # imagex wrote Windows security descriptors on every file.
    assert len(warned) == 284 and all(w.startswith(f"{tmp_path}/o") for w in warned)
    quiet = engine.run(f"open w {source} r existing 0 0\nload i w 1\ncallback i log\n"
                       f"apply i {tmp_path}/p 48\nclose i\nclose w\n")  # NO_DIRACL|NO_FILEACL
    # Without ACLs asked for, the short names imagex recorded are what is lost.
    assert sum(line.startswith("MSG WARNING") for line in quiet) == 241


def test_real_multi_image_wim_with_integrity_exports(engine, tmp_path):
    source = real("ManagedWimLib__MultiImage.wim")
    dest = tmp_path / "two.wim"
    lines = engine.results(f"open s {source} r existing {WIM_FLAG_VERIFY} 0\nattrs s\nload i s 2\n"
                           f"open d {dest} w new 0 2\nexport i d 0\nclose d\nclose i\nclose s\n")
    assert "images=3" in lines[1] and "attr=12" in lines[1] and lines[4] == "OK"
    wim_verify(dest)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    engine.results(f"open w {dest} r existing 0 0\nload i w 1\napply i {ours} 0\nclose i\n"
                   "close w\n")
    wimlib("apply", str(source), "2", str(theirs))
    assert tree_digest(ours) == tree_digest(theirs)
    assert "Name:                   Changes" in wim_info(dest)


def test_scan_errors_reach_the_error_message(engine, tmp_path):
    """An unreadable folder (as an unprivileged user) is WIM_MSG_ERROR;
    WIM_MSG_SKIP_ERROR leaves it out and the capture goes on."""
    import shutil
    import subprocess
    import tempfile
    box = Path(tempfile.mkdtemp(prefix="wimgapi-nobody-"))
    try:
        box.chmod(0o755)
        program = box / "wimgapi_check"
        shutil.copy(engine.program, program)
        src = box / "src"
        (src / "locked").mkdir(parents=True)
        (src / "locked" / "secret.txt").write_text("x")
        (src / "open.txt").write_text("y")
        (src / "locked").chmod(0o000)
        out = box / "out"
        out.mkdir()
        shutil.chown(out, "nobody")
        def as_nobody(script: str) -> list[str]:
            done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                   str(program)], input=script, capture_output=True, text=True,
                                  timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout.splitlines()
        failed = as_nobody(f"open w {out}/a.wim w new 0 1\ncallback w log\ncapture i w {src} 0\n"
                           "close w\n")
        assert any(line.startswith(f"MSG ERROR {src}/locked") for line in failed), failed
        assert error_code([x for x in failed if x.startswith(("OK", "ERR"))][2]) == 5
        skipped = as_nobody(f"open w {out}/b.wim w new 0 1\ncallback w skiperror\n"
                            f"capture i w {src} 0\nclose i\nclose w\n")
        assert [x for x in skipped if x.startswith(("OK", "ERR"))][2] == "OK", skipped
        assert wim_dir(out / "b.wim") == ["/", "/open.txt"]
    finally:
        (box / "src" / "locked").chmod(0o755)
        shutil.rmtree(box)


def test_relative_paths_are_taken_from_the_working_directory(engine, tree, tmp_path, monkeypatch):
    """Every path argument is made absolute against the working directory,
    with "." and ".." dropped: the WIM, the folder captured, the apply
    target and the extract destination."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    monkeypatch.chdir(work)
    source = os.path.relpath(tree, work)
    lines = engine.results(f"open w ./sub/../new.wim w new 0 0\ncapture i w sub/../{source} 0\n"
                           "close i\nload j w 1\napply j sub/./out 0\n"
                           "extract j /notes.txt ./sub/../one.txt\nclose j\nattrs w\nclose w\n")
    assert lines[:7] == ["OK created", "OK", "OK", "OK", "OK", "OK", "OK"], lines
    assert f"path={work}/new.wim " in lines[7], lines
    wim_verify(work / "new.wim")
    assert tree_digest(work / "sub" / "out") == tree_digest(tree)
    assert (work / "one.txt").read_text() == "plain text\n"


def test_temporary_path_must_be_an_existing_folder(engine, wim, tmp_path):
    """WIMSetTemporaryPath takes an existing folder; a missing path or a
    file is ERROR_PATH_NOT_FOUND (3), a closed handle ERROR_INVALID_HANDLE."""
    (tmp_path / "a-file").write_text("x")
    lines = engine.results(f"open w {wim} r existing 0 0\ntemp w {tmp_path}\n"
                           f"temp w {tmp_path}/missing\ntemp w {tmp_path}/a-file\nclose w\n"
                           f"temp w {tmp_path}\n")
    assert lines[1] == "OK", lines
    assert [error_code(line) for line in lines[2:4]] == [3, 3], lines
    assert "not an existing folder" in lines[2], lines
    assert error_code(lines[5]) == ERROR_INVALID_HANDLE, lines
