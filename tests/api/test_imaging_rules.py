"""The pure rules of dism.imaging, without a WIM: DISM's compression names,
the WimScript.ini exclusions, the image XML read into ImageInfo and edited,
FILETIMEs, and the names refused before an apply or extraction."""
from __future__ import annotations

import datetime as dt

import pytest

import dism
from dism.imaging import _xml
from dism.imaging._config import CaptureConfig
from dism.imaging._wim import natural_key, relative
from dism.imaging.read import unsafe_reason
from dism.imaging.types import filetime


@pytest.mark.parametrize("text, member", [
    ("none", dism.Compression.NONE), ("Fast", dism.Compression.FAST),
    ("MAX", dism.Compression.MAX), ("maximum", dism.Compression.MAX),
    ("recovery", dism.Compression.RECOVERY), ("lzx", dism.Compression.LZX),
    (dism.Compression.LZMS, dism.Compression.RECOVERY)])
def test_compression_names(text, member):
    assert dism.Compression.parse(text) is member


@pytest.mark.parametrize("bad", ["zip", "", 2, None])
def test_unknown_compression_names_the_choices(bad):
    with pytest.raises(ValueError, match="'none', 'fast', 'max', 'recovery'"):
        dism.Compression.parse(bad)


def test_wimlib_values_are_wimgapis():
    assert [int(c) for c in (dism.Compression.NONE, dism.Compression.FAST,
                             dism.Compression.MAX, dism.Compression.RECOVERY)] == [0, 1, 2, 3]
    assert dism.Compression.MAX.dism_name == "max"


def test_config_sections_and_patterns():
    config = CaptureConfig.parse(
        "; comment\n[ExclusionList]\n\\pagefile.sys\n*.tmp\n\"\\System Volume Information\"\n"
        "logs\\*.log\n\n[ExclusionException]\n\\keep\\*.tmp\n"
        "[CompressionExclusionList]\n*.zip\n")
    assert not config.keeps("pagefile.sys")
    assert config.keeps("sub\\pagefile.sys")          # anchored at the root
    assert not config.keeps("a\\b\\x.TMP")             # case ignored, any depth
    assert config.keeps("keep\\x.tmp")                 # the exception wins
    assert not config.keeps("System Volume Information")
    assert not config.keeps("var\\logs\\a.log") and config.keeps("logs\\sub\\a.log")
    assert config.keeps("x.zip") and config.keeps("")


def test_default_config_is_dism_exes_list():
    config = CaptureConfig.default()
    assert not config.keeps("hiberfil.sys") and not config.keeps("Windows\\CSC")
    assert config.keeps("Windows\\System32")


@pytest.mark.parametrize("text", ["[Nonsense]\nx\n", "x\n"])
def test_config_errors_say_where(text):
    with pytest.raises(ValueError, match="line 1"):
        CaptureConfig.parse(text)


def test_config_relative_patterns_may_hold_several_components():
    # DISM's "myfolder\*.txt"; wimlib's own reader refuses it.
    config = CaptureConfig.parse("[ExclusionList]\nSystem32\\*.dll\n")
    assert not config.keeps("Windows\\System32\\a.DLL") and not config.keeps("System32\\b.dll")
    assert config.keeps("Windows\\System32\\a.sys") and config.keeps("System32x\\a.dll")
    assert config.keeps("Windows\\System32\\sub\\a.dll")  # * stays within one component


def test_config_exception_inside_an_excluded_folder_keeps_the_way_to_it():
    config = CaptureConfig.parse("[ExclusionList]\n\\Windows\\System32\n"
                                 "[ExclusionException]\n\\Windows\\System32\\drivers\n")
    # The folder stays (a False for a folder would skip the exception too),
    # but what it holds besides the exception is left out.
    assert config.keeps("Windows\\System32") and config.keeps("Windows")
    assert not config.keeps("Windows\\System32\\a.dll")
    assert not config.keeps("Windows\\System32\\other\\b.dll")
    assert config.keeps("Windows\\System32\\drivers")
    assert config.keeps("Windows\\System32\\DRIVERS\\x.sys")


def test_config_star_dot_star_drive_and_a_lone_backslash():
    config = CaptureConfig.parse("[ExclusionList]\n\\cache\\*.*\nC:\\scratch\n\\\n")
    assert not config.keeps("cache\\no extension") and config.keeps("cache")
    assert not config.keeps("scratch") and not config.keeps("scratch\\deep\\file")
    assert config.keeps("sub\\scratch") and config.keeps("other")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8", "utf-8-sig"])
def test_config_files_in_dism_encodings(tmp_path, encoding):
    path = tmp_path / "WimScript.ini"
    path.write_text("[ExclusionList]\n\"\\Ünïcødé ✓ 名前\"\n", encoding=encoding)
    config = CaptureConfig.load(str(path))
    assert not config.keeps("ünïcødé ✓ 名前\\файл.txt") and config.keeps("readme.txt")


