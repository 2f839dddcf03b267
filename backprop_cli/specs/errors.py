"""Exit codes, one place for all of them (documented in the README)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `backprop` returns to the shell."""

    OK = 0
    FAILED = 1  # a failed check, a failed gradient check, or training that diverged
    USAGE = 2  # a bad command line or a bad input file
    OUTPUT = 74  # an output could not be written: stdout closed or full, or --save (EX_IOERR)
    HANGUP = 129  # 128 + SIGHUP: the terminal closed, an ssh connection dropped
    INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
    TERMINATED = 143  # 128 + SIGTERM: kill, timeout, a container stopping
