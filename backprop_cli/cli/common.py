"""What every command shares: the typer app, the two consoles, one output routine, errors.

The `cli` package is the only place that imports typer or prints. Data goes to stdout; messages
go to stderr.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import re
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from backprop_cli.specs.errors import ExitCode

if TYPE_CHECKING:
    from backprop_cli.specs.model import Spec

# typer 0.28 carries its own click; its ClickException is reached through the public BadParameter.
_ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


class _Command(TyperCommand):
    """A command whose help examples are laid out for the terminal when help is shown (a run
    that shows no help pays nothing for them)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        lay_out_examples(self, _help_width())
        with _trimmed_stdout():
            super().format_help(ctx, formatter)


# Spaces (and colour codes among them) that end a line: rich pads help to the terminal's width.
_PADDED = re.compile(r"(?:\x1b\[[0-9;]*m| )+\n")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


class _TrimmedLines:
    """stdout as typer's help console writes to it, less the spaces that end its lines (piped
    help then diffs); the colour codes among them are kept, all else is the stream's own."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(_PADDED.sub(lambda m: "".join(_SGR.findall(m.group())) + "\n", text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def _trimmed_stdout() -> Iterator[None]:
    """typer's help, written to stdout without trailing spaces (its console finds stdout when it
    writes)."""
    stream = sys.stdout
    sys.stdout = _TrimmedLines(stream)
    try:
        yield
    finally:
        sys.stdout = stream


_F = TypeVar("_F", bound=Callable[..., Any])


class _App(typer.Typer):
    """typer's app, each command made a _Command unless it asks for another class."""

    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Callable[[_F], _F]:
        made: Callable[[_F], _F] = super().command(*args, cls=cls or _Command, **kwargs)
        return made


class _Group(TyperGroup):
    """The root command: a usage error is the one `error: ...` line the README promises; each
    subcommand is built when it is looked up (COMMANDS)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in [self, *self.commands.values()]:
            tidy_help(command)
        self.commands = _Commands(self.commands)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        lay_out_examples(self, _help_width())
        with _trimmed_stdout():
            super().format_help(ctx, formatter)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names: nothing is built to list them

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        run = (args, prog_name, complete_var, False, windows_expand_args)
        _consoles.clear()  # each run sees its own terminal (tests run many in one process)
        with _columns_at_least(MIN_WIDTH):
            if not standalone_mode:
                return super().main(*run, **extra)
            self._standalone(run, extra)

    def _standalone(self, run: tuple[Any, ...], extra: dict[str, Any]) -> NoReturn:
        try:
            # Not standalone: exceptions come back to us; typer.Exit comes back as its code.
            code = super().main(*run, **extra)
        except _ClickException as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # bare `backprop`: help shown already
                line = Text.assemble(("error:", "bold red"), " ", usage_error(exc))
                err_console().print(line, soft_wrap=True)
            sys.exit(getattr(exc, "exit_code", int(ExitCode.USAGE)))
        except typer.Abort:
            err_console().print("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@contextmanager
def _columns_at_least(least: int) -> Iterator[None]:
    """COLUMNS raised to `least` for the run where it (or, unset, the terminal) gives fewer: rich
    prints nothing at all at COLUMNS=0, and typer's help console, which we do not make, reads it."""
    import os

    given = os.environ.get("COLUMNS")
    if Console().width >= least:
        yield
        return
    os.environ["COLUMNS"] = str(least)
    try:
        yield
    finally:
        if given is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = given


# Commands by name: the module of this package that defines each (filled in cli/__init__.py).
COMMANDS: dict[str, str] = {}


