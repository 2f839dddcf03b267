"""The network spec: the frozen dataclasses a validated config becomes (validate.py reads them from
YAML), and the layout facts every engine and kernel shares: parameter ids by position, batches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from backprop_cli.ops import ACTIVATIONS, OPTIMIZERS
from backprop_cli.specs.choices import UPDATE_ORDERS as UPDATE_ORDERS

MODES = ("online", "batch", "minibatch")
REDUCTIONS = ("mean", "sum")
INIT_SCHEMES = ("xavier", "he", "uniform", "normal")
MAX_MAGNITUDE = 1e6  # beyond this, sigmoid and friends only ever see ±inf-like inputs
MAX_SIZE = 10_000  # inputs or neurons of one layer
# Weights and biases: an MNIST-sized 784-128-10 (101,770) fits; far more is a typo, not a network.
MAX_PARAMETERS = 250_000
BUNDLED_EXAMPLE = "mazur.yaml"


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer: its neurons, activation, weights (one row per neuron) and biases."""

    name: str
    neurons: tuple[str, ...]
    activation: str
    weights: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...] | None  # one value when shared, one per neuron otherwise
    bias_shared: bool
    alpha: float = 0.0  # the activation's hyper-parameter α, where it has one

    @property
    def size(self) -> int:
        return len(self.neurons)


@dataclass(frozen=True, slots=True)
class Optimizer:
    """The update rule and its hyper-parameters, with any state saved by an earlier run."""

    name: str = "sgd"
    hyper: Mapping[str, float] = field(default_factory=dict)  # by key; defaults filled in
    # Saved state: step count and per-parameter slots such as {"velocity": {"w1": ...}}.
    step: int = 0
    slots: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    shapes: str | None = None  # the network the state was saved for (resume.fingerprint)


@dataclass(frozen=True, slots=True)
class Training:
    """How the parameters are updated."""

    learning_rate: float = 0.5
    update_biases: bool = True
    mode: str = "online"
    batch_size: int | None = None
    reduction: str = "mean"
    update_order: str = "simultaneous"
    epochs: int | None = None
    epochs_done: int = 0
    optimizer: Optimizer = field(default_factory=Optimizer)


@dataclass(frozen=True, slots=True)
class Sample:
    """One training example."""

    inputs: tuple[float, ...]
    targets: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SamplesFile:
    """Where the samples came from when a config names a data file instead of listing them:
    `samples: {csv: data.csv, inputs: [x1, x2], targets: [y]}` (a saved config names it again)."""

    format: str  # "csv" or "jsonl", the key it was given under
    path: str  # as written in the config: relative to the config's folder
    file: str  # the path errors name (the config's folder joined with path)
    inputs: tuple[str, ...]  # column names, in the network's input order
    targets: tuple[str, ...]  # column names, in the output neurons' order
    # What a saved run recorded of the file it trained on (resume.digest), or None.
    size: int | None = None  # bytes
    sha256: str | None = None
    # When the file is no longer what was recorded: the one-line error a resume gives.
    changed: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """One trainable number, named as the post names it (w1 ... wN, b1 or b_h1)."""

    id: str
    kind: str  # "weight" | "bias"
    layer: int
    neuron: int | None  # None for a bias shared by the layer
    input: int | None  # None for a bias
    value: float


