"""`backprop step` output formats side by side, from the worked example's size to 100-100-10.

    python benchmarks/tables.py               # 7 rounds; --rounds N, --sizes 2,2,2 30,30,30

For each network, whole processes (see timing.py), output to /dev/null at 80 columns: the step
as tables (the default), as JSON and as Markdown; ratios are to JSON, the cheapest to write.
Networks are made by `backprop init --seed 1` (one sample, sigmoid, half_sse); init makes
layers of at most 32 neurons, so bigger ones are made by the same code (exercise.make_exercise).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from timing import BACKPROP, ENV, PY, machine, side_by_side

SIZES = ("2,2,2", "5,5,5", "10,10,10", "30,30,30", "100,100,10")
FORMATS = {"table": [], "json": ["--format", "json"], "markdown": ["--format", "markdown"]}
MAKE = (
    "import sys; from backprop_cli.tutor.exercise import Options, make_exercise\n"
    "sys.stdout.write(make_exercise(Options(tuple(map(int, sys.argv[1].split(','))), seed=1)))"
)


def network(sizes: str, folder: Path) -> Path:
    """A config of that shape, by `backprop init` where it can."""
    path = folder / f"net-{sizes.replace(',', '-')}.yaml"
    if max(map(int, sizes.split(","))) <= 32:
        cmd = [*BACKPROP, "init", str(path), "--layers", sizes, "--seed", "1", "-q"]
        subprocess.run(cmd, check=True, env=ENV)
    else:
        made = subprocess.run([PY, "-c", MAKE, sizes], check=True, env=ENV, capture_output=True)
        path.write_bytes(made.stdout)
    return path


def steps(path: Path) -> int:
    done = subprocess.run(
        [*BACKPROP, "step", str(path), "-f", "json"], check=True, env=ENV, capture_output=True
    )
    return len(json.loads(done.stdout)["steps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sizes", nargs="+", default=SIZES)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sizes in args.sizes:
            path = network(sizes, Path(tmp))
            step = [*BACKPROP, "step", str(path), "-q"]
            cases = {f: [*step, *extra] for f, extra in FORMATS.items()}
            times = side_by_side(cases, args.rounds, env={"COLUMNS": "80"})
            rows.append((sizes, steps(path), times))
    print(f"{args.rounds} rounds, median wall time (CPU time); {machine()}\n")
    print("| network | steps | table | json | markdown | table / json | markdown / json |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for sizes, count, t in rows:
        cells = [f"{t[f][0]:.3f} s ({t[f][1]:.3f} s)" for f in FORMATS]
        ratios = [f"{t[f][0] / t['json'][0]:.2f}" for f in ("table", "markdown")]
        shape = sizes.replace(",", "-")
        print(f"| {shape} | {count:,} | {' | '.join(cells)} | {' | '.join(ratios)} |")


if __name__ == "__main__":
    main()