class _Commands(MutableMapping[str, Any]):
    """The root's commands by name, each built (its module imported) when first looked up:
    running a command builds that one alone; listing the names builds none."""

    def __init__(self, built: MutableMapping[str, Any]) -> None:
        self.built = dict(built)  # those whose module was imported before the root was built
        self.names = [*COMMANDS, *(name for name in built if name not in COMMANDS)]

    def __getitem__(self, name: str) -> Any:
        if name not in self.built:
            if name not in self.names:
                raise KeyError(name)
            self.built[name] = _build(name)
        return self.built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.built[name] = command
        if name not in self.names:
            self.names.append(name)

    def __delitem__(self, name: str) -> None:
        self.names.remove(name)
        self.built.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _build(name: str) -> Any:
    """Import the module of command `name`, which registers it on `app`, and build it."""
    import_module(f"{__package__}.{COMMANDS[name]}")
    for info in app.registered_commands:
        callback = info.callback
        if callback and (info.name or typer.main.get_command_name(callback.__name__)) == name:
            command = typer.main.get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
            tidy_help(command)
            return command
    raise KeyError(name)


def tidy_help(command: Any) -> None:
    """Help that wraps to any width: paragraphs without hard line breaks, choices as words.

    Rich keeps the line breaks of a docstring's later paragraphs, and folds a long choice list
    such as [table|json|markdown|latex] mid-word; a choice option shows a short name instead
    (FORMAT) and its help lists the choices, where they wrap between words. Example lines (an
    indented paragraph) keep their breaks; they are flush left in every command, as typer's
    dedent leaves them in some; they are laid out for the terminal when help is shown
    (lay_out_examples).
    """
    if command.help:
        paragraphs = inspect.cleandoc(command.help).split("\n\n")
        command.help = "\n\n".join(
            textwrap.dedent(p) if p.startswith("  ") else " ".join(p.split()) for p in paragraphs
        )
    for param in command.params:
        choices = getattr(param.type, "choices", None)
        if not choices or param.param_type_name != "option" or param.metavar:
            continue
        param.metavar = max(param.opts, key=len).lstrip("-").upper()
        names = [str(getattr(c, "value", c)) for c in choices]
        text = param.help or ""
        if not all(_has_word(text, n) for n in names):
            param.help = f"{text} One of: {', '.join(names)}.".strip()


def _has_word(text: str, word: str) -> bool:
    """Whether `word` is in `text` as a whole word (as the regex \\bword\\b finds it, for a word
    that starts and ends with a letter or digit), without compiling a regex each run."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        before, after = text[at - 1 : at], text[end : end + 1]
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        at = text.find(word, at + 1)
    return False


def lay_out_examples(command: Any, width: int) -> None:
    """Lay the example paragraphs of a command's help out for the width of the terminal, each
    time help is shown (from the text as written: tests show help at several widths in one
    process)."""
    written = command.__dict__.setdefault("written_help", command.help)
    if written:
        command.help = "\n\n".join(
            _examples(p, width) if p.startswith("backprop ") else p for p in written.split("\n\n")
        )


def _help_width() -> int:
    """The columns the help text gets: the terminal's (as typer's console finds them), less its
    margin of one column each side."""
    import os

    given = os.environ.get("TERMINAL_WIDTH", "")  # typer's own override
    return (int(given) if given.isdigit() else Console().width) - 2


_COMMENT = r"(?P<cmd>.*?\S)\s{2,}(?P<comment>(\[dim\])?#.*)"  # compiled when first needed
_WORD = r"""(?:'[^']*'|"[^"]*"|\S)+"""  # a shell word: quotes kept whole


def _examples(paragraph: str, width: int) -> str:
    """Example lines laid out for the width, so that none is broken inside a command: a line
    too wide puts its comment on the next line, and a command too wide is continued as the
    shell reads it (after a `|` or `&&`, else with a backslash), never inside a word."""
    lines = paragraph.splitlines()
    if all(len(line) <= width for line in lines):  # markup and all: nothing to do
        return paragraph
    out: list[str] = []
    for line in lines:
        found = re.fullmatch(_COMMENT, line)
        cmd, comment = (found["cmd"], found["comment"]) if found else (line, "")
        shown = len(line) - (len("[dim][/]") if comment.startswith("[dim]") else 0)
        if shown <= width:
            out.append(line)
            continue
        out += _continued(cmd, width)
        if comment:
            out.append(comment)
    return "\n".join(out)


