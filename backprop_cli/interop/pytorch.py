"""A PyTorch model, loss, optimizer and batch as a Spec, and one real PyTorch step under our ids.

    >>> spec = from_torch(model, nn.MSELoss(), torch.optim.Adam(model.parameters()), x, t)
    >>> values = capture_torch_step(model, nn.MSELoss(), optimizer, x, t)
    >>> values["dE_total/dw5"], values["w5+"]

What PyTorch calls each module, loss and optimizer is the catalogue's (`Activation.torch`,
`Loss.torch`, `Optimizer.torch`, and `Hyper.torch` for their hyper-parameters): nothing here
knows an operation by name. Use float64 (`model.double()`) to compare to the last digits.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backprop_cli.interop.network import Layer, config, need, validated
from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS, Activation, Hyper
from backprop_cli.ops import Optimizer as Rule
from backprop_cli.ops.activations import LINEAR
from backprop_cli.specs.model import REDUCTIONS, Names, Spec

# torch.optim settings that change how a step is computed, not what it computes.
_IMPLEMENTATION = {"params", "lr", "foreach", "capturable", "differentiable", "fused"}
SOURCE = "<torch>"  # the file name validation errors give


class TorchError(ValueError):
    """A model, loss or optimizer that has no counterpart here; the message names it."""


def _torch() -> Any:
    return need("torch", "torch", "from_torch")


def _activation_list() -> str:
    return ", ".join(f"nn.{a.torch[0]}" for a in ACTIVATIONS.values() if a.torch)


def _hyper(obj: Any, h: Hyper) -> Any:
    """A hyper-parameter as torch keeps it: an attribute, or `betas[0]` an item of one."""
    name, _, index = h.torch.partition("[")
    value = obj[name] if isinstance(obj, Mapping) else getattr(obj, name)
    return value[int(index.rstrip("]"))] if index else value


def _layers(model: Any) -> list[Layer]:
    torch = _torch()
    if not isinstance(model, torch.nn.Sequential):
        raise TorchError(f"expected an nn.Sequential, got {type(model).__name__}")
    layers: list[Layer] = []
    activated = False
    for i, m in enumerate(model):
        what = f"module {i} ({type(m).__name__})"
        if isinstance(m, torch.nn.Linear):
            bias = None if m.bias is None else [float(b) for b in m.bias.detach().tolist()]
            weights = [[float(w) for w in row] for row in m.weight.detach().tolist()]
            layers.append(Layer(weights, bias))
            activated = False
            continue
        act = next(
            (a for a in ACTIVATIONS.values() if a.torch and isinstance(m, _nn(torch, a))), None
        )
        if act is None:
            raise TorchError(
                f"{what} is not supported; from_torch reads nn.Linear and {_activation_list()}"
            )
        if not layers or (activated and act is not LINEAR):
            where = "a second activation after one layer" if layers else "before any nn.Linear"
            raise TorchError(f"{what}: {where}; from_torch reads Linear, activation, Linear, ...")
        if act is LINEAR and activated:
            continue  # an nn.Identity after an activation does nothing
        _check_settings(torch, m, act, what)
        layers[-1].activation = act
        for h in act.hyper:
            if h.torch:
                layers[-1].alpha = float(_hyper(m, h))
        activated = True
    if not layers:
        raise TorchError("the model has no nn.Linear layer")
    return layers


def _nn(torch: Any, a: Activation) -> Any:
    assert a.torch is not None
    return getattr(torch.nn, a.torch[0])


def _check_settings(torch: Any, m: Any, act: Activation, what: str) -> None:
    """Refuse settings the catalogue's activation does not have (Softplus(beta=2))."""
    if not act.elementwise:
        dim = getattr(m, "dim", None)
        if dim not in (None, -1, 1):
            raise TorchError(f"{what}: dim={dim}; only the last dimension (dim=-1) is supported")
        return
    alpha = next((float(_hyper(m, h)) for h in act.hyper if h.torch), 0.0)
    kwargs = act.torch_kwargs(alpha)
    if hasattr(m, "inplace"):
        kwargs["inplace"] = m.inplace
    plain = _nn(torch, act)(**kwargs)
    if m.extra_repr() != plain.extra_repr():
        raise TorchError(
            f"{what}: {m.extra_repr()} is not supported; only {plain.extra_repr() or 'defaults'}"
        )