WIM_XML = """\ufeff<WIM><TOTALBYTES>9</TOTALBYTES>
<IMAGE INDEX="2"><NAME>Two</NAME><TOTALBYTES>5</TOTALBYTES></IMAGE>
<IMAGE INDEX="1"><DIRCOUNT>3</DIRCOUNT><FILECOUNT>7</FILECOUNT><TOTALBYTES>123</TOTALBYTES>
<CREATIONTIME><HIGHPART>0x01D4C09E</HIGHPART><LOWPART>0xE35BD26F</LOWPART></CREATIONTIME>
<WINDOWS><ARCH>9</ARCH><PRODUCTNAME>Windows 10 Pro</PRODUCTNAME><EDITIONID>Professional</EDITIONID>
<LANGUAGES><LANGUAGE>en-US</LANGUAGE><LANGUAGE>de-DE</LANGUAGE><DEFAULT>en-US</DEFAULT></LANGUAGES>
<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>19041</BUILD><SPBUILD>1</SPBUILD></VERSION>
<SYSTEMROOT>WINDOWS</SYSTEMROOT></WINDOWS>
<NAME>One</NAME><DESCRIPTION>First</DESCRIPTION></IMAGE></WIM>"""


def test_xml_names_in_index_order():
    assert _xml.image_names(WIM_XML) == [(1, "One"), (2, "Two")]


def test_xml_as_image_info():
    one, two = (_xml.image_info(image, boot_index=2) for image in _xml.images(WIM_XML))
    assert (one.index, one.name, one.description, one.size) == (1, "One", "First", 123)
    assert one.architecture == dism.Architecture.AMD64 and one.edition == "Professional"
    assert str(one.version) == "10.0.19041.1" and one.languages == ("en-US", "de-DE")
    assert one.default_language == "en-US" and one.bootable == dism.ImageBootable.NO
    assert (one.directory_count, one.file_count) == (3, 7)
    assert one.created == dt.datetime(2019, 2, 9, 17, 42, 55, 239844, tzinfo=dt.timezone.utc)
    assert two.bootable == dism.ImageBootable.YES
    assert two.architecture == dism.Architecture.UNKNOWN and two.created is None


def test_xml_edit_sets_and_adds_in_order():
    edited = _xml.edit_image('<IMAGE INDEX="1"><NAME>a</NAME><DIRCOUNT>1</DIRCOUNT></IMAGE>',
                             {"NAME": "b", "DESCRIPTION": "", "FLAGS": "Pro",
                              "DISPLAYNAME": None})
    assert edited == ('<IMAGE INDEX="1"><NAME>b</NAME><DIRCOUNT>1</DIRCOUNT>'
                      '<DESCRIPTION /><FLAGS>Pro</FLAGS></IMAGE>')


def test_filetime():
    assert filetime(0) is None
    assert filetime(116444736000000000) == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("reported, root, expected", [
    ("\\Windows\\System32\\", None, "Windows\\System32"),
    ("/tmp/t/Windows/x", "/tmp/t", "Windows\\x"), ("/tmp/t", "/tmp/t", ""),
    ("C:\\target\\a", "C:\\target", "a"), ("\\\\evil", None, "\\evil")])
def test_relative_paths(reported, root, expected):
    assert relative(reported, root) == expected


def test_split_parts_sort_naturally():
    parts = ["x10.swm", "x2.swm", "x.swm", "x3.swm"]
    assert sorted(parts, key=natural_key) == ["x.swm", "x2.swm", "x3.swm", "x10.swm"]


@pytest.mark.parametrize("path", ["Windows\\System32\\drivers\\a.sys", "ünï ✓\\名前.txt",
                                  "a..b", "...x"])
def test_safe_names(path):
    assert unsafe_reason(dism.ImageFile(path, 0, 0, None, None, None), set()) is None


def test_unchanged_puts_back_length_and_header(tmp_path):
    """What keeps an existing WIM byte-identical after WIMGAPI on Windows
    (which appends, then rewrites the header): the old length and header."""
    from dism.imaging._wim import Unchanged, keep_existing
    path = tmp_path / "x.wim"
    original = b"MSWIM\0\0\0" + bytes(range(200)) + b"resources" * 1000
    path.write_bytes(original)
    with pytest.raises(KeyboardInterrupt):
        with keep_existing(str(path)):
            with open(path, "r+b") as stream:
                stream.seek(0, 2)
                stream.write(b"appended blobs, lookup table and XML")
                stream.seek(0)
                stream.write(b"MSWIM\0\0\0NEW HEADER")
            raise KeyboardInterrupt
    assert path.read_bytes() == original
    guard = Unchanged(str(path))
    assert guard.intact() and guard.restore() is False


def test_remove_on_failure_only_on_failure(tmp_path):
    from dism.imaging._wim import remove_on_failure
    made = tmp_path / "new.wim"
    with remove_on_failure(lambda: [str(made)]):
        made.write_bytes(b"kept")
    assert made.exists()
    with pytest.raises(RuntimeError):
        with remove_on_failure(lambda: [str(made), str(tmp_path / "never made")]):
            raise RuntimeError
    assert not made.exists()
