"""The step (or the training) as a plain NumPy script: every formula is the catalogue's own
definition, read by NUMPY_SOURCE into numpy source text, so the script computes what the engine
computes, operation by operation (numpy's sums and exp aside: it agrees to about 1e-15)."""

from __future__ import annotations

from typing import Any

from backprop_cli.export.layout import (
    LayerNames,
    Lines,
    id_grid,
    layer_heading,
    layers,
    number,
    preamble,
    samples,
    sequential,
    strings,
    text,
    trained,
    vector,
)
from backprop_cli.ops import LOSSES, OPTIMIZERS, Expr, OutputLogs, Vars
from backprop_cli.ops.vocab import NUMPY_SOURCE as NP
from backprop_cli.specs.model import Spec, batches

SHOW_EACH = '''def show_each(template, names, values):
    """Print each entry of an array with its id, the template with the entry's
    name in it: show_each("net_{}", ["h1", "h2"], net_h) prints net_h1, net_h2."""
    if PRINT_STEPS:
        for name, value in zip(np.ravel(names), np.ravel(values)):
            print(template.replace("{}", str(name)), "=", repr(float(value)))'''


def text_of(x: Any) -> str:
    return x.text if isinstance(x, Expr) else number(x)


def plain(formula: str) -> str:
    """A catalogue formula template as a comment shows it: {out_o1} → out_o1."""
    return formula.replace("{", "").replace("}", "")


def numpy_script(spec: Spec, epochs: int | None, source: str) -> str:
    ls = layers(spec)
    out = Lines()
    _preamble(out, spec, ls, epochs, source)
    _network(out, spec, ls)
    _training(out, spec, epochs)
    _forward(out, ls)
    _loss(out, spec, ls[-1])
    _loop(out, spec, ls)
    _after(out, spec, ls)
    return out.text()


def _preamble(out: Lines, spec: Spec, ls: list[LayerNames], epochs: int | None, src: str) -> None:
    top = ls[-1]
    i = min(1, len(top.sources) - 1)
    preamble(
        out,
        spec,
        epochs,
        src,
        ("plain NumPy", "numpy", "only NumPy"),
        "every quantity of the step with the id `backprop step` gives it (net_h1, delta_o1, "
        "dE_total/dw5, w5+, ...), so that each can be checked against "
        "`backprop step --format json`",
        [
            "Layout: a layer's weights are a matrix W with one row per neuron and one column per",
            "input (neurons × inputs, as torch.nn.Linear.weight), so that a layer computes",
            f"net = W @ x + b. {top.W}[0, {i}] is {top.weight_ids[0][i]}, the weight from "
            f"{top.sources[i]} to {top.layer.neurons[0]}.",
        ],
        [
            "import numpy as np",
            "",
            "# np.where computes both of its branches; the one not taken may overflow",
            "np.seterr(all='ignore')",
        ],
        SHOW_EACH,
    )


def _network(out: Lines, spec: Spec, ls: list[LayerNames]) -> None:
    out.section("The network")
    out(f"inputs = {strings(spec.inputs)}")
    for ln in ls:
        layer = ln.layer
        layer_heading(out, ln)
        out(
            f"{ln.W} = np.array([  # one row per neuron, one column per input",
        )
        for j, row in enumerate(layer.weights):
            out(f"    {vector(row)},  # {', '.join(ln.weight_ids[j])}: into {layer.neurons[j]}")
        out("])", f"{ln.W}_ids = {id_grid(ln.weight_ids)}")
        fixed = "" if ln.bias_trained else " (held fixed: training.update_biases is false)"
        if layer.bias is None:
            out(f"# no bias: net_{layer.name} = {ln.W} @ {ln.source}")
        elif isinstance(ln.bias_ids, str):
            out(
                f"# {ln.bias_ids}: one bias shared by the layer's neurons{fixed}",
                f"{ln.b} = {number(layer.bias[0])}",
                f"{ln.b}_ids = {text(ln.bias_ids)}",
            )
        else:
            out(
                f"# one bias per neuron{fixed}",
                f"{ln.b} = np.array({vector(layer.bias)})",
                f"{ln.b}_ids = {strings(ln.bias_ids or [])}",
            )
    samples(out, spec, "np.array")


