"""`backprop export`: the scripts it writes print the trace's numbers.

Each NumPy script runs (as a subprocess for the worked example, in-process for the grid, which is
quicker and the same code) and every value it prints is compared with the step of the same id,
sample and update in `backprop step`'s trace: 1e-12 relative to the larger of the value and the
operands it is computed from, all the way back (a sum whose terms cancel, such as a shared bias's
gradient under softmax, keeps only its terms' absolute precision; numpy sums and takes exp in
its own order and to its own last bit). With Adam, a gradient that is 0 but for
round-off moves θ by about η·g/ε, as in test_conformance; there the update and after phases get
an absolute slack of 1e-7.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from backprop_cli import step
from backprop_cli.engine.trace import Step, Trace
from backprop_cli.export import ExportError, script
from backprop_cli.kernels import Trainer
from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS
from backprop_cli.ops.losses import NEAR
from backprop_cli.specs.model import Spec
from backprop_cli.specs.validate import load_spec, loads_spec

from .clihelp import assert_input_error, run
from .test_conformance import CASES, config

np = pytest.importorskip("numpy")

Key = tuple[int | None, int | None, str]
HEADING = re.compile(r"# (update (?P<u>\d+)|after the update)(, sample (?P<s>\d+))?")


def parse(text: str) -> dict[Key, float]:
    """`id = value` lines by (update, sample, id), as the trace keys its steps."""
    update: int | None = None
    sample: int | None = None
    out: dict[Key, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            m = HEADING.fullmatch(line)
            assert m, line
            update = int(m["u"]) - 1 if m["u"] else None
            sample = int(m["s"]) - 1 if m["s"] else None
            continue
        name, sep, value = line.rpartition(" = ")
        assert sep, line
        key = (update, sample, name)
        assert key not in out, key
        out[key] = float(value)
    return out


def scales(steps: list[Step]) -> dict[Key, float]:
    """The magnitude each step's value is known to, in absolute terms: the largest of its value,
    its operands and their own scales (a sum whose terms cancel keeps its terms' precision)."""
    out: dict[Key, float] = {}
    for s in steps:
        scale = abs(s.value) if math.isfinite(s.value) else 0.0
        for name, value in s.terms.items():
            base, _, index = name.partition("[")
            if base not in s.inputs:
                continue  # a hyper-parameter
            sample = int(index.rstrip("]")) - 1 if index else s.sample
            known = out.get((s.update, sample, base), abs(value))
            scale = max(scale, known if math.isfinite(known) else 0.0)
        out[(s.update, s.sample, s.id)] = scale
    return out


def close(value: float, want: float, scale: float, slack: float = 0.0) -> bool:
    if math.isnan(value) or math.isnan(want):
        return math.isnan(value) and math.isnan(want)
    return value == want or abs(value - want) <= 1e-12 * scale + slack


def run_here(text: str) -> str:
    """A script run in this process, its stdout captured (numpy is imported once)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), np.errstate(all="ignore"):
        exec(compile(text, "<export>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def near_0_or_1(trace: Trace, key: Key) -> bool:
    """Whether an output of this sample (of any sample of the batch, for E_batch and E+) is
    within NEAR of 0 or 1."""
    outs = {f"out_{n}" for n in trace.spec.outputs}
    every = key[1] is None  # a quantity of the batch's samples (after the update: of all)
    return any(
        min(abs(s.value), abs(1 - s.value)) < NEAR
        for s in trace.steps
        if s.id.rstrip("+") in outs
        and ((s.update, s.sample) == key[:2] or (every and s.update == key[0]))
    )


def compare(spec: Spec, printed: dict[Key, float], by_logits: bool = False) -> set[str]:
    """Every printed value against the trace; the kinds of quantity printed.

    by_logits: the script computes a log-loss from the nets (PyTorch's BCEWithLogitsLoss), which
    keeps every digit where an output is within 1e-5 of 0 or 1; the engine's plain form
    ln(1 − out) loses some there (1e-7 relative, at out = 1 − 1e-11), so there its E values are
    compared to 1e-6."""
    trace = step(spec)
    steps = {(s.update, s.sample, s.id): s for s in trace.steps}
    unknown = [k for k in printed if k not in steps]
    assert not unknown, unknown[:5]
    adam = "v" in OPTIMIZERS[spec.training.optimizer.name].slots
    logs = by_logits and LOSSES[spec.loss].stable is not None
    scale = scales(trace.steps)
    bad = []
    for key, value in printed.items():
        s = steps[key]
        slack = 1e-7 if adam and s.phase in ("update", "after") else 0.0
        if logs and s.id.startswith("E") and near_0_or_1(trace, key):
            slack = 1e-6 * abs(s.value)
        if not close(value, s.value, scale[key], slack):
            bad.append((key, value, s.value))
    assert not bad, bad[:5]
    names = sorted(
        {*(n for layer in spec.layers for n in layer.neurons), *(p.id for p in spec.parameters())},
        key=len,
        reverse=True,
    )
    pattern = re.compile(
        "|".join(rf"(?:(?<=/d)|(?<![A-Za-z0-9])){re.escape(n)}(?![A-Za-z0-9])" for n in names)
    )
    return {pattern.sub("*", k[2]) for k in printed}


# --- the worked example ------------------------------------------------------------------------


def test_the_worked_example_prints_the_posts_numbers() -> None:
    spec = load_spec(None)
    text = script(spec, "numpy", None, "configs/mazur.yaml")
    done = subprocess.run(
        [sys.executable, "-c", text], capture_output=True, text=True, check=True, timeout=120
    )
    assert "dE_total/dw5 = 0.08216704056423077\n" in done.stdout
    assert "w5+ = 0.35891647971788465\n" in done.stdout
    assert done.stderr == ""
    printed = parse(done.stdout)
    trace = step(spec)
    # every quantity of the trace but the links of one chain (dnet_o1/dw5, dnet_o1/dout_h1,
    # dE_o1/dout_h1), which the matrices hold as W and the layer's input
    links = re.compile(r"dnet_\w+/d\w+|dE_o\d/dout_h\d")
    assert {(s.update, s.sample, s.id) for s in trace.steps if not links.fullmatch(s.id)} == set(
        printed
    )
    assert printed[(0, 0, "delta_o1")] == 0.13849856162855695
    kinds = compare(spec, printed)
    assert kinds == {
        "net_*", "out_*", "E_*", "E_total", "dE_total/dout_*", "dout_*/dnet_*", "delta_*",
        "dE_total/d*", "*+", "net_*+", "out_*+", "E_*+", "E_total+",
    }  # fmt: skip
    # no bias is trained in the post: none is printed as updated
    assert not any(k[2].startswith("b") for k in printed)
    assert trace.updated["w5"] == printed[(0, None, "w5+")]


def test_the_script_explains_itself() -> None:
    text = script(load_spec(None), "numpy")
    for line in (
        "W_o = np.array([  # one row per neuron, one column per input",
        "    [0.4, 0.45],  # w5, w6: into o1",
        "    # Layer o: net_o1 = w5 * out_h1 + w6 * out_h2 + b2 * 1 (each neuron alike)",
        "net_o = W_o @ out_h + b_o",
        "            # dE_total/dw5 = delta_o1 * out_h1: the outer product",
        "dE_total_dW_o = np.outer(delta_o, out_h)",
        "dE_total_dout_h = W_o.T @ delta_o",
        "# out_h1 = 1/(1 + e^(-net_h1))",
        "W_o = (W_o - (lr * dE_batch_dW_o))",
    ):
        assert line in text.splitlines() or line.strip() in text, line
    assert "backprop_cli" not in text  # standalone: no helper library
    compile(text, "<export>", "exec")


def test_the_post_s_closing_figures_in_the_sequential_order() -> None:
    spec = loads_spec(_mazur())
    assert spec.training.update_order == "sequential"
    printed = parse(run_here(script(spec, "numpy")))
    compare(spec, printed)
    # the hidden layer's deltas read the updated output weights: E_total+ is the post's last figure
    assert printed[(None, 0, "E_total+")] == pytest.approx(0.291027924, abs=5e-10)
    assert (
        printed[(None, 0, "E_total+")]
        != parse(run_here(script(load_spec(None), "numpy")))[(None, 0, "E_total+")]
    )


def _mazur() -> str:
    from pathlib import Path

    text = (Path(__file__).parents[1] / "configs" / "mazur.yaml").read_text()
    return text.replace(
        "  update_biases: false", "  update_biases: false\n  update_order: sequential"
    )


def test_training_agrees_with_backprop_train() -> None:
    spec = load_spec(None)
    printed = parse(run_here(script(spec, "numpy", 10_000)).split("# after 10000 epochs\n")[1])
    trainer = Trainer(spec)
    list(trainer.run(10_000))
    assert printed[(None, None, "E_total")] == pytest.approx(trainer.loss, rel=1e-11)
    for pid, value in trainer.parameters().items():
        assert printed[(None, None, pid)] == pytest.approx(value, rel=1e-11), pid


# --- the grid ----------------------------------------------------------------------------------


def features(case: tuple[str, str, str, str, int]) -> set[tuple[str, ...]]:
    h, o, loss, opt, n = case
    return {
        ("hidden", h),
        ("output", o),
        ("pair", loss, o),
        ("optimizer", opt, str(n % 2)),  # with and without weight decay
        ("mode", str(n % 3), str(n % 2)),  # online, batch, minibatch; biases fixed or trained
        ("saturated", str(n % 4), loss),
    }


def cover() -> Iterator[tuple[str, str, str, str, int]]:
    """A few cases in which every activation, loss, optimizer, mode and bias setting appears."""
    seen: set[tuple[str, ...]] = set()
    for case in CASES:
        new = features(case) - seen
        if new:
            seen |= new
            yield case


COVER = list(cover())


def test_the_cover_covers_the_catalogue() -> None:
    assert {c[0] for c in COVER} == {a.name for a in ACTIVATIONS.values() if a.hidden}
    assert {c[1] for c in COVER} == set(ACTIVATIONS)
    assert {c[2] for c in COVER} == set(LOSSES)
    assert {(c[3], c[4] % 2) for c in COVER} == set(itertools.product(OPTIMIZERS, (0, 1)))
    assert {(c[4] % 3, c[4] % 2) for c in COVER} == set(itertools.product((0, 1, 2), (0, 1)))
    assert len(COVER) < 80


@pytest.mark.parametrize("case", COVER, ids=lambda c: "-".join(map(str, c)))
def test_the_numpy_script_prints_the_trace(case: tuple[str, str, str, str, int]) -> None:
    spec = loads_spec(config(*case))
    kinds = compare(spec, parse(run_here(script(spec, "numpy"))))
    assert {"net_*", "delta_*", "dE_total/d*", "*+", "E_total+"} <= kinds


@pytest.mark.parametrize("case", COVER[::4], ids=lambda c: "-".join(map(str, c)))
def test_the_numpy_training_equals_backprop_train(case: tuple[str, str, str, str, int]) -> None:
    spec = loads_spec(config(*case))
    text = run_here(script(spec, "numpy", 3))
    printed = parse(text.split("# after 3 epochs\n")[1])
    trainer = Trainer(spec)
    list(trainer.run(3))
    scale = max(abs(v) for v in trainer.parameters().values())
    slack = 1e-7 if "v" in OPTIMIZERS[case[3]].slots else 0.0
    for pid, value in trainer.parameters().items():
        assert printed[(None, None, pid)] == pytest.approx(
            value, rel=1e-12, abs=1e-12 * scale + slack
        )
    if math.isfinite(trainer.loss):
        assert printed[(None, None, "E_total")] == pytest.approx(trainer.loss, rel=1e-10, abs=1e-14)


# --- the command -------------------------------------------------------------------------------


def test_export_writes_stdout_or_a_file_and_never_overwrites(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    result = run("export", "--to", "numpy")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == script(load_spec(None), "numpy", None, "")
    assert "CONFIG_NAME = 'A step by step backpropagation example'\n" in result.stdout
    assert "CONFIG_FILE" not in result.stdout  # the worked example comes from no file
    assert run("export", "--to", "numpy", "-o", "-").stdout == result.stdout
    path = tmp_path / "step.py"
    done = run("export", "--to", "numpy", "-o", str(path))
    assert done.exit_code == 0 and done.stdout == ""
    assert path.read_text() == result.stdout
    path.write_text("mine")
    again = assert_input_error(run("export", "--to", "numpy", "-o", str(path)))
    assert "already exists; add --force" in again["rest"]
    assert path.read_text() == "mine"
    forced = run("export", "--to", "numpy", "-o", str(path), "--force", "--epochs", "2")
    assert forced.exit_code == 0
    assert "EPOCHS = 2" in path.read_text()


def test_export_needs_a_target() -> None:
    result = run("export")
    assert result.exit_code == 2
    assert "--to" in result.stderr
    bad = run("export", "--to", "jax")
    assert bad.exit_code == 2 and "numpy, pytorch" in bad.stderr


def test_an_unknown_target_raises() -> None:
    with pytest.raises(ExportError, match="unknown target 'jax'"):
        script(load_spec(None), "jax")


# --- PyTorch -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch() -> object:
    torch = pytest.importorskip("torch")
    dtype = torch.get_default_dtype()
    yield torch
    torch.set_default_dtype(dtype)  # the scripts set float64 for the whole process


def refused(spec: Spec) -> bool:
    """PyTorch has no loss module for this (loss, output activation) pair."""
    loss = LOSSES[spec.loss]
    fused = loss.fused.get(spec.layers[-1].activation)
    return (fused.torch if fused is not None else loss.torch) is None


@pytest.mark.parametrize("case", COVER, ids=lambda c: "-".join(map(str, c)))
def test_the_pytorch_script_prints_the_trace(
    torch: object, case: tuple[str, str, str, str, int]
) -> None:
    spec = loads_spec(config(*case))
    if refused(spec):
        with pytest.raises(ExportError, match="PyTorch has no loss that computes"):
            script(spec, "pytorch")
        return
    text = script(spec, "pytorch")
    assert "nn.Linear(2, 3, bias=" in text and "torch.optim." in text
    kinds = compare(spec, parse(run_here(text)), by_logits=True)
    assert {"net_*", "out_*", "E_total", "*+", "E_total+"} <= kinds
    assert {"dE_total/d*", "dE_batch/d*"} & kinds


SOFTPLUS_25 = """
inputs: 1
layers:
  - {activation: softplus, weights: [[25.0], [30.0]], bias: [0.0, 0.0]}
  - {activation: linear, weights: [[0.5, -0.25]], bias: 0.1}
loss: half_sse
samples:
  - {inputs: [1.0], targets: [3.0]}
"""


def test_softplus_in_torch_keeps_its_last_digits_beyond_20(torch: object) -> None:
    # torch.nn.Softplus returns net itself above threshold=20 (its default); the catalogue's
    # entry sets 40, so that ln(1 + e^-25) = 1.4e-11 is not lost.
    spec = loads_spec(SOFTPLUS_25)
    text = script(spec, "pytorch")
    assert "act_h = nn.Softplus(threshold=40.0)" in text
    printed = parse(run_here(text))
    assert printed[(0, 0, "out_h1")] == 25.000000000013888
    compare(spec, printed)


def test_the_pytorch_script_on_the_worked_example(torch: object) -> None:
    spec = load_spec(None)
    text = script(spec, "pytorch")
    for line in (
        "layer_o = nn.Linear(2, 2, bias=False)  # weight: 2 neurons × 2 inputs",
        "act_o = nn.Sigmoid()",
        'loss_fn = nn.MSELoss(reduction="sum")',
        "    return loss_fn(out_o, target) / 2.0",
        "optimizer = torch.optim.SGD([p for p, _ in PARAMETERS], lr=0.5, weight_decay=0.0)",
        "b_o = torch.tensor(0.6)",
    ):
        assert line in text.splitlines(), line
    printed = parse(run_here(text))
    assert printed[(0, 0, "dE_total/dw5")] == 0.08216704056423077
    compare(spec, printed)


@pytest.mark.parametrize("case", COVER[1::6], ids=lambda c: "-".join(map(str, c)))
def test_the_pytorch_training_equals_backprop_train(
    torch: object, case: tuple[str, str, str, str, int]
) -> None:
    spec = loads_spec(config(*case))
    if refused(spec):
        return
    printed = parse(run_here(script(spec, "pytorch", 3)).split("# after 3 epochs\n")[1])
    trainer = Trainer(spec)
    list(trainer.run(3))
    scale = max(abs(v) for v in trainer.parameters().values())
    slack = 1e-7 if "v" in OPTIMIZERS[case[3]].slots else 0.0
    for pid, value in trainer.parameters().items():
        want = pytest.approx(value, rel=1e-12, abs=1e-12 * scale + slack)
        assert printed[(None, None, pid)] == want, pid
    if math.isfinite(trainer.loss):
        assert printed[(None, None, "E_total")] == pytest.approx(trainer.loss, rel=1e-10)


def _resumed() -> str:
    """The worked example with a saved momentum state, as `train --save` writes it."""
    return _mazur().replace(
        "  update_order: sequential",
        "  optimizer:\n    name: momentum\n    state: {step: 1, velocity: {w1: 0.5, w5: -0.25}}",
    )


def test_a_saved_optimizer_state_goes_on_in_numpy() -> None:
    spec = loads_spec(_resumed())
    assert spec.training.optimizer.step == 1
    text = script(spec, "numpy")
    assert "velocity_W_o = np.reshape([-0.25, 0.0, 0.0, 0.0], np.shape(W_o))" in text
    compare(spec, parse(run_here(text)))


def test_what_pytorch_cannot_do_is_refused() -> None:
    with pytest.raises(ExportError, match="the sequential update order exports --to numpy"):
        script(loads_spec(_mazur()), "pytorch")
    with pytest.raises(ExportError, match="saved optimizer state"):
        script(loads_spec(_resumed()), "pytorch")
    result = run("export", "--to", "pytorch", "-", input=_mazur())
    error = assert_input_error(result)
    assert error["file"] == "--to pytorch"
    assert error["rest"].startswith("torch.optim updates every layer at once")


def test_the_readme_shows_what_the_script_prints() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = re.search(r"```text\n\$ python step.py \| grep -E '(.*?)'\n(.*?)```", readme, re.S)
    assert block is not None
    pattern, shown = block[1], block[2]
    done = subprocess.run(
        [sys.executable, "-c", script(load_spec(None), "numpy")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    real = "".join(line + "\n" for line in done.stdout.splitlines() if re.search(pattern, line))
    assert shown == real


def test_three_layers_and_no_bias() -> None:
    from pathlib import Path

    deep = (Path(__file__).parents[1] / "configs" / "deep-softmax.yaml").read_text()
    for text in (deep, deep.replace("    bias: [0.10, 0.20]\n", "")):
        spec = loads_spec(text)
        source = script(spec, "numpy")
        assert "dE_total_dout_g = W_h.T @ delta_h" in source
        kinds = compare(spec, parse(run_here(source)))
        assert "dout_*/dnet_*" in kinds  # the softmax Jacobian's entries, dout_o1/dnet_o2
    assert "# no bias: net_h = W_h @ out_g" in source


def test_three_layers_and_no_bias_in_pytorch(torch: object) -> None:
    from pathlib import Path

    deep = (Path(__file__).parents[1] / "configs" / "deep-softmax.yaml").read_text()
    spec = loads_spec(deep.replace("    bias: [0.10, 0.20]\n", ""))
    text = script(spec, "pytorch")
    assert "# no bias: net_h = layer_h(out_g)" in text
    assert 'loss_fn = nn.CrossEntropyLoss(reduction="sum")' in text
    compare(spec, parse(run_here(text)), by_logits=True)


def test_the_sequential_order_with_batches_of_mixed_sizes_is_refused() -> None:
    grid = config("sigmoid", "sigmoid", "half_sse", "sgd", 2)  # minibatches of 2 and 1
    spec = loads_spec(
        grid.replace("  mode: minibatch", "  update_order: sequential\n  mode: minibatch")
    )
    with pytest.raises(ExportError, match="batches of one and of several samples"):
        script(spec, "numpy")


def test_zero_epochs_is_refused() -> None:
    result = run("export", "--to", "numpy", "--epochs", "0")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: --epochs: 0 is not in the range")


def test_the_script_uses_the_matrix_views_layer_level_ids() -> None:
    from backprop_cli.engine.matrices import scalar_ids

    spec = loads_spec(config("sigmoid", "sigmoid", "half_sse", "adamw", 2))
    text = script(spec, "numpy")
    ids = scalar_ids(spec)
    stated = re.findall(r"^\s*# (\S+) = ", text, re.M)  # the comments over each stage
    layer_level = {s for s in stated if re.search(r"_[ho]\b|_[ho]_|_[ho]\+", s)}
    assert {"W_o_decayed", "m_W_o", "m̂_W_o", "v̂_W_o", "W_o+", "W_h+"} <= layer_level
    assert layer_level <= set(ids), layer_level - set(ids)


def test_an_activations_torch_keyword_is_its_hyper_parameters_own() -> None:
    """PyTorch's keyword for α is declared once, as the Hyper's `torch`; the activation's own
    `torch` entry holds only fixed keywords (Softplus's threshold), never α's name again."""
    import dataclasses

    for act in ACTIVATIONS.values():
        assert act.torch is not None, act.name
        fixed = act.torch[1]
        named = [h.torch for h in act.hyper if h.torch]
        assert not set(named) & set(fixed), act.name
        assert act.torch_kwargs(0.25) == {**dict.fromkeys(named, 0.25), **fixed}, act.name
    assert ACTIVATIONS["leaky_relu"].torch_kwargs(0.2) == {"negative_slope": 0.2}
    assert ACTIVATIONS["elu"].torch_kwargs(1.5) == {"alpha": 1.5}
    assert ACTIVATIONS["softplus"].torch_kwargs(0.0) == {"threshold": 40.0}
    # the keyword follows the Hyper: renamed there, it is renamed in the script's call
    leaky = ACTIVATIONS["leaky_relu"]
    renamed = dataclasses.replace(leaky.hyper[0], torch="slope")
    assert dataclasses.replace(leaky, hyper=(renamed,)).torch_kwargs(0.2) == {"slope": 0.2}
    spec = loads_spec(config("leaky_relu", "sigmoid", "half_sse", "sgd", 1))
    assert "act_h = nn.LeakyReLU(negative_slope=0.01)" in script(spec, "pytorch")
