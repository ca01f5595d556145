"""`python -m dism`'s process exit code on Windows, against the stand-in
(run by scripts/test-windows.sh): a command line in DISM.exe's spelling
exits as DISM.exe does (0, 3010, 87, the Win32 error, the HRESULT), one in
the CLI's own spelling with the POSIX table.  The stand-in fails a call whose
first text argument is "fail:HRESULT" and succeeds with
ERROR_SUCCESS_REBOOT_REQUIRED for a long operation on a "reboot..." subject
(tests/windows/standin/core.c)."""
from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest

from dism.cli.report import RESTART_NOTE
from support.windows import run_python_with, system32_dismapi_is_standin

CBS_E_SOURCE_MISSING = 0x800F081F


def dism_cli(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    """`python -m dism ARGV` in a child Windows Python; .returncode is the
    process exit code as GetExitCodeProcess gives it (a DWORD)."""
    assert system32_dismapi_is_standin()
    return run_python_with(["-m", "dism", *argv], cwd=cwd)


@pytest.fixture
def image(tmp_path):
    folder = tmp_path / "image"
    folder.mkdir()
    return str(folder)


def test_a_success_exits_0():
    done = dism_cli("/Get-ImageInfo", r"/ImageFile:C:\images\install.wim")
    assert done.returncode == 0, done
    assert "The operation completed successfully." in done.stdout


def test_a_change_that_needs_a_restart_exits_3010(image):
    done = dism_cli(f"/Image:{image}", "/Remove-Capability", "/CapabilityName:reboot capability")
    assert done.returncode == 3010, done
    assert RESTART_NOTE in done.stdout, done.stdout
    # The same change without a restart exits 0: 3010 is the stand-in's answer.
    done = dism_cli(f"/Image:{image}", "/Remove-Capability", "/CapabilityName:Tools~~~~0.0.1.0")
    assert done.returncode == 0, done


def test_a_bad_command_line_exits_87():
    done = dism_cli("/Get-ImageInfo")      # no /ImageFile
    assert done.returncode == 87, done
    assert done.stderr.startswith("Error: 87") and "/ImageFile" in done.stderr, done


def test_a_win32_failure_exits_with_its_win32_error():
    # HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), as DISM answers for a missing WIM.
    done = dism_cli("/Get-ImageInfo", "/ImageFile:fail:80070002")
    assert done.returncode == 2, done
    assert "0x80070002" in done.stderr
    done = dism_cli("/Get-ImageInfo", "/ImageFile:fail:80070005")   # access denied
    assert done.returncode == 5, done


def test_any_other_failure_exits_with_its_hresult(image):
    # DISM.exe's "source files could not be found": %errorlevel% -2146498529.
    done = dism_cli(f"/Image:{image}", "/Remove-Capability", "/CapabilityName:fail:800F081F")
    assert done.returncode == CBS_E_SOURCE_MISSING, (hex(done.returncode), done)
    assert "0x800F081F" in done.stderr


def test_the_cli_spelling_keeps_the_posix_table(image):
    assert dism_cli("get-imageinfo", r"C:\images\install.wim").returncode == 0
    assert dism_cli("get-imageinfo").returncode == 2                          # usage
    done = dism_cli("get-imageinfo", "fail:80070002")
    assert done.returncode == 3, done                                       # file not found
    done = dism_cli("remove-capability", "--image", image, "--capability-name", "fail:800F081F")
    assert done.returncode == 1, done                                       # any other error
    done = dism_cli("remove-capability", "--image", image, "--capability-name", "reboot cap")
    assert done.returncode == 0, done                                       # no 3010 here


def exit_code_with_closed_stdout(*argv: str) -> tuple:
    """`python -m dism ARGV` writing into a pipe whose reader is gone before
    the child writes anything: (exit code, what it wrote on stderr)."""
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, "-m", "dism", *argv], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=err)
        child.stdout.close()
        code = child.wait(timeout=300)
        err.seek(0)
        return code, err.read().decode("utf-8", "replace")


def test_a_closed_pipe_exits_232_or_141_and_quietly():
    # Windows reports the pipe's ERROR_NO_DATA to Python as EINVAL, not as
    # BrokenPipeError: without care this ends in a traceback and exit code 1.
    code, err = exit_code_with_closed_stdout("/Get-ImageInfo", r"/ImageFile:C:\images\install.wim")
    assert (code, err) == (232, ""), (code, err)
    code, err = exit_code_with_closed_stdout("get-imageinfo", r"C:\images\install.wim")
    assert (code, err) == (141, ""), (code, err)
