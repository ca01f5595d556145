"""Sessions: opening on mounts and offline trees, closing, threads, and the
process-wide initialization rules."""
from __future__ import annotations

import threading

import pytest

import dism
from dism.testing import WindowsImageSpec, build_windows_tree

from support import run_python


def test_open_on_an_offline_windows_tree(offline_tree):
    with dism.Session(offline_tree) as s:
        assert not s.closed and s.handle > 0
        assert s.image_root == str(offline_tree)
    assert s.closed


def test_windows_directory_is_found_ignoring_case(tmp_path):
    root = build_windows_tree(tmp_path / "t", WindowsImageSpec(name="x"))
    (root / "Windows").rename(root / "WINNT")
    with pytest.raises(dism.DismError) as e:
        dism.Session(root)
    assert e.value.hresult == 0x80070003
    assert "Windows" in e.value.message
    with dism.Session(root, windows_dir="winnt") as s:
        assert not s.closed
    with dism.Session(root, windows_dir=root / "WINNT") as s:
        assert not s.closed


def test_a_directory_without_windows_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(dism.DismError) as e:
        dism.Session(tmp_path / "empty")
    assert e.value.hresult == 0x80070003
    assert "does not hold a Windows installation" in e.value.message
    with pytest.raises(dism.DismError) as e:
        dism.Session(tmp_path / "absent")
    assert e.value.hresult == 0x80070003


def test_windows_dir_outside_the_image_is_refused(offline_tree, tmp_path):
    with pytest.raises(dism.InvalidArgumentError):
        dism.Session(offline_tree, windows_dir=tmp_path)


def test_system_drive_is_a_drive_letter_or_an_existing_folder(offline_tree, tmp_path):
    # DISM.exe's /SysDriveDir names a folder; on Linux a drive is mounted at one.
    for drive in ("c:", "D:\\", str(tmp_path)):
        with dism.Session(offline_tree, system_drive=drive) as s:
            assert not s.closed
    with pytest.raises(dism.InvalidArgumentError, match="neither a drive letter"):
        dism.Session(offline_tree, system_drive=str(tmp_path / "missing"))
    with pytest.raises(dism.InvalidArgumentError):
        dism.Session(offline_tree, system_drive=str(offline_tree / "Windows" / "win.ini"))


def test_online_servicing_is_not_supported_here():
    with pytest.raises(dism.NotSupportedError) as e:
        dism.Session.online()
    assert e.value.hresult == 0x80070032
    assert "not supported on this platform" in e.value.message


def test_close_is_idempotent_and_other_calls_raise(offline_tree):
    s = dism.Session(offline_tree)
    handle = s._handle
    s.close()
    s.close()
    with pytest.raises(dism.InvalidSessionError):
        s.commit()
    # The extension's own check, for code that holds the low-level handle.
    with pytest.raises(dism.InvalidSessionError) as e:
        handle.commit(0)
    assert e.value.hresult == 0xC0040004 and "closed" in str(e.value)


def test_commit_needs_a_mounted_image(offline_tree):
    with dism.Session(offline_tree) as s:
        with pytest.raises(dism.InvalidArgumentError) as e:
            s.commit()
    assert "not mounted with DismMountImage" in e.value.message


def test_success_codes_reopen_and_flag_reboot(offline_tree):
    with dism.Session(offline_tree) as s:
        first = s.handle
        s._succeeded(1)  # DISMAPI_S_RELOAD_IMAGE_SESSION_REQUIRED
        assert s.handle != first and not s.closed
        assert not s.reboot_required
        s._succeeded(3010)  # ERROR_SUCCESS_REBOOT_REQUIRED
        assert s.reboot_required


def test_sessions_in_two_threads(offline_tree, tmp_path):
    other = build_windows_tree(tmp_path / "other", WindowsImageSpec(name="Other"))
    errors = []

    def churn(root):
        try:
            for _ in range(50):
                with dism.Session(root) as s:
                    assert not s.closed
        except Exception as e:  # reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=churn, args=(r,)) for r in (offline_tree, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@pytest.mark.usefixtures("fuse")
def test_close_waits_for_a_call_in_flight_on_another_thread(big_wim, mount_dir):
    import os
    with dism.mount(big_wim, mount_dir, index=1) as m:
        (mount_dir / "more.bin").write_bytes(os.urandom(16 * 1024 * 1024))
        s = m.session()
        started = threading.Event()
        result = {}

        def commit():
            try:
                s.commit(progress=lambda c, t: started.set())
                result["ok"] = True
            except Exception as e:
                result["error"] = e

        worker = threading.Thread(target=commit)
        worker.start()
        assert started.wait(30)
        s.close()  # must wait for the commit rather than cut it off
        assert "ok" in result, result
        worker.join()
        assert s.closed
        with pytest.raises(dism.InvalidSessionError):
            s.commit()


def test_shutdown_refuses_while_sessions_are_open(offline_tree):
    out = run_python(
        "import dism\n"
        f"s = dism.Session({str(offline_tree)!r})\n"
        "try:\n"
        "    dism.shutdown()\n"
        "except dism.OpenSessionsError as e:\n"
        "    print(hex(e.hresult))\n"
        "s.close()\n"
        "dism.shutdown()\n"
        "print(dism.is_initialized())\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0xc0040003", "False"]


def test_calls_before_initialize_are_refused():
    out = run_python(
        "from dism import _dism\n"
        "try:\n"
        "    _dism.get_mounted_image_info()\n"
        "except _dism.NotInitializedError as e:\n"
        "    print(hex(e.hresult))\n")
    assert out.stdout.strip() == "0xc0040001", out.stderr


def test_explicit_initialize_with_a_log_file(tmp_path, offline_tree):
    log = tmp_path / "my.log"
    out = run_python(
        "import dism\n"
        f"dism.initialize(log_level=dism.LogLevel.ERRORS_WARNINGS_INFO, log_path={str(log)!r})\n"
        "try:\n"
        f"    dism.Session({str(tmp_path / 'nowhere')!r})\n"
        "except dism.DismError:\n"
        "    pass\n"
        f"dism.Session({str(offline_tree)!r}).close()\n"
        "dism.shutdown()\n")
    assert out.returncode == 0, out.stderr
    text = log.read_text()
    assert "DismInitialize" in text and "Error" in text and "DismOpenSession" in text
    assert (log.stat().st_mode & 0o777) == 0o600


def test_a_log_in_a_missing_folder_disables_logging(tmp_path):
    out = run_python(
        "import dism\n"
        "try:\n"
        f"    dism.initialize(log_path={str(tmp_path / 'no' / 'such' / 'dism.log')!r})\n"
        "except dism.DismError as e:\n"
        "    print(hex(e.hresult))\n")
    assert out.stdout.strip() == "0xc0040009", out.stderr
