"""Rough edges a new user hit (issue 9): the CancelToken's Event-like API,
re-initializing after sessions were closed, missing paths as
FileNotFoundError, coded errors from the Python layer, and the wording of
reads the engine cannot answer."""
from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

import dism
import dism.errors
from dism import cli

from support import run_python


# --- item 11: CancelToken is threading.Event-like ---------------------------------

def test_cancel_token_has_the_event_api():
    token = dism.CancelToken()
    assert not token.is_set() and not token.cancelled
    assert token.wait(0.01) is False
    token.set()
    assert token.is_set() and token.cancelled and token.wait() is True
    token.clear()
    assert not token.is_set() and not token.cancelled
    token.cancel()
    assert token.is_set()


def test_cancel_token_wait_returns_when_another_thread_sets_it():
    token = dism.CancelToken()
    threading.Timer(0.05, token.set).start()
    # True, not the False of a timeout: the other thread's set() ended the wait.
    assert token.wait(10) is True


def test_a_token_set_with_set_cancels_a_mount(sample_wim, mount_dir):
    token = dism.CancelToken()
    token.set()
    with pytest.raises(dism.CancelledError):
        dism.mount(sample_wim, mount_dir, index=1, cancel=token)
    token.clear()
    with dism.mount(sample_wim, mount_dir, index=1, read_only=True, cancel=token):
        pass


# --- item 18: closed sessions do not pin the initialization settings --------------

