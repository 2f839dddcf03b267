"""No run is lost: a stdout that cannot be written, a closed terminal, a save that fails at the
end, a parameter past what a config may hold, a --force that would open a private file, data
changed under a saved run, a signal during start-up."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import loads_spec
from backprop_cli.kernels import Trainer
from backprop_cli.specs.model import MAX_MAGNITUDE

from .clihelp import run

ROOT = Path(__file__).resolve().parent.parent
BACKPROP = [sys.executable, "-m", "backprop_cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "80"}
FOREVER = "100000000"  # epochs: until a signal


def _popen(*args: str, cwd: Path, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BACKPROP, *args], cwd=cwd, env=ENV, text=True, stderr=subprocess.PIPE, **kw
    )


# --- a stdout that cannot be written -----------------------------------------------------------


@pytest.mark.parametrize("form", ["jsonl", "json", "table"])
def test_a_full_stdout_does_not_cost_the_save(tmp_path: Path, form: str) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*BACKPROP, "train", "-n", "300", "-f", form, "--save", "f.yaml"],
            cwd=tmp_path,
            env=ENV,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert done.returncode == 74
    assert "Traceback" not in done.stderr
    assert done.stderr.endswith(
        "error: standard output: cannot write (No space left on device); the run is saved in "
        "f.yaml\n"
    )
    saved = loads_spec((tmp_path / "f.yaml").read_text())
    assert saved.training.epochs_done == 300


def test_a_full_stdout_without_save_stops_at_once(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*BACKPROP, "train", "-n", FOREVER, "-f", "jsonl"],
            cwd=tmp_path,
            env=ENV,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert done.returncode == 74
    assert done.stderr == "error: standard output: cannot write (No space left on device)\n"


# --- SIGHUP ------------------------------------------------------------------------------------


def test_sighup_stops_and_saves_like_sigterm(tmp_path: Path) -> None:
    proc = _popen(
        "train",
        "-n",
        FOREVER,
        "-f",
        "jsonl",
        "--save",
        "hup.yaml",
        cwd=tmp_path,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(0.2)
    proc.send_signal(signal.SIGHUP)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 129, err
    summary = json.loads(rest.splitlines()[-1])
    assert summary["status"] == "interrupted"
    assert err.endswith(f"saved hup.yaml\nstopped by SIGHUP after epoch {summary['epochs_done']}\n")
    saved = loads_spec((tmp_path / "hup.yaml").read_text())
    assert saved.training.epochs_done == summary["epochs_done"] > 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pty of Linux")
@pytest.mark.parametrize("form", ["table", "jsonl"])
def test_a_closed_terminal_saves_the_run(tmp_path: Path, form: str) -> None:
    """The terminal itself goes (its window closed): SIGHUP, then every write to it fails."""
    import fcntl
    import pty
    import select
    import termios

    master, slave = pty.openpty()

    def own_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    args = ["train", "-n", FOREVER, "-f", form, "--save", "t.yaml"]
    proc = subprocess.Popen(
        [*BACKPROP, *args],
        cwd=tmp_path,
        env=ENV,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=own_terminal,
    )
    os.close(slave)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:  # read what it shows, as a terminal does
        if select.select([master], [], [], 0.05)[0]:
            try:
                os.read(master, 1 << 16)
            except OSError:
                break
    os.close(master)  # the hang-up
    assert proc.wait(timeout=60) == 129
    text = (tmp_path / "t.yaml").read_text()
    assert "\n# Resume with: backprop train t.yaml --epochs N\n" in text
    assert loads_spec(text).training.epochs_done > 0


# --- a final save that fails -------------------------------------------------------------------


def _sabotaged(monkeypatch: pytest.MonkeyPatch, harm: Any) -> None:
    """`harm()` just before the save is written, when the epochs are done."""
    real = Trainer.trained_spec

    def meanwhile(self: Trainer) -> Any:
        harm()
        return real(self)

    monkeypatch.setattr(Trainer, "trained_spec", meanwhile)


def test_a_save_whose_folder_went_goes_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    folder = tmp_path / "runs"
    folder.mkdir()
    _sabotaged(monkeypatch, folder.rmdir)
    result = run("train", "-n", "7", "-f", "json", "--save", str(folder / "f.yaml"))
    fallback = tmp_path / "tmp" / "f.recovered.yaml"
    assert result.exit_code == 74
    assert result.stderr == (
        f"error: --save {folder / 'f.yaml'}: cannot write (No such file or directory); the run "
        f"is saved in {fallback} instead\n"
    )
    text = fallback.read_text()
    assert f"\n# Resume with: backprop train {fallback} --epochs N\n" in text
    assert loads_spec(text).training.epochs_done == json.loads(result.stdout)["epochs_done"] == 7


def test_a_fallback_never_replaces_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "f.yaml"
    taken = tmp_path / "f.recovered.yaml"
    taken.write_text("an earlier rescue")

    def another_run() -> None:
        out.write_text("another run's result")

    _sabotaged(monkeypatch, another_run)
    result = run("train", "-n", "3", "--save", str(out))
    fallback = tmp_path / "f.recovered-2.yaml"
    assert result.exit_code == 74
    assert result.stderr.endswith(
        f"error: --save {out}: was created by something else meanwhile; not overwritten (add "
        f"--force); the run is saved in {fallback} instead\n"
    )
    assert out.read_text() == "another run's result"
    assert taken.read_text() == "an earlier rescue"
    assert loads_spec(fallback.read_text()).training.epochs_done == 3


# --- what --save writes always loads back ------------------------------------------------------

# A linear neuron whose weight must reach target/input = 1e6 (the bound) to fit its one sample:
# Adam's steps of about η take it there, and one rounding past it, with a finite loss all along.
GROWS = """\
name: grows
inputs: 1
layers:
  - {activation: linear, weights: [[1.0]]}
