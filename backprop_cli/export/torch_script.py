"""The step (or the training) as a PyTorch script: float64 nn.Linear layers, the activations,
loss and optimizer as the catalogue names them in torch (its entries' `torch` fields), autograd
for the backward pass. It prints what PyTorch shows of a step: nets, outputs, each sample's
E_total, each parameter's gradient and its updated value, and the loss after the update."""

from __future__ import annotations

from typing import Any

from backprop_cli.export.layout import (
    ExportError,
    LayerNames,
    Lines,
    layer_heading,
    layers,
    number,
    preamble,
    samples,
    sequential,
    strings,
    vector,
)
from backprop_cli.ops import LOSSES, OPTIMIZERS
from backprop_cli.ops.losses import TorchLoss
from backprop_cli.specs.model import Spec, batches

SHOW_EACH = '''def show_each(template, names, values):
    """Print each entry of a tensor, row by row, with its id, the template with
    the entry's name in it: show_each("net_{}", ["h1", "h2"], net_h[0])."""
    if PRINT_STEPS:
        for name, value in zip(names, values.detach().reshape(-1).tolist()):
            print(template.replace("{}", name), "=", repr(value))'''


SUM = 'reduction="sum"'


def call(name: str, kwargs: dict[str, Any], first: str = "") -> str:
    args = [first] if first else []
    args += [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(args)})"


def torch_loss(spec: Spec) -> TorchLoss:
    """The loss PyTorch computes as backprop does, or ExportError."""
    loss = LOSSES[spec.loss]
    out = spec.layers[-1].activation
    fused = loss.fused.get(out)
    found = fused.torch if fused is not None else loss.torch
    if found is None:
        raise ExportError(
            f"PyTorch has no loss that computes {loss.name} on {out} outputs as backprop does "
            "(finite where an output rounds to 0 or 1); export it --to numpy"
        )
    return found


def torch_script(spec: Spec, epochs: int | None, source: str) -> str:
    if sequential(spec, None):
        raise ExportError(
            "torch.optim updates every layer at once, from gradients of the weights before the "
            "update; the sequential update order exports --to numpy"
        )
    if spec.training.optimizer.step or spec.training.optimizer.slots:
        raise ExportError(
            "the config carries a saved optimizer state (training.optimizer.state), which this "
            "script does not load into torch.optim; export it --to numpy, or export the config "
            "it was trained from"
        )
    for layer in spec.layers:
        from backprop_cli.ops import ACTIVATIONS

        if ACTIVATIONS[layer.activation].torch is None:  # pragma: no cover - every entry has one
            raise ExportError(f"the activation {layer.activation} has no torch.nn module")
    lossfn = torch_loss(spec)
    ls = layers(spec)
    out = Lines()
    _preamble(out, spec, ls, epochs, source)
    _network(out, spec, ls, lossfn)
    _training(out, spec, ls, lossfn)
    return out.text()


def _preamble(out: Lines, spec: Spec, ls: list[LayerNames], epochs: int | None, src: str) -> None:
    top = ls[-1]
    i = min(1, len(top.sources) - 1)
    preamble(
        out,
        spec,
        epochs,
        src,
        ("PyTorch", "pytorch", "PyTorch (a CPU build is enough)"),
        "each quantity with the id `backprop step` gives it: each sample's nets and outputs "
        "(net_h1, out_o1), E_total, each parameter's gradient (dE_total/dw5; for a batch of "
        "several samples, the batch's loss E_batch and its gradient dE_batch/dw5), the updated "
        "parameters (w5+), and the loss after the update (E_total+), so that each can be "
        "checked against `backprop step --format json`",
        [
            "Layout: nn.Linear.weight holds one row per neuron and one column per input (neurons ×",
            f"inputs), as backprop's configs do: layer_{top.name}.weight[0, {i}] is "
            f"{top.weight_ids[0][i]}, the weight from {top.sources[i]} to {top.layer.neurons[0]}.",
        ],
        [
            "import torch",
            "from torch import nn",
            "",
            "torch.set_default_dtype(torch.float64)  # float64 throughout, as backprop computes",
            "torch.set_num_threads(1)  # tensors this small: more threads only wait",
        ],
        SHOW_EACH,
    )