def _training(out: Lines, spec: Spec, epochs: int | None) -> None:
    t = spec.training
    rule = OPTIMIZERS[t.optimizer.name]
    out.section("Training")
    out(f"# {rule.prose}; the loss: {LOSSES[spec.loss].prose} ({LOSSES[spec.loss].summary})")
    out(f"lr = {number(t.learning_rate)}  # η, the learning rate")
    for h in rule.hyper:
        out(f"{h.key} = {number(t.optimizer.hyper[h.key])}  # {h.symbol}: {h.meaning}")
    bs = batches(spec)
    how = {
        1: "one update per sample",
    }.get(max(len(b) for b in bs), f"one update per batch, the {t.reduction} of its gradients")
    out(f"BATCHES = {bs!r}  # {t.mode}: {how}")
    out(f"t = {t.optimizer.step}  # updates so far (Adam's bias correction reads it)")


def _forward(out: Lines, ls: list[LayerNames]) -> None:
    out.section("Forward pass")
    out(
        'def forward(x, suffix=""):',
        '    """Each layer\'s net and out for one sample x ("+" after the update)."""',
    )
    out.depth += 1
    results = []
    for ln in ls:
        net, o, name = ln.var("net"), ln.var("out"), ln.name
        first = ln.layer.neurons[0]
        terms = [f"{w} * {_src(ln, i)}" for i, w in enumerate(ln.weight_ids[0])]
        bias = ""
        if ln.bias_ids is not None:
            bid = ln.bias_ids if isinstance(ln.bias_ids, str) else ln.bias_ids[0]
            terms.append(f"{bid} * 1")
            bias = f" + {ln.b}"
        out(f"# Layer {name}: net_{first} = {' + '.join(terms)} (each neuron alike)")
        out(f"{net} = {ln.W} @ {ln.source}{bias}")
        out(f'show_each("net_{{}}" + suffix, {ln.neurons}, {net})')
        if ln.act.elementwise:
            formula = ln.act.formula.replace("{net}", f"net_{first}").replace(
                "α", repr(ln.layer.alpha)
            )
            out(f"# out_{first} = {formula}")
            out(f"{o} = {text_of(ln.act.value(NP, Expr(net), ln.layer.alpha))}")
        else:
            out(f"# out_{first} = e^net_{first} / Σ e^net over the layer ({ln.act.prose})")
            out(str(ln.act.numpy_layer).replace("{net}", net).replace("{out}", o))
        out(f'show_each("out_{{}}" + suffix, {ln.neurons}, {o})')
        results += [net, o]
    out(f"return {', '.join(results)}")
    out.depth -= 1


def _src(ln: LayerNames, i: int) -> str:
    return ln.sources[i] if ln.k == 0 else f"out_{ln.sources[i]}"


def _elements(ln: LayerNames, var: str) -> list[Expr]:
    """The catalogue reads a layer as a list: one array for an elementwise activation (each
    entry then stands for the whole layer), else one entry per neuron."""
    if ln.act.elementwise:
        return [Expr(var)] * ln.layer.size
    return [Expr(f"{var}[{j}]") for j in range(ln.layer.size)]


def _array(items: list[Any], ln: LayerNames) -> str:
    """One expression for the layer: itself when elementwise, else np.array of the entries."""
    if ln.act.elementwise:
        return text_of(items[0])
    inner = "\n".join(f"    {text_of(x)}," for x in items)
    return f"np.array([\n{inner}\n])"


def _loss(out: Lines, spec: Spec, top: LayerNames) -> None:
    loss = LOSSES[spec.loss]
    n = top.layer.size
    out.section("Loss")
    out(
        'def loss(net_o, out_o, target, suffix=""):'.replace("net_o", top.var("net")).replace(
            "out_o", top.var("out")
        ),
        f'    """E_{top.name} of each output and E_total, for one sample (its targets: target)."""',
    )
    out.depth += 1
    first = top.layer.neurons[0]
    formula = loss.formula.replace("{out}", f"out_{first}").replace("{t}", f"target_{first}")
    formula = formula.replace("{n}", str(n))
    for h in loss.hyper:
        formula = formula.replace(h.symbol, repr(spec.loss_hyper[h.key]))
    out(f"# E_{first} = {formula}")
    if loss.stable is not None:
        out(
            "# (where an output has rounded to 0 or 1, from ln(out) and ln(1 - out) as the "
            "activation gives them from the nets, so that it stays finite)"
        )
    nets = _elements(top, top.var("net"))
    outs = _elements(top, top.var("out"))
    ts = [Expr("target")] * n if top.act.elementwise else [Expr(f"target[{j}]") for j in range(n)]
    logs = OutputLogs(NP, top.act, nets)
    terms = [
        loss.value(NP, ts[j], outs[j], n, logs.out(j), logs.one_minus(j), spec.loss_hyper)
        for j in range(1 if top.act.elementwise else n)
    ]
    E = top.var("E")
    out(f"{E} = {_array(terms, top)}")
    out(f'show_each("E_{{}}" + suffix, {top.neurons}, {E})')
    out(f"E_total = np.sum({E})  # E_total = {' + '.join(f'E_{x}' for x in top.layer.neurons)}")
    out('show("E_total" + suffix, E_total)', "return E_total")
    out.depth -= 1