def _continued(cmd: str, width: int) -> list[str]:
    """A command in lines of at most `width` where it can be: broken after a `|` or `&&`, else
    before an option (kept with its value) with a backslash; a word wider stays whole."""
    ends = ("|", "&&")
    segments: list[list[str]] = [[]]  # the parts between pipes, each ending with its `|`
    for word in re.findall(_WORD, cmd):
        seg = segments[-1]
        if word in ends:
            seg.append(word)
            segments.append([])
        elif seg and seg[-1][0] in "-<>" and " " not in seg[-1] and word[0] != "-":
            seg[-1] += " " + word  # an option and its value stay together, `>` and its file
        else:
            seg.append(word)
    lines: list[str] = []
    line = ""
    parts = [seg for seg in segments if seg]
    for seg in parts:
        whole = " ".join(seg)
        if line and len(line) + 1 + len(whole) <= width:
            line += " " + whole
            continue
        if line:
            lines.append(line)  # after a `|`: the shell reads on
            line = "  "
        for i, unit in enumerate(seg):
            final = unit in ends or (seg is parts[-1] and i == len(seg) - 1)  # no " \\" after it
            if not line.strip():
                line += unit
            elif len(line) + 1 + len(unit) + (0 if final else 2) <= width:
                line += " " + unit
            else:
                lines.append(line + " \\")
                line = "  " + unit
    return [*lines, line]


def usage_error(exc: Exception) -> str:
    """A parser error in one line: `--phase: 'backwards' is not one of forward, loss, ...`."""
    param = getattr(exc, "param", None)
    message = str(getattr(exc, "message", "")).strip().rstrip(".")
    if isinstance(exc, typer.BadParameter) and param is not None and message:
        opts = getattr(param, "opts", [])
        name = getattr(param, "metavar", None) or str(param.name).upper()
        hint = max(opts, key=len) if param.param_type_name == "option" else name
        choices = getattr(param.type, "choices", None)
        typed = re.match(r"'(?P<v>.*?)' is not one of", message)
        if choices and typed:
            names = [str(getattr(c, "value", c)) for c in choices]
            near = difflib.get_close_matches(typed["v"], names, n=1, cutoff=0.5)
            message = f"{typed['v']!r} is not one of {', '.join(names)}"
            message += f" (did you mean {near[0]!r}?)" if near else ""
        return f"{hint}: {message}"
    format_message = getattr(exc, "format_message", lambda: str(exc))
    message = " ".join(format_message().split()).rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    return f"{message}; see {ctx.command_path if ctx else 'backprop'} --help"


