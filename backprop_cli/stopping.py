"""Stopping training on Ctrl-C or SIGTERM without ever leaving a half-counted epoch.

While a `StopRequests` is active, SIGINT and SIGTERM are only noted. The trainer asks between
epochs whether to stop, and opens an *abortable* window around the kernel's work on an epoch: a
signal inside the window aborts the epoch at once (the trainer puts the parameters back as the
last whole epoch left them). Outside the window nothing is raised, so an epoch, its count and its
state are always committed together or not at all.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """Notes SIGINT/SIGTERM while active (a context manager); `signal` is the first one seen."""

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