samples:
  - {inputs: [0.001], targets: [1000]}
training: {learning_rate: 5000, optimizer: adam}
"""


@pytest.mark.parametrize("kernel", ["python", "numpy"])
def test_training_stops_before_a_parameter_leaves_what_a_config_holds(
    tmp_path: Path, kernel: str
) -> None:
    if kernel == "numpy":
        pytest.importorskip("numpy")
    config = tmp_path / "grows.yaml"
    config.write_text(GROWS)
    out = tmp_path / "g.yaml"
    result = run(
        "train", str(config), "-n", "3000", "-f", "json", "--save", str(out), "--kernel", kernel
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    done = summary["epochs_done"]
    assert summary["status"] == "diverged" and 1000 < done < 3000
    w1 = summary["parameters"]["w1"]
    assert abs(w1) <= MAX_MAGNITUDE and abs(w1) > 0.999 * MAX_MAGNITUDE
    assert result.stderr == (
        f"saved {out}\nerror: w1 would be 1000000.0000000001 after epoch {done + 1}, past "
        "±1e+06, the most a config may hold (try a learning rate smaller than 5000, or scale "
        f"the data); kept the parameters of epoch {done}\n"
    )
    text = out.read_text()
    assert "\n# Resume with:" in text
    saved = loads_spec(text)  # it loads: the point
    assert saved.training.epochs_done == done
    assert saved.layers[0].weights[0][0] == w1
    # exactly the run that stops there of itself: the epochs past the bound were undone
    again = tmp_path / "again.yaml"
    exact = run("train", str(config), "-n", str(done), "--save", str(again), "--kernel", kernel)
    assert exact.exit_code == 0
    assert again.read_text().replace("again.yaml", "g.yaml") == text


def test_a_run_that_starts_at_the_bound_trains_no_epoch(tmp_path: Path) -> None:
    config = tmp_path / "grows.yaml"
    config.write_text(GROWS)
    first = run("train", str(config), "-n", "3000", "--save", str(tmp_path / "g.yaml"))
    assert first.exit_code == 1
    second = run("train", str(tmp_path / "g.yaml"), "-n", "5", "-f", "json")
    assert second.exit_code == 1
    assert json.loads(second.stdout)["epochs"] == 0


@pytest.mark.parametrize("kernel", ["python", "loops", "numpy"])
def test_each_kernel_reports_its_largest_values(kernel: str) -> None:
    """What the bound reads once per chunk of epochs: the kernel's own lists, not a dict."""
    if kernel == "numpy":
        pytest.importorskip("numpy")
    from .test_train import net

    trainer = Trainer(loads_spec(net("adam", "minibatch")), kernel=kernel)
    for _ in trainer.chunks(3):
        pass
    slots = [abs(x) for values in trainer.kernel.slots().values() for x in values.values()]
    expected = (max(abs(x) for x in trainer.parameters().values()), max(slots))
    assert trainer.kernel.largest() == expected and expected[1] > 0


