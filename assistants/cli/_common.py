"""Helpers shared by the sub-commands: common options, output, progress.

Only the CLI uses this module. Tasks never print; they accept an optional ``progress``
callback (``Callable[[int, int], None]``: done, total) and the CLI feeds it a rich progress
bar when stderr is a terminal and ``CI`` is unset, or nothing otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from ..config import Settings

F = TypeVar("F", bound=Callable[..., Any])

ProgressCallback = Callable[[int, int], None]


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
        help="Output format.",
    )


def output_option(func: F) -> F:
    return click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        default=None,
        help="Write the report to this file instead of stdout.",
    )(func)


def _flag(name: str, help: str) -> Callable[[F], F]:
    return click.option(name, is_flag=True, default=False, help=help)


def no_cache_option(func: F) -> F:
    return _flag("--no-cache", "Do not read or write the response cache for this run.")(func)


def dry_run_option(func: F) -> F:
    return _flag(
        "--dry-run", "Show what would be sent (requests, tokens, estimated cost); call nothing."
    )(func)


def lang_option(func: F) -> F:
    return click.option(
        "--lang",
        default=None,
        metavar="CODE",
        help="Language of the analysis text, e.g. en, zh (JSON keys never change).",
    )(func)


def options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator for a stack of options, listed (and shown in --help) in the given order."""

    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def changes_options(verb: str) -> Callable[[F], F]:
    """PATHS, --staged and --diff REF of a command on code changes (``verb``: Review, ...)."""
    return options(
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
        click.option(
            "--staged", is_flag=True, help=f"{verb} the staged changes (git index vs HEAD)."
        ),
        click.option(
            "--diff",
            "diff_ref",
            metavar="REF",
            default=None,
            help=f"{verb} the changes since REF (working tree vs REF; A..B or A...B for commits).",
        ),
    )


def model_options(func: F) -> F:
    """--concurrency and --think of a command that sends code."""
    return options(
        click.option(
            "--concurrency",
            "-j",
            type=click.IntRange(1, 256),
            default=None,
            help="Parallel requests.",
        ),
        click.option(
            "--think/--no-think", default=None, help="Use thinking mode (slower, deeper)."
        ),
    )(func)


def github_pr_options(func: F) -> F:
    """--github-repo and --github-pr: which pull request --github-review writes to."""
    return options(
        click.option(
            "--github-repo",
            metavar="OWNER/NAME",
            default=None,
            help="With --github-review: the repository [default: GITHUB_REPOSITORY].",
        ),
        click.option(
            "--github-pr",
            metavar="N",
            type=click.IntRange(min=1),
            default=None,
            help="With --github-review: the pull-request number [default: from GITHUB_EVENT_PATH].",
        ),
    )(func)


def render_result(result: Any, fmt: str) -> str:
    """A result as ``fmt``: json (indented), markdown or text."""
    formats: dict[str, Callable[[], str]] = {
        "json": lambda: result.model_dump_json(indent=2),
        "markdown": result.to_markdown,
        "text": result.to_text,
    }
    return formats[fmt]()


def settings_for(*, no_cache: bool = False, **overrides: Any) -> Settings:
    """Load settings with the command's explicit options on top."""
    from ..config import load_settings

    if no_cache:
        overrides["cache_enabled"] = False
    return load_settings(**overrides)


def check_output(output: Path | None, *, folder: bool = False) -> None:
    """Fail before anything is sent (and paid for) when ``--output`` could not be written:
    a file where a folder is needed or the reverse, or no writable folder to put it in."""
    if output is None:
        return
    from ..errors import InputError

    if output.is_dir() and not folder:
        raise InputError(f"--output {output}: is a folder", hint="give a file name")
    if folder and output.exists() and not output.is_dir():
        raise InputError(
            f"--output {output}: is not a folder (a folder of papers needs a folder of reports)",
            hint="give a folder name",
        )
    parent = output if folder else output.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(
            f"--output {output}: cannot write there ({parent} is not a writable folder)",
            hint="choose another --output path",
        )


def emit(text: str, output: Path | None) -> None:
    """Write a report to ``output`` or stdout (always ending in a newline)."""
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        from ..errors import InputError

        click.echo(text, nl=False)  # the result is never lost
        raise InputError(
            f"cannot write {output} ({exc}); the report went to stdout instead"
        ) from None
    click.echo(f"wrote {output}", err=True)


def interactive() -> bool:
    """True when progress and live output belong on stderr: a terminal, not CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    # rich honours NO_COLOR and FORCE_COLOR itself.
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


@contextmanager
def progress(description: str) -> Iterator[ProgressCallback | None]:
    """A progress callback backed by a rich bar on a terminal; ``None`` when piped or in CI."""
    if not interactive():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    )
    task_id = bar.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task_id, completed=done, total=total)

    with bar:
        yield update
