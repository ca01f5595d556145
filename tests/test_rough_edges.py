"""Rough edges a new user hit (issue 9): the CancelToken's Event-like API,
re-initializing after sessions were closed, missing paths as
FileNotFoundError, coded errors from the Python layer, and the wording of
reads the engine cannot answer."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import dism
from dism.testing import WindowsImageSpec, build_windows_tree

from conftest import run_python


@pytest.fixture
def offline_tree(tmp_path) -> Path:
    return build_windows_tree(tmp_path / "offline", WindowsImageSpec(name="Offline"))


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
    started = time.monotonic()
    assert token.wait(10) is True
    assert time.monotonic() - started < 5


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
