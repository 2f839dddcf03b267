"""`backprop step` against its import floor, whole processes side by side.

    python benchmarks/startup.py              # 21 rounds; --rounds N to change

The floor is `python -c "import typer, rich.console, rich.table, yaml"`: the libraries every
`backprop step` needs, imported and nothing done. Ratios are to the floor, of wall time and of
CPU time (user + system), each the median of the rounds (see timing.py).
"""

from __future__ import annotations

import argparse

from timing import BACKPROP, PY, machine, side_by_side

CASES = {
    'python -c "import typer, rich.console, rich.table, yaml" (floor)': [
        PY,
        "-c",
        "import typer, rich.console, rich.table, yaml",
    ],
    "backprop step": [*BACKPROP, "step"],
    "backprop step --format json": [*BACKPROP, "step", "--format", "json"],
    "backprop --version": [*BACKPROP, "--version"],
    'python -c "pass"': [PY, "-c", "pass"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    times = side_by_side(CASES, args.rounds)
    floor_wall, floor_cpu = times[next(iter(CASES))]
    print(f"{args.rounds} rounds, median; {machine()}\n")
    print("| command | wall | ratio to floor | CPU | ratio to floor |")
    print("|---|---:|---:|---:|---:|")
    for name, (wall, cpu) in times.items():
        print(
            f"| `{name}` | {wall * 1000:.0f} ms | {wall / floor_wall:.2f} | "
            f"{cpu * 1000:.0f} ms | {cpu / floor_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