def _loss(torch: Any, loss_fn: Any, n_out: int) -> tuple[str | None, Any, str]:
    """(the output activation the module applies itself, the config's `loss:`, the reduction).

    The catalogue's TorchLoss computes a sample's E_total as the module's sum divided by
    `divisor(n)`; a module's reduction agrees with ours where that divisor is what it divides by
    (n under `mean` when it averages over outputs too, else 1), for any n."""
    cls = type(loss_fn).__name__
    reduction = getattr(loss_fn, "reduction", "mean")
    if reduction not in REDUCTIONS:
        raise TorchError(f"{cls}(reduction={reduction!r}): one of {', '.join(REDUCTIONS)}")
    entries = [
        (x, t, act if t.on_nets else None)
        for x in LOSSES.values()
        for t, act in [(x.torch, None), *((f.torch, a) for a, f in x.fused.items())]
        if t is not None
    ]
    same = [e for e in entries if isinstance(loss_fn, getattr(torch.nn, e[1].module))]
    if not same:
        known = ", ".join(dict.fromkeys(f"nn.{t.module}" for _, t, _ in entries))
        raise TorchError(f"loss {cls} is not supported; one of {known}")
    found = [
        e
        for e in same
        if all(
            e[1].divisor(n) == (n if reduction == "mean" and e[1].over_outputs else 1)
            for n in (1, 2, 3)
        )
    ]
    if not found:
        if n_out == 1 and reduction == "sum":
            found = [e for e in same if e[1].divisor(1) == 1]
        if not found:
            means = [e[0].name for e in same if all(e[1].divisor(n) == n for n in (1, 2, 3))]
            raise TorchError(
                f"{cls}(reduction={reduction!r}) adds over the {n_out} outputs too, where "
                f"{(means or [same[0][0].name])[0]} averages them: use reduction='mean'"
            )
    loss, _, applies = found[0]
    for attr in ("weight", "pos_weight"):
        if getattr(loss_fn, attr, None) is not None:
            raise TorchError(f"{cls}({attr}=...) is not supported")
    if getattr(loss_fn, "label_smoothing", 0.0):
        raise TorchError(f"{cls}(label_smoothing=...) is not supported")
    hyper = {h.key: float(_hyper(loss_fn, h)) for h in loss.hyper if h.torch}
    written = {"name": loss.name, **hyper} if hyper else loss.name
    return applies, written, reduction


def _rule(torch: Any, optimizer: Any) -> tuple[Rule, dict[str, float], float]:
    cls = type(optimizer).__name__
    groups = optimizer.param_groups
    if len(groups) != 1:
        raise TorchError(f"{cls} has {len(groups)} parameter groups; one is supported")
    group = groups[0]
    defaults = {
        k: p.default
        for k, p in inspect.signature(type(optimizer)).parameters.items()
        if k not in _IMPLEMENTATION
    }
    tried = []
    for rule in OPTIMIZERS.values():
        if getattr(torch.optim, rule.torch[0], None) is not type(optimizer):
            continue
        hyper = {h.key: float(_hyper(group, h)) for h in rule.hyper if h.torch}
        expected = {**defaults, **rule.torch[1](hyper)}
        differ = [k for k in defaults if k in group and group[k] != expected[k]]
        if not differ:
            return rule, hyper, float(group["lr"])
        tried.append(differ)
    if not tried:
        known = ", ".join(dict.fromkeys(f"torch.optim.{o.torch[0]}" for o in OPTIMIZERS.values()))
        raise TorchError(f"optimizer {cls} is not supported; one of {known}")
    nearest = min(tried, key=len)  # the rule it comes closest to: what it has that the rule lacks
    settings = ", ".join(f"{k}={group[k]!r}" for k in nearest)
    raise TorchError(f"{cls} with {settings} is not supported")


def _targets(torch: Any, applies: str | None, targets: Any, n_out: int) -> Any:
    """Targets as one row per sample; class indices (for a loss that applies softmax) one-hot."""
    if applies is not None and targets.ndim == 1 and not targets.is_floating_point():
        return torch.nn.functional.one_hot(targets, n_out).to(torch.float64)
    return targets


def from_torch(
    model: Any,
    loss_fn: Any,
    optimizer: Any,
    inputs: Any,
    targets: Any,
    *,
    name: str = "a PyTorch model",
) -> Spec:
    """The Spec of one optimizer step of `model` on the batch (inputs, targets): its Linear
    layers and activations, the loss module's loss and reduction, the optimizer's rule and
    hyper-parameters, the batch as the samples (training mode batch: one update, as
    optimizer.step() after loss.backward() on the whole batch)."""
    torch = _torch()
    layers = _layers(model)
    n_out = layers[-1].size
    applies, loss, reduction = _loss(torch, loss_fn, n_out)
    if applies is not None:
        last = layers[-1].activation
        if last is not LINEAR:
            raise TorchError(
                f"{type(loss_fn).__name__} applies {applies} itself: end the model with its last "
                f"nn.Linear, not nn.{last.torch[0] if last.torch else last.name}"
            )
        layers[-1].activation = ACTIVATIONS[applies]
    rule, hyper, lr = _rule(torch, optimizer)
    _same_parameters(model, optimizer)
    if optimizer.state:
        raise TorchError(
            f"{type(optimizer).__name__} has taken steps already (it has state); give a new one"
        )
    x = inputs.detach()
    y = _targets(torch, applies, targets.detach(), n_out)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise TorchError(
            f"expected inputs and targets with one row per sample, got shapes "
            f"{tuple(x.shape)} and {tuple(y.shape)}"
        )
    samples = [
        {"inputs": [float(v) for v in a], "targets": [float(v) for v in b]}
        for a, b in zip(x.tolist(), y.tolist(), strict=True)
    ]
    training = {
        "learning_rate": lr,
        "mode": "batch",
        "reduction": reduction,
        "optimizer": {"name": rule.name, **hyper},
    }
    data = config(name, x.shape[1], layers, loss, training, samples)
    return validated(data, SOURCE)