def _loop(out: Lines, spec: Spec, ls: list[LayerNames]) -> None:
    rule = OPTIMIZERS[spec.training.optimizer.name]
    seq = sequential(spec, None)
    out.section("Training loop")
    out("# for each update: each sample's forward and backward pass, then the update")
    saved = spec.training.optimizer.slots
    for ln in ls:
        for var, _, _ in ln.trained():
            for slot in rule.slots:
                values = saved.get(slot, {})
                ids = _ids(ln, var)
                if any(i in values for i in ids):
                    saved_values = [values.get(i, 0.0) for i in ids]
                    out(
                        f"{slot}_{var} = np.reshape({vector(saved_values)}, np.shape({var}))"
                        f"  # the optimizer's {slot}, as saved"
                    )
                else:
                    out(f"{slot}_{var} = np.zeros_like({var})  # the optimizer's {slot}, from 0")
    out.blank()
    out("for epoch in range(EPOCHS):")
    out.depth += 1
    out("for u, batch in enumerate(BATCHES):")
    out.depth += 1
    out("t += 1")
    if not seq:
        out("# dE_batch/dθ: the gradients of the batch's samples, summed")
        for var in trained(ls):
            out(f"dE_batch_d{var} = np.zeros_like({var})")
        out("E_samples = []  # each sample's E_total, for the batch's loss")
    out("for s in batch:")
    out.depth += 1
    out(
        'heading(f"update {u + 1}, sample {s + 1}")',
        "x, target = X[s], T[s]",
        f"{', '.join(v for ln in ls for v in (ln.var('net'), ln.var('out')))} = forward(x)",
    )
    E = f"loss({ls[-1].var('net')}, {ls[-1].var('out')}, target)"
    out(E if seq else f"E_samples.append({E})")
    for ln in reversed(ls):
        _backward(out, spec, ls, ln)
        if seq:
            out('heading(f"update {u + 1}")')
            _update(out, spec, ln, "dE_total")
            out('heading(f"update {u + 1}, sample {s + 1}")')
        else:
            for var, _, _ in ln.trained():
                out(f"dE_batch_d{var} += dE_total_d{var}")
    out.depth -= 1
    if not seq:
        out.section("Update")
        out('heading(f"update {u + 1}")')
        mean = spec.training.reduction == "mean"
        out(
            f"# E_batch = {'(' if mean else ''}E_total[1] + ... + E_total[N]{')/N' if mean else ''}"
            ": the batch's loss (dE_batch/dθ is its gradient)",
            f"E_batch = sum(E_samples){' / len(batch)' if mean else ''}",
            "if len(batch) > 1:",
            '    show("E_batch", E_batch)',
        )
        if mean:
            out("# the batch's gradient is the mean of its samples' (one sample: its own)")
            for var in trained(ls):
                out(f"dE_batch_d{var} = dE_batch_d{var} / len(batch)")
        out("if len(batch) > 1:")
        for var in trained(ls):
            out(f'    show_each("dE_batch/d{{}}", {var}_ids, dE_batch_d{var})')
        for ln in reversed(ls):
            _update(out, spec, ln, "dE_batch")
    out.depth -= 2


def _ids(ln: LayerNames, var: str) -> list[str]:
    if var == ln.W:
        return [i for row in ln.weight_ids for i in row]
    return [ln.bias_ids] if isinstance(ln.bias_ids, str) else list(ln.bias_ids or [])


