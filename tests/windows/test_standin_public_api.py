"""The public dism.Session on the Windows build, against the stand-in: what
the Python layer makes of the DLL's answers (run by scripts/test-windows.sh)."""
from __future__ import annotations

import json

import pytest

import dism
from support.windows import run_in_own_console, system32_dismapi_is_standin

CLEF = "\U0001D11E"
FACE = "\U0001F600"


def test_session_editions_drop_the_null_entry_of_the_dlls_list():
    assert system32_dismapi_is_standin()
    try:
        with dism.Session("C:\\image") as session:
            # The stand-in's list ends with a NULL DismString: it names no edition.
            assert session.get_target_editions() == ["Enterprise", "Education" + CLEF]
            assert session.get_current_edition() == "Professional" + FACE
    finally:
        dism.shutdown()


CLI_CTRL_C_PROBE = r'''
import contextlib, ctypes, io, json, sys, threading, traceback
result = {}
try:
    from dism.cli import main
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    # A Ctrl+C typed into this console half a second into an operation the
    # stand-in spends about 20 s on (400 progress steps).
    threading.Timer(0.5, kernel32.GenerateConsoleCtrlEvent, (0, 0)).start()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result["code"] = main(json.loads(sys.argv[2]))
    result.update(stdout=out.getvalue(), stderr=err.getvalue())
except BaseException:
    result["crash"] = traceback.format_exc()
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(result, out)
'''


@pytest.mark.parametrize("spelling, code", [("dism.exe", 1223), ("posix", 130)])
def test_a_console_ctrl_c_stops_a_cli_operation_and_says_nothing_was_saved(tmp_path, spelling,
                                                                            code):
    image = tmp_path / "image"
    image.mkdir()
    # DISM.exe's spelling exits as DISM.exe does, with ERROR_CANCELLED; the
    # CLI's own with the POSIX table's 130.
    argv = (["/Image:" + str(image), "/Remove-Capability", "/CapabilityName:slow capability"]
            if spelling == "dism.exe" else
            ["remove-capability", "--image", str(image), "--capability-name", "slow capability"])
    result = run_in_own_console(CLI_CTRL_C_PROBE, tmp_path, json.dumps(argv))
    assert result["code"] == code, result
    assert "0x800704C7" in result["stderr"], result
    assert "nothing was saved" in result["stderr"], result
