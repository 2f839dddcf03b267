"""The loop a reader of the post writes first: one object per neuron, plain Python, no libraries.

It trains the worked example for 10,000 epochs (online, learning rate 0.5, biases fixed), reports
the total error after every epoch as the post does, and prints the final figures. The benchmark
times this whole process against `backprop train --epochs 10000`.
"""

from __future__ import annotations

import math
import sys


class Neuron:
    """One neuron: its incoming weights, its bias, and what it last computed."""

    def __init__(self, weights: list[float], bias: float) -> None:
        self.weights = weights
        self.bias = bias
        self.inputs: list[float] = []
        self.output = 0.0
        self.delta = 0.0

    def feed(self, inputs: list[float]) -> float:
        self.inputs = inputs
        net = self.bias
        for w, x in zip(self.weights, inputs, strict=True):
            net += w * x
        self.output = 1.0 / (1.0 + math.exp(-net))
        return self.output

    def slope(self) -> float:
        """dout/dnet of the logistic function."""
        return self.output * (1.0 - self.output)


class Layer:
    """A list of neurons fed the same inputs."""

    def __init__(self, weights: list[list[float]], bias: float) -> None:
        self.neurons = [Neuron(list(row), bias) for row in weights]

    def feed(self, inputs: list[float]) -> list[float]:
        return [n.feed(inputs) for n in self.neurons]


class Network:
    """Two layers, trained one sample at a time."""

    def __init__(self) -> None:
        self.hidden = Layer([[0.15, 0.20], [0.25, 0.30]], 0.35)
        self.output = Layer([[0.40, 0.45], [0.50, 0.55]], 0.60)
        self.rate = 0.5

    def feed(self, inputs: list[float]) -> list[float]:
        return self.output.feed(self.hidden.feed(inputs))

    def train(self, inputs: list[float], targets: list[float]) -> None:
        self.feed(inputs)
        for n, t in zip(self.output.neurons, targets, strict=True):
            n.delta = -(t - n.output) * n.slope()
        for j, h in enumerate(self.hidden.neurons):
            total = 0.0
            for o in self.output.neurons:
                total += o.delta * o.weights[j]
            h.delta = total * h.slope()
        # Every gradient above used the old weights; now update them all.
        for layer in (self.output, self.hidden):
            for n in layer.neurons:
                for i, x in enumerate(n.inputs):
                    n.weights[i] -= self.rate * n.delta * x

    def total_error(self, samples: list[tuple[list[float], list[float]]]) -> float:
        total = 0.0
        for inputs, targets in samples:
            for out, t in zip(self.feed(inputs), targets, strict=True):
                total += 0.5 * (t - out) ** 2
        return total / len(samples)


def main(epochs: int) -> None:
    samples = [([0.05, 0.10], [0.01, 0.99])]
    net = Network()
    error = net.total_error(samples)
    for _ in range(epochs):
        for inputs, targets in samples:
            net.train(inputs, targets)
        error = net.total_error(samples)
    print(f"E_total after {epochs} epochs: {error!r}")
    print("outputs:", net.feed(samples[0][0]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
