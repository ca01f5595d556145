"""Progress callbacks and cancellation.

A progress callback is any callable `(current, total)`.  DISM reports in
arbitrary units: `total` is not always 100 and may change between phases of
one operation, so compute fractions as current / total.

Every long operation also takes `cancel=`: a CancelToken (or any object with
an `is_set()` method, such as threading.Event) that another thread can set.
Raising an exception inside the callback cancels the operation as well, and
that exception is what the call raises.  A cancel that arrives when the
operation can no longer stop lets it finish, as DISM documents; the call
still raises, and the exception's `.completed` says which happened (False:
stopped, nothing saved; True: completed), with `.outcome` saying what
completing meant for that operation (a commit saved, a discard discarded).
"""
from __future__ import annotations

import threading
from typing import Callable, Optional, Protocol

ProgressCallback = Callable[[int, int], object]

__all__ = ["CancelLike", "CancelToken", "ProgressCallback"]


class CancelLike(Protocol):
    """What `cancel=` takes: a CancelToken, a threading.Event, or any object
    whose is_set() says whether to stop."""

    def is_set(self) -> bool: ...


class CancelToken:
    """A flag that cancels the DISM operations it is passed to.

    It behaves like threading.Event (set, is_set, clear, wait), so code
    written for an Event works with it; cancel() and .cancelled say the same
    thing in the words of cancellation.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Ask every operation using this token to stop."""
        self._event.set()

    cancel = set

    def is_set(self) -> bool:
        return self._event.is_set()

    def clear(self) -> None:
        """Make the token usable again: later operations are not cancelled."""
        self._event.clear()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the token is set or `timeout` seconds pass; True if set."""
        return self._event.wait(timeout)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __repr__(self) -> str:
        return f"<CancelToken cancelled={self.cancelled}>"


def fraction(current: int, total: int) -> Optional[float]:
    """current/total clamped to [0, 1]; None when DISM gives no total."""
    if total <= 0:
        return None
    return min(max(current / total, 0.0), 1.0)