# --- every replace keeps the file's mode -------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["train", "-n", "1", "--save", "{out}"],
        ["step", "-f", "markdown", "-o", "{out}"],
        ["export", "--to", "numpy", "-o", "{out}"],
        ["draw", "-o", "{out}"],
        ["init", "{out}", "--layers", "2,2,1"],
    ],
    ids=lambda a: a[0],
)
def test_force_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "private.out"
    out.write_text("old")
    out.chmod(0o600)
    result = run(*[a.format(out=out) for a in args], "--force")
    assert result.exit_code == 0, result.stderr
    assert out.read_text() != "old"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    out.chmod(0o640)
    assert run(*[a.format(out=out) for a in args], "--force").exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        assert run("train", "-n", "1", "--save", str(tmp_path / "new.yaml")).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o640


def test_the_plot_is_refused_before_training_and_keeps_its_mode(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plot = tmp_path / "loss.svg"
    plot.write_text("old")
    plot.chmod(0o600)
    refused = run("train", "-n", "2", "--plot", str(plot))
    assert refused.exit_code == 2
    assert refused.stderr == f"error: --plot {plot}: already exists; add --force to overwrite it\n"
    assert plot.read_text() == "old"
    assert run("train", "-n", "2", "--plot", str(plot), "--force").exit_code == 0
    assert plot.read_text().startswith("<?xml")
    assert stat.S_IMODE(plot.stat().st_mode) == 0o600


# --- a resume on other data --------------------------------------------------------------------

DATA = "x1,x2,y1,y2\n0.05,0.1,0.01,0.99\n0.2,0.3,0.7,0.3\n"
ON_DATA = """\
name: on data
inputs: 2
layers:
  - {size: 2, init: {seed: 1}}
  - {size: 2, init: {seed: 2}}
samples: {csv: d.csv, inputs: [x1, x2], targets: [y1, y2]}
"""


def _saved_on_data(tmp_path: Path) -> Path:
    (tmp_path / "d.csv").write_text(DATA)
    (tmp_path / "net.yaml").write_text(ON_DATA)
    saved = tmp_path / "s.yaml"
    assert run("train", str(tmp_path / "net.yaml"), "-n", "4", "--save", str(saved)).exit_code == 0
    return saved


def test_the_save_records_the_samples_file(tmp_path: Path) -> None:
    import hashlib

    saved = _saved_on_data(tmp_path)
    text = saved.read_text()
    sha = hashlib.sha256(DATA.encode()).hexdigest()
    assert f"  bytes: {len(DATA)}\n  sha256: {sha}\n" in text
    ref = loads_spec(text, str(saved)).samples_from
    assert ref is not None and (ref.size, ref.sha256, ref.changed) == (len(DATA), sha, None)
    resumed = run("train", str(saved), "-n", "2", "-f", "json")
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["epochs_done"] == 6


def test_a_resume_on_changed_samples_is_refused_unless_asked(tmp_path: Path) -> None:
    import hashlib

    saved = _saved_on_data(tmp_path)
    before = saved.read_text()
    changed = DATA.replace("0.3,0.7", "0.3,0.8")  # one digit, the same size
    (tmp_path / "d.csv").write_text(changed)
    refused = run("train", str(saved), "-n", "2", "--save", str(saved), "--force")
    line = next(n for n, t in enumerate(before.splitlines(), 1) if "sha256:" in t)
    old, new = hashlib.sha256(DATA.encode()).hexdigest(), hashlib.sha256(changed.encode())
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"error: {saved}:{line}:11: samples.sha256: {tmp_path / 'd.csv'} is not the file this "
        f"run was trained on ({len(DATA)} bytes, sha256 {old[:12]}...; now {len(changed)} "
        f"bytes, {new.hexdigest()[:12]}...); to train on it anyway, add --allow-changed-samples\n"
    )
    assert saved.read_text() == before
    # `step` shows the saved network on the data as it is: it resumes nothing
    assert run("step", str(saved)).exit_code == 0
    allowed = run(
        "train", str(saved), "-n", "2", "--save", str(saved), "--force", "--allow-changed-samples"
    )
    assert allowed.exit_code == 0, allowed.stderr
    assert f"sha256: {new.hexdigest()}\n" in saved.read_text()  # the data it now trained on
    assert run("train", str(saved), "-n", "1").exit_code == 0


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        (
            "bytes: 12, sha256: abc",
            "samples.sha256: expected 64 hexadecimal digits (a SHA-256), got 'abc'",
        ),
        ("bytes: 12", "samples: missing key 'sha256' (give bytes and sha256, or neither)"),
    ],
)
def test_a_recorded_hash_is_checked_as_a_field(tmp_path: Path, recorded: str, message: str) -> None:
    (tmp_path / "d.csv").write_text(DATA)
    config = tmp_path / "net.yaml"
    config.write_text(ON_DATA.replace("targets: [y1, y2]}", f"targets: [y1, y2], {recorded}}}"))
    result = run("step", str(config))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {config}:") and result.stderr.endswith(message + "\n")


