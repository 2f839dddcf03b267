"""Output files (train --save, draw -o, init): never silently lost, late, half-written or
clobbered; only regular files are ever replaced."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backprop_cli import loads_spec
from backprop_cli.kernels import Trainer

from .clihelp import assert_input_error, run

BACKPROP = [sys.executable, "-m", "backprop_cli"]


def _mount(where: Path, *options: str) -> bool:
    """A small tmpfs at `where` (root only, where the machine allows it)."""
    where.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        return False
    cmd = ["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *options)), "tmpfs", str(where)]
    return subprocess.run(cmd, capture_output=True).returncode == 0


@contextlib.contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    if not _mount(where, *options):
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


# --- 2: a save never vanishes, and a bad destination is known before training ----------------


def test_a_closed_stdout_does_not_cost_the_save(tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    cmd = [*BACKPROP, "train", "-n", "30000", "-f", "jsonl", "--save", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err
    assert f"--save {out} will be written" in err and f"saved {out}" in err
    assert loads_spec(out.read_text()).training.epochs_done == 30000


@pytest.mark.parametrize(
    "name, message",
    [
        ("x" * 256 + ".yaml", "a name in the path is too long (at most 255 bytes per name)"),
        ("plain.txt/out.yaml", "a part of the path is a file, not a folder"),
    ],
)
def test_an_unwritable_save_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain.txt").write_text("")
    proc = _before_training("--save", name)
    assert proc.stderr == f"error: --save {name}: {message}\n"


def _before_training(*args: str) -> subprocess.CompletedProcess[str]:
    """train for 10^8 epochs (hours): an error must come before any of them."""
    cmd = [*BACKPROP, "train", "-n", "100000000", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    return proc


def test_a_save_into_a_read_only_folder_is_refused_before_training(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro") as ro:
        proc = _before_training("--save", str(ro / "out.yaml"))
    assert proc.stderr == (
        f"error: --save {ro / 'out.yaml'}: cannot write in {ro} (Read-only file system)\n"
    )


def test_a_long_name_that_fits_is_saved(tmp_path: Path) -> None:
    # 250 bytes: its temporary file must still fit the 255-byte limit.
    out = tmp_path / ("n" * 245 + ".yaml")
    result = run("train", "-n", "2", "--save", str(out))
    assert result.exit_code == 0, result.stderr
    assert loads_spec(out.read_text()).training.epochs_done == 2


def test_a_full_disk_keeps_the_old_file_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    with tmpfs(tmp_path / "full") as full:
        out = full / "out.yaml"
        run("train", "-n", "1", "--save", str(out))
        old = out.read_text()
        (full / "ballast").write_bytes(b"\0" * 4096 * 12)  # the 64k tmpfs is nearly full now
        with contextlib.suppress(OSError):
            (full / "more").write_bytes(b"\0" * 4096 * 8)
        big = tmp_path / "big.yaml"
        big.write_text(_big_config())
        result = run("train", str(big), "-n", "1", "--save", str(out), "--force")
        assert out.read_text() == old
        leftovers = sorted(p.name for p in full.iterdir())
    fallback = tmp_path / "tmp" / "out.recovered.yaml"  # no room beside it: the temporary folder
    assert result.exit_code == 74
    assert result.stderr == (
        f"error: --save {out}: cannot write (No space left on device); {out} is as it was; "
        f"the run is saved in {fallback} instead\n"
    )
    assert leftovers == ["ballast", "more", "out.yaml"]  # no temporary file left behind
    assert loads_spec(fallback.read_text()).training.epochs_done == 1


def _big_config() -> str:
    # 30 inputs, 30 hidden, 1 output: a saved file far over the disk's free space
    w = "[" + ", ".join(["0.123456789012345"] * 30) + "]"
    rows = "[" + ", ".join([w] * 30) + "]"
    return (
        "inputs: 30\nlayers:\n"
        f"  - {{name: h, activation: sigmoid, weights: {rows}, bias: 0.1}}\n"
        f"  - {{name: o, activation: sigmoid, weights: [{w}], bias: 0.1}}\n"
        "training: {learning_rate: 0.5, optimizer: {name: adam}}\n"
        "samples:\n  - {inputs: " + "[" + ", ".join(["0.5"] * 30) + "], targets: [1]}\n"
    )


# --- 3: only regular files are replaced; creating is exclusive ---------------------------------


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _stdout_link(path: Path) -> Path:
    path.symlink_to("/proc/self/fd/1")
    return path


@pytest.mark.parametrize(
    "make, kind",
    [
        (_fifo, "a pipe (FIFO)"),
        (_stdout_link, "a pipe (FIFO) (through a symlink)"),
    ],
)
def test_force_replaces_regular_files_only(
    tmp_path: Path, make: object, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = make(Path("special"))  # type: ignore[operator]
    before = os.lstat(target)
    # run in a real process, so fd 1 is a pipe
    proc = subprocess.run(
        [*BACKPROP, "train", "-n", "1", "--save", "special", "--force"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        f"error: --save special: is {kind}; an output can be a regular file, a device such as "
        "/dev/null, or /dev/stdout\n"
    )
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


@pytest.mark.parametrize("command", [["draw", "-o"], ["init", "-l", "2,2,1"]])
def test_other_outputs_refuse_special_files_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _fifo(Path("special"))
    args = [*command, "special", "--force"] if command[0] == "draw" else [command[0], "special"]
    result = run(*args, *command[1:] if command[0] == "init" else [], "--force")
    assert_input_error(result)
    assert "is a pipe (FIFO); an output can be a regular file, a device such" in result.stderr
    assert stat.S_ISFIFO(os.lstat("special").st_mode)


def test_force_through_a_symlink_replaces_its_file_not_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("old")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    result = run("train", "-n", "1", "--save", str(link), "--force")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert loads_spec(real.read_text()).training.epochs_done == 1


def test_a_file_created_during_the_run_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.yaml"
    real = Trainer.trained_spec

    def meanwhile(self: Trainer):  # type: ignore[no-untyped-def]
        out.write_text("another run's result")  # another run saved first
        return real(self)

    monkeypatch.setattr(Trainer, "trained_spec", meanwhile)
    result = run("train", "-n", "1", "--save", str(out))
    assert out.read_text() == "another run's result"
    fallback = tmp_path / "out.recovered.yaml"
    assert result.exit_code == 74
    assert result.stderr.endswith(
        f"error: --save {out}: was created by something else meanwhile; not overwritten "
        f"(add --force); the run is saved in {fallback} instead\n"
    )
    assert loads_spec(fallback.read_text()).training.epochs_done == 1


def test_exclusive_create_and_replace(tmp_path: Path) -> None:
    from backprop_cli.specs.fileio import OutputError, write_atomic

    path = tmp_path / "f.txt"
    write_atomic(path, "one", replace=False)
    with pytest.raises(OutputError):
        write_atomic(path, "two", replace=False)
    assert path.read_text() == "one"
    write_atomic(path, "three")
    assert path.read_text() == "three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