app = _App(
    name="backprop",
    cls=_Group,
    help="Backpropagation step by step, with real numbers.\n\n"
    "With no CONFIG, commands run the worked example of 'A Step by Step Backpropagation "
    "Example'; a CONFIG of - is read from stdin.\n\n"
    "[bold]Examples[/]\n\n"
    "  backprop step                                [dim]# the worked example[/]\n"
    "  backprop train --epochs 10000                [dim]# the post's 10,000 rounds[/]\n"
    "  backprop explain dE_total/dw1                [dim]# where one number comes from[/]\n"
    "  backprop init - -l 2,3,2 | backprop step -   [dim]# a new exercise, solved[/]\n"
    "  backprop step --help                         [dim]# the options of one command[/]",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Stdout(Console):
    """stdout's console: a reader gone mid-output (`| head`) ends quietly with exit 0, as in
    main(), where rich would exit 1 (tables are printed one at a time, inside the command)."""

    def on_broken_pipe(self) -> None:
        _quiet_broken_pipe()


_consoles: dict[str, Console] = {}


def out_console() -> Console:
    """stdout's console, made on first use in each run."""
    if "out" not in _consoles:
        _consoles["out"] = _Stdout(soft_wrap=False)
    return _consoles["out"]


def err_console() -> Console:
    """stderr's console, made on first use in each run."""
    if "err" not in _consoles:
        made = _consoles["err"] = Console(stderr=True)
        if made.width < MIN_WIDTH:  # at COLUMNS=0 rich would print no message at all
            made.width = MIN_WIDTH
    return _consoles["err"]


# --- output and errors -------------------------------------------------------------------------


MIN_WIDTH = 20  # narrower (COLUMNS=0, COLUMNS=1) is laid out at 20 columns


def emit(data: str | RenderableType) -> None:
    """Write data to stdout: text as it is, rich renderables through the console."""
    if isinstance(data, str):
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        sys.stdout.flush()
    else:
        from backprop_cli.render.rows import Trimmed

        # a table wider than the terminal stays whole; no line ends in the spaces that pad it
        _console().print(Trimmed(data), crop=False)


def emit_pieces(pieces: Iterable[str]) -> None:
    """Write a document to stdout piece by piece as it is made (a big trace is never whole in
    memory), ending with a newline as emit does."""
    last = ""
    try:
        for piece in pieces:
            sys.stdout.write(piece)
            last = piece or last
        if not last.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # inside the command, where click would make a closed pipe exit 1
        _quiet_broken_pipe()


def _console() -> Console:
    """stdout's console, or one like it at MIN_WIDTH when the terminal claims fewer columns."""
    stdout = out_console()
    if stdout.width >= MIN_WIDTH:
        return stdout
    return _Stdout(
        file=stdout.file,
        width=MIN_WIDTH,
        soft_wrap=False,
        force_terminal=stdout.is_terminal,
        color_system=stdout.color_system or None,  # type: ignore[arg-type]
        no_color=stdout.no_color,
    )


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """One line on stderr, then exit."""
    error(message)
    raise typer.Exit(int(code))


def error(message: str) -> None:
    """`error: message`, one line on stderr."""
    from backprop_cli.specs.datatext import one_line

    # Plain Text, not markup: a message quotes the user's own input, brackets and colons included.
    line = one_line(message)  # a line break or escape code read from a file, written as \n
    _say(Text.assemble(("error:", "bold red"), " ", line))


def _say(text: Text) -> None:
    """A line on stderr, if there is still a stderr (a closed terminal after SIGHUP: the exit
    code is then all that is left to say it)."""
    try:
        err_console().print(text, soft_wrap=True)
    except OSError:
        import os

        # What is still buffered would fail again at exit (and make the exit code 120).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stderr.fileno())
        os.close(devnull)


_settings = {"quiet": False}


def set_quiet(value: bool = True) -> None:
    """From here on, notes and progress on stderr are off (or, with False, on again)."""
    _settings["quiet"] = value


def quiet() -> bool:
    """True under `backprop --quiet`: no notes or progress on stderr."""
    return _settings["quiet"]


def info(message: str) -> None:
    """A note for the reader on stderr (never data); `--quiet` silences it, errors still show."""
    if not _settings["quiet"]:
        _say(Text(message, style="dim"))


def check_output(path: Path, force: bool, option: str | None) -> None:
    """Refuse, before any work, an output file that would overwrite or cannot be written.
    `option` names it in messages (options.OUTPUT, the same in every command); None where the
    file is an argument."""
    from backprop_cli.specs.fileio import OutputError, check_writable

    try:
        check_writable(path, force)
    except OutputError as exc:
        fail(f"{_output_name(path, option)}: {exc}")


def _output_name(path: Path, option: str | None) -> str:
    return f"{option} {path}" if option else str(path)


def write_output(path: Path, text: str | bytes, what: str, force: bool, option: str | None) -> None:
    """Write an output file atomically (after check_output), then say so on stderr; without
    force, a file that appeared since check_output is left alone."""
    from backprop_cli.specs.fileio import OutputError, write_atomic, written_in_place
    from backprop_cli.specs.source import os_reason

    if written_in_place(path):  # /dev/null, /dev/stdout: "next: backprop step /dev/null" is no help
        what = ""
    name = _output_name(path, option)
    existed = path.exists()
    try:
        write_atomic(path, text, replace=force)
    except OutputError as exc:
        fail(f"{name}: {exc}")
    except OSError as exc:
        kept = f"; {path} is as it was" if existed else ""
        fail(f"{name}: cannot write ({os_reason(exc)}){kept}")
    info(f"wrote {path}{what}")


STDIN = "<stdin>"  # the file name errors give a config read from `-`


def load(config: Path | None) -> Spec:
    """Load a spec from CONFIG, from stdin for `-`, or the worked example; a bad one exits 2."""
    from backprop_cli.specs.source import SourceError
    from backprop_cli.specs.validate import load_spec, loads_spec

    try:
        if config is not None and str(config) == "-":
            return loads_spec(_read_stdin(), STDIN)
        return load_spec(config)
    except SourceError as exc:
        fail(str(exc))


def named_file(given: Path | str | None, label: str, reads: str) -> None:
    """Refuse `-` where a command reads a named file only (rather than "-: no such file"): its
    message says what is read and why (a file named - is given by its full path: pathlib makes
    ./- into -)."""
    if given is not None and str(given) == "-":
        fail(
            f"{label}: {reads}, not standard input; give its name (a file named - by its full path)"
        )


def _read_stdin() -> str:
    """All of stdin as text (`backprop init - ... | backprop step -`), up to the size cap."""
    from backprop_cli.specs.source import SourceError, decode, max_bytes, os_reason, read_bounded

    if sys.stdin is None:  # started with stdin closed (`<&-`)
        fail(f"{STDIN}: standard input is closed; pipe a config in, or give its file name")
    limit = max_bytes()
    try:
        raw = read_bounded(sys.stdin.buffer, limit)  # `cat /dev/zero | backprop step -` ends too
    except OSError as exc:
        fail(f"{STDIN}: cannot read: {os_reason(exc)}")
    try:
        return decode(raw, STDIN, limit, "binary data")
    except SourceError as exc:
        fail(str(exc))


ConfigArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="CONFIG",
        help="Network spec (YAML); - reads it from stdin. Default: the worked example.",
        show_default=False,
        dir_okay=True,
        exists=False,
    ),
]


