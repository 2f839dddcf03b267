"""Loading and validating a network spec: YAML in, the frozen dataclasses of spec.py out.

Every rule names the field and the place in the file it applies to, so that a mistake anywhere in a
config comes back as one line: `net.yaml:7:14: layers[1].weights: expected 2 rows ..., got 3`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS, Hyper
from backprop_cli.specs import resume, source
from backprop_cli.specs.model import (
    BUNDLED_EXAMPLE,
    INIT_SCHEMES,
    MAX_MAGNITUDE,
    MAX_PARAMETERS,
    MAX_SIZE,
    MODES,
    REDUCTIONS,
    UPDATE_ORDERS,
    Layer,
    Optimizer,
    Sample,
    SamplesFile,
    Spec,
    Training,
)
from backprop_cli.specs.source import NUMBER, Document, Path_, SourceError

SpecError = SourceError
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# What no document (XML refuses them) or terminal (escape sequences) can show of a title: control
# characters but tab and line breaks, lone surrogates (undecodable bytes), and the non-characters.
_UNSHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")

# --- loading -------------------------------------------------------------------------------------


def load_spec(path: str | Path | None = None) -> Spec:
    """Load and validate a spec from a YAML file; None loads the bundled worked example."""
    if path is None:
        return loads_spec(bundled_example_text(), BUNDLED_EXAMPLE)
    doc = source.load(Path(path))
    return from_document(doc)


def loads_spec(text: str, name: str = "<string>") -> Spec:
    """Load and validate a spec from YAML text."""
    return from_document(source.parse(text, name))


def bundled_example_text() -> str:
    """The YAML text of the worked example that ships inside the package."""
    try:  # a file beside this module, as pip installs it: quicker than importlib.resources
        return (Path(__file__).parents[1] / "configs" / BUNDLED_EXAMPLE).read_text("utf-8")
    except OSError:  # pragma: no cover  (a package run from a zip file)
        from importlib import resources

        return resources.files("backprop_cli.configs").joinpath(BUNDLED_EXAMPLE).read_text("utf-8")


def from_document(doc: Document) -> Spec:
    """Validate parsed YAML into a Spec."""
    return _Validator(doc).spec()


def closest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """' (did you mean X?)' for the nearest choice, or ''."""
    same = [c for c in choices if c.lower() == word.lower()]  # MSE: difflib is case-sensitive
    match = same or difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


class _Validator:
    """Walks a Document, checking each rule and building the dataclasses."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.layer_names: set[str] = set()
        self.n_parameters = 0
        self.samples_from: SamplesFile | None = None

    def fail(self, path: Path_, message: str) -> SpecError:
        return self.doc.error(path, message)

    # small typed getters -------------------------------------------------------------------------

    def mapping(self, value: Any, path: Path_, keys: tuple[str, ...], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected {what} (a mapping of keys), got {_kind(value)}")
        for key in value:
            if key not in keys:
                # A close match is the answer; the full list is for when there is none.
                hint = closest(key, keys) or "; allowed: " + ", ".join(keys)
                raise self.doc.error((*path, key), f"unknown key {key!r}{hint}", at_key=True)
        return value

    def number(
        self,
        value: Any,
        path: Path_,
        *,
        positive: bool = False,
        nonnegative: bool = False,
        limit: float = MAX_MAGNITUDE,
    ) -> float:
        if isinstance(value, bool):
            raise self.fail(path, f"expected a number, got {self.boolean_text(path, value)}")
        if isinstance(value, str):
            raise self.fail(path, f"expected a number, got the text {value!r}{_number_hint(value)}")
        if not isinstance(value, int | float):
            raise self.fail(path, f"expected a number, got {_kind(value)}")
        written = self.written(path, value)
        too_large = f"{written} is too large (|x| must be at most {limit:g})"
        try:
            x = float(value)
        except OverflowError:
            raise self.fail(path, too_large) from None
        if math.isnan(x):
            raise self.fail(path, "must be a finite number, got NaN")
        if math.isinf(x):
            # 1e999 is a typo for a big number; .inf is a request for infinity.
            infinite = "inf" in written.lower()
            message = "must be a finite number, got infinity" if infinite else too_large
            raise self.fail(path, message)
        if abs(x) > limit:
            raise self.fail(path, too_large)
        if positive and x <= 0:
            raise self.fail(path, f"must be greater than 0, got {written}")
        if nonnegative and x < 0:
            raise self.fail(path, f"must be 0 or more, got {written}")
        return x

    def written(self, path: Path_, value: Any) -> str:
        """A scalar as the user wrote it (shortened), so a message quotes their own text."""
        text = self.doc.texts.get(tuple(path), str(value))
        return text if len(text) <= 24 else text[:20] + "..."

    def boolean_text(self, path: Path_, value: bool) -> str:
        """'a boolean (true)', or 'yes (YAML reads it as true)' when the file says yes/on/y."""
        word = str(value).lower()
        text = self.doc.texts.get(tuple(path), word)
        if text.lower() == word:
            return f"a boolean ({word})"
        return f"{text} (YAML reads it as the boolean {word})"

    def integer(
        self, value: Any, path: Path_, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        if isinstance(value, bool):
            raise self.fail(path, f"expected a whole number, got {self.boolean_text(path, value)}")
        if isinstance(value, str):
            hint = " (remove the quotes)" if NUMBER.fullmatch(value.strip()) else ""
            raise self.fail(path, f"expected a whole number, got the text {value!r}{hint}")
        if not isinstance(value, int | float):
            raise self.fail(path, f"expected a whole number, got {_kind(value)}")
        if isinstance(value, float):
            if not value.is_integer():
                raise self.fail(path, f"expected a whole number, got {self.written(path, value)}")
            value = int(value)
        if value < minimum:
            raise self.fail(path, f"must be at least {minimum}, got {self.written(path, value)}")
        if maximum is not None and value > maximum:
            raise self.fail(path, f"must be at most {maximum}, got {self.written(path, value)}")
        return int(value)

    def boolean(self, value: Any, path: Path_) -> bool:
        if not isinstance(value, bool):
            quoted = isinstance(value, str) and value.lower() in ("true", "false", "yes", "no")
            hint = " (remove the quotes)" if quoted else ""
            raise self.fail(path, f"expected true or false, got {_kind(value)}{hint}")
        return value

    def choice(self, value: Any, path: Path_, choices: tuple[str, ...]) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected one of {', '.join(choices)}; got {_kind(value)}")
        if value not in choices:
            raise self.fail(
                path,
                f"unknown value {value!r}{closest(value, choices)}; one of " + ", ".join(choices),
            )
        return value

    def name(self, value: Any, path: Path_) -> str:
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise self.fail(
                path, f"expected a name (a letter, then letters, digits or _), got {_show(value)}"
            )
        return value

    def names(self, value: Any, path: Path_, taken: set[str]) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"expected a non-empty list of names, got {_kind(value)}")
        out = []
        for i, item in enumerate(value):
            n = self.name(item, (*path, i))
            if n in taken:
                raise self.fail((*path, i), f"name {n!r} is already used")
            taken.add(n)
            out.append(n)
        return tuple(out)

    def vector(self, value: Any, path: Path_, length: int, what: str) -> tuple[float, ...]:
        if not isinstance(value, list):
            raise self.fail(
                path, f"expected a list of {length} numbers ({what}), got {_kind(value)}"
            )
        if len(value) != length:
            got = f"{len(value)}{_missing_comma(value)}"
            raise self.fail(path, f"expected {length} numbers ({what}), got {got}")
        if all(x.__class__ is float and -MAX_MAGNITUDE <= x <= MAX_MAGNITUDE for x in value):
            return tuple(value)  # what number() makes of each (a NaN fails the comparison)
        return tuple(self.number(x, (*path, i)) for i, x in enumerate(value))

    # the spec ------------------------------------------------------------------------------------

    def spec(self) -> Spec:
        top = self.mapping(
            self.doc.value,
            (),
            ("name", "inputs", "layers", "loss", "training", "samples"),
            "a network spec",
        )
        name = top.get("name", Path(self.doc.file).stem)
        if not isinstance(name, str):
            typed = self.doc.texts.get(("name",))
            if typed is not None and isinstance(name, int | float) and not isinstance(name, bool):
                # as typed (0x10, not 16): YAML made a number of it
                message = f"expected text, got the number {typed}; quote it for a name: '{typed}'"
                raise self.fail(("name",), message)
            raise self.fail(("name",), f"expected text, got {_kind(name)}")
        bad = _UNSHOWN.search(name)
        if bad and "name" in top:
            raise self.fail(
                ("name",),
                f"U+{ord(bad[0]):04X} cannot stand in a name: a control character, which "
                "documents and terminals cannot show; remove it",
            )
        name = _UNSHOWN.sub("\ufffd", name)  # a file's name (its stem) is bytes, not typed text
        taken: set[str] = set()
        inputs = self.inputs(top, taken)
        if "layers" not in top:
            raise self.fail((), "missing key 'layers' (a list with one entry per layer)")
        layers = self.layers(top["layers"], inputs, taken)
        loss, loss_hyper = self.loss(top.get("loss", "half_sse"))
        training = self.training(top.get("training", {}))
        samples = self.samples(top, len(inputs), layers)
        spec = Spec(
            name,
            inputs,
            layers,
            loss,
            training,
            samples,
            self.doc.file,
            loss_hyper,
            self.samples_from,
        )
        self.cross_checks(top, spec)
        return spec

    def loss(self, value: Any) -> tuple[str, dict[str, float]]:
        """`loss: NAME`, or `loss: {name: NAME, <hyper-parameter>: value}`."""
        path: Path_ = ("loss",)
        if not isinstance(value, dict):
            name = self.choice(value, path, LOSSES.names())
            return name, {h.key: h.default for h in LOSSES[name].hyper}
        name = self.choice(value.get("name", "half_sse"), (*path, "name"), LOSSES.names())
        keys = [h.key for h in LOSSES[name].hyper]
        d = self.mapping(value, path, ("name", *keys), f"loss {name}")
        return name, {
            h.key: self.hyper(d.get(h.key, h.default), (*path, h.key), h)
            for h in LOSSES[name].hyper
        }

    def inputs(self, top: dict[str, Any], taken: set[str]) -> tuple[str, ...]:
        if "inputs" not in top:
            raise self.fail((), "missing key 'inputs' (a count, or a list of input names)")
        value = top["inputs"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            count = self.integer(value, ("inputs",), minimum=1, maximum=MAX_SIZE)
            names = tuple(f"i{i + 1}" for i in range(count))
            taken.update(names)
            return names
        return self.names(value, ("inputs",), taken)

    def layers(self, value: Any, inputs: tuple[str, ...], taken: set[str]) -> tuple[Layer, ...]:
        path: Path_ = ("layers",)
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"expected a non-empty list of layers, got {_kind(value)}")
        out: list[Layer] = []
        sources = inputs
        for k, raw in enumerate(value):
            last = k == len(value) - 1
            implied = self._outputs_from_targets() if last else None
            layer = self.layer(raw, (*path, k), k, len(value), sources, last, taken, implied)
            out.append(layer)
            sources = layer.neurons
        return tuple(out)

    def layer(
        self,
        raw: Any,
        path: Path_,
        k: int,
        count: int,
        sources: tuple[str, ...],
        last: bool,
        taken: set[str],
        implied_size: int | None = None,
    ) -> Layer:
        keys = ("name", "neurons", "size", "activation", "alpha", "weights", "init", "bias")
        d = self.mapping(raw, path, keys, f"layer {k + 1}")
        default_name = "o" if last else ("h" if count == 2 else f"h{k + 1}")
        name = self.name(d.get("name", default_name), (*path, "name"))
        if name in self.layer_names:
            raise self.fail((*path, "name"), f"layer name {name!r} is already used")
        self.layer_names.add(name)
        fan_in = len(sources)
        activation = self.choice(
            d.get("activation", "sigmoid"), (*path, "activation"), ACTIVATIONS.names()
        )
        act = ACTIVATIONS[activation]
        if not act.hidden and not last:
            raise self.fail(
                (*path, "activation"), f"{activation} is only allowed on the last (output) layer"
            )
        hyper = act.alpha
        alpha = 0.0 if hyper is None else hyper.default
        if "alpha" in d:
            if hyper is None:
                with_alpha = [a.name for a in ACTIVATIONS.values() if a.alpha is not None]
                raise self.fail(
                    (*path, "alpha"), "alpha applies only to activation " + " or ".join(with_alpha)
                )
            alpha = self.hyper(d["alpha"], (*path, "alpha"), hyper)
        size: int | None = None
        if "size" in d:
            size = self.integer(d["size"], (*path, "size"), minimum=1, maximum=MAX_SIZE)
        neurons: tuple[str, ...] | None = None
        if "neurons" in d:
            neurons = self.names(d["neurons"], (*path, "neurons"), taken)
            if size is not None and size != len(neurons):
                raise self.fail(
                    (*path, "size"), f"size {size} disagrees with {len(neurons)} neuron names"
                )
            size = len(neurons)
        if "weights" in d:
            if "init" in d:
                raise self.fail((*path, "init"), "give either weights or init, not both")
            rows = size if size is not None else implied_size
            weights = self.matrix(d["weights"], (*path, "weights"), rows, sources, name)
            size = len(weights)
        elif size is not None:
            self.count_parameters(size * fan_in, (*path, "size"))
            weights = self.init(d.get("init", {}), (*path, "init"), size, fan_in, k)
        else:
            raise self.fail(path, f"layer {name!r} needs weights, or a size with an init")
        if neurons is None:
            sep = "_" if name[-1].isdigit() else ""
            neurons = tuple(f"{name}{sep}{j + 1}" for j in range(size))
            for j, n in enumerate(neurons):
                if n in taken:
                    raise self.fail(
                        (*path, "name"),
                        f"neuron name {n!r} (neuron {j + 1}) is already used; "
                        "give the layer another name or list its neurons",
                    )
                taken.add(n)
        if not act.elementwise and size == 1:
            raise self.fail(
                (*path, "activation"),
                f"{activation} needs at least 2 neurons (one alone always outputs 1 and never "
                "learns)",
            )
        bias, shared = self.bias(d.get("bias"), (*path, "bias"), size)
        return Layer(name, neurons, activation, weights, bias, shared, alpha)

    def count_parameters(self, n: int, path: Path_) -> None:
        self.n_parameters += n
        if self.n_parameters > MAX_PARAMETERS:
            raise self.fail(
                path,
                f"this layer brings the network to {self.n_parameters} weights; a trace "
                f"is limited to {MAX_PARAMETERS}",
            )

    def _outputs_from_targets(self) -> int | None:
        """How many outputs the samples' targets imply, so a wrong output matrix is the error.

        Only when every sample agrees on a list of plain numbers: a typo inside the targets
        (`[0.01 0.99]` is one text item) must be reported at the targets, not at the weights.
        """
        top = self.doc.value
        samples = top.get("samples") if isinstance(top, dict) else None
        if not isinstance(samples, list) or not samples:
            return None
        counts = set()
        for sample in samples:
            targets = sample.get("targets") if isinstance(sample, dict) else None
            if not isinstance(targets, list) or not targets:
                return None
            if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in targets):
                return None
            counts.add(len(targets))
        return counts.pop() if len(counts) == 1 else None

    def matrix(
        self,
        value: Any,
        path: Path_,
        rows: int | None,
        sources: tuple[str, ...],
        layer: str,
    ) -> tuple[tuple[float, ...], ...]:
        cols = len(sources)
        feeds = ", ".join(sources) if cols <= 6 else f"{sources[0]}, ..., {sources[-1]}"
        if not isinstance(value, list) or not value:
            raise self.fail(
                path,
                f"expected a list of rows, one per neuron of layer {layer!r}; got {_kind(value)}",
            )
        if rows is not None and len(value) != rows:
            plural = "s" * (rows != 1)
            why = f"one per neuron of layer {layer!r}"
            raise self.fail(path, f"expected {rows} row{plural} ({why}), got {len(value)}")
        out = []
        for j, row in enumerate(value):
            if not isinstance(row, list):
                raise self.fail(
                    (*path, j),
                    f"expected a row of {cols} numbers (one per input of layer {layer!r}), "
                    f"got {_kind(row)}; weights are a list of rows: [[...], [...]]",
                )
            if len(row) != cols:
                raise self.fail(
                    (*path, j),
                    f"expected {cols} numbers (layer {layer!r} has {cols} inputs: {feeds}), "
                    f"got {len(row)}{_missing_comma(row)}",
                )
            self.count_parameters(cols, (*path, j))
            out.append(tuple(self.number(x, (*path, j, i)) for i, x in enumerate(row)))
        return tuple(out)

    def init(
        self, value: Any, path: Path_, rows: int, cols: int, k: int
    ) -> tuple[tuple[float, ...], ...]:
        d = self.mapping(value, path, ("seed", "scheme"), "an init")
        seed = self.integer(d.get("seed", 0), (*path, "seed"))
        scheme = self.choice(d.get("scheme", "xavier"), (*path, "scheme"), INIT_SCHEMES)
        return init_weights(scheme, seed, k, rows, cols)

    def bias(self, value: Any, path: Path_, size: int) -> tuple[tuple[float, ...] | None, bool]:
        if value is None:
            return None, False
        if isinstance(value, list):
            return self.vector(value, path, size, "one bias per neuron"), False
        return (self.number(value, path),), True

    def training(self, value: Any) -> Training:
        path: Path_ = ("training",)
        keys = (
            "learning_rate",
            "update_biases",
            "mode",
            "batch_size",
            "reduction",
            "update_order",
            "epochs",
            "epochs_done",
            "optimizer",
        )
        d = self.mapping(value, path, keys, "training settings")
        lr = self.number(d.get("learning_rate", 0.5), (*path, "learning_rate"), positive=True)
        update_biases = self.boolean(d.get("update_biases", True), (*path, "update_biases"))
        mode = self.choice(d.get("mode", "online"), (*path, "mode"), MODES)
        batch_size = None
        if "batch_size" in d:
            batch_size = self.integer(d["batch_size"], (*path, "batch_size"), minimum=1)
        elif mode == "minibatch":
            raise self.fail((*path, "mode"), "mode minibatch needs a batch_size")
        reduction = self.choice(d.get("reduction", "mean"), (*path, "reduction"), REDUCTIONS)
        order = self.choice(
            d.get("update_order", "simultaneous"), (*path, "update_order"), UPDATE_ORDERS
        )
        epochs = None
        if d.get("epochs") is not None:
            epochs = self.integer(d["epochs"], (*path, "epochs"), minimum=0)
        done = self.integer(d.get("epochs_done", 0), (*path, "epochs_done"))
        optimizer = self.optimizer(d.get("optimizer", {"name": "sgd"}), (*path, "optimizer"))
        return Training(
            lr, update_biases, mode, batch_size, reduction, order, epochs, done, optimizer
        )

    def optimizer(self, value: Any, path: Path_) -> Optimizer:
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an optimizer mapping, got {_kind(value)}")
        name = self.choice(value.get("name", "sgd"), (*path, "name"), OPTIMIZERS.names())
        rule = OPTIMIZERS[name]
        keys = [h.key for h in rule.hyper]
        d = self.mapping(value, path, ("name", *keys, "state"), f"optimizer {name}")
        kwargs: dict[str, Any] = {"name": name}
        kwargs["hyper"] = {
            h.key: self.hyper(d.get(h.key, h.default), (*path, h.key), h) for h in rule.hyper
        }
        if "state" in d:
            state = d["state"]
            spath = (*path, "state")
            if not isinstance(state, dict):
                raise self.fail(spath, f"expected a mapping, got {_kind(state)}")
            slots: dict[str, dict[str, float]] = {}
            for key, slot in state.items():
                if key == "step":
                    kwargs["step"] = self.integer(slot, (*spath, "step"))
                    continue
                if key == "shapes":
                    kwargs["shapes"] = str(slot)
                    continue
                allowed = ("shapes", "step", *rule.slots)
                if key not in allowed:
                    raise self.fail(
                        (*spath, key),
                        f"unknown state {key!r}{closest(str(key), allowed)} for optimizer "
                        f"{name}; allowed: " + ", ".join(allowed),
                    )
                if not isinstance(slot, dict):
                    raise self.fail(
                        (*spath, key),
                        f"expected a mapping of parameter ids to numbers, got {_kind(slot)}",
                    )
                slots[key] = {
                    str(pid): self.number(x, (*spath, key, pid), limit=math.inf)
                    for pid, x in slot.items()
                }
            kwargs["slots"] = slots
        return Optimizer(**kwargs)

    def hyper(self, value: Any, path: Path_, h: Hyper) -> float:
        """A hyper-parameter within the bounds its catalogue entry gives."""
        # A bound the entry states (greater than 0) speaks for itself; 0 or more is the default.
        x = self.number(value, path, nonnegative=h.minimum >= 0 and not h.above_minimum)
        problem = h.problem(x)
        if problem is not None:
            raise self.fail(path, f"{problem}, got {self.written(path, x)}")
        return x

    def samples(
        self, top: dict[str, Any], n_in: int, layers: tuple[Layer, ...]
    ) -> tuple[Sample, ...]:
        path: Path_ = ("samples",)
        if "samples" not in top:
            raise self.fail((), "missing key 'samples' (a list of {inputs, targets})")
        value = top["samples"]
        if isinstance(value, dict):
            return self.samples_file(value, n_in, layers[-1].size)
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"expected a non-empty list of samples, got {_kind(value)}")
        n_out = layers[-1].size
        out = []
        for s, raw in enumerate(value):
            p = (*path, s)
            d = self.mapping(raw, p, ("inputs", "targets"), "a sample")
            for key in ("inputs", "targets"):
                if key not in d:
                    raise self.fail(p, f"missing key {key!r}")
            inputs = self.vector(d["inputs"], (*p, "inputs"), n_in, "one per input")
            targets = self.vector(d["targets"], (*p, "targets"), n_out, "one per output neuron")
            out.append(Sample(inputs, targets))
        return tuple(out)

    def samples_file(self, value: dict[str, Any], n_in: int, n_out: int) -> tuple[Sample, ...]:
        """`samples: {csv: data.csv, inputs: [x1, x2], targets: [y]}` (or jsonl: ...)."""
        from backprop_cli.specs.samplesfile import FORMATS, data_path, read_header, read_samples

        path: Path_ = ("samples",)
        d = self.mapping(
            value, path, (*FORMATS, "inputs", "targets", "bytes", "sha256"), "a data file"
        )
        given = [key for key in FORMATS if key in d]
        if len(given) != 1:
            what = "both csv and jsonl" if given else "no data file"
            raise self.fail(path, f"expected one data file (csv: FILE or jsonl: FILE), got {what}")
        fmt = given[0]
        written = d[fmt]
        if not isinstance(written, str) or not written.strip():
            raise self.fail((*path, fmt), f"expected a file name, got {_kind(written)}")
        file = data_path(self.doc.file, written)
        if not os.path.lexists(file):  # pointed at from the config's own line
            raise self.fail((*path, fmt), f"no such file: {file}")
        picked: dict[str, tuple[str, ...]] = {}
        for key, count, what in (("inputs", n_in, "input"), ("targets", n_out, "output neuron")):
            if key not in d:
                raise self.fail(path, f"missing key {key!r} (the {what}s' column names)")
            names = d[key]
            kp = (*path, key)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise self.fail(kp, f"expected a list of column names, got {_kind(names)}")
            if len(names) != count:
                plural = "s" * (count != 1)
                raise self.fail(
                    kp, f"expected {count} column name{plural} (one per {what}), got {len(names)}"
                )
            for i, n in enumerate(names):
                if n in names[:i] or n in picked.get("inputs", ()):
                    raise self.fail((*kp, i), f"column {n!r} is already used")
            picked[key] = tuple(names)
        if fmt == "csv":
            columns = read_header(file)
            for key in ("inputs", "targets"):
                for i, n in enumerate(picked[key]):
                    if n not in columns:
                        raise self.fail(
                            (*path, key, i),
                            f"no column {n!r} in {file}{closest(n, columns)}; its header has "
                            + ", ".join(columns),
                        )
        self.samples_from = SamplesFile(fmt, written, file, picked["inputs"], picked["targets"])
        samples = read_samples(self.samples_from)
        if not samples:
            raise SourceError(file, 0, 0, "", "has a header but no rows of data")
        if "sha256" in d or "bytes" in d:
            self.samples_from = self.recorded(d, self.samples_from)
        return samples

    def recorded(self, d: dict[str, Any], ref: SamplesFile) -> SamplesFile:
        """`bytes` and `sha256`, what a saved run recorded of its data file; when the file is
        no longer that, the error a resume gives (train refuses it unless asked)."""
        path: Path_ = ("samples",)
        for key in ("bytes", "sha256"):
            if key not in d:
                raise self.fail(path, f"missing key {key!r} (give bytes and sha256, or neither)")
        size = self.integer(d["bytes"], (*path, "bytes"))
        sha = d["sha256"]
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise self.fail(
                (*path, "sha256"), f"expected 64 hexadecimal digits (a SHA-256), got {_show(sha)}"
            )
        try:
            now = resume.digest(ref.file)
        except OSError as exc:
            raise SourceError(ref.file, 0, 0, "", f"cannot read: {source.os_reason(exc)}") from None
        changed = None
        if now != (size, sha):
            changed = str(
                self.fail(
                    (*path, "sha256"),
                    f"{ref.file} is not the file this run was trained on ({size:,} bytes, sha256 "
                    f"{sha[:12]}...; now {now[0]:,} bytes, {now[1][:12]}...); to train on it "
                    "anyway, add --allow-changed-samples",
                )
            )
        return replace(ref, size=size, sha256=sha, changed=changed)

    def cross_checks(self, top: dict[str, Any], spec: Spec) -> None:
        """Rules that tie one part of the spec to another."""
        out_layer = spec.layers[-1]
        last = ("layers", len(spec.layers) - 1, "activation")
        loss = LOSSES[spec.loss]
        if loss.outputs is not None and out_layer.activation not in loss.outputs:
            blamed, message = loss.outputs_rule
            raise self.fail(
                ("loss",) if blamed == "loss" else last,
                message.format(layer=out_layer.name, activation=out_layer.activation),
            )
        for s, sample in enumerate(spec.samples):
            problem = loss.check_targets(sample.targets)
            if problem is not None:
                j, message = problem
                if spec.samples_from is not None:
                    from backprop_cli.specs.samplesfile import locate

                    ref = spec.samples_from
                    error = locate(ref, s, ref.targets[j or 0])
                    error.message = message
                    raise error
                tp: Path_ = ("samples", s, "targets")
                raise self.fail(tp if j is None else (*tp, j), message)
        t = spec.training
        if t.batch_size is not None:
            bp = ("training", "batch_size")
            if t.mode != "minibatch":
                raise self.fail(bp, f"batch_size applies only to mode minibatch, not {t.mode}")
            if t.batch_size > len(spec.samples):
                raise self.fail(
                    bp,
                    f"batch_size {t.batch_size} is larger than the number of samples "
                    f"({len(spec.samples)})",
                )
        ids = {p.id for p in spec.parameters()}
        for slot, values in t.optimizer.slots.items():
            for pid in values:
                if pid not in ids:
                    raise self.fail(
                        ("training", "optimizer", "state", slot, pid),
                        f"unknown parameter {pid!r}{closest(pid, sorted(ids))}",
                    )
        unresumable = resume.problem(spec)
        if unresumable is not None:
            raise self.fail(*unresumable)


