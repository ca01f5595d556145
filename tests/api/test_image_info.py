"""DismGetImageInfo through dism.get_image_info, on WIMs built by wimlib here
and on WIMs written by Microsoft's own imagex."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import dism
from dism.testing import WindowsImageSpec, build_wim

from support import SHARED_REAL


def test_every_field_of_a_windows_shaped_image(sample_wim):
    images = dism.get_image_info(sample_wim)
    assert [i.index for i in images] == [1, 2, 3]
    pro = images[0]
    assert pro.name == "Windows 10 Pro"
    assert pro.image_type is dism.ImageType.WIM
    assert pro.edition == "Professional"
    assert pro.product_name == "Windows 10 Pro"
    assert pro.installation_type == "Client"
    assert pro.architecture is dism.Architecture.AMD64
    assert pro.version == dism.Version(10, 0, 19045, 0, 0)
    assert str(pro.version) == "10.0.19045.0"
    assert pro.languages == ("en-US",) and pro.default_language == "en-US"
    assert pro.hal == "acpiapic"
    assert pro.product_type == "WinNT"
    assert pro.product_suite == "Terminal Server"
    assert pro.system_root == "WINDOWS"
    assert pro.bootable is dism.ImageBootable.NO
    assert pro.size > 0
    assert pro.directory_count >= 5 and pro.file_count >= 5
    now = dt.datetime.now(dt.timezone.utc)
    assert abs(now - pro.created) < dt.timedelta(hours=1)
    assert pro.modified >= pro.created


def test_languages_default_and_architecture_differ_per_image(sample_wim):
    _, enterprise, named_one = dism.get_image_info(sample_wim)
    assert enterprise.edition == "Enterprise"
    assert set(enterprise.languages) == {"en-US", "de-DE"}
    assert enterprise.default_language == "de-DE"
    assert named_one.name == "1" and named_one.index == 3
    assert named_one.architecture is dism.Architecture.ARM64
    assert named_one.edition == "Education"


def test_boot_index_marks_the_bootable_image(tmp_path):
    specs = [WindowsImageSpec(name="Setup"), WindowsImageSpec(name="PE", installation_type="WindowsPE")]
    wim = build_wim(tmp_path / "boot.wim", specs, boot_index=2)
    setup, pe = dism.get_image_info(wim)
    assert setup.bootable is dism.ImageBootable.NO
    assert pe.bootable is dism.ImageBootable.YES
    assert pe.installation_type == "WindowsPE"


def test_old_windows_version_and_service_pack(tmp_path):
    spec = WindowsImageSpec(name="Win7", major=6, minor=1, build=7601, sp_build=1130, sp_level=1,
                            architecture="x86")
    (info,) = dism.get_image_info(build_wim(tmp_path / "w7.wim", [spec], compression="none"))
    assert info.version == dism.Version(6, 1, 7601, 1130, 1)
    assert info.architecture is dism.Architecture.X86


def test_accepts_pathlike_and_str(sample_wim):
    assert dism.get_image_info(str(sample_wim)) == dism.get_image_info(Path(sample_wim))


def test_missing_file_is_a_typed_error(tmp_path):
    with pytest.raises(dism.PathNotFoundError) as e:
        dism.get_image_info(tmp_path / "nope.wim")
    assert isinstance(e.value, FileNotFoundError)
    assert e.value.hresult == 0x80070002
    assert "nope.wim" in str(e.value) and str(e.value).startswith("[0x80070002]")


def test_a_file_that_is_not_a_wim(tmp_path):
    bogus = tmp_path / "bogus.wim"
    bogus.write_bytes(b"this is not a WIM file" * 100)
    with pytest.raises(dism.DismError) as e:
        dism.get_image_info(bogus)
    assert e.value.hresult == 0x8007000B  # HRESULT_FROM_WIN32(ERROR_BAD_FORMAT)
    assert "magic" in e.value.message or "WIM" in e.value.message


def test_truncated_wim_is_an_error_not_a_crash(sample_wim, tmp_path):
    cut = tmp_path / "cut.wim"
    cut.write_bytes(Path(sample_wim).read_bytes()[:300])
    with pytest.raises(dism.DismError):
        dism.get_image_info(cut)


def test_vhd_is_not_supported_by_the_portable_engine(tmp_path):
    vhd = tmp_path / "disk.vhdx"
    vhd.write_bytes(b"\0" * 512)
    with pytest.raises(dism.NotSupportedError) as e:
        dism.get_image_info(vhd)
    assert e.value.hresult == 0x80070032


def test_error_is_an_oserror_with_unsigned_hresult(tmp_path):
    with pytest.raises(OSError) as e:
        dism.get_image_info(tmp_path / "missing.wim")
    assert isinstance(e.value, dism.DismError)
    assert 0 <= e.value.hresult <= 0xFFFFFFFF


# ---- WIMs written by other tools -----------------------------------------

def real(name: str) -> Path:
    path = SHARED_REAL / name
    if not path.exists():
        pytest.skip(f"real test data not available ({path})")
    return path


@pytest.mark.parametrize("name", ["sevenzipjbinding__archive1.zip.0.wim",   # LZX
                                  "sevenzipjbinding__archive1.zip.1.wim",   # XPRESS
                                  "sevenzipjbinding__archive1.zip.2.wim"])  # none, chunk size 0
def test_wims_written_by_microsoft_imagex(name):
    (info,) = dism.get_image_info(real(name))
    assert info.name == "Multiple_files_test__archive1.zip"
    assert info.directory_count == 31
    assert info.file_count == 252
    assert info.size == 23646
    # A data-only capture: no WINDOWS element, so nothing is invented.
    assert info.architecture is dism.Architecture.UNKNOWN
    assert info.edition is None and info.product_name is None
    assert info.version == dism.Version(0, 0, 0, 0, 0)
    assert info.languages == () and info.default_language is None
    assert info.bootable is dism.ImageBootable.NO


def test_multi_image_wim_with_integrity_table():
    images = dism.get_image_info(real("ManagedWimLib__MultiImage.wim"))
    assert [(i.index, i.name) for i in images] == [(1, "Base"), (2, "Changes"), (3, "Delta")]
    assert [i.file_count for i in images] == [3, 3, 4]
