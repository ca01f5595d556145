"""What the engine says when an image's files are not where its registry
says: a driver the driver database publishes whose INF is gone from the
driver store, and a missing registry hive; the local paths in those
sentences are POSIX paths throughout (no backslash glued to them)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import dism
from dism.testing import build_windows_tree, sample_servicing_spec

STORE = "Windows/System32/DriverStore/FileRepository"
NET_FOLDER = "contosonet.inf_amd64_0123456789abcdef"


@pytest.fixture
def tree(tmp_path) -> Path:
    return build_windows_tree(tmp_path / "image", sample_servicing_spec())


def without_oem1(tree: Path) -> Path:
    """Deletes oem1.inf's store folder and its published copy in Windows/INF;
    returns where its INF should be."""
    shutil.rmtree(tree / STORE / NET_FOLDER)
    (tree / "Windows/INF/oem1.inf").unlink()
    return tree / STORE / NET_FOLDER / "contosonet.inf"


def test_a_published_driver_whose_inf_is_gone_is_named_as_published(tree):
    expected = without_oem1(tree)
    with dism.Session(tree) as session:
        assert "oem1.inf" in [p.published_name for p in session.get_drivers()]
        with pytest.raises(dism.PathNotFoundError) as caught:
            session.get_driver_info("oem1.inf")
    assert caught.value.hresult == 0x80070002
    message = caught.value.message
    assert message.startswith("DismGetDriverInfo: the driver 'oem1.inf' (contosonet.inf, "
                              f"driver store folder {NET_FOLDER}) is published in the image")
    assert f"its INF is missing from the driver store: '{expected}' does not exist" in message
    assert "no driver is published" not in message


def test_a_published_driver_whose_folder_links_out_of_the_image_says_so(tree, tmp_path):
    expected = without_oem1(tree)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "contosonet.inf").write_text("[Version]\n")
    (tree / STORE / NET_FOLDER).symlink_to(outside, target_is_directory=True)
    with dism.Session(tree) as session:
        with pytest.raises(dism.PathNotFoundError) as caught:
            session.get_driver_info("OEM1.INF")
    assert f"'{expected}' leads out of the image through a link" in caught.value.message


def test_a_name_no_driver_is_published_as_still_says_that(tree):
    with dism.Session(tree) as session:
        with pytest.raises(dism.PathNotFoundError) as caught:
            session.get_driver_info("oem9.inf")
    assert caught.value.hresult == 0x80070002
    assert "no driver is published as 'oem9.inf' in the image" in caught.value.message


def test_a_missing_hive_is_named_by_a_posix_path(tree):
    (tree / "Windows/System32/config/SOFTWARE").unlink()
    with dism.Session(tree) as session:
        with pytest.raises(dism.PathNotFoundError) as caught:
            session.get_features()
    message = caught.value.message
    assert f"the image has no SOFTWARE registry hive ({tree}/Windows/System32/config/SOFTWARE)" \
        in message
    assert "\\" not in message


def test_a_folder_without_windows_is_described_with_posix_separators(tmp_path):
    with pytest.raises(dism.PathNotFoundError) as caught:
        dism.Session(tmp_path)
    assert "directory with System32/config was found in it" in caught.value.message
    assert "\\" not in caught.value.message
