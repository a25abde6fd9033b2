"""``assistants paper``: analyze, ask, chat and review — a thin layer over
:mod:`assistants.paper`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps
from pathlib import Path
from typing import Any

import click

from ._common import (
    check_output,
    console,
    dry_run_option,
    emit,
    format_option,
    interactive,
    lang_option,
    no_cache_option,
    options,
    output_option,
    progress,
    render_result,
    settings_for,
)

__all__ = ["paper"]


def password_option(func: Any) -> Any:
    return click.option(
        "--password",
        default=None,
        metavar="PASSWORD",
        help="Password of an encrypted PDF (or set ASSISTANTS_PDF_PASSWORD).",
        envvar="ASSISTANTS_PDF_PASSWORD",
        show_envvar=False,
    )(func)


# a path, or an identifier the loader downloads (arxiv:ID, a DOI, an arXiv or PDF URL): kept as
# the string given (a Path would fold "https://" into "https:/")
FILE = click.Path(exists=False, path_type=str)


def _name(file: str) -> str:
    """How the progress line names FILE: a path's file name, an identifier as given."""
    return Path(file).name if Path(file).exists() else file


@click.group()
def paper() -> None:
    """Analyze, question and review research papers (PDF, .md, .txt).

    Every claim cites the pages it rests on, e.g. (p. 3, 5); cited pages are checked against
    the paper. The references section is left out of the analysis (appendices are kept).
    """


@dataclass(frozen=True)
class _PaperRun:
    """The options every paper command takes, gathered by :func:`_paper_options`."""

    password: str | None
    lang: str | None
    dry_run: bool
    no_cache: bool

    def bind(self, task: Callable[..., Any], *args: Any) -> Callable[..., Any]:
        """``task`` with its arguments and these options bound; ``settings`` (and
        ``progress``) are left to pass."""
        return partial(task, *args, lang=self.lang, dry_run=self.dry_run, password=self.password)


def _paper_options(func: Callable[..., None]) -> Callable[..., None]:
    """--password, --lang, --dry-run and --no-cache, passed to ``func`` as ``run``."""

    @options(password_option, lang_option, dry_run_option, no_cache_option)
    @wraps(func)
    def command(
        *args: Any, password: str | None, lang: str | None, dry_run: bool, no_cache: bool, **kw: Any
    ) -> None:
        func(*args, run=_PaperRun(password, lang, dry_run, no_cache), **kw)

    return command


def _report(
    task: Callable[..., Any], fmt: str, output: Path | None, settings: Any, label: str | None = None
) -> None:
    """Run a paper ``task`` (its arguments bound) with a progress bar under ``label`` when
    given; then its warnings on stderr and the result as ``fmt`` to ``output``."""
    if label is None:
        result = task(settings=settings)
    else:
        with progress(label) as update:
            result = task(settings=settings, progress=update)
    _warn(result.warnings)
    emit(render_result(result, fmt), output)


@paper.command()
@click.argument("target", type=FILE)
@format_option("text", "markdown", "json")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the report to this file (for a folder: the folder for the reports and the "
    "index, default ./paper-reports; a folder's --dry-run writes none and prints the "
    "estimate).",
)
@_paper_options
def analyze(target: str, fmt: str, output: Path | None, run: _PaperRun) -> None:
    """Analyze TARGET, a paper (PDF, .md, .txt, arxiv:ID, a DOI or a PDF URL) or a folder of
    papers: summary,
    contributions, innovations, method, key results, limitations and open questions, each
    citing pages.

    \b
    Examples:
      assistants paper analyze paper.pdf
      assistants paper analyze arxiv:2501.12948
      assistants paper analyze paper.pdf --format markdown -o report.md
      assistants paper analyze papers/ -o reports/ --lang zh
    """
    folder = Path(target).is_dir()
    check_output(output, folder=folder)
    settings = settings_for(no_cache=run.no_cache)
    if folder:
        _analyze_folder(Path(target), fmt, output or Path("paper-reports"), run, settings)
        return
    from ..paper.analyze import analyze_paper

    _report(run.bind(analyze_paper, target), fmt, output, settings, f"analysing {_name(target)}")


def _warn(warnings: list[str]) -> None:
    for warning in warnings:  # on stderr: a skipped page matters for any answer
        click.echo(f"warning: {warning}", err=True)