def _network(out: Lines, spec: Spec, ls: list[LayerNames], lossfn: TorchLoss) -> None:
    out.section("The network")
    trained: list[tuple[str, str]] = []  # (tensor, its ids' variable)
    every: list[tuple[str, str]] = []
    for ln in ls:
        layer = ln.layer
        per_neuron = layer.bias is not None and not layer.bias_shared
        lin = f"layer_{layer.name}"
        assert ln.act.torch is not None
        module = ln.act.torch[0]
        layer_heading(out, ln)
        out(
            f"{lin} = nn.Linear({len(ln.sources)}, {layer.size}, bias={per_neuron})"
            f"  # weight: {layer.size} neurons × {len(ln.sources)} inputs",
            f"act_{layer.name} = nn.{call(module, ln.act.torch_kwargs(layer.alpha))}",
            "with torch.no_grad():",
            f"    {lin}.weight.copy_(torch.tensor([",
        )
        for j, row in enumerate(layer.weights):
            out(f"        {vector(row)},  # {', '.join(ln.weight_ids[j])}: into {layer.neurons[j]}")
        out("    ]))")
        if per_neuron:
            out(f"    {lin}.bias.copy_(torch.tensor({vector(layer.bias or ())}))")
        ids = [i for row in ln.weight_ids for i in row]
        out(f"{ln.W}_ids = {strings(ids)}  # row by row")
        trained.append((f"{lin}.weight", f"{ln.W}_ids"))
        every.append((f"{lin}.weight", f"{ln.W}_ids"))
        if layer.bias is None:
            out(f"# no bias: net_{layer.name} = {lin}({ln.source})")
            continue
        if per_neuron:
            bias_ids = list(ln.bias_ids or [])
            if not ln.bias_trained:
                out(f"{lin}.bias.requires_grad_(False)  # held fixed: update_biases is false")
            bias = f"{lin}.bias"
        else:
            bias_ids = [str(ln.bias_ids)]
            if ln.bias_trained:
                out(
                    f"# {bias_ids[0]}: one bias shared by the layer's neurons, which nn.Linear has",
                    "# no room for: a parameter of its own, added to every net",
                    f"{ln.b} = nn.Parameter(torch.tensor({number(layer.bias[0])}))",
                )
            else:
                out(
                    f"# {bias_ids[0]}: one bias shared by the layer's neurons, held fixed",
                    "# (update_biases is false): a constant, not a parameter",
                    f"{ln.b} = torch.tensor({number(layer.bias[0])})",
                )
            bias = ln.b
        out(f"{ln.b}_ids = {strings(bias_ids)}")
        every.append((bias, f"{ln.b}_ids"))
        if ln.bias_trained:
            trained.append((bias, f"{ln.b}_ids"))
    samples(out, spec, "torch.tensor")
    out.blank()
    out("# Every trained parameter, with the ids of its entries")
    out(f"PARAMETERS = [{', '.join(f'({t}, {i})' for t, i in trained)}]")
    out("# ... and every parameter, the fixed ones too")
    out(f"EVERY = [{', '.join(f'({t}, {i})' for t, i in every)}]")
    _forward(out, ls)
    _loss(out, spec, ls[-1], lossfn)


def _forward(out: Lines, ls: list[LayerNames]) -> None:
    out.section("Forward pass")
    out(
        "def forward(x):",
        '    """Every layer\'s net and out for the samples x, one row each."""',
    )
    results = []
    for ln in ls:
        name = ln.name
        shared = ln.layer.bias is not None and ln.layer.bias_shared
        plus = f" + {ln.b}" if shared else ""
        out(f"    net_{name} = layer_{name}({ln.source}){plus}  # x @ W_{name}.T + b, row by row")
        out(f"    out_{name} = act_{name}(net_{name})")
        results += [f"net_{name}", f"out_{name}"]
    out(f"    return {', '.join(results)}")


def _loss(out: Lines, spec: Spec, top: LayerNames, lossfn: TorchLoss) -> None:
    loss = LOSSES[spec.loss]
    n = top.layer.size
    divisor = lossfn.divisor(n)
    out.section("Loss")
    what = f"out_{top.name}"
    if lossfn.on_nets:
        what = f"net_{top.name} (it applies the output activation itself, stably)"
    out(
        f"# {loss.prose}: {loss.summary}, for each sample",
        f"# nn.{lossfn.module} summed over the outputs, on {what}"
        + (f", divided by {number(divisor)}" if divisor != 1 else ""),
        "loss_fn = nn." + call(lossfn.module, lossfn.kwargs(spec.loss_hyper), SUM),
    )
    on = f"net_{top.name}" if lossfn.on_nets else f"out_{top.name}"
    div = f" / {number(divisor)}" if divisor != 1 else ""
    out(
        "",
        "",
        f"def E_total_of(net_{top.name}, out_{top.name}, target):",
        '    """E_total summed over the samples given (one row each, or one sample)."""',
        f"    return loss_fn({on}, target){div}",
    )


