"""A check report: one row per answer (id · your answer · expected · verdict), then a diagnosis."""

from __future__ import annotations

from collections.abc import Callable

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from backprop_cli.render.ascii import SpelledFirst
from backprop_cli.render.drift import signed
from backprop_cli.render.numbers import Numbers
from backprop_cli.render.table import Fitted, Indented
from backprop_cli.tutor.grading import EXACTLY, PROGRAM_REASON, Diagnosis, Report
from backprop_cli.tutor.logcheck import LogReport

Fmt = Numbers  # the one number style: formulas' numbers bracketed once, η as written

# Reasons the tally's notes give once for all rows (JSON keeps each row's).
QUIET = ("within one unit of the last digit", EXACTLY)

_MARKS = {
    "right": ("✓", "green"),
    "rounding": ("≈ rounding", "yellow"),
    "wrong": ("✗", "bold red"),
}


def render_report(report: Report, precision: int = 9) -> RenderableType:
    """The table of verdicts, a one-line tally, and the diagnosis of the first wrong answer."""

    fmt = Numbers(precision)

    def verdicts(sp: Callable[[str], str]) -> RenderableType:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("id", style="cyan", no_wrap=True)
        table.add_column("your answer", justify="right", no_wrap=True)
        table.add_column("expected", justify="right", no_wrap=True)
        if report.round_to is not None:
            table.add_column(
                sp(f"drift from exact (rounding to {report.round_to})"), justify="right"
            )
        table.add_column("allowed", justify="right", no_wrap=True)
        table.add_column("verdict")
        narrow: list[RenderableType] = []  # an answer a line, where the table does not fit
        for v in report.verdicts:
            mark, style = _MARKS[v.status]
            verdict = Text(sp(mark), style=style)
            if v.reason and v.reason not in (*QUIET, PROGRAM_REASON):
                verdict.append(sp(f"  ({v.reason})"), style="dim")
            row: list[Text | str] = [
                Text(sp(v.answer.key)),
                Text(sp(v.answer.text)),
                fmt(v.expected),
            ]
            if report.round_to is not None:
                rounded = v.exact if v.in_rounded_run is None else v.in_rounded_run
                row.append(sp(signed(rounded, v.exact, precision)))
            allowed = "1e-9 rel." if v.answer.program else sp(margin(v.unit / 2))
            table.add_row(*row, allowed, verdict)
            head = Text(sp(v.answer.key), style="cyan")
            head.append(" ")
            head.append_text(verdict)
            said = f"you wrote {v.answer.text}, expected {row[2]}"
            if report.round_to is not None:
                said += f" (drift {row[3]})"
            narrow += [head, Indented(Text(sp(f"{said}, allowed {allowed}")))]
        return Fitted(table, Group(*narrow))

    tally = Text()
    tally.append(f"{report.count('right')} ✓", style="green")
    tally.append(" · ")
    tally.append(f"{report.count('rounding')} ≈ rounding", style="yellow")
    tally.append(" · ")
    tally.append(f"{report.count('wrong')} ✗", style="red")
    parts: list[RenderableType] = [SpelledFirst(verdicts), Text(""), tally]
    programs = sum(1 for v in report.verdicts if v.answer.program)
    if programs:
        parts.append(
            Text(
                f"{programs} of {len(report.verdicts)} answers "
                f"{'has' if programs == 1 else 'have'} 12 or more significant "
                "digits: judged as a program's output, ✓ within 1e-9 relative.",
                style="dim",
            )
        )
    parts.extend(Text(note) for note in report.notes)
    if report.diagnosis is not None:
        parts.extend([Text(""), render_diagnosis(report.diagnosis, fmt)])
    return Group(*parts)


def margin(x: float) -> str:
    """The ± a ✓ allows: ±0.005, ±5e-05; ±0 for an answer of 0 (right only for 0)."""
    return f"±{x:g}"


