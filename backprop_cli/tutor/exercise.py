"""Exercises for teachers: a new network spec with random, rounded numbers, as commented YAML.

`make_exercise((2, 2, 2), seed=7)` returns the text of a config in the format of
configs/mazur.yaml, with a comment naming w1, w2, ... on every row of weights. The same arguments
give the same text, byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from backprop_cli.engine.passes import forward_values
from backprop_cli.ops import ACTIVATIONS, LOSSES
from backprop_cli.specs.model import MAX_MAGNITUDE, Spec, initial_values
from backprop_cli.specs.validate import closest, loads_spec

MAX_LAYERS = 10  # entries of --layers, the inputs included
MAX_SIZE = 32  # neurons in one layer: beyond this nobody computes it by hand
HIDDEN_NAMES = ("h", "k", "m", "p", "q", "r", "s", "u")  # i is the inputs, o the outputs
COMMENT_COLUMN = 28
DEFAULT_ACTIVATION = ACTIVATIONS.names()[0]  # the logistic, as in the post
DEFAULT_LOSS = LOSSES.names()[0]  # ½ the squared error, as in the post


class ExerciseError(ValueError):
    """Options that cannot make a valid exercise; the message names the option."""


@dataclass(frozen=True, slots=True)
class Options:
    """What `backprop init` was asked for."""

    layers: tuple[int, ...]
    activation: str = DEFAULT_ACTIVATION
    output_activation: str | None = None  # None: follows the loss and the hidden activation
    loss: str = DEFAULT_LOSS
    seed: int = 0
    decimals: int = 2
    samples: int = 1
    learning_rate: float = 0.5
    # Samples from a data file instead of random ones: its path as the config names it
    # (relative to the config's folder), its input and target columns, and its row count.
    data: str | None = None
    data_columns: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    data_rows: int = 0
    config_file: str = "<exercise>"  # where the config goes: the data file is found from there

    @property
    def output(self) -> str:
        if self.output_activation is not None:
            return self.output_activation
        # The first activation the loss works with (check() refuses an unknown loss).
        pairs = LOSSES[self.loss].outputs if self.loss in LOSSES else None
        return self.activation if pairs is None else pairs[0]

    def command(self) -> str:
        """The command line that makes this exercise again."""
        parts = ["backprop init CONFIG", f"--layers {','.join(map(str, self.layers))}"]
        if self.activation != DEFAULT_ACTIVATION:
            parts.append(f"--activation {self.activation}")
        if self.output_activation is not None:
            parts.append(f"--output-activation {self.output_activation}")
        if self.loss != DEFAULT_LOSS:
            parts.append(f"--loss {self.loss}")
        parts.append(f"--seed {self.seed}")
        if self.decimals != 2:
            parts.append(f"--decimals {self.decimals}")
        if self.data is not None:
            parts.append(f"--samples {self.data}")
        elif self.samples != 1:
            parts.append(f"--samples {self.samples}")
        if self.learning_rate != 0.5:
            parts.append(f"--learning-rate {self.learning_rate!r}")
        return " ".join(parts)


def parse_layers(text: str) -> tuple[int, ...]:
    """`2,3,2` -> (2, 3, 2): inputs, hidden layers..., outputs."""
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise ExerciseError(
            f"--layers {text!r}: expected whole numbers separated by commas, such as 2,2,2 "
            "(inputs, hidden layers..., outputs)"
        ) from None
    if not 2 <= len(sizes) <= MAX_LAYERS:
        raise ExerciseError(
            f"--layers {text!r}: expected 2 to {MAX_LAYERS} sizes (inputs, hidden layers..., "
            f"outputs), got {len(sizes)}"
        )
    for size in sizes:
        if not 1 <= size <= MAX_SIZE:
            raise ExerciseError(f"--layers {text!r}: each size must be 1 to {MAX_SIZE}, got {size}")
    return sizes


def check(opts: Options) -> None:
    """Raise ExerciseError for options that would not make a valid spec."""
    hidden = tuple(a.name for a in ACTIVATIONS.values() if a.hidden)
    last_only = tuple(a.name for a in ACTIVATIONS.values() if not a.hidden)
    if opts.activation not in hidden:
        hint = "" if opts.activation in last_only else closest(opts.activation, ACTIVATIONS.names())
        extra = ""
        if opts.activation in last_only or any(f"'{n}'" in hint for n in last_only):
            names = ", ".join(last_only)
            extra = f"; {names} is only for the output layer (--output-activation {names})"
        raise ExerciseError(
            f"--activation {opts.activation!r}: unknown{hint}; one of " + ", ".join(hidden) + extra
        )
    outputs = ACTIVATIONS.names()
    if opts.output not in outputs:
        raise ExerciseError(
            f"--output-activation {opts.output!r}: unknown{closest(opts.output, outputs)}; one of "
            + ", ".join(outputs)
        )
    if opts.loss not in LOSSES:
        raise ExerciseError(
            f"--loss {opts.loss!r}: unknown{closest(opts.loss, LOSSES.names())}; one of "
            + ", ".join(LOSSES)
        )
    loss = LOSSES[opts.loss]
    if loss.outputs is not None and opts.output not in loss.outputs:
        needs = f"{loss.needs}: " if loss.needs else ""
        raise ExerciseError(
            f"--loss {opts.loss} needs {needs}--output-activation {loss.outputs[0]}"
        )
    if not ACTIVATIONS[opts.output].elementwise and opts.layers[-1] < 2:
        raise ExerciseError(f"--output-activation {opts.output} needs at least 2 outputs")
    if not 1 <= opts.decimals <= 6:
        raise ExerciseError(f"--decimals {opts.decimals}: must be 1 to 6")
    if opts.samples < 1:
        raise ExerciseError(f"--samples {opts.samples}: must be at least 1")
    if not 0 < opts.learning_rate <= MAX_MAGNITUDE:  # also refuses nan and inf
        raise ExerciseError(
            f"--learning-rate {opts.learning_rate:g}: must be greater than 0 and at most "
            f"{MAX_MAGNITUDE:g}"
        )


class _Numbers:
    """Random numbers rounded to a few decimals, never 0 (a zero weight or input teaches little)."""

    def __init__(self, seed: int, decimals: int) -> None:
        self.rng = random.Random(seed)
        self.decimals = decimals
        self.unit = 10.0**-decimals

    def draw(self, lo: float, hi: float) -> str:
        while True:
            x = round(self.rng.uniform(lo, hi), self.decimals)
            if x != 0:
                return f"{x:.{self.decimals}f}"

    def targets(self, activation: str, n: int) -> list[str]:
        act = ACTIVATIONS[activation]
        if not act.elementwise:  # a class label: one-hot, a distribution that sums to exactly 1
            hot = self.rng.randrange(n)
            return [f"{float(j == hot):.{self.decimals}f}" for j in range(n)]
        lo, hi = act.targets(self.unit)
        return [self.draw(lo, hi) for _ in range(n)]


def _lines(rows: list[tuple[str, str]]) -> str:
    """Code and comments, the comments in one column (as configs/mazur.yaml lays them out)."""
    column = max([COMMENT_COLUMN] + [len(code) + 2 for code, comment in rows if comment])
    return "".join(
        (f"{code.ljust(column)}# {comment}" if comment else code) + "\n" for code, comment in rows
    )


def _flow(values: Sequence[str]) -> str:
    return "[" + ", ".join(values) + "]"


ATTEMPTS = 200


def make_exercise(opts: Options) -> str:
    """The YAML text of a new exercise (validated: it loads, and every neuron can learn).

    Numbers that leave a ReLU neuron dead for every sample (net ≤ 0: no gradient flows, so the
    exercise teaches nothing there) are drawn again, from the next stream of the same seed.
    """
    check(opts)
    text = ""
    for attempt in range(ATTEMPTS):
        text = _draw(opts, _Numbers(opts.seed * ATTEMPTS + attempt, opts.decimals))
        if _alive(loads_spec(text, opts.config_file)):
            break
    return text


def _alive(spec: Spec) -> bool:
    """Whether every ReLU neuron is active (net > 0) for at least one sample."""
    params = initial_values(spec)
    outs = [forward_values(spec, params, s.inputs) for s in spec.samples]
    for k, layer in enumerate(spec.layers):
        if not ACTIVATIONS[layer.activation].can_die:
            continue
        for j in range(layer.size):
            if not any(o[k][j] > 0 for o in outs):
                return False
    return True


def _draw(opts: Options, nums: _Numbers) -> str:
    sizes = opts.layers
    n_hidden = len(sizes) - 2
    names = [HIDDEN_NAMES[k] for k in range(n_hidden)] + ["o"]
    acts = [opts.activation] * n_hidden + [opts.output]
    inputs = [f"i{i + 1}" for i in range(sizes[0])]

    shape = "-".join(map(str, sizes))
    hidden = ", ".join(names[:-1])
    layers = f"hidden layer{'s' * (n_hidden > 1)} {hidden} ({opts.activation}), " if hidden else ""
    head = [
        f"# An exercise made by: {opts.command()}",
        f"# Network {shape}: {layers}output layer o ({opts.output}); loss {opts.loss}.",
        "# Work one step by hand (forward pass, E_total, every gradient, the new weights), then:",
        "#   backprop step THIS_FILE                     the worked solution",
        "#   backprop step THIS_FILE -f markdown > solution.md",
        f"name: Exercise {shape} (seed {opts.seed})",
    ]
    out: list[tuple[str, str]] = [(f"inputs: {_flow(inputs)}", ""), ("layers:", "")]
    w = 0
    prev = inputs
    for k, name in enumerate(names):
        neurons = [f"{name}{j + 1}" for j in range(sizes[k + 1])]
        out.append((f"  - name: {name}", ""))
        out.append((f"    activation: {acts[k]}", ""))
        out.append(
            (
                "    weights:",
                f"one row per neuron ({', '.join(neurons)}), one column per input "
                f"({', '.join(prev)})",
            )
        )
        for n in neurons:
            row = [nums.draw(-1.0, 1.0) for _ in prev]
            ids = ", ".join(f"w{w + i + 1}" for i in range(len(prev)))
            edges = ", ".join(f"{p}→{n}" for p in prev)
            w += len(prev)
            out.append((f"      - {_flow(row)}", f"{ids}  ({edges})"))
        shared = f"shared by {', '.join(neurons)}" if len(neurons) > 1 else f"of {neurons[0]}"
        out.append((f"    bias: {nums.draw(-1.0, 1.0)}", f"b{k + 1}, {shared}"))
        prev = neurons
    out.append((f"loss: {opts.loss}", LOSSES[opts.loss].summary))
    out.append(("training:", ""))
    out.append((f"  learning_rate: {opts.learning_rate!r}", ""))
    biases = ", ".join(f"b{k + 1}" for k in range(len(names)))
    if opts.data is None:  # a hand exercise: the post's convention
        out.append(("  update_biases: false", f"as in the post; true updates {biases} too"))
    else:  # a real data set: a network fits it with its biases
        out.append(
            ("  update_biases: true", f"{biases} train too; false holds them fixed, as in the post")
        )
    if opts.data_rows > DATA_BATCH:
        out.append(("  mode: minibatch", f"{opts.data_rows:,} rows: one update per batch"))
        out.append((f"  batch_size: {DATA_BATCH}", ""))
    if opts.data is not None:
        out += _data_lines(opts)
        return "\n".join(head) + "\n" + _lines(out)
    out.append(("samples:", ""))
    for _ in range(opts.samples):
        x = [nums.draw(0.0, 1.0) for _ in inputs]
        t = nums.targets(opts.output, sizes[-1])
        out.append((f"  - inputs: {_flow(x)}", ", ".join(inputs)))
        out.append((f"    targets: {_flow(t)}", ", ".join(f"target_{n}" for n in prev)))
    return "\n".join(head) + "\n" + _lines(out)


DATA_BATCH = 32  # a data file of more rows trains in minibatches of this many


def _data_lines(opts: Options) -> list[tuple[str, str]]:
    """`samples:` naming the data file, inputs and targets by column."""
    from backprop_cli.specs.samplesfile import format_of

    assert opts.data is not None
    ins, outs = opts.data_columns
    n = len(opts.layers)
    targets = ", ".join(f"o{j + 1}" for j in range(opts.layers[-1]))
    return [
        ("samples:", f"{opts.data_rows:,} rows"),
        (f"  {format_of(opts.data)}: {_plain(opts.data)}", "relative to this file"),
        (
            f"  inputs: {_flow([_plain(c) for c in ins])}",
            ", ".join(f"i{i + 1}" for i in range(opts.layers[0])),
        ),
        (f"  targets: {_flow([_plain(c) for c in outs])}", f"targets of {targets}" if n else ""),
    ]


def _plain(text: str) -> str:
    """A name or path as YAML reads it back: as it is when plain, else in double quotes."""
    import json
    import re

    return text if re.fullmatch(r"[A-Za-z_.][\w./-]*", text) else json.dumps(text)