# --- signals during start-up -------------------------------------------------------------------

# What pip writes as the `backprop` console script, with a hook that sends the process a signal
# when a module is first imported: a signal at that exact point of start-up.
SCRIPT = """\
import os, sys
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), {signum})
        return None
sys.meta_path.insert(0, Hook())
import re
import sys
from backprop_cli.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""
MODULE = """\
import os, sys, runpy
{hook}
runpy.run_module("backprop_cli", run_name="__main__", alter_sys=True)
"""
COMMAND_ARGS = {
    "check": ["check", "--help"],
    "draw": ["draw"],
    "explain": ["explain", "dE_total/dw1"],
    "export": ["export", "--to", "numpy"],
    "gradcheck": ["gradcheck"],
    "import": ["import", "--help"],
    "init": ["init", "-", "-l", "2,2,1"],
    "schema": ["schema", "config"],
    "step": ["step"],
    "train": ["train", "-n", "3"],
}
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
SAID = {
    signal.SIGINT: "interrupted",
    signal.SIGTERM: "stopped by SIGTERM",
    signal.SIGHUP: "stopped by SIGHUP",
}


def _signalled_at(
    tmp_path: Path, module: str, signum: int, args: list[str], *, as_module: bool = False
) -> subprocess.CompletedProcess[str]:
    script = SCRIPT.format(module=module, signum=int(signum))
    if as_module:
        hook = script.split("import re\n")[0]
        path = tmp_path / "run_module.py"
        path.write_text(MODULE.format(hook=hook))
    else:
        path = tmp_path / "backprop"
        path.write_text(script)
    return subprocess.run(
        [sys.executable, str(path), *args],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("module", ["typer", "rich.console", "backprop_cli.cli.common", "yaml"])
def test_a_signal_while_starting_up_ends_quietly(tmp_path: Path, module: str, signum: int) -> None:
    done = _signalled_at(tmp_path, module, signum, ["step"])
    assert (done.returncode, done.stderr, done.stdout) == (128 + signum, SAID[signum] + "\n", "")


@pytest.mark.parametrize("command", sorted(COMMAND_ARGS))
def test_every_command_ends_quietly_on_a_signal_at_start_up(tmp_path: Path, command: str) -> None:
    module = "backprop_cli.cli." + {"import": "import_onnx"}.get(command, command)
    for signum, as_module in ((signal.SIGTERM, False), (signal.SIGINT, True)):
        done = _signalled_at(tmp_path, module, signum, COMMAND_ARGS[command], as_module=as_module)
        assert (done.returncode, done.stderr) == (128 + signum, SAID[signum] + "\n"), command


def test_a_signal_soon_after_spawning_is_no_traceback(tmp_path: Path) -> None:
    """Real signals at delays across start-up, from where `backprop` starts to import."""
    script = tmp_path / "backprop"
    script.write_text(
        SCRIPT.format(module="none", signum=0).replace(
            "import re\n", "sys.stderr.write('go\\n'); sys.stderr.flush()\nimport re\n"
        )
    )
    for k, delay in enumerate([0.02, 0.04, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3]):
        signum = SIGNALS[k % 3]
        proc = subprocess.Popen(
            [sys.executable, str(script), "step"],
            cwd=tmp_path,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None and proc.stderr.readline() == "go\n"
        time.sleep(delay)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, (delay, err)
        if proc.returncode != 0:  # else it had finished
            assert (proc.returncode, err) == (128 + signum, SAID[signum] + "\n"), delay


def test_importing_the_command_line_leaves_the_signals_alone() -> None:
    code = (
        "import signal; from backprop_cli.cli import app, main\n"
        "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n"
        "assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL\n"
        "try:\n    main(['--version'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    assert done.stdout.endswith("ok\n"), done.stderr
