"""from_torch and capture_torch_step: one real PyTorch step (float64) under our ids equals
`backprop step` on the Spec from_torch makes, for every activation, loss and optimizer the
catalogue maps to PyTorch; what has no counterpart is one clear error naming it."""

from __future__ import annotations

import itertools
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import step
from backprop_cli.engine.trace import Trace
from backprop_cli.interop import (
    MissingExtra,
    TorchError,
    capture_torch_step,
    from_torch,
    to_json,
    write_json,
)
from backprop_cli.ops import ACTIVATIONS, LOSSES, OPTIMIZERS

torch = pytest.importorskip("torch")
nn = torch.nn
F64 = torch.float64

X = [[0.05, 0.1], [0.9, -0.4]]
T = [[0.25, 0.75], [1.0, 0.0]]  # in [0, 1] and summing to 1: valid for every loss
ALPHA = {"LeakyReLU": 0.1, "ELU": 0.7}  # not the defaults, so the mapping is exercised
TORCH = {a.torch[0]: a for a in ACTIVATIONS.values() if a.torch}


def module(cls: str) -> Any:
    """The module as the catalogue makes it (Softplus with its threshold moved to 40)."""
    a = TORCH[cls]
    assert a.torch is not None
    alpha = ALPHA.get(cls, a.alpha.default if a.alpha else 0.0)
    return getattr(nn, cls)(**a.torch_kwargs(alpha))


def model(hidden: str, output: str | None) -> Any:
    torch.manual_seed(7)
    layers = [nn.Linear(2, 3), module(hidden), nn.Linear(3, 2)]
    if output is not None:
        layers.append(module(output))
    return nn.Sequential(*layers).to(F64)


def optimizer(name: str, params: Any, decay: bool) -> Any:
    rule = OPTIMIZERS[name]
    hyper = {h.key: h.default for h in rule.hyper}
    if decay:
        hyper.update({h.key: 0.01 for h in rule.hyper if h.optional})
    cls, kwargs = rule.torch
    return getattr(torch.optim, cls)(params, lr=0.3, **kwargs(hyper))


def loss_module(cls: str) -> Any:
    return nn.HuberLoss(delta=0.3) if cls == "HuberLoss" else getattr(nn, cls)()


def torch_losses() -> Iterator[tuple[str, str | None, list[str]]]:
    """(torch.nn class, the output activation it applies or None, output activations it takes)
    for every loss module the catalogue names with its mean reduction."""
    seen = set()
    for loss in LOSSES.values():
        pairs = [(loss.torch, None), *((f.torch, a) for a, f in loss.fused.items())]
        for t, act in pairs:
            if t is None or t.module in seen:
                continue
            if t.over_outputs and t.divisor(3) != 3:
                continue  # half_sse: ½Σ, which no reduction of MSELoss gives for every n
            seen.add(t.module)
            applies = act if t.on_nets else None
            allowed = loss.outputs or ACTIVATIONS.names()
            yield t.module, applies, [ACTIVATIONS[a].torch[0] for a in allowed]  # type: ignore[index]


def grid() -> Iterator[tuple[str, str | None, str, str, int]]:
    """(hidden module, output module or None, loss class, optimizer, case) over the catalogue."""
    hidden = [a.torch[0] for a in ACTIVATIONS.values() if a.hidden and a.torch]
    case = 0
    for cls, applies, allowed in torch_losses():
        outputs: list[str | None] = [None] if applies is not None else list(allowed)
        for h, opt in itertools.product(hidden, OPTIMIZERS):
            case += 1
            yield h, outputs[case % len(outputs)], cls, opt, case


CASES = list(grid())