def init_weights(
    scheme: str, seed: int, layer_index: int, rows: int, cols: int
) -> tuple[tuple[float, ...], ...]:
    """Reproducible random weights for one layer (its own stream per layer)."""
    import random

    rng = random.Random(seed * 1_000_003 + layer_index)

    def draw() -> float:
        if scheme == "xavier":
            limit = math.sqrt(6.0 / (cols + rows))
            return rng.uniform(-limit, limit)
        if scheme == "he":
            return rng.gauss(0.0, math.sqrt(2.0 / cols))
        if scheme == "uniform":
            return rng.uniform(-0.5, 0.5)
        return rng.gauss(0.0, 0.1)

    return tuple(tuple(draw() for _ in range(cols)) for _ in range(rows))


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"the text {_quote(value)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _number_hint(text: str) -> str:
    """Why a text that looks like a number was not read as one."""
    t = text.strip()
    if NUMBER.fullmatch(t):
        return " (remove the quotes)"
    if re.fullmatch(r"[-+]?\d+,\d+", t):
        return f" (write decimals with a point: {t.replace(',', '.')})"
    if _missing_comma([t]):
        return " (is a comma missing?)"
    return ""


def _missing_comma(items: list[Any]) -> str:
    """'; is a comma missing in '-0.4 0.3'?' when an item is numbers separated by spaces."""
    for x in items:
        words = x.split() if isinstance(x, str) else []
        if len(words) > 1 and all(NUMBER.fullmatch(w) for w in words):
            return f"; is a comma missing in {x!r}?"
    return ""


def _show(value: Any) -> str:
    return _quote(value) if isinstance(value, str) else _kind(value)


QUOTE_MAX = 60  # characters of the user's text a message quotes: a line's worth, not a file's


def _quote(text: str) -> str:
    if len(text) <= QUOTE_MAX:
        return repr(text)
    return f"{text[: QUOTE_MAX - 20]!r}... ({len(text):,} characters)"
