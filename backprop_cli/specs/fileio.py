"""Writing files safely: readers never see half a file, and a failed write leaves nothing behind."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

import yaml

from backprop_cli.specs.model import Spec
from backprop_cli.specs.source import os_reason


class OutputError(Exception):
    """An output file that cannot be written as asked; the message says why, in plain words."""


class Exists(OutputError):
    """The file was to be created, but something else created it first."""


_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words: "a character device"."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _target(path: Path) -> Path:
    """Where writing `path` lands: the file a symlink points to (the link itself stays)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


_STREAM = re.compile(r"/dev/(?:(?P<std>stdout|stderr)|fd/(?P<fd>\d+))|/proc/self/fd/(?P<proc>\d+)")


def stream_of(path: Path) -> int | None:
    """The file descriptor a path names when it is one of this process's own open streams
    (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N), whatever the shell opened there (a
    terminal, a pipe, a file `>` made); None for any other path."""
    m = _STREAM.fullmatch(os.path.normpath(os.path.abspath(path)))
    if m is None:
        return None
    if m["std"]:
        return 1 if m["std"] == "stdout" else 2
    return int(m["fd"] or m["proc"])


def written_in_place(path: Path) -> bool:
    """Whether a write goes into the path as it is, not through a temporary file: an open
    stream of this process, or a character device (/dev/null, /dev/tty). Nothing there is
    replaced, so neither needs --force."""
    if stream_of(path) is not None:
        return True
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def check_writable(path: Path, force: bool) -> None:
    """Raise OutputError if writing path would fail or overwrite something it must not; checked
    before any work, so hours of training are never lost to a bad file name."""
    fd = stream_of(path)
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError:
            raise OutputError(f"file descriptor {fd} is not open") from None
        return
    try:
        st = os.stat(path)  # through symlinks: what a write would replace
    except FileNotFoundError:
        if path.is_symlink():
            raise OutputError("is a symlink to nothing; give the file it should point to") from None
        st = None
    except OSError as exc:
        raise OutputError(os_reason(exc)) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError("is a directory; give a file name")
        if stat.S_ISCHR(st.st_mode):
            return  # /dev/null, a terminal: written into, never replaced
        if not stat.S_ISREG(st.st_mode):
            what = file_kind(st.st_mode)
            link = " (through a symlink)" if path.is_symlink() else ""
            raise OutputError(
                f"is {what}{link}; an output can be a regular file, a device such as "
                "/dev/null, or /dev/stdout"
            )
        if not force:
            raise OutputError("already exists; add --force to overwrite it")
    target = _target(path)
    if not target.parent.is_dir():
        raise OutputError(f"the folder {target.parent} does not exist")
    if len(os.fsencode(target.name)) > _name_max(target.parent):
        raise OutputError(f"the name is longer than {_name_max(target.parent)} bytes")
    try:  # a trial temporary file: a read-only or full folder shows up now, not after the work
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_prefix(target), suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"cannot write in {target.parent} ({os_reason(exc)})") from None


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _prefix(target: Path) -> str:
    # Short enough that the temporary name fits wherever the target's name does.
    short = target.name.encode("utf-8", "surrogateescape")[:64].decode("utf-8", "ignore")
    return f".{short}."


def write_atomic(path: Path, text: str | bytes, *, replace: bool = True) -> None:
    """Write text (or bytes) to path through a temporary file in the same folder: readers see
    the old file or the new one, never half of one, and a failed write (a full disk) leaves the
    old file.

    With replace, a regular file (or the regular file a symlink points to) is replaced, and the
    new one keeps its mode (a private 0600 file stays private). Without it the file is created
    only if it does not exist at that moment (a hard link of the temporary file: checking and
    creating are one step), else Exists.
    """
    if written_in_place(path):
        _write_in_place(path, text)
        return
    target = _target(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_prefix(target), suffix=".tmp")
    try:
        # mkstemp makes the file private (0600): give it the mode of the file it replaces, or
        # the mode any new file would get
        os.fchmod(fd, _mode(target) if replace else 0o666 & ~_umask())
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # a full disk must fail here, not after the old file is gone
        if replace:
            _replace(tmp, target)
        else:
            _create(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _write_in_place(path: Path, text: str | bytes) -> None:
    """Write into an open stream of this process (not reopened: a file `>>` appends to stays
    appended to) or a character device (opened without creating or truncating anything)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd = stream_of(path)
    if fd is not None:
        if fd in (1, 2):  # what this process printed before comes first
            with contextlib.suppress(OSError, ValueError):
                (sys.stdout if fd == 1 else sys.stderr).flush()
        _write_all(fd, data)
        return
    fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    try:
        if not stat.S_ISCHR(os.fstat(fd).st_mode):  # replaced since it was checked
            raise OutputError("is no longer a character device; not written")
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _mode(target: Path) -> int:
    """The permission bits the file at target has (new file: what the umask gives)."""
    try:
        st = os.stat(target)
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()


def _replace(tmp: str, target: Path) -> None:
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(f"is {file_kind(st.st_mode)}; only a regular file can be replaced")
    os.replace(tmp, target)


def _create(tmp: str, target: Path) -> None:
    exists = Exists("was created by something else meanwhile; not overwritten (add --force)")
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise exists from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # No hard links here (some network and FAT file systems): claim the name, then fill it.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise exists from None
        os.replace(tmp, target)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump_spec(spec: Spec, header: str = "", folder: Path | None = None) -> str:
    """The spec as YAML in the config format, every float at full precision (repr round-trips).

    Samples read from a data file are named by that file again, its path relative to `folder`
    (where the YAML is written; the working folder by default)."""
    # libyaml's emitter when PyYAML has it: the same text, 4x faster on a large network
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    data = spec.to_dict()
    ref = spec.samples_from
    if ref is not None:
        here = os.path.abspath(folder if folder is not None else ".")
        data["samples"] = {
            ref.format: os.path.relpath(os.path.abspath(ref.file), here),
            "inputs": list(ref.inputs),
            "targets": list(ref.targets),
        }
        if ref.sha256 is not None:  # what the run trained on: a resume on other data is refused
            data["samples"].update(bytes=ref.size, sha256=ref.sha256)
    body = yaml.dump(
        data,
        Dumper=dumper,
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=100,
    )
    return "".join(f"# {line}\n" for line in header.splitlines()) + body
