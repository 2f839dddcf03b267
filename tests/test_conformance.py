"""The conformance grid, driven by the catalogue: every activation × loss × optimizer, in each mode
and bias setting, plain and saturated (|net| up to about 1000).

For each: the compiled and the loop kernel equal the engine bit for bit after one epoch (so
`train --epochs 1` is `step`'s `updated`), numpy agrees to 1e-12 relative, and every displayed
formula, evaluated with its substituted numbers, gives the step's value.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator

import pytest

from backprop_cli import step
from backprop_cli.kernels import Trainer
from backprop_cli.kernels.compiled import supports
from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS
from backprop_cli.ops.functions import FORMULA_FUNCTIONS
from backprop_cli.render.mathtex import Node, parse
from backprop_cli.specs.model import MAX_MAGNITUDE, Spec
from backprop_cli.specs.validate import loads_spec

MODES = ("online", "batch", "minibatch")
TARGETS = ([0.25, 0.75], [1.0, 0.0], [0.5, 0.5])  # valid for every loss: in [0, 1], summing to 1


def saturated(case: int) -> bool:
    return case % 4 == 3


def config(hidden: str, output: str, loss: str, optimizer: str, case: int) -> str:
    mode = MODES[case % 3]
    biases = "true" if case % 2 else "false"
    scale = 400.0 if saturated(case) else 1.0  # |net| up to about 1000
    batch = "\n  batch_size: 2" if mode == "minibatch" else ""
    # Every other case sets each optional hyper-parameter (weight decay) the rule has.
    optional = [h for h in OPTIMIZERS[optimizer].hyper if h.optional] if case % 2 else []
    decay = "".join(f", {h.key}: 0.01" for h in optional)
    w2 = [[0.4 * scale, -0.45 * scale, 0.3], [-0.5 * scale, 0.55 * scale, -0.2]]
    samples = "\n".join(
        f"  - {{inputs: [{x1}, {x2}], targets: {t}}}"
        for (x1, x2), t in zip([(0.05, 0.1), (0.9, -0.4), (-0.3, 0.7)], TARGETS, strict=True)
    )
    return f"""name: grid
inputs: 2
layers:
  - activation: {hidden}
    weights: [[0.15, 0.2], [0.25, -0.3], [-0.35, 0.1]]
    bias: [0.35, -0.1, 0.2]
  - activation: {output}
    weights: {w2}
    bias: 0.6
loss: {loss}
training:
  learning_rate: 0.5
  update_biases: {biases}
  mode: {mode}{batch}
  optimizer: {{name: {optimizer}{decay}}}
