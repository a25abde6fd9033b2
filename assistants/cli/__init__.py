"""The ``assistants`` command line: a thin layer over the library.

Sub-commands live in their own modules and are imported only when they run, so
``assistants --help`` stays fast (no LangChain, no pypdf). Library errors
(:mod:`assistants.errors`) are turned into one line on stderr, with the documented exit code, in
exactly one place: :meth:`AssistantsGroup.invoke`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

import click

from .._version import __version__
from ..errors import EXIT_INTERRUPTED, AssistantsError

__all__ = ["cli", "main"]

# name -> (module, attribute, one-line help shown by `assistants --help`)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "review": ("assistants.cli.review", "review", "Review code: a path, staged changes or a diff."),
    "paper": ("assistants.cli.paper", "paper", "Analyze, question and review research papers."),
    "math": ("assistants.cli.math", "math", "Solve math problems with visible, checked answers."),
    "chat": ("assistants.cli.base", "chat", "One-off chat with a system prompt (streams)."),
    "config": ("assistants.cli.base", "config", "Show the effective settings and their sources."),
    "usage": ("assistants.cli.base", "usage", "Summarise recorded usage and cost."),
    "cache": ("assistants.cli.base", "cache", "Inspect or clear the response cache."),
    "prompts": ("assistants.cli.base", "prompts", "List, show or export the prompt templates."),
    "store": (
        "assistants.cli.store",
        "store",
        "Create or inspect the cache and ledger databases (SQLite or a shared PostgreSQL).",
    ),
    "trust": ("assistants.cli.trust", "trust", "Let a project's files choose endpoint and key."),
    "eval": (
        "assistants.cli.eval",
        "eval_group",
        "Measure quality and cost: re-grade or compare runs, benchmark the reviewer.",
    ),
}


def report_error(exc: AssistantsError) -> None:
    """Print an expected failure as one line (plus a hint line) on stderr."""
    click.echo(f"error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)


class AssistantsGroup(click.Group):
    """A group whose commands are imported lazily and whose errors are mapped once."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):  # pragma: no cover - programming error
            raise TypeError(f"{module_name}.{attr} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help for the group must not import the sub-commands: use the static summaries.
        rows = [(name, _COMMANDS[name][2]) for name in sorted(_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssistantsError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=AssistantsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="assistants")
def cli() -> None:
    """Three DeepSeek assistants: a code reviewer, a paper analyzer and a math solver.

    Set DEEPSEEK_API_KEY (or put it in a .env file). Without a key, `--dry-run` shows what
    would be sent, the tokens and the estimated cost. Exit codes: 0 ok, 1 gate tripped
    (review --fail-on), 2 usage, 3 configuration, 4 bad input, 5 API error, 6 unusable
    model reply, 7 partial failure, 130 interrupted.
    """
    _log_to_stderr()


def _log_to_stderr() -> None:
    """Library notices (a retired model name translated, a ledger not written, concurrency
    lowered after a 429) as one line each; on a terminal also the INFO lines (each retry:
    ``retrying in 4 s (2/5): HTTP 503``), which would only clutter a log or CI output."""
    import logging

    from ._common import interactive

    class _Stderr(logging.StreamHandler):
        """Writes to whatever ``sys.stderr`` is now (a test runner swaps it per run)."""

        @property
        def stream(self) -> Any:
            return sys.stderr

        @stream.setter
        def stream(self, value: Any) -> None:
            pass

    logger = logging.getLogger("assistants")
    if not logger.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO if interactive() else logging.WARNING)


def _fewer_malloc_arenas() -> None:
    """Two malloc arenas instead of glibc's one per thread and core: a review's reader,
    tokenizer and sender threads otherwise each keep memory of their own (5,000 files: peak
    RSS 201 MB, 191 MB with two; `benchmarks/bench_review.py --mode big`). A
    ``MALLOC_ARENA_MAX`` set by the user wins; elsewhere than glibc this does nothing."""
    import os

    if sys.platform != "linux" or "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _exit_now(code: Any) -> NoReturn:
    """Leave the process as the interpreter would, minus its teardown.

    Everything a command does is finished and written when it returns (the cache and ledger
    commit row by row; the token-count cache flushes when a plan ends), so what Python's own
    exit adds after its exit handlers is freeing every object of every module one by one:
    0.2-0.5 s for the LangChain stack alone, paid by every commit the hook reviews
    (`benchmarks/bench_review.py --mode hook`). So: the threading module's shutdown (its exit
    callbacks, then non-daemon threads joined), the ``atexit`` handlers (logging, multiprocessing,
    temporary directories), stdout and stderr flushed, then ``os._exit`` with ``code`` as
    ``sys.exit`` would have turned it into a status."""
    import atexit
    import os
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    try:
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
        run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
        if run_exit_handlers is not None:
            run_exit_handlers()
    except KeyboardInterrupt:  # Ctrl-C while threads finish: stop now, as interrupted
        print("interrupted", file=sys.stderr)
        status = EXIT_INTERRUPTED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more can be said
            status = status or 120  # what Python exits with when it cannot flush stdout
    os._exit(status)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``argv`` given: run as a function, and return or raise
    ``SystemExit`` as click does; without: the process ends here, see :func:`_exit_now`)."""
    _fewer_malloc_arenas()
    if argv is not None:
        cli.main(args=argv, prog_name="assistants")
        return
    try:
        cli.main(args=sys.argv[1:], prog_name="assistants")
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)
