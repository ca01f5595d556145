"""Reporting: a verb's result or a failure written to the console, as
DISM.exe's text or as one JSON document."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Optional, Sequence, TextIO

from .console import Console, printable
from .exit_codes import UsageError, completed, hresult_of
from .render import human_lines, json_document
from .results import Result
from .syntax import uses_dism_exe_syntax
from .words import cli_words

HEADER = "Deployment Image Servicing and Management tool (dismapi {version})"
SUCCESS = "The operation completed successfully."
RESTART_NOTE = "Restart Windows to complete this operation."


def _hresult_text(exc: BaseException) -> Optional[str]:
    hresult = hresult_of(exc)
    return None if hresult is None else f"0x{hresult:08X}"


def error_document(exc: BaseException, verb: Optional[str] = None,
                   given: Sequence[str] = ()) -> Dict[str, Any]:
    error: Dict[str, Any] = {
        "hresult": _hresult_text(exc),
        "type": type(exc).__name__,
        "message": _error_message(exc, verb, given),
    }
    mark = completed(exc)
    if mark is not None:
        error["completed"] = mark
    return {"error": error}


#: What a cancelled or interrupted operation did, by its `completed` attribute
#: (the sentences of the extension's notes, src/ext/long_call.c).
_CANCEL_OUTCOME: Mapping[Optional[bool], str] = {
    True: "The cancel came after the point where the operation can stop: it completed "
          "successfully.",
    False: "The operation was stopped before it changed anything: nothing was saved.",
}


#: A Ctrl+C that reached Python outside a DISM call (before it started, or
#: after it returned) says nothing about the operation.
_INTERRUPT_OUTSIDE_A_CALL = (
    "Interrupted (Ctrl+C) outside the operation itself: if it came after the operation had "
    "finished, its changes were saved. Check with get-mountedimageinfo.")


def _error_message(exc: BaseException, verb: Optional[str] = None,
                   given: Sequence[str] = ()) -> str:
    if isinstance(exc, UsageError):
        return exc.message
    if isinstance(exc, KeyboardInterrupt):
        text = ("The operation was cancelled by the user." if completed(exc) is not None
                else _INTERRUPT_OUTSIDE_A_CALL)
    else:
        text = getattr(exc, "message", None) or str(exc)
    # Our own sentences too: a DISM.exe line is told /Get-MountedImageInfo.
    message = cli_words(text, verb, given, dism_exe=uses_dism_exe_syntax(given))
    # The extension's sentence for this very operation (a discard that came
    # too late discarded, a commit saved), else the general one.
    outcome = getattr(exc, "outcome", None) or _CANCEL_OUTCOME.get(completed(exc))
    if outcome and outcome not in message:
        message += " " + outcome
    # One of several values failed (/PackageName:A /PackageName:B): what was
    # done before it stays done.
    done_before = getattr(exc, "done_before", None)
    if done_before:
        message += " " + done_before
    return message


def _write_json(stream: TextIO, document: Mapping[str, Any]) -> None:
    stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    stream.flush()


def emit_result(result: Result, console: Console) -> None:
    if console.json_mode:
        _write_json(console.stdout, json_document(result))
        return
    for line in human_lines(result):
        console.say(line)
    console.say(SUCCESS)
    if getattr(result, "restart_required", False):
        console.say(RESTART_NOTE)


def emit_error(exc: BaseException, console: Console, log_path: Optional[str],
               verb: Optional[str] = None, given: Sequence[str] = ()) -> None:
    """Report a failure; `verb` is the verb being run, named where the
    engine's message names the API call it made for it; `given` is the
    command line, whose words are never translated."""
    if console.json_mode:
        _write_json(console.stdout, error_document(exc, verb, given))
        return
    err = console.stderr
    if isinstance(exc, UsageError):
        if exc.parser is not None:
            exc.parser.print_usage(err)
            err.write(f"{exc.parser.prog}: error: {printable(exc.message)}\n")
        else:  # a DISM.exe line: DISM.exe's way, with its code for a bad command line
            err.write(f"Error: 87\n\n{printable(exc.message)}\n")
    else:
        err.write(f"Error: {_hresult_text(exc) or 'unknown'}\n\n"
                  f"{printable(_error_message(exc, verb, given))}\n")
        # Not when the log file is what failed (a folder, a missing folder).
        if log_path and os.path.isfile(log_path):
            err.write(f"\nThe DISM log file can be found at {log_path}\n")
    err.flush()

