"""Rounded kernels: training as a person with a calculator does it, at the speed of exact training.

`backprop train --round N` rounds every value the engine records to N decimals (when finite), and
the rounded value is what the rest of the computation uses. This kernel is the loop kernel with
`round(value, N)` at exactly those points and nowhere else, so its floats are those of running
`engine.step(spec, round_to=N)` epoch after epoch, bit for bit, without recording anything
(compiled.CompiledKernel with round_to rounds at the same points in straight-line code):

  forward   net_n, out_n (softmax outputs too), each rounded; inputs as given
  loss      E_o of each output, then their sum E_total (rounded again), then the mean or sum
            over the samples (rounded again: dataset_loss, and the after-phase `E+`)
  output    dE_total/dout_n; softmax's Jacobian entries; delta_n (the catalogue's fused delta
            when the loss has one), each rounded
  hidden    each weight above, read as dnet/dout; each part delta·w; their sum dE_total/dout_n;
            delta_n: each rounded
  gradients delta·x (x unrounded: an input, or an out already rounded), delta·1, a shared bias's
            sum of deltas; a batch's mean (or sum) of each parameter's sample gradients
  update    every optimizer stage (ops.update_source with round_to), in either update order
Values the engine records but never uses again (dnet/dw, an elementwise dout/dnet) are not
computed. The maths is the catalogue's, as in the loop kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from backprop_cli.kernels import compiled
from backprop_cli.kernels.base import Kernel, optimizer_update
from backprop_cli.kernels.loops import LoopKernel, Rows
from backprop_cli.ops import FLOATS, OutputLogs
from backprop_cli.ops.activations import softmax_jacobian
from backprop_cli.specs.model import Spec
from backprop_cli.specs.state import State


def rounder(decimals: int) -> Callable[[float], float]:
    """round(value, decimals) for a finite value (x − x is 0 only then); others unchanged."""

    def rnd(value: float) -> float:
        return round(value, decimals) if value - value == 0.0 else value

    return rnd


class RoundedLoopKernel(LoopKernel):
    """The loop kernel, rounding each value the engine records to `round_to` decimals.

    A kernel for kernels.Trainer: `Trainer(spec, kernel=RoundedLoopKernel.factory(4))`."""

    def __init__(self, spec: Spec, order: str, state: State, round_to: int) -> None:
        super().__init__(spec, order, state)
        self.round_to = round_to
        self.rnd = rounder(round_to)
        self.update = optimizer_update(state, round_to)

    @classmethod
    def factory(cls, round_to: int) -> Callable[[Spec, str, State], RoundedLoopKernel]:
        return lambda spec, order, state: cls(spec, order, state, round_to)

    def forward(self, x: Sequence[float]) -> tuple[list[list[float]], list[list[float]]]:
        """Rounded nets and outs of every layer (engine._Pass.forward)."""
        rnd = self.rnd
        nets_all, outs_all = [], []
        prev = x
        for k in range(self.L + 1):
            nets = [rnd(net) for net in self.layer_nets(k, prev)]
            outs = [rnd(o) for o in self.acts[k].layer(FLOATS, nets, self.alphas[k])]
            nets_all.append(nets)
            outs_all.append(outs)
            prev = outs
        return nets_all, outs_all

    def sample_loss(self, nets: list[float], outs: list[float], targets: Sequence[float]) -> float:
        """E_total of one sample from rounded E_o, rounded (engine._Pass.loss)."""
        rnd = self.rnd
        logs = OutputLogs(FLOATS, self.acts[self.L], nets)
        value, n, total = self.loss.value, self.n_out, 0.0
        hyper = self.spec.loss_hyper
        for j, (t, o) in enumerate(zip(targets, outs, strict=True)):
            total += rnd(value(FLOATS, t, o, n, logs.out(j), logs.one_minus(j), hyper))
        return rnd(total)

    def evaluate(self) -> float:
        """E_total over all samples, its mean or sum rounded too (engine.dataset_loss)."""
        return self.rnd(super().evaluate())

    def outputs(self) -> list[list[float]]:
        """The outputs of the trained network, computed exactly (as engine.forward_values)."""
        return [LoopKernel.forward(self, x)[1][-1] for x, _ in self.samples]

    def _output_deltas(
        self, nets: list[float], outs: list[float], targets: Sequence[float]
    ) -> list[float]:
        rnd = self.rnd
        act, n = self.acts[self.L], self.n_out
        hyper = self.spec.loss_hyper
        grad = self.loss.grad
        # dE_total/dout is recorded (and so computed) even where a fused delta replaces it.
        g = [rnd(grad(FLOATS, t, o, n, hyper)) for t, o in zip(targets, outs, strict=True)]
        if self.fused is not None:
            return [rnd(self.fused.value(FLOATS, j, nets, outs, targets, n)) for j in range(n)]
        if not act.elementwise:
            jac = [[rnd(softmax_jacobian(outs, i, j)) for j in range(n)] for i in range(n)]
            deltas = []
            for j in range(n):
                value = 0.0
                for i in range(n):
                    value += g[i] * jac[i][j]
                deltas.append(rnd(value))
            return deltas
        alpha = self.alphas[self.L]
        return [
            rnd(act.delta(FLOATS, gj, net, o, alpha))
            for gj, net, o in zip(g, nets, outs, strict=True)
        ]

    def _hidden_deltas(
        self, k: int, upper: list[float], nets: list[float], outs: list[float]
    ) -> list[float]:
        rnd = self.rnd
        above = self.W[k + 1]
        act, alpha = self.acts[k], self.alphas[k]
        deltas = []
        for j, o in enumerate(outs):
            total = 0.0
            for m, d in enumerate(upper):
                total += rnd(d * rnd(above[m][j]))
            deltas.append(rnd(act.delta(FLOATS, rnd(total), nets[j], o, alpha)))
        return deltas

    def _layer_grads(self, k: int, deltas: list[float], xs: Sequence[float]) -> Rows:
        rnd = self.rnd
        grads = [[rnd(d * x) for x in xs] for d in deltas]
        if self.train_bias[k]:
            if self.shared[k]:
                total = 0.0
                for d in deltas:
                    total += d
                grads.append([rnd(total)])
            else:
                grads.append([rnd(d * 1) for d in deltas])
        return grads

    def _reduce(self, per_sample: list[list[Rows]]) -> list[Rows]:
        rnd = self.rnd
        return [[[rnd(g) for g in row] for row in rows] for rows in super()._reduce(per_sample)]


def rounded_kernel(round_to: int) -> Callable[[Spec, str, State], Kernel]:
    """A kernel factory for kernels.Trainer that rounds as `train --round N` does: compiled
    straight-line code where it applies (as for exact training), the rounded loop kernel
    elsewhere (softmax, the sequential order)."""

    def make(spec: Spec, order: str, state: State) -> Kernel:
        if compiled.fuses(spec, order):
            return compiled.FusedKernel(spec, order, state, round_to)
        if compiled.supports(spec, order):
            return compiled.CompiledKernel(spec, order, state, round_to)
        return RoundedLoopKernel(spec, order, state, round_to)

    return make