def _same_parameters(model: Any, optimizer: Any) -> None:
    given = {id(p) for p in optimizer.param_groups[0]["params"]}
    if given != {id(p) for p in model.parameters()}:
        raise TorchError("the optimizer must update exactly the model's parameters")


def capture_torch_step(
    model: Any, loss_fn: Any, optimizer: Any, inputs: Any, targets: Any
) -> dict[str, float]:
    """Run one real step (zero_grad, forward, backward, optimizer.step()) and return PyTorch's
    numbers under the ids `backprop step` gives the Spec from_torch makes of the same arguments:
    w1 ... and b_h1 ... before, dE_total/dw1 ... (dE_batch/... for a batch of several), the
    optimizer's slots after the step (m_w1, v_w1, ...), w1+ ..., and the loss, E_total (for a
    batch, each sample's E_total[1], E_total[2], ..., E_batch, and E+ after the step) and
    E_total+."""
    torch = _torch()
    spec = from_torch(model, loss_fn, optimizer, inputs, targets)
    names = Names.of(spec)
    rule = OPTIMIZERS[spec.training.optimizer.name]
    applies = _loss(torch, loss_fn, spec.layers[-1].size)[0]
    y = _targets(torch, applies, targets, spec.layers[-1].size)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    n = len(inputs)

    def each(fn: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for k, lin in enumerate(linears):
            for j, row in enumerate(fn(lin.weight).tolist()):
                for i, v in enumerate(row):
                    out[names.weight[k][j][i]] = float(v)
            if lin.bias is not None:
                for j, v in enumerate(fn(lin.bias).tolist()):
                    pid = names.bias[k][j]
                    assert pid is not None
                    out[pid] = float(v)
        return out

    values = each(lambda p: p.detach())
    with torch.no_grad():
        if n == 1:
            values["E_total"] = float(loss_fn(model(inputs), y))
        else:
            for s in range(n):
                values[f"E_total[{s + 1}]"] = float(loss_fn(model(inputs[s : s + 1]), y[s : s + 1]))
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), y)
    loss.backward()
    grad = "dE_total" if n == 1 else "dE_batch"
    if n > 1:
        values["E_batch"] = float(loss.detach())
    values.update({f"{grad}/d{k}": v for k, v in each(lambda p: p.grad.detach()).items()})
    optimizer.step()
    for slot, key in rule.torch_state.items():
        symbol = rule.symbol(slot)
        state = each(lambda p, key=key: optimizer.state[p][key].detach())
        values.update({symbol.format(p=k): v for k, v in state.items()})
    values.update({f"{k}+": v for k, v in each(lambda p: p.detach()).items()})
    with torch.no_grad():
        values["E_total+" if n == 1 else "E+"] = float(loss_fn(model(inputs), y))
    return values


def to_json(values: Mapping[str, float], *, digits: int | None = None, given: bool = True) -> str:
    """The values as one JSON object, id to number, for `backprop check`: every float at full
    precision, or rounded to `digits` significant digits (check's tolerance follows the digits
    written: 12 digits are checked to 5e-12 relative); without `given`, the parameters' values
    before the step (w1, given dE_total/dw1) are left out, as check only judges what a step
    computes."""
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(f"not finite, so not JSON: {', '.join(bad)}")
    params = {k for k in values if f"dE_total/d{k}" in values or f"dE_batch/d{k}" in values}
    kept = {k: v for k, v in values.items() if given or k not in params}
    if digits is not None:
        kept = {k: float(f"{v:.{digits}g}") for k, v in kept.items()}
    return json.dumps(kept, indent=2, ensure_ascii=False) + "\n"


def write_json(
    values: Mapping[str, float],
    path: str | Path,
    *,
    digits: int | None = None,
    given: bool = True,
) -> None:
    """to_json, written to a file."""
    Path(path).write_text(to_json(values, digits=digits, given=given), "utf-8")