def _analyze_folder(
    folder: Path,
    fmt: str,
    out: Path,
    run: _PaperRun,
    settings: Any,
) -> None:
    from ..errors import PartialFailureError
    from ..paper.batch import analyze_folder
    from ..paper.models import BatchResult

    with progress(f"analysing papers in {folder}") as update:
        batch: BatchResult = run.bind(analyze_folder, folder)(
            settings=settings,
            progress=update,
            # a re-run must not analyse the reports of the last one (unless they are mixed in)
            exclude=[] if folder.resolve().is_relative_to(out.resolve()) else [out],
        )
    if run.dry_run:  # nothing was analysed: the estimate, and no report files
        emit(render_result(batch, fmt), None)
        click.echo(f"dry run: no reports written to {out}", err=True)
        where, hint = "listed above", "see the failures above"
    else:
        kind = "json" if fmt == "json" else ("text" if fmt == "text" else "markdown")
        index = batch.write(out, kind)  # type: ignore[arg-type]
        click.echo(index.read_text(encoding="utf-8"), nl=False)
        click.echo(f"wrote {len(batch.analyses)} report(s) and {index}", err=True)
        where = f"listed in {index.name}"
        hint = "see the failures in the index; the other reports were written"
    if batch.failures:
        raise PartialFailureError(
            f"{len(batch.failures)} of {len(batch.items)} papers failed ({where})",
            hint=hint,
            result=batch,
            failures={item.source: item.error or "" for item in batch.failures},
        )


@paper.command()
@click.argument("file", type=FILE)
@click.argument("question")
@format_option("text", "markdown", "json")
@output_option
@_paper_options
def ask(file: str, question: str, fmt: str, output: Path | None, run: _PaperRun) -> None:
    """Answer QUESTION from FILE (a path, arxiv:ID, a DOI or a PDF URL), citing pages, or say
    that the paper does not answer it.

    \b
    Examples:
      assistants paper ask paper.pdf "Which datasets are used?"
      assistants paper ask https://arxiv.org/abs/2501.12948 "What is the reward?"
    """
    from ..paper.chat import ask_paper

    check_output(output)
    _report(run.bind(ask_paper, file, question), fmt, output, settings_for(no_cache=run.no_cache))


@paper.command()
@click.argument("file", type=FILE)
@format_option("text", "markdown", "json")
@_paper_options
def chat(file: str, fmt: str, run: _PaperRun) -> None:
    """Ask questions about FILE (a path, arxiv:ID, a DOI or a PDF URL) one after another (the
    conversation is kept).

    Reads one question per line from stdin until end of input or "exit"; works with a pipe
    (with --format json, each answer is one JSON object on one line):

    \b
      printf 'What is the method?\\nHow does it compare?\\n' | assistants paper chat paper.pdf
    """
    from ..llm import format_usd
    from ..paper.chat import PaperChat

    settings = settings_for(no_cache=run.no_cache)
    session = PaperChat(file, settings=settings, lang=run.lang, password=run.password)
    _warn(session.paper.warnings)
    tty = sys.stdin.isatty()
    err = console(stderr=True)
    if tty:
        title = session.paper.title or _name(file)
        err.print(f"{title} · {session.paper.page_count} pages · empty line or 'exit' to stop")
    while True:
        if tty:
            err.print("[bold]?[/bold] ", end="")
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if question.lower() in {"exit", "quit", ":q"} or (tty and not question):
            break
        if not question:
            continue
        if interactive() and not run.dry_run:
            with err.status("reading the paper…", spinner="dots"):
                answer = session.ask(question)
        else:
            answer = session.ask(question, dry_run=run.dry_run)
        # json: one object per line (JSON Lines), so a stream of answers stays parseable
        text = answer.model_dump_json() if fmt == "json" else render_result(answer, fmt)
        click.echo(text if text.endswith("\n") else text + "\n", nl=False)
        sys.stdout.flush()
    usage = session.usage
    if usage.requests or usage.cached_requests:
        click.echo(
            f"{len(session.answers)} answer(s) · {usage.input_tokens:,} input tokens "
            f"({usage.cache_hit_tokens:,} from the prefix cache) · {format_usd(usage.cost_usd)}",
            err=True,
        )


@paper.command()
@click.argument("file", type=FILE)
@click.option(
    "--ensemble",
    "-n",
    type=click.IntRange(1, 16),
    default=None,
    help="Independent reviews aggregated by a meta-review (default: paper.ensemble, 1).",
)
@click.option(
    "--reflect",
    type=click.IntRange(0, 10),
    default=None,
    metavar="N",
    help="Reflection rounds: each reviewer re-reads the paper and revises its review up to N "
    "times, stopping when it says it is done (default: paper.reflect, 0).",
)
@format_option("text", "markdown", "json")
@output_option
@_paper_options
def review(
    file: str,
    ensemble: int | None,
    reflect: int | None,
    fmt: str,
    output: Path | None,
    run: _PaperRun,
) -> None:
    """Review FILE (a path, arxiv:ID, a DOI or a PDF URL) with a conference-style form:
    strengths, weaknesses, questions, limitations, soundness / presentation / contribution
    (1-4), overall (1-10), confidence (1-5) and a decision.

    \b
    Examples:
      assistants paper review paper.pdf --ensemble 3 --format markdown
      assistants paper review arxiv:2501.12948 --reflect 3
    """
    from ..paper.review import review_paper

    check_output(output)
    task = partial(run.bind(review_paper, file), ensemble=ensemble, reflect=reflect)
    _report(task, fmt, output, settings_for(no_cache=run.no_cache), f"reviewing {_name(file)}")