def _backward(out: Lines, spec: Spec, ls: list[LayerNames], ln: LayerNames) -> None:
    loss = LOSSES[spec.loss]
    last = ln.k == len(ls) - 1
    name, first = ln.name, ln.layer.neurons[0]
    net, o, delta = ln.var("net"), ln.var("out"), ln.var("delta")
    dout, dact = f"dE_total_dout_{name}", f"dout_{name}_dnet_{name}"
    out.section(f"Backward pass · {'output' if last else 'hidden'} layer {name}")
    if last:
        n = ln.layer.size
        g = loss.derivative_formula.replace("{out}", f"out_{first}").replace(
            "{t}", f"target_{first}"
        )
        for h in loss.hyper:
            g = g.replace(h.symbol, repr(spec.loss_hyper[h.key]))
        out(f"# dE_total/dout_{first} = {g.replace('{n}', str(n))}")
        grad = loss.grad(NP, Expr("target"), Expr(o), n, spec.loss_hyper)
        out(f"{dout} = {text_of(grad)}")
    else:
        above = ls[ln.k + 1]
        parts = " + ".join(
            f"delta_{m} * {above.weight_ids[i][0]}" for i, m in enumerate(above.layer.neurons)
        )
        out(
            f"# dE_total/dout_{first} = {parts}: the deltas of layer {above.name} sent back "
            f"through its weights, W_{above.name} transposed (column {first} of W_{above.name})",
        )
        out(f"{dout} = {above.W}.T @ {above.var('delta')}")
    out(f'show_each("dE_total/dout_{{}}", {ln.neurons}, {dout})')
    fused = loss.fused.get(ln.layer.activation) if last else None
    if ln.act.elementwise:
        d = ln.act.derivative_formula.replace("{out}", f"out_{first}").replace(
            "{net}", f"net_{first}"
        )
        out(f"# dout_{first}/dnet_{first} = {d.replace('α', repr(ln.layer.alpha))}")
        value = ln.act.derivative(NP, Expr(net), Expr(o), ln.layer.alpha)
        text = (
            text_of(value) if isinstance(value, Expr) else f"np.full_like({net}, {number(value)})"
        )
        out(f"{dact} = {text}", f'show_each("dout_{{}}/dnet_{{}}", {ln.neurons}, {dact})')
    else:
        ns = ln.layer.neurons
        outs = [Expr(f"{o}[{j}]") for j in range(ln.layer.size)]
        out(
            "# the Jacobian: row i, column j is dout_i/dnet_j = out_i * ([i = j] - out_j)",
            f"{dact} = np.array([",
        )
        jac = ln.act.jacobian
        assert jac is not None
        for i in range(len(ns)):
            out(f"    [{', '.join(text_of(jac(outs, i, j)) for j in range(len(ns)))}],")
        out(
            "])",
            f'show_each("{{}}", {id_grid([[f"dout_{a}/dnet_{b}" for b in ns] for a in ns])}, '
            f"{dact})",
        )
    if fused is not None:
        rhs, _ = fused.shown(0, ln.layer.neurons)
        out(
            f"# delta_{first} = dE_total/dnet_{first}, which simplifies to "
            f"{plain(rhs).replace('{n}', str(ln.layer.size)).replace('n)', f'{ln.layer.size})')}",
            "# (the same number, and finite where an output has rounded to 0 or 1)",
        )
        n = ln.layer.size
        nets, outs = _elements(ln, net), _elements(ln, o)
        ts = (
            [Expr("target")] * n if ln.act.elementwise else [Expr(f"target[{j}]") for j in range(n)]
        )
        items = [
            fused.value(NP, j, nets, outs, ts, n) for j in range(1 if ln.act.elementwise else n)
        ]
        out(f"{delta} = {_array(items, ln)}")
    elif ln.act.elementwise:
        out(f"# delta_{first} = dE_total/dout_{first} * dout_{first}/dnet_{first}")
        value = ln.act.delta(NP, Expr(dout), Expr(net), Expr(o), ln.layer.alpha)
        out(f"{delta} = {text_of(value)}")
    else:
        out(
            "# delta_j = Σ_i dE_total/dout_i * dout_i/dnet_j: the Jacobian transposed, times "
            "dE_total/dout"
        )
        out(f"{delta} = {dact}.T @ {dout}")
    out(f'show_each("delta_{{}}", {ln.neurons}, {delta})')
    src0 = _src(ln, 0)
    out(
        f"# dE_total/d{ln.weight_ids[0][0]} = delta_{first} * {src0}: the outer product "
        f"of delta_{name} and the layer's input",
        f"dE_total_d{ln.W} = np.outer({delta}, {ln.source})",
        f'show_each("dE_total/d{{}}", {ln.W}_ids, dE_total_d{ln.W})',
    )
    if ln.bias_ids is not None and ln.bias_trained:
        if isinstance(ln.bias_ids, str):
            out(
                f"# dE_total/d{ln.bias_ids} = "
                + " + ".join(f"delta_{x} * 1" for x in ln.layer.neurons)
                + ": the bias feeds every neuron",
                f"dE_total_d{ln.b} = np.sum({delta})",
            )
        else:
            out(f"dE_total_d{ln.b} = {delta} * 1  # dE_total/d{ln.bias_ids[0]} = delta_{first} * 1")
        out(f'show_each("dE_total/d{{}}", {ln.b}_ids, dE_total_d{ln.b})')