def found(trace: Trace, key: str) -> float | None:
    name, _, sample = key.partition("[")
    s = trace.find(name, int(sample.rstrip("]")) - 1 if sample else None)
    return None if s is None else s.value


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_a_torch_step_equals_backprop_step(case: tuple[str, str | None, str, str, int]) -> None:
    hidden, output, loss_cls, opt, n = case
    batch = 1 + n % 2
    x = torch.tensor(X[:batch], dtype=F64)
    t = torch.tensor(T[:batch], dtype=F64)
    decay = n % 3 == 0
    net = model(hidden, output)
    spec = from_torch(net, loss_module(loss_cls), optimizer(opt, net.parameters(), decay), x, t)
    trace = step(spec)
    before = {p.id: p.value for p in spec.parameters()}
    net = model(hidden, output)
    captured = capture_torch_step(
        net, loss_module(loss_cls), optimizer(opt, net.parameters(), decay), x, t
    )
    assert spec.training.optimizer.name == opt
    assert len(spec.samples) == batch
    rule = OPTIMIZERS[opt]
    expected_ids = {*before, *(f"{p}+" for p in before)}
    expected_ids |= {rule.symbol(s).format(p=p) for s in rule.torch_state for p in before}
    assert expected_ids <= set(captured)
    for key, value in captured.items():
        ours = before[key] if key in before else found(trace, key)
        assert ours is not None, key
        # Adam divides by √v̂ + ε: a gradient that is 0 but for round-off moves θ by ~η·g/ε.
        assert ours == pytest.approx(value, rel=1e-12, abs=1e-15), (key, ours, value)
    after = {p: captured[f"{p}+"] for p in before}
    assert trace.updated == pytest.approx(after, rel=1e-12, abs=1e-15)


def test_the_grid_covers_the_catalogue() -> None:
    assert {c[0] for c in CASES} == {
        a.torch[0] for a in ACTIVATIONS.values() if a.hidden and a.torch
    }
    assert {c[2] for c in CASES} == {
        "MSELoss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "CrossEntropyLoss",
        "HuberLoss",
    }
    assert {c[3] for c in CASES} == set(OPTIMIZERS)
    seen = {c[0] for c in CASES} | {c[1] for c in CASES}  # every activation somewhere
    assert seen >= set(TORCH)


def test_class_indices_for_cross_entropy_are_one_hot() -> None:
    net = model("Tanh", None)
    x = torch.tensor(X, dtype=F64)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    spec = from_torch(net, nn.CrossEntropyLoss(), opt, x, torch.tensor([1, 0]))
    assert [s.targets for s in spec.samples] == [(0.0, 1.0), (1.0, 0.0)]
    assert spec.layers[-1].activation == "softmax" and spec.loss == "cross_entropy"
    captured = capture_torch_step(net, nn.CrossEntropyLoss(), opt, x, torch.tensor([1, 0]))
    assert step(spec).updated["w1"] == pytest.approx(captured["w1+"], rel=1e-12)


def test_the_json_is_what_check_reads(tmp_path: Path) -> None:
    net = model("Sigmoid", "Sigmoid")
    x, t = torch.tensor(X[:1], dtype=F64), torch.tensor(T[:1], dtype=F64)
    values = capture_torch_step(net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.5), x, t)
    write_json(values, tmp_path / "torch.json")
    back = json.loads((tmp_path / "torch.json").read_text("utf-8"))
    assert back == values and list(back)[:2] == ["w1", "w2"]
    assert set(back) >= {"E_total", "dE_total/dw1", "w1+", "b_o2+", "E_total+"}
    short = json.loads(to_json(values, digits=3, given=False))
    assert "w1" not in short and "w1+" in short and "E_total" in short
    assert short["w1+"] == float(f"{values['w1+']:.3g}") and len(repr(short["w1+"])) <= 6
    with pytest.raises(ValueError, match="not finite, so not JSON: w1"):
        to_json({"w1": math.nan})


def _net(*mods: Any) -> Any:
    return nn.Sequential(*mods).to(F64)


