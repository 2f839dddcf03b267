"""What both scripts share: each layer's names (the matrix view's layer-level ids, W_o, delta_o),
its parameters' ids as matrices, and a writer of indented, commented source lines."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from backprop_cli.ops import ACTIVATIONS, Activation
from backprop_cli.specs.model import Layer, Names, Spec, batches


class ExportError(Exception):
    """A config the chosen target cannot compute as backprop does; the message says why."""


@dataclass(frozen=True, slots=True)
class LayerNames:
    """Layer k's variables: W_o, b_o, net_o, ...; its neurons and its parameters' ids."""

    k: int
    layer: Layer
    act: Activation
    source: str  # the variable of the layer's input: x, or the layer below's out_h
    sources: tuple[str, ...]  # the names of the inputs: i1, i2 or h1, h2
    weight_ids: list[list[str]]
    bias_ids: list[str] | str | None  # per neuron, one shared id, or no bias
    bias_trained: bool

    @property
    def name(self) -> str:
        return self.layer.name

    def var(self, what: str) -> str:
        """A layer-level variable: var("W") is W_o, var("delta") is delta_o."""
        return f"{what}_{self.name}"

    @property
    def W(self) -> str:
        return self.var("W")

    @property
    def b(self) -> str:
        return self.var("b")

    @property
    def neurons(self) -> str:
        return self.var("neurons")

    def trained(self) -> list[tuple[str, str, str]]:
        """(variable, its ids' variable, layer-level id) of each trained parameter matrix."""
        out = [(self.W, f"{self.W}_ids", self.W)]
        if self.bias_ids is not None and self.bias_trained:
            out.append((self.b, f"{self.b}_ids", self.b))
        return out


def layers(spec: Spec) -> list[LayerNames]:
    names = Names.of(spec)
    _names_are_code(spec)
    out = []
    for k, layer in enumerate(spec.layers):
        bias: list[str] | str | None
        if layer.bias is None:
            bias = None
        elif layer.bias_shared:
            bias = str(names.bias[k][0])
        else:
            bias = [str(b) for b in names.bias[k]]
        out.append(
            LayerNames(
                k,
                layer,
                ACTIVATIONS[layer.activation],
                "x" if k == 0 else f"out_{spec.layers[k - 1].name}",
                spec.layer_inputs(k),
                names.weight[k],
                bias,
                spec.training.update_biases,
            )
        )
    return out


def _names_are_code(spec: Spec) -> None:
    """Layer names make variables (W_o) and ids stand in comments: each must be a plain ASCII
    identifier, as a config's are (validate refuses others); a Spec made in code is checked too."""
    every = [*spec.inputs, *(x for layer in spec.layers for x in (layer.name, *layer.neurons))]
    every += [p.id for p in spec.parameters()]
    for x in every:
        if not (isinstance(x, str) and x.isascii() and x.isidentifier()):
            raise ExportError(f"{x!r} is no name a script can use (letters, digits and _)")


def sequential(spec: Spec, update_order: str | None) -> bool:
    """Whether each layer is updated as soon as its gradients are known (the post's closing
    figures); that order applies to updates of one sample, and a mix is refused."""
    order = update_order or spec.training.update_order
    if order != "sequential":
        return False
    sizes = {len(b) for b in batches(spec)}
    if sizes == {1}:
        return True
    if 1 in sizes:
        raise ExportError(
            "the sequential update order with batches of one and of several samples: "
            "give training.batch_size a divisor of the sample count, or the simultaneous order"
        )
    return False


def trained(ls: Sequence[LayerNames]) -> list[str]:
    """The variable of every trained parameter matrix, layer by layer."""
    return [var for ln in ls for var, _, _ in ln.trained()]


def layer_heading(out: Lines, ln: LayerNames) -> None:
    """A layer's comment (what it computes, from what) and the names of its neurons."""
    layer = ln.layer
    alpha = f", α = {layer.alpha!r}" if ln.act.alpha is not None else ""
    out.blank()
    out(
        f"# Layer {layer.name}: {ln.act.prose}{alpha}; neurons {', '.join(layer.neurons)}; "
        f"inputs {', '.join(ln.sources)}.",
        f"{ln.neurons} = {strings(layer.neurons)}",
    )


def samples(out: Lines, spec: Spec, tensor: str) -> None:
    """X and T, one row per sample, made with `tensor` (np.array, torch.tensor)."""
    out.blank()
    out(
        f"# The samples: one row each, inputs {', '.join(spec.inputs)}; targets of "
        f"{', '.join(spec.outputs)}."
    )
    for var, rows in (
        ("X", [s.inputs for s in spec.samples]),
        ("T", [s.targets for s in spec.samples]),
    ):
        out(f"{var} = {tensor}([")
        for row in rows:
            out(f"    {vector(row)},")
        out("])")


TRAINING = "the loss after every tenth of the epochs, then the loss and every parameter at the end"


def preamble(
    out: Lines,
    spec: Spec,
    epochs: int | None,
    src: str,
    target: tuple[str, str, str],
    prints: str,
    layout: Sequence[str],
    setup: Sequence[str],
    show_each: str,
) -> None:
    """The docstring (what the script computes and prints, its layout), imports and settings,
    and the helpers that print; target is (its name, the --to value, what it needs)."""
    name, option, needs = target
    what = f"{epochs} epochs of training" if epochs else "One step of training"
    out(
        "#!/usr/bin/env python3",
        f'"""{what}, in {name}, of the network CONFIG_NAME below.',
        "",
        f"Written by `backprop export --to {option}`" + (" from CONFIG_FILE." if src else "."),
        f"It needs {needs}: python this_file.py",
        "",
        textwrap.fill(f"It prints {TRAINING if epochs else prints}.", 79),
        "",
        *textwrap.wrap(" ".join(layout), WIDTH),
        '"""',
        "",
        "import signal",
        "",
        *setup,
        "",
        "# `python this_file.py | head`: a closed pipe ends the script quietly, as it ends cat",
        'if hasattr(signal, "SIGPIPE"):',
        "    signal.signal(signal.SIGPIPE, signal.SIG_DFL)",
        "",
        # a config's text is data: a literal (repr), never in the docstring or a comment
        "# The config it was written from, as the config writes it",
        f"CONFIG_NAME = {text(spec.name)}",
        *([f"CONFIG_FILE = {text(src)}"] if src else []),
        "",
        f"EPOCHS = {epochs or 1}",
        "PRINT_STEPS = EPOCHS == 1  # one step: print every quantity",
        "",
        "",
        SHOW,
        "",
        "",
        show_each,
    )


# The helpers both scripts define first: one number, and a heading for the numbers below it.
SHOW = '''def show(name, value):
    """Print a number with its id, in full (the shortest text that reads back)."""
    if PRINT_STEPS:
        print(name, "=", repr(float(value)))


def heading(text):
    """Say which sample or update the numbers below belong to."""
    if PRINT_STEPS:
        print("#", text)'''


def number(x: float) -> str:
    """A float as Python source, exactly (the shortest text that reads back as it)."""
    text = repr(float(x))
    return text if text not in ("inf", "-inf", "nan") else f"float({text!r})"


def vector(xs: Sequence[float]) -> str:
    return "[" + ", ".join(number(x) for x in xs) + "]"


def text(x: str) -> str:
    """A text as Python source: a literal that reads back as it and runs nothing, whatever it
    holds (quotes, backslashes, line breaks of any kind: repr escapes every unprintable one)."""
    return repr(str(x))


def strings(xs: Sequence[str]) -> str:
    return "[" + ", ".join(text(x) for x in xs) + "]"


def id_grid(rows: Sequence[Sequence[str]]) -> str:
    return "[" + ", ".join(strings(r) for r in rows) + "]"


WIDTH = 79  # of a comment line, as PEP 8 has it


class Lines:
    """Source lines at an indentation; blank lines kept single."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, *texts: str) -> None:
        for text in texts:
            for line in text.split("\n"):
                indent = "    " * self.depth + line[: len(line) - len(line.lstrip())]
                words = line.lstrip()
                long = len(indent) + len(words) > WIDTH
                if long and words.startswith("# ") and not words.startswith("# ---"):
                    # a comment of its own line, wrapped as a reader's editor shows it
                    for part in textwrap.wrap(words[2:], WIDTH - len(indent) - 2):
                        self.lines.append(f"{indent}# {part}")
                    continue
                self.lines.append(("    " * self.depth + line).rstrip() if line else "")

    def blank(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def section(self, title: str) -> None:
        """A phase's heading: a rule with its title, as a reader scans for them."""
        self.blank()
        rule = "# --- " + title + " "
        self(rule + "-" * max(3, WIDTH - 4 * self.depth - len(rule)))

    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"