def _update(out: Lines, spec: Spec, ln: LayerNames, grad: str) -> None:
    """Each trained parameter matrix of the layer through the optimizer's stages."""
    t = spec.training
    rule = OPTIMIZERS[t.optimizer.name]
    constants = {"lr": t.learning_rate, **t.optimizer.hyper}
    out.section(f"Update · layer {ln.name} · {rule.name}")
    for var, ids_var, _ in ln.trained():
        g = f"{grad}_d{var}"
        now: dict[str, Any] = {key: Expr(key) for key in constants}
        now.update({"w": Expr(var), "g": Expr(g), "t": Expr("t")})
        now.update({slot: Expr(f"{slot}_{var}") for slot in rule.slots})
        shown = {"w": var, "g": f"{grad}/d{var}"}
        stages = rule.active(constants)
        for i, stage in enumerate(stages):
            step_id, body, words = rule.shown(stage, i == len(stages) - 1)
            for key in words:
                sym = shown.get(key, rule.symbol(key)).replace("{p}", var)
                body = body.replace("{" + rule.symbol(key) + "}", sym)
            target = var if stage.key == "w" else f"{stage.key}_{var}"
            out(f"# {step_id.replace('{p}', var)} = {plain(body)}")
            out(f"{target} = {text_of(stage.fn(NP, Vars(now)))}")
            out(f'show_each("{step_id.replace("{p}", "{}")}", {ids_var}, {target})')
            now[stage.key] = Expr(target)
            shown[stage.key] = step_id.replace("{p}", var)


def _after(out: Lines, spec: Spec, ls: list[LayerNames]) -> None:
    top = ls[-1]
    mean = spec.training.reduction == "mean"
    out.depth += 1
    out.section("After the epoch: the loss over every sample, with the new parameters")
    out("E_plus = []")
    out("for s in range(len(X)):")
    out('    heading(f"after the update, sample {s + 1}")')
    results = ", ".join(v for ln in ls for v in (ln.var("net"), ln.var("out")))
    out(f'    {results} = forward(X[s], "+")')
    out(f'    E_plus.append(loss({top.var("net")}, {top.var("out")}, T[s], "+"))')
    reduce = "float(sum(E_plus) / len(E_plus))" if mean else "float(sum(E_plus))"
    out(f"E = {reduce}  # the {spec.training.reduction} over the samples")
    out("if len(X) > 1:", '    heading("after the update")', '    show("E+", E)')
    out("if not PRINT_STEPS and (epoch + 1) % max(1, EPOCHS // 10) == 0:")
    out('    print(f"E_total after epoch {epoch + 1} = {E!r}")')
    out.depth -= 1
    out.blank()
    out("if not PRINT_STEPS:")
    out.depth += 1
    out('print(f"# after {EPOCHS} epochs")', 'print("E_total =", repr(E))')
    pairs = ", ".join(
        f"({ids_var}, {var})"
        for ln in ls
        for var, ids_var in [(ln.W, f"{ln.W}_ids")]
        + ([(ln.b, f"{ln.b}_ids")] if ln.bias_ids is not None else [])
    )
    out(f"EVERY = [{pairs}]", "for names, values in EVERY:")
    out("    for name, value in zip(np.ravel(names), np.ravel(values)):")
    out('        print(name, "=", repr(float(value)))')
    out.depth -= 1