samples:
{samples}
"""


def grid() -> Iterator[tuple[str, str, str, str, int]]:
    hidden = [a.name for a in ACTIVATIONS.values() if a.hidden]
    case = 0
    for loss in LOSSES.values():
        outputs = loss.outputs or ACTIVATIONS.names()
        for h, o, opt in itertools.product(hidden, outputs, OPTIMIZERS):
            for _ in range(2):  # two settings of mode, biases and saturation for each
                case += 1
                yield h, o, loss.name, opt, case


CASES = list(grid())
# Every 7th case (7 is prime to the grid's periods: 3 modes, 2 bias settings, 4 for saturation,
# 10 for the optimizers) still has every pair of hidden activation, output activation, loss and
# optimizer, and every mode, bias and saturation setting with each (test below). The tests that
# take SAMPLE run on it by default; BACKPROP_FULL_GRID=1 runs them on all 1,890 cases (.ci/run
# does not set it: the full grid took over 4 minutes of CI's 30).
FULL_GRID = os.environ.get("BACKPROP_FULL_GRID") == "1"
SAMPLE = CASES if FULL_GRID else CASES[::7]


def one_epoch(spec: Spec, kernel: str) -> tuple[dict[str, float], float] | None:
    trainer = Trainer(spec, kernel=kernel)
    done = list(trainer.run(1))
    return (trainer.parameters(), trainer.loss) if done else None


@pytest.mark.numpy_kernel
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_every_kernel_equals_the_engine(case: tuple[str, str, str, str, int]) -> None:
    spec = loads_spec(config(*case))
    trace = step(spec)
    if not math.isfinite(trace.loss_after):
        pytest.skip("diverges in one step")
    if any(abs(v) > MAX_MAGNITUDE for v in trace.updated.values()):
        # train stops before a parameter leaves what a config may hold (so the save loads back)
        assert one_epoch(spec, "loops") is None and one_epoch(spec, "numpy") is None
        pytest.skip("leaves ±1e6 in one step")
    loops = one_epoch(spec, "loops")
    assert loops is not None
    assert loops == (trace.updated, trace.loss_after)  # bit for bit
    compiled = one_epoch(spec, "python")
    assert compiled == loops
    if supports(spec, spec.training.update_order):
        assert type(Trainer(spec, kernel="python").kernel).__name__ == "FusedKernel"
    pytest.importorskip("numpy")
    arrays = one_epoch(spec, "numpy")
    assert arrays is not None
    # Adam's step is η·m̂/(√v̂ + ε): a gradient that is 0 but for round-off (a shared bias under
    # softmax: Σ_j (out_j − t_j) = 0) moves θ by about η·g/ε, some 1e-8 here, in either kernel.
    slack = 1e-7 if "v" in OPTIMIZERS[case[3]].slots else 1e-14
    # In a saturated network the sums cancel (outputs of 100s, a θ+ of 0.03), so the last digits
    # depend on the order numpy adds in: there, 1e-10 of the larger of θ and θ+.
    rel = 1e-10 if saturated(case[4]) else 1e-12
    before = {p.id: p.value for p in spec.parameters()}
    for pid, value in loops[0].items():
        scale = max(abs(value), abs(before[pid]))
        assert arrays[0][pid] == pytest.approx(value, rel=1e-12, abs=slack + rel * scale), pid
    assert arrays[1] == pytest.approx(loops[1], rel=rel, abs=1e-14)


def several_epochs(trainer: Trainer, epochs: int, size: int | None) -> list[str]:
    """E_total of each epoch, the parameters, slots and t after them, as exact text."""
    losses = [x for _, chunk in trainer.chunks(epochs, size=size) for x in chunk]
    kernel = trainer.kernel
    slots = {name: sorted(values.items()) for name, values in kernel.slots().items()}
    return [repr(x) for x in (losses, kernel.parameters(), slots, trainer.state.t)]


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: "-".join(map(str, c)))
def test_the_epoch_function_equals_the_loop_kernel_over_epochs(
    case: tuple[str, str, str, str, int],
) -> None:
    # The fused kernel runs epochs inside one generated function: over 7 epochs (in chunks of
    # 3, and all at once) it is the loop kernel, which test_every_kernel_equals_the_engine holds
    # to the engine, float for float; so are the optimizer's slots and the update count. (One
    # epoch of each kernel is held to the engine on every case; here, SAMPLE: every 7th case,
    # all 1,890 with BACKPROP_FULL_GRID=1.)
    spec = loads_spec(config(*case))
    if not supports(spec, spec.training.update_order):
        pytest.skip("softmax: the loop kernel")
    loops = several_epochs(Trainer(spec, kernel="loops"), 7, 1)
    for size in (3, None):
        fused = Trainer(spec, kernel="python")
        assert type(fused.kernel).__name__ == "FusedKernel"
        assert several_epochs(fused, 7, size) == loops


def evaluate(node: Node, terms: dict[str, float]) -> float:
    """A displayed formula's value from its substituted numbers (the formula tells the truth)."""
    ev = lambda n: evaluate(n, terms)  # noqa: E731
    if node.kind == "num":
        return float(node.text)
    if node.kind == "slot":
        return terms[node.text]
    if node.kind == "word":
        assert node.text == "e", node.text
        return math.e
    if node.kind in ("paren", "neg", "half"):
        x = ev(node.args[0])
        return {"paren": x, "neg": -x, "half": 0.5 * x}[node.kind]
    if node.kind == "bin":
        a, b = ev(node.args[0]), ev(node.args[1])
        return {
            "+": a + b,
            "-": a - b,
            "*": a * b,
            "/": a / b if b else math.copysign(math.inf, a),
        }[node.text]
    if node.kind == "pow":
        base, power = node.args
        if base.kind == "word" and base.text == "e":
            return math.exp(ev(power))
        return float(ev(base) ** ev(power))
    if node.kind == "call":
        args = [ev(a) for a in node.args]
        return FORMULA_FUNCTIONS[node.text].value(*args)
    if node.kind == "if":
        value, cond, other = node.args
        return ev(value) if ev(cond) else ev(other)
    if node.kind == "cmp":
        return float(ev(node.args[0]) > ev(node.args[1]))
    raise AssertionError(node.kind)


@pytest.mark.parametrize("case", CASES[::3], ids=lambda c: "-".join(map(str, c)))
def test_every_formula_tells_the_truth(case: tuple[str, str, str, str, int]) -> None:
    checked = 0
    for s in step(loads_spec(config(*case))).steps:
        if not math.isfinite(s.value) or (
            s.note and ("from the nets" in s.note or "limit" in s.note)
        ):
            continue  # the note says the value comes from a stable form or a limit, not as written
        rhs = s.template.split(" = ")[-1]  # a simplified form stands after its chain
        try:
            shown = evaluate(parse(rhs), dict(s.terms))
        except (OverflowError, ValueError, ZeroDivisionError):
            continue  # the written form overflows where the computed form does not
        assert shown == pytest.approx(s.value, rel=1e-9, abs=1e-12), (s.id, s.formula, s.terms)
        checked += 1
    assert checked > 40


def test_the_grid_covers_the_catalogue() -> None:
    seen = {(c[0], c[1], c[2], c[3]) for c in CASES}
    assert {c[0] for c in seen} == {a.name for a in ACTIVATIONS.values() if a.hidden}
    assert {c[1] for c in seen} == set(ACTIVATIONS)
    assert {c[2] for c in seen} == set(LOSSES)
    assert {c[3] for c in seen} == set(OPTIMIZERS)
    assert {c[4] % 4 for c in CASES} == {0, 1, 2, 3} and {c[4] % 3 for c in CASES} == {0, 1, 2}


def test_the_sample_covers_every_pair_and_setting() -> None:
    def setting(case: int) -> tuple[str, int, bool]:
        return MODES[case % 3], case % 2, saturated(case)

    def pairs(cases: list[tuple[str, str, str, str, int]]) -> set[tuple[object, ...]]:
        """Each pair of activation, output, loss and optimizer; each of them with each mode,
        bias setting and saturation (one at a time); each whole setting."""
        out: set[tuple[object, ...]] = set()
        for c in cases:
            out |= {(i, j, c[i], c[j]) for i, j in itertools.combinations(range(4), 2)}
            out |= {(i, k, c[i], setting(c[4])[k]) for i in range(4) for k in range(3)}
            out.add(setting(c[4]))
        return out

    sample = CASES[::7]
    assert len(sample) == 270
    assert pairs(sample) == pairs(CASES)
    assert len(pairs(CASES)) == 402
