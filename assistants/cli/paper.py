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
@click.argument("target", type=FILE)
@click.argument("question")
@format_option("text", "markdown", "json")
@output_option
@click.option(
    "--passages",
    type=click.IntRange(1, 100),
    default=8,
    show_default=True,
    help="A folder: the most passages to send.",
)
@click.option(
    "--budget",
    type=click.IntRange(100, 500_000),
    default=6_000,
    show_default=True,
    help="A folder: the most tokens of passages to send.",
)
@_paper_options
def ask(
    target: str,
    question: str,
    fmt: str,
    output: Path | None,
    passages: int,
    budget: int,
    run: _PaperRun,
) -> None:
    """Answer QUESTION from TARGET, a paper (a path, arxiv:ID, a DOI or a PDF URL) or a folder
    of papers (a library), citing pages, or say that it does not answer it.

    A folder is indexed first (only new or changed PDFs are read, see `paper index`); its best
    passages are sent and the answer cites them as (Author Year, p. N). A citation that names
    no passage sent is marked [unverified].

    \b
    Examples:
      assistants paper ask paper.pdf "Which datasets are used?"
      assistants paper ask papers/ "Which method reaches the best recall on MS MARCO?"
      assistants paper ask https://arxiv.org/abs/2501.12948 "What is the reward?"
    """
    check_output(output)
    settings = settings_for(no_cache=run.no_cache)
    if Path(target).is_dir():
        from ..paper.library.core import Library

        library = Library(target, settings=settings, lang=run.lang, password=run.password)
        answer = library.ask(question, passages=passages, budget=budget, dry_run=run.dry_run)
        _warn(answer.warnings)
        emit(render_result(answer, fmt), output)
        return
    from ..paper.chat import ask_paper

    _report(run.bind(ask_paper, target, question), fmt, output, settings)


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


FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)


@paper.command()
@click.argument("folder", type=FOLDER)
@format_option("text", "markdown", "json", "bibtex")
@output_option
@password_option
def index(folder: Path, fmt: str, output: Path | None, password: str | None) -> None:
    """Index the PDFs in FOLDER (recursively) for `paper ask FOLDER` and `paper search`.

    The index is FOLDER/.assistants-library.sqlite (SQLite full-text search, BM25): page-level
    passages and each paper's metadata. A re-run reads only new or changed PDFs (by content
    hash) and drops removed ones. --format bibtex prints the library's BibTeX entries.

    \b
    Examples:
      assistants paper index papers/
      assistants paper index papers/ --format bibtex -o papers.bib
    """
    from ..paper.library.core import Library

    check_output(output)
    library = Library(folder, settings=settings_for(), password=password)
    with progress(f"indexing {folder}") as update:
        report = library.index(progress=update)
    for failure in report.failures:
        click.echo(f"warning: not indexed: {failure.source}: {failure.error}", err=True)
    if fmt == "bibtex":
        emit(library.bibtex(refresh=False), output)
        return
    emit(render_result(report, fmt), output)


@paper.command()
@click.argument("folder", type=FOLDER)
@click.argument("query")
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="How many passages to show.",
)
@format_option("text", "markdown", "json")
@password_option
def search(folder: Path, query: str, limit: int, fmt: str, password: str | None) -> None:
    """Full-text search of the papers in FOLDER: the best passages for QUERY (BM25), each
    with its citation (Author Year, p. N). No request is made.

    \b
    Example:
      assistants paper search papers/ "contrastive loss temperature"
    """
    from ..paper.library.core import Library

    library = Library(folder, settings=settings_for(), password=password)
    emit(render_result(library.search(query, limit=limit), fmt), None)


@paper.command()
@click.argument("papers", nargs=-1, type=FILE)
@click.option(
    "--library",
    "library_dir",
    type=FOLDER,
    default=None,
    help="Pick the papers from this folder (a library) with --query.",
)
@click.option("--query", "-q", default=None, help="With --library: what the papers are about.")
@click.option(
    "--top",
    type=click.IntRange(2, 20),
    default=4,
    show_default=True,
    help="With --library: how many papers.",
)
@format_option("text", "markdown", "json", "csv")
@output_option
@_paper_options
def compare(
    papers: tuple[Path, ...],
    library_dir: Path | None,
    query: str | None,
    top: int,
    fmt: str,
    output: Path | None,
    run: _PaperRun,
) -> None:
    """Compare PAPERS side by side: problem, method, data, main results (with numbers) and
    limitations, every cell citing pages. One short request per paper.

    \b
    Examples:
      assistants paper compare a.pdf b.pdf c.pdf --format markdown
      assistants paper compare --library papers/ --query "sparse retrieval" --format csv
    """
    from ..errors import InputError

    check_output(output)
    settings = settings_for(no_cache=run.no_cache)
    if library_dir is not None:
        from ..paper.library.core import Library

        if papers or not query:
            raise InputError("with --library, give --query and no paper files")
        library = Library(library_dir, settings=settings, lang=run.lang, password=run.password)
        with progress(f"comparing papers in {library_dir}"):
            result = library.compare(query, top=top, dry_run=run.dry_run)
    else:
        from ..paper.library.compare import compare_papers

        if len(papers) < 2:
            raise InputError("give at least two papers (or --library DIR --query Q)")
        with progress(f"comparing {len(papers)} papers") as update:
            result = run.bind(compare_papers, list(papers))(settings=settings, progress=update)
    _warn(result.warnings)
    emit(result.to_csv() if fmt == "csv" else render_result(result, fmt), output)


@paper.command()
@click.argument("target", type=FILE)
@output_option
@password_option
def cite(target: str, output: Path | None, password: str | None) -> None:
    """BibTeX for TARGET: a paper (a path, arxiv:ID, a DOI or a PDF URL), or a folder (a
    library: one entry per PDF, keys unique).

    Entries hold what the paper's metadata and first page give: title, authors, year, DOI and
    the arXiv ID (eprint, archivePrefix). Keys are firstauthorYEARfirstword.

    \b
    Examples:
      assistants paper cite paper.pdf
      assistants paper cite papers/ -o papers.bib
      assistants paper cite arxiv:2501.12948
    """
    check_output(output)
    settings = settings_for()
    if Path(target).is_dir():
        from ..paper.library.core import Library

        emit(Library(target, settings=settings, password=password).bibtex(), output)
        return
    from ..paper.library.bibtex import paper_bibtex

    emit(paper_bibtex(target, settings=settings, password=password), output)