def render_diagnosis(d: Diagnosis, fmt: Fmt) -> RenderableType:
    """Which inputs were right, then the slips that reproduce the answer (or what to recheck)."""
    v = d.verdict
    head = Text()
    head.append("First mistake: ", style="bold")
    head.append(v.answer.key, style="bold cyan")
    head.append(f" (line {v.answer.line}): you wrote {v.answer.text}, expected ")
    head.append(fmt(v.expected), style="bold")
    lines: list[RenderableType] = [head]

    def line(text: Text | str, indent: int = 2) -> None:
        lines.append(Padding(text, (0, 0, 0, indent)))

    line(f"{v.step.id} = {v.step.formula} = {fmt.substituted(v.step)} = {fmt(v.expected)}")
    given = [(name, w) for name, w in d.inputs if w is not None]
    missing = [name for name, w in d.inputs if w is None]
    if given:
        text = Text("Its inputs you gave: ")
        text.append(", ".join(f"{name} {_MARKS[w.status][0]}" for name, w in given))
        if all(w.status != "wrong" for _, w in given):
            # Only all of them right puts the slip in this step; else it may be in one not given.
            where = " or in one you did not give" if missing else ""
            text.append(f": right, so the slip is in this step{where}")
        line(text)
    if missing:
        line(Text("Its inputs not in your answers: " + ", ".join(missing), style="dim"))
    if d.slips:
        line(Text("Recognised (recomputed with the slip):", style="bold"))
        for slip in d.slips:
            text = Text("• ")
            text.append(slip.description)
            text.append(f" → {fmt(slip.value)}", style="bold")
            if slip.through:
                ways = ", ".join(f"{name} = {fmt(x)}" for name, x in slip.through)
                text.append(f" (by way of {ways}, which you did not give)")
            if slip.also:
                text.append(f"; {_also(slip.also, d.others)}", style="dim")
            line(text, 4)
    elif v.unit == 0:
        line("0 is right only for a value that is 0; work this step out and give its digits.")
    elif d.too_few_digits:
        line(f"{v.answer.text} has too few digits to tell which slip it was; give more digits.")
    else:
        line("No known slip gives your value; redo this step from the numbers above.")
    return Group(*lines)


def render_log_report(report: LogReport, precision: int = 9) -> RenderableType:
    """A log's check: how far it agrees, the first epoch that differs, and what explains it."""
    fmt = Numbers(precision)
    if report.difference is None:
        return Text(
            f"✓ all {report.rows} epochs agree to the digits written "
            f"(up to epoch {report.last_epoch})",
            style="green",
        )
    d = report.difference
    head = Text()
    head.append("First difference: ", style="bold")
    head.append(f"epoch {d.row.epoch}", style="bold cyan")
    head.append(f" (line {d.row.line}): the log says {d.row.text}, ")
    if d.ours is None:
        head.append("but this training starts later")
    else:
        head.append("this training gives ")
        head.append(fmt(d.ours), style="bold")
    lines: list[RenderableType] = [head]
    if report.slips:
        lines.append(
            Padding(Text(f"Reproduced over all {report.rows} rows by:", style="bold"), (0, 0, 0, 2))
        )
        for slip in report.slips:
            text = Text("• ")
            text.append(slip.description)
            text.append(f"  [{slip.code}]", style="dim")
            lines.append(Padding(text, (0, 0, 0, 4)))
    else:
        lines.append(
            Padding(
                "No known cause reproduces the log (epoch offset, update order, mode, reduction, "
                "learning rate, optimizer, rounding); compare the config with the run that wrote "
                "it.",
                (0, 0, 0, 2),
            )
        )
    return Group(*lines)


def _also(also: tuple[str, ...], others: int) -> str:
    """Which later wrong answers a slip also explains: the ids, or how many of them."""
    if len(also) <= 4:
        return f"also explains your {', '.join(also)}"
    if len(also) == others:
        return f"also explains all {others} of your other wrong answers"
    return f"also explains {len(also)} of your {others} other wrong answers ({also[0]}, …)"
