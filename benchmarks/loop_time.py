"""The training loop alone, in this process: `backprop`'s trainer on a config, as `train` runs it.

    python benchmarks/loop_time.py FILE.yaml [EPOCHS] [KERNEL]   # KERNEL: auto, python, numpy

Loading the config and building the kernel are not timed; the epochs are (each with its E_total
over all samples, kept a chunk at a time as `backprop train` keeps them). Prints E_total and the
loop's seconds, to set beside `torch_backprop.py mid FILE float32`'s loop.
"""

from __future__ import annotations

import sys
import time

from backprop_cli import load_spec
from backprop_cli.kernels import Curve, Trainer


def main() -> None:
    spec = load_spec(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else None)
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else (spec.training.epochs or 1)
    trainer = Trainer(spec, kernel=sys.argv[3] if len(sys.argv) > 3 else "auto")
    curve = Curve()
    start = time.perf_counter()
    for first, losses in trainer.chunks(epochs):
        curve.extend(first, losses)
    loop = time.perf_counter() - start
    print(f"E_total after {epochs} epochs: {trainer.loss!r} ({trainer.kernel_name} kernel)")
    print(f"loop: {loop:.4f} s, {loop / max(epochs, 1) * 1e6:.3f} us/epoch", file=sys.stderr)


if __name__ == "__main__":
    main()
