"""Stopping training on Ctrl-C, SIGTERM or SIGHUP without ever leaving a half-counted epoch, and
ending any command quietly on them (`exit_on_signals`), start-up included.

While a `StopRequests` is active, SIGINT, SIGTERM and SIGHUP are only noted. The trainer asks
between epochs whether to stop, and opens an *abortable* window around the kernel's work on an
epoch: a signal inside the window aborts the epoch at once (the trainer puts the parameters back
as the last whole epoch left them). Outside the window nothing is raised, so an epoch, its count
and its state are always committed together or not at all.
"""

from __future__ import annotations

import os
import signal

# Nothing more at run time: main() imports this before anything else, to set the signals.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType, TracebackType
    from typing import Any

# SIGHUP: the terminal closed, an ssh connection dropped (there is none on Windows).
SIGNALS = tuple(
    s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None
)
# What stderr says of each: the others by name.
STOPPED: dict[int, str] = {signal.SIGINT: "interrupted"}


def stopped_by(signum: int) -> str:
    """'interrupted' for Ctrl-C, else 'stopped by SIGTERM' (or SIGHUP)."""
    return STOPPED.get(signum) or f"stopped by {signal.Signals(signum).name}"


def exit_on_signals() -> Callable[[], None]:
    """From now on SIGINT, SIGTERM and SIGHUP end the program with one line on stderr and exit
    128 + the signal's number (130, 143, 129), at whatever point they land: an import, a read,
    a write (SystemExit: `finally` blocks run, no traceback). Returns what puts the previous
    handlers back. Called first thing in main(), before the heavy imports."""
    try:
        old = {sig: signal.signal(sig, _exit) for sig in SIGNALS}
    except ValueError:  # not the main thread (an embedding): signals are not ours to set
        return lambda: None

    def restore() -> None:
        for sig, handler in old.items():
            signal.signal(sig, handler)

    return restore


def _exit(signum: int, frame: FrameType | None) -> None:
    for sig in SIGNALS:  # one message, one exit: a second Ctrl-C changes nothing
        signal.signal(sig, signal.SIG_IGN)
    try:  # not sys.stderr: the signal may land inside a write to it
        os.write(2, f"{stopped_by(signum)}\n".encode())
    except OSError:  # no terminal any more (SIGHUP): nothing can be said, nor fail at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        # Inside the import machinery an exception can be swallowed (an "Exception ignored in"
        # a module lock's callback, with its traceback) and the run go on: leave at once, as
        # nothing of ours is half-done there; what was printed is flushed first.
        import contextlib
        import sys

        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, RuntimeError, AttributeError):
                stream.flush()
        os._exit(128 + signum)
    raise SystemExit(128 + signum)


class StopRequests:
    """Notes SIGINT, SIGTERM and SIGHUP while active (a context manager); `signal` is the first
    one seen."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.abortable = False
        self._old: dict[int, Any] = {}

    @property
    def stopped(self) -> bool:
        return self.signal is not None

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask training to stop (what a signal does; also a KeyboardInterrupt from elsewhere)."""
        if self.signal is None:
            self.signal = signum

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request(signum)
        if self.abortable:
            # Only inside the window, where throwing the epoch away is always right.
            self.abortable = False
            raise KeyboardInterrupt

    def __enter__(self) -> StopRequests:
        import threading

        # Handlers can only be set from the main thread (elsewhere, e.g. an embedding, do nothing).
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abortable = False
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()