@dataclass(frozen=True, slots=True)
class Spec:
    """A whole network spec, validated."""

    name: str
    inputs: tuple[str, ...]
    layers: tuple[Layer, ...]
    loss: str
    training: Training
    samples: tuple[Sample, ...]
    source: str = "<memory>"
    loss_hyper: Mapping[str, float] = field(default_factory=dict)  # by key; defaults filled in
    samples_from: SamplesFile | None = None  # the data file the samples were read from
    # parameters(), made once: a big network's 11,000 ids cost 50 ms each time
    _parameters: tuple[Param, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.layers[-1].neurons

    def layer_inputs(self, k: int) -> tuple[str, ...]:
        """Names of the values that feed layer k."""
        return self.inputs if k == 0 else self.layers[k - 1].neurons

    def parameters(self) -> list[Param]:
        """Every parameter in the post's order: weights layer by layer, neuron by neuron."""
        made = self._parameters
        if made is None:
            made = self._made_parameters()
            object.__setattr__(self, "_parameters", made)
        return list(made)

    def _made_parameters(self) -> tuple[Param, ...]:
        out: list[Param] = []
        n = 0
        for k, layer in enumerate(self.layers):
            for j, row in enumerate(layer.weights):
                for i, w in enumerate(row):
                    n += 1
                    out.append(Param(f"w{n}", "weight", k, j, i, w))
        # b1, b2 as in the post; beside per-neuron biases (b_h1) a shared one is named by its
        # layer (b_o), as b2 beside b_h2 reads as neuron 2's (b<k> where b_<layer> is taken)
        own = {
            f"b_{n}"
            for layer in self.layers
            if layer.bias is not None and not layer.bias_shared
            for n in layer.neurons
        }
        for k, layer in enumerate(self.layers):
            if layer.bias is None:
                continue
            if layer.bias_shared:
                pid = f"b_{layer.name}" if own and f"b_{layer.name}" not in own else f"b{k + 1}"
                out.append(Param(pid, "bias", k, None, None, layer.bias[0]))
            else:
                for j, b in enumerate(layer.bias):
                    out.append(Param(f"b_{layer.neurons[j]}", "bias", k, j, None, b))
        return tuple(out)

    def with_parameters(self, values: Mapping[str, float]) -> Spec:
        """The same spec with some parameters replaced (by id)."""
        params = self.parameters()
        layers = []
        for k, layer in enumerate(self.layers):
            weights = [list(row) for row in layer.weights]
            bias = list(layer.bias) if layer.bias is not None else None
            for p in params:
                if p.layer != k or p.id not in values:
                    continue
                if p.kind == "weight":
                    assert p.neuron is not None and p.input is not None
                    weights[p.neuron][p.input] = values[p.id]
                elif bias is not None:
                    bias[p.neuron or 0] = values[p.id]
            layers.append(
                Layer(
                    layer.name,
                    layer.neurons,
                    layer.activation,
                    tuple(tuple(r) for r in weights),
                    tuple(bias) if bias is not None else None,
                    layer.bias_shared,
                    layer.alpha,
                )
            )
        return replace(self, layers=tuple(layers))

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, in the YAML format it was read from (defaults filled in)."""
        layers: list[dict[str, Any]] = []
        for layer in self.layers:
            d: dict[str, Any] = {
                "name": layer.name,
                "neurons": list(layer.neurons),
                "activation": layer.activation,
            }
            if ACTIVATIONS[layer.activation].alpha is not None:
                d["alpha"] = layer.alpha
            d["weights"] = [list(row) for row in layer.weights]
            if layer.bias is None:
                d["bias"] = None
            else:
                d["bias"] = layer.bias[0] if layer.bias_shared else list(layer.bias)
            layers.append(d)
        t = self.training
        opt = t.optimizer
        optimizer: dict[str, Any] = {"name": opt.name}
        for h in OPTIMIZERS[opt.name].hyper:
            if not (h.optional and opt.hyper[h.key] == h.default):
                optimizer[h.key] = opt.hyper[h.key]
        if opt.step or opt.slots:
            optimizer["state"] = {
                **({"shapes": opt.shapes} if opt.shapes is not None else {}),
                "step": opt.step,
                **{k: dict(v) for k, v in opt.slots.items()},
            }
        training: dict[str, Any] = {
            "learning_rate": t.learning_rate,
            "update_biases": t.update_biases,
            "mode": t.mode,
        }
        if t.batch_size is not None:
            training["batch_size"] = t.batch_size
        training["reduction"] = t.reduction
        training["update_order"] = t.update_order
        if t.epochs is not None:
            training["epochs"] = t.epochs
        if t.epochs_done:
            training["epochs_done"] = t.epochs_done
        training["optimizer"] = optimizer
        return {
            "name": self.name,
            "inputs": list(self.inputs),
            "layers": layers,
            "loss": {"name": self.loss, **self.loss_hyper} if self.loss_hyper else self.loss,
            "training": training,
            "samples": [
                {"inputs": list(s.inputs), "targets": list(s.targets)} for s in self.samples
            ],
        }


@dataclass(frozen=True, slots=True)
class Names:
    """Parameter ids by position: weight[k][j][i] and bias[k][j] (None when a layer has none)."""

    weight: list[list[list[str]]]
    bias: list[list[str | None]]
    layers: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, spec: Spec) -> Names:
        weight: list[list[list[str]]] = [
            [[""] * len(row) for row in layer.weights] for layer in spec.layers
        ]
        bias: list[list[str | None]] = [[None] * layer.size for layer in spec.layers]
        for p in spec.parameters():
            if p.kind == "weight":
                assert p.neuron is not None and p.input is not None
                weight[p.layer][p.neuron][p.input] = p.id
            elif p.neuron is None:
                bias[p.layer] = [p.id] * spec.layers[p.layer].size
            else:
                bias[p.layer][p.neuron] = p.id
        return cls(weight, bias)

    def layer_of(self, pid: str) -> int:
        if not self.layers:  # an index made once: a big network asks for each of its parameters
            for k, rows in enumerate(self.weight):
                for pid_ in [p for row in rows for p in row] + [b for b in self.bias[k] if b]:
                    self.layers.setdefault(pid_, k)
        return self.layers[pid]


def batches(spec: Spec) -> list[list[int]]:
    """Sample indices of each update in one epoch, in order."""
    n = len(spec.samples)
    t = spec.training
    if t.mode == "online":
        return [[s] for s in range(n)]
    if t.mode == "batch":
        return [list(range(n))]
    size = t.batch_size or n
    return [list(range(start, min(start + size, n))) for start in range(0, n, size)]


def initial_values(spec: Spec) -> dict[str, float]:
    """Parameter values by id."""
    return {p.id: p.value for p in spec.parameters()}