def _training(out: Lines, spec: Spec, ls: list[LayerNames], lossfn: TorchLoss) -> None:
    t = spec.training
    rule = OPTIMIZERS[t.optimizer.name]
    cls, kwargs = rule.torch
    mean = t.reduction == "mean"
    top = ls[-1]
    out.section("Training")
    bs = batches(spec)
    settings = {"lr": t.learning_rate, **kwargs(t.optimizer.hyper)}
    out(
        f"# {rule.prose}; η = {t.learning_rate!r}",
        "optimizer = torch.optim." + call(cls, settings, "[p for p, _ in PARAMETERS]"),
        f"BATCHES = {bs!r}  # {t.mode}",
        "",
        "for epoch in range(EPOCHS):",
        "    for u, batch in enumerate(BATCHES):",
        "        optimizer.zero_grad()  # .grad from 0 for this update",
        "        x, target = X[batch], T[batch]",
    )
    results = ", ".join(v for ln in ls for v in (f"net_{ln.name}", f"out_{ln.name}"))
    out(f"        {results} = forward(x)")
    out("        for i, s in enumerate(batch):")
    out('            heading(f"update {u + 1}, sample {s + 1}")')
    for ln in ls:
        out(f'            show_each("net_{{}}", {ln.neurons}, net_{ln.name}[i])')
        out(f'            show_each("out_{{}}", {ln.neurons}, out_{ln.name}[i])')
    E = f"E_total_of(net_{top.name}[i], out_{top.name}[i], target[i])"
    out(f'            show("E_total", {E}.item())')
    reduce = " / len(batch)" if mean else ""
    out(
        f"        # the batch's loss: the {t.reduction} of its samples' E_total",
        f"        E_batch = E_total_of(net_{top.name}, out_{top.name}, target){reduce}",
        "        E_batch.backward()  # autograd: dE_batch/dθ of every parameter, into .grad",
        "        if len(batch) == 1:  # one sample: its own gradient, dE_total/dθ",
        '            gradient = "dE_total"',
        '            heading(f"update {u + 1}, sample {batch[0] + 1}")',
        "        else:",
        '            gradient = "dE_batch"',
        '            heading(f"update {u + 1}")',
        '            show("E_batch", E_batch.item())',
        "        for p, ids in PARAMETERS:",
        '            show_each(gradient + "/d{}", ids, p.grad)',
        "        optimizer.step()  # every parameter θ+ from θ and its gradient",
        '        heading(f"update {u + 1}")',
        "        for p, ids in PARAMETERS:",
        '            show_each("{}+", ids, p)',
        "",
        "    # After the epoch: the loss over every sample, with the new parameters",
        "    with torch.no_grad():",
        f"        {results} = forward(X)",
        "        E_plus = []",
        "        for s in range(len(X)):",
        '            heading(f"after the update, sample {s + 1}")',
    )
    for ln in ls:
        out(f'            show_each("net_{{}}+", {ln.neurons}, net_{ln.name}[s])')
        out(f'            show_each("out_{{}}+", {ln.neurons}, out_{ln.name}[s])')
    out(
        f"            E_plus.append(E_total_of(net_{top.name}[s], out_{top.name}[s], T[s]).item())",
        '            show("E_total+", E_plus[-1])',
        f"        E = sum(E_plus){' / len(E_plus)' if mean else ''}"
        f"  # the {t.reduction} over the samples",
        "    if len(X) > 1:",
        '        heading("after the update")',
        '        show("E+", E)',
        "    if not PRINT_STEPS and (epoch + 1) % max(1, EPOCHS // 10) == 0:",
        '        print(f"E_total after epoch {epoch + 1} = {E!r}")',
        "",
        "if not PRINT_STEPS:",
        '    print(f"# after {EPOCHS} epochs")',
        '    print("E_total =", repr(E))',
        "    for p, ids in EVERY:",
        "        for name, value in zip(ids, p.detach().reshape(-1).tolist()):",
        '            print(name, "=", repr(value))',
    )