BAD: dict[str, tuple[Any, Any, Any, str]] = {
    "dropout": (
        lambda: _net(nn.Linear(2, 2), nn.Dropout(), nn.Linear(2, 2)),
        nn.MSELoss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "module 1 (Dropout) is not supported; from_torch reads nn.Linear and nn.Sigmoid, "
        "nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.Identity, nn.Softplus, nn.ELU, nn.Softmax",
    ),
    "not sequential": (
        lambda: nn.Linear(2, 2).to(F64),
        nn.MSELoss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "expected an nn.Sequential, got Linear",
    ),
    "two activations": (
        lambda: _net(nn.Linear(2, 2), nn.Tanh(), nn.Sigmoid()),
        nn.MSELoss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "module 2 (Sigmoid): a second activation after one layer",
    ),
    "activation first": (
        lambda: _net(nn.Tanh(), nn.Linear(2, 2)),
        nn.MSELoss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "module 0 (Tanh): before any nn.Linear",
    ),
    "softplus beta": (
        lambda: _net(nn.Linear(2, 2), nn.Softplus(beta=2.0), nn.Linear(2, 2)),
        nn.MSELoss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "module 1 (Softplus): beta=2.0, threshold=20.0 is not supported; only beta=1.0, "
        "threshold=40.0",
    ),
    "softmax dim": (
        lambda: _net(nn.Linear(2, 2), nn.Softmax(dim=0)),
        nn.MSELoss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "module 1 (Softmax): dim=0; only the last dimension",
    ),
    "l1 loss": (
        lambda: _net(nn.Linear(2, 2)),
        nn.L1Loss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "loss L1Loss is not supported; one of nn.MSELoss, nn.BCELoss, nn.BCEWithLogitsLoss, "
        "nn.CrossEntropyLoss, nn.HuberLoss",
    ),
    "sum over outputs": (
        lambda: _net(nn.Linear(2, 2)),
        lambda: nn.MSELoss(reduction="sum"),
        lambda p: torch.optim.SGD(p, lr=0.1),
        "MSELoss(reduction='sum') adds over the 2 outputs too, where mse averages them",
    ),
    "cross entropy after softmax": (
        lambda: _net(nn.Linear(2, 2), nn.Softmax(dim=1)),
        nn.CrossEntropyLoss,
        lambda p: torch.optim.SGD(p, lr=0.1),
        "CrossEntropyLoss applies softmax itself: end the model with its last nn.Linear, "
        "not nn.Softmax",
    ),
    "rmsprop": (
        lambda: _net(nn.Linear(2, 2)),
        nn.MSELoss,
        lambda p: torch.optim.RMSprop(p, lr=0.1),
        "optimizer RMSprop is not supported; one of torch.optim.SGD, torch.optim.Adam, "
        "torch.optim.AdamW",
    ),
    "dampening": (
        lambda: _net(nn.Linear(2, 2)),
        nn.MSELoss,
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
        "SGD with dampening=0.5 is not supported",
    ),
    "amsgrad": (
        lambda: _net(nn.Linear(2, 2)),
        nn.MSELoss,
        lambda p: torch.optim.Adam(p, lr=0.1, amsgrad=True),
        "Adam with amsgrad=True is not supported",
    ),
    "weighted loss": (
        lambda: _net(nn.Linear(2, 2), nn.Sigmoid()),
        lambda: nn.BCELoss(weight=torch.ones(2, dtype=F64)),
        lambda p: torch.optim.SGD(p, lr=0.1),
        "BCELoss(weight=...) is not supported",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_what_has_no_counterpart_is_named(case: str) -> None:
    make_model, make_loss, make_opt, message = BAD[case]
    net = make_model()
    x, t = torch.tensor(X, dtype=F64), torch.tensor(T, dtype=F64)
    with pytest.raises(TorchError) as info:
        from_torch(net, make_loss(), make_opt(net.parameters()), x, t)
    assert str(info.value).startswith(message), str(info.value)


def test_a_used_optimizer_and_other_parameters_are_refused() -> None:
    net = model("Tanh", "Sigmoid")
    x, t = torch.tensor(X, dtype=F64), torch.tensor(T, dtype=F64)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    capture_torch_step(net, nn.MSELoss(), opt, x, t)
    with pytest.raises(TorchError, match="Adam has taken steps already"):
        from_torch(net, nn.MSELoss(), opt, x, t)
    with pytest.raises(TorchError, match="exactly the model's parameters"):
        from_torch(net, nn.MSELoss(), torch.optim.SGD(list(net.parameters())[:2], lr=0.1), x, t)


def test_without_torch_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(MissingExtra) as info:
        from_torch(None, None, None, None, None)
    assert (
        str(info.value) == "from_torch needs the torch package: pip install 'backprop-cli[torch]'"
    )