def test_initialize_with_new_settings_after_every_session_was_closed(offline_tree, tmp_path):
    log = tmp_path / "second.log"
    out = run_python(
        "import dism\n"
        f"kept = dism.Session({str(offline_tree)!r})\n"
        "kept.close()\n"
        f"dism.initialize(log_path={str(log)!r})\n"
        f"with dism.Session({str(offline_tree)!r}):\n"
        "    pass\n"
        "dism.shutdown()\n"
        "print(kept.closed)\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
    assert "DismOpenSession" in log.read_text()


def test_initialize_with_new_settings_is_still_refused_while_a_session_is_open(offline_tree):
    out = run_python(
        "import dism\n"
        f"kept = dism.Session({str(offline_tree)!r})\n"
        "try:\n"
        "    dism.initialize(log_level=dism.LogLevel.ERRORS)\n"
        "except RuntimeError as e:\n"
        "    print('refused', e)\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("refused"), out.stdout


# --- item 13: a missing file or directory is a FileNotFoundError naming it --------

def _missing_path_calls(root: Path, missing: Path):
    """Every servicing call that takes a path, given one that does not exist."""
    return {
        "Session": lambda s: dism.Session(missing),
        "get_features": lambda s: s.get_features(package_path=missing),
        "get_feature_info": lambda s: s.get_feature_info("X", package_path=missing),
        "get_package_info": lambda s: s.get_package_info(path=missing),
        "add_package": lambda s: s.add_package(missing),
        "remove_package": lambda s: s.remove_package(path=missing),
        "add_driver": lambda s: s.add_driver(missing),
        "get_driver_info": lambda s: s.get_driver_info(missing),
        "apply_unattend": lambda s: s.apply_unattend(missing),
        "add_provisioned_appx_package": lambda s: s.add_provisioned_appx_package(
            missing, skip_license=True),
        "appx dependency": lambda s: s.add_provisioned_appx_package(
            root / "Windows" / "System32", dependencies=[missing], skip_license=True),
        "appx license": lambda s: s.add_provisioned_appx_package(
            root / "Windows" / "System32", licenses=[missing]),
        "appx custom data": lambda s: s.add_provisioned_appx_package(
            root / "Windows" / "System32", skip_license=True, custom_data=missing),
        "get_image_info": lambda s: dism.get_image_info(missing),
    }


def test_every_missing_path_is_a_file_not_found_error_naming_it(offline_tree, tmp_path):
    missing = tmp_path / "not-there" / "thing.inf"
    with dism.Session(offline_tree) as session:
        for label, call in _missing_path_calls(offline_tree, missing).items():
            with pytest.raises(FileNotFoundError) as e:
                call(session)
            assert isinstance(e.value, dism.PathNotFoundError), label
            assert e.value.hresult in (0x80070002, 0x80070003), label
            assert str(missing.parent) in e.value.message, (label, e.value.message)


def test_a_session_on_a_file_is_not_reported_as_missing(tmp_path):
    afile = tmp_path / "install.wim"
    afile.write_bytes(b"x")
    with pytest.raises(dism.InvalidArgumentError) as e:
        dism.Session(afile)
    assert not isinstance(e.value, FileNotFoundError)
    assert str(afile) in e.value.message and "is a file" in e.value.message


def test_a_missing_scratch_directory_is_a_file_not_found_error(tmp_path):
    missing = tmp_path / "no-scratch"
    out = run_python(
        "import dism\n"
        "try:\n"
        f"    dism.initialize(scratch_dir={str(missing)!r})\n"
        "except FileNotFoundError as e:\n"
        "    print(type(e).__name__, hex(e.hresult), e.message)\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("PathNotFoundError 0x80070003"), out.stdout
    assert str(missing) in out.stdout


# --- item 13: every DismError from the Python layer carries its code and sentence ---

def test_a_call_on_a_closed_session_has_a_code_and_a_message(offline_tree):
    session = dism.Session(offline_tree)
    session.close()
    with pytest.raises(dism.InvalidSessionError) as e:
        session.get_packages()
    assert e.value.hresult == 0xC0040004
    assert str(offline_tree) in e.value.message and "closed" in e.value.message
    assert str(e.value).startswith("[0xC0040004] ")


def test_a_driver_folder_without_infs_has_a_code_and_a_message(tmp_path):
    with pytest.raises(dism.PathNotFoundError) as e:
        dism.find_driver_infs(tmp_path)
    assert e.value.hresult == 0x80070002 and str(tmp_path) in e.value.message


def _dism_error_names() -> set:
    import dism.errors
    return {name for name in dism.errors.__all__
            if issubclass(getattr(dism.errors, name), dism.DismError)}


def test_the_python_layer_makes_dism_errors_only_through_with_code():
    """A DismError class called directly would lack .hresult and .message;
    dism/errors.py's with_code() is the one place that makes them."""
    import ast
    names = _dism_error_names()
    package = Path(dism.__file__).parent
    direct = []
    for source in sorted(package.rglob("*.py")):
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in names:
                direct.append(f"{source.relative_to(package)}:{node.lineno} {called}(...)")
    assert direct == [], direct


# --- item 17: reads the engine cannot answer do not speak of changes ---------------

READS_THE_ENGINE_CANNOT_ANSWER = {
    "get_target_editions": lambda s: s.get_target_editions(),
    "check_health(scan=True)": lambda s: s.check_health(scan=True),
    "validate_product_key": lambda s: s.validate_product_key("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"),
    "get_product_key_info": lambda s: s.get_product_key_info("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"),
}


@pytest.mark.parametrize("call", READS_THE_ENGINE_CANNOT_ANSWER.values(),
                         ids=READS_THE_ENGINE_CANNOT_ANSWER.keys())
def test_a_read_the_engine_cannot_answer_does_not_speak_of_changes(offline_tree, call):
    with dism.Session(offline_tree) as session:
        with pytest.raises(dism.NotSupportedError) as e:
            call(session)
    assert "servicing stack" in e.value.message
    assert "changed" not in e.value.message, e.value.message


def test_a_write_the_engine_cannot_do_still_says_nothing_changed(offline_tree):
    with dism.Session(offline_tree) as session:
        with pytest.raises(dism.NotSupportedError) as e:
            session.set_product_key("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE")
    assert "The image was not changed." in e.value.message


def test_a_path_that_exists_but_cannot_be_reached_is_not_called_missing(offline_tree, tmp_path):
    loop = tmp_path / "loop.cab"
    loop.symlink_to(loop)  # ELOOP: there is something, it just never resolves
    with dism.Session(offline_tree) as session:
        with pytest.raises(dism.DismError) as e:
            session.add_package(loop)
    assert not isinstance(e.value, FileNotFoundError)
    assert str(loop) in e.value.message and "does not exist" not in e.value.message


@pytest.mark.parametrize("error, hresult", [
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/a/b"), 0x80070002),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/a/file/b"), 0x80070003),
])
def test_a_file_system_failure_finding_nothing_is_path_not_found(error, hresult):
    """The CLI's own file-system failures, as DismErrors: a path through a
    file is as missing as a missing one (exit status 3, not 1)."""
    failure = dism.errors.from_os_error(error, "export_drivers: not there")
    assert isinstance(failure, dism.PathNotFoundError) and failure.hresult == hresult
    assert cli.exit_status(failure) == cli.exit_codes.EXIT_INVALID
