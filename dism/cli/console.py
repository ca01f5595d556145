"""The console: status lines and the progress bar while an action runs,
and what is left to do when the output's reader has gone away."""
from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Iterator, Optional, TextIO

from dism.progress import fraction

_BAR_HALF = 26

#: Control characters (C0, DEL, C1), shown as \xNN.  Text read from an
#: image (a driver's provider, an app's name) reaches the terminal: an
#: escape sequence there could retitle the window or rewrite what is shown,
#: and a CR or LF forge a line ("The operation completed successfully.").
_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    """`text` for a terminal: its control characters shown, not obeyed."""
    return text.translate(_VISIBLE)


def render_bar(current: int, total: int) -> str:
    """DISM's bar: `[=====...50.0%     ...]`, 52 cells around the percentage."""
    done = fraction(current, total) or 0.0
    cells = round(done * 2 * _BAR_HALF)
    left = "=" * min(cells, _BAR_HALF)
    right = "=" * max(cells - _BAR_HALF, 0)
    return f"[{left:<{_BAR_HALF}}{done * 100:.1f}%{right:<{_BAR_HALF}}]"


class ProgressBar:
    """A progress callback `(current, total)` drawing on `stream`.

    On a terminal the bar is redrawn in place (only when its text changes);
    otherwise nothing is written until close(), which writes the final state.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = _isatty(stream)
        self._text: Optional[str] = None
        self._drawn: Optional[str] = None

    def __call__(self, current: int, total: int) -> None:
        self._text = render_bar(current, total)
        if self._live and self._text != self._drawn:
            self._stream.write("\r" + self._text)
            self._stream.flush()
            self._drawn = self._text

    def close(self) -> None:
        if self._text is None:
            return
        if self._live:
            self._stream.write("\n")
        else:
            self._stream.write(self._text + "\n")
        self._stream.flush()
        self._text = self._drawn = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    """Where an action reports what it is doing.  Human chatter goes to stdout,
    the progress bar to stderr; --json and --quiet silence both."""

    def __init__(self, stdout: TextIO, stderr: TextIO, *, json_mode: bool, quiet: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.json_mode = json_mode
        self.human = not (json_mode or quiet)

    def say(self, line: str = "") -> None:
        if self.human:
            self.stdout.write(printable(line) + "\n")
            self.stdout.flush()

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Optional[ProgressBar]]:
        """Announce a long operation; yields its progress callback (or None)."""
        self.say(title)
        if not self.human:
            yield None
            return
        bar = ProgressBar(self.stderr)
        try:
            yield bar
        finally:
            bar.close()


def as_closed_pipe(exc: OSError) -> Optional[BrokenPipeError]:
    """The failure as a BrokenPipeError if it means the output's reader went
    away, else None.  Python raises BrokenPipeError for it, except on Windows,
    where the C runtime reports the pipe's ERROR_NO_DATA as EINVAL; there a
    write of no bytes to the standard streams' handles tells: it fails with
    ERROR_NO_DATA only when the reader has gone (a console, a file or an open
    pipe takes it)."""
    if isinstance(exc, BrokenPipeError):
        return exc
    if exc.errno == errno.EINVAL and any(_reader_gone(s) for s in (sys.stdout, sys.stderr)):
        return BrokenPipeError(errno.EPIPE, "the output's reader went away")
    return None


def _reader_gone(stream: Optional[TextIO]) -> bool:
    """Whether `stream` is a pipe whose reader has gone (Windows only)."""
    if sys.platform == "win32" and stream is not None:  # spelled out for the type checker
        import _winapi
        import msvcrt
        try:
            _winapi.WriteFile(msvcrt.get_osfhandle(stream.fileno()), b"")
        except BrokenPipeError:
            return True
        except (AttributeError, OSError, ValueError):
            return False
    return False


def stop_writing_to_closed_pipe() -> None:
    """The reader of our output went away (`| head`).  Python ignores SIGPIPE,
    so writes raise BrokenPipeError; pointing the standard streams at
    /dev/null keeps the interpreter's final flush from raising it again (the
    remedy Python's signal documentation gives)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)
