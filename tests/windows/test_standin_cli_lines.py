"""DISM.exe lines through the CLI on the Windows build, against the stand-in
DismApi.dll (run by scripts/test-windows.sh): what only a DLL that carries
out writes can show on this machine."""
from __future__ import annotations

from dism.cli import main
from support.windows import system32_dismapi_is_standin

CBS_E_NOT_APPLICABLE = "fail:800F081E"   # the stand-in fails a call whose subject asks it


def test_every_value_of_a_repeated_option_is_acted_on_in_order(tmp_path, capsys):
    assert system32_dismapi_is_standin()
    image = tmp_path / "image"
    image.mkdir()
    code = main([f"/Image:{image}", "/Remove-Capability", "/CapabilityName:First",
                 "/CapabilityName:Second"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "capability 1 of 2 - First" in out and "capability 2 of 2 - Second" in out
    assert out.index("First") < out.index("Second")


def test_a_failure_part_way_says_which_values_were_done_and_stops(tmp_path, capsys):
    image = tmp_path / "image"
    image.mkdir()
    code = main([f"/Image:{image}", "/Remove-Package", "/PackageName:First",
                 f"/PackageName:{CBS_E_NOT_APPLICABLE}", "/PackageName:Never"])
    out, err = capsys.readouterr()
    assert code != 0
    assert "0x800F081E" in err
    assert "Done before it, and kept in the image: First." in err
    # The third value was never tried: the failure stopped the line.
    assert "Removing package fail:800F081E" in out and "Never" not in out