# --- entry point -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry (after cli.main has set the signals: Ctrl-C exits 130, SIGTERM 143,
    SIGHUP 129): a closed pipe ends quietly, and a stdout that cannot be written (closed, a full
    disk) is one line on stderr, exit 74."""
    from backprop_cli.cli.streams import spell_what_cannot_be_encoded

    if sys.stdout is None:  # started with stdout closed (`>&-`)
        _no_output("standard output is closed (to discard the output, use >/dev/null)")
    spell_what_cannot_be_encoded()
    try:
        return app(args=argv, prog_name="backprop")
    except KeyboardInterrupt:
        err_console().print("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:
        # Only writing stdout can fail this late: every file the tool reads or writes is
        # checked where it is opened.
        from backprop_cli.specs.source import os_reason

        where = f"{exc.filename}: " if exc.filename else "standard output: "
        _no_output(f"{where}cannot write ({os_reason(exc)})")


def _no_output(message: str) -> NoReturn:
    import os

    _say(Text.assemble(("error:", "bold red"), " ", message))
    if sys.stdout is not None:
        # What is still buffered would fail again at exit, with a second message: drop it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(int(ExitCode.OUTPUT))


def _quiet_broken_pipe() -> NoReturn:
    # The reader (e.g. `head`) has gone: stop without a traceback, as other Unix tools do.
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(int(ExitCode.OK))


class LateBar:
    """A progress bar on stderr for a long check (a terminal only, never under --quiet), shown
    once the work has taken more than a moment. `label` may name a field given to advance."""

    def __init__(self, label: str, *, remaining: bool = False) -> None:
        self.label, self.remaining = label, remaining
        self.start = time.monotonic()
        self.bar: Any = None
        self.shown = not quiet() and err_console().is_terminal

    def advance(self, done: int, total: int, **fields: Any) -> None:
        if not self.shown:
            return
        if self.bar is None:
            if time.monotonic() - self.start < 0.3:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns = [TextColumn(self.label), MofNCompleteColumn(), BarColumn()]
            columns.append(TimeElapsedColumn())
            if self.remaining:
                columns.append(TimeRemainingColumn())
            self.bar = Progress(*columns, console=err_console(), transient=True)
            self.task = self.bar.add_task("", total=total, **fields)
            self.bar.start()
        self.bar.update(self.task, completed=done, total=total, **fields)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
