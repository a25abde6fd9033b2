"""``assistants math``: solve one problem (reasoning streamed live) or score a JSONL file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..math.sets import SETS
from ._common import (
    check_output,
    console,
    dry_run_option,
    emit,
    format_option,
    interactive,
    lang_option,
    no_cache_option,
    output_option,
    progress,
    render_result,
    settings_for,
)

if TYPE_CHECKING:
    from ..math.models import MathEstimate


def _concurrency_option(what: str) -> Callable[[Any], Any]:
    return click.option(
        "--concurrency",
        "-j",
        type=click.IntRange(1, 256),
        default=None,
        help=f"{what} in flight at once [default: the math.concurrency setting, else the "
        "global concurrency].",
    )


SAMPLES_HELP = (
    "Self-consistency: solve K times in parallel, group the answers by mathematical "
    "equivalence and keep the majority (default: the math.samples setting, 1)."
)


@click.group()
def math() -> None:
    """Solve math problems in thinking mode: the final answer is extracted from \\boxed{},
    checked with Math-Verify, and optionally voted on over several samples."""


def _emit_estimate(est: MathEstimate, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        emit(est.model_dump_json(indent=2), output)
    else:
        emit(est.to_text(), output)


class _Live:
    """Terminal feedback while the model thinks: dimmed reasoning on stderr with
    ``--show-reasoning`` (then the answer as it streams), else a one-line indicator on a
    terminal only. Stdout stays clean for the result."""

    def __init__(self, show_reasoning: bool, samples: int) -> None:
        self.show = show_reasoning
        self.err = console(stderr=True)
        self.status: Any = None
        self.chars = 0
        self.in_answer = False
        self.label = "thinking…" + (f" ({samples} samples)" if samples > 1 else "")
        if not show_reasoning and interactive():
            self.status = self.err.status(self.label, spinner="dots")

    def __enter__(self) -> _Live:
        if self.status is not None:
            self.status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()
        if self.show and (self.chars or self.in_answer):
            self.err.print()

    def on_reasoning(self, text: str) -> None:
        self.chars += len(text)
        if self.show:
            self.err.print(text, style="dim", end="", markup=False, highlight=False)
        elif self.status is not None:
            self.status.update(f"{self.label} {self.chars:,} characters of reasoning")

    def restart(self) -> None:
        """The stream broke after some text was shown; the request starts over."""
        if self.show and (self.chars or self.in_answer):
            self.err.print("\n(connection lost: starting over)", style="yellow", markup=False)
        self.chars = 0
        self.in_answer = False
        if self.status is not None:
            self.status.update(self.label)

    def on_content(self, text: str) -> None:
        if self.show:
            if not self.in_answer:
                self.err.print("\n")
            self.err.print(text, end="", markup=False, highlight=False)
        elif self.status is not None and not self.in_answer:
            self.status.update("writing the answer…")
        self.in_answer = True


def _read_problem(problem: str | None) -> str:
    if problem is None or problem == "-":
        if sys.stdin.isatty():
            raise click.UsageError('give a PROBLEM (e.g. "What is 2^10?") or pipe one on stdin')
        problem = sys.stdin.read()
    return problem


@math.command()
@click.argument("problem", required=False)
@click.option("--samples", "-k", type=click.IntRange(1, 64), default=None, help=SAMPLES_HELP)
@_concurrency_option("Samples")
@click.option(
    "--reference",
    "-r",
    default=None,
    metavar="ANSWER",
    help="Check the answer against this (0.5, \\frac{1}{2}, '#### 18' all work).",
)
@click.option(
    "--show-reasoning", is_flag=True, help="Stream the reasoning live (dimmed, on stderr)."
)
@format_option("text", "json", "markdown")
@output_option
@dry_run_option
@no_cache_option
@lang_option
def solve(
    problem: str | None,
    samples: int | None,
    concurrency: int | None,
    reference: str | None,
    show_reasoning: bool,
    fmt: str,
    output: Path | None,
    dry_run: bool,
    no_cache: bool,
    lang: str | None,
) -> None:
    """Solve PROBLEM (or stdin) and print the checked final answer.

    \b
    Examples:
      assistants math solve "What is the sum of the first 100 positive integers?"
      assistants math solve "Solve x^2 = 2 for x > 0" --reference "\\sqrt{2}"
      assistants math solve "..." --samples 5 --format json
    """
    from ..math.solve import estimate_math, solve_math

    text = _read_problem(problem)
    check_output(output)
    settings = settings_for(no_cache=no_cache, lang=lang)
    if dry_run:
        _emit_estimate(estimate_math([text], samples=samples, settings=settings), fmt, output)
        return
    k = samples or settings.math.samples
    with _Live(show_reasoning, k) as live:
        sol = solve_math(
            text,
            samples=samples,
            reference=reference,
            settings=settings,
            on_reasoning=live.on_reasoning,
            on_content=live.on_content,
            on_retry=live.restart,
            show_reasoning=show_reasoning,
            concurrency=concurrency,
        )
    _emit_result(sol, fmt, output)


@math.command("eval")
@click.argument(
    "file",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--set",
    "set_name",
    type=click.Choice(sorted(SETS)),
    default=None,
    help="A shipped problem set instead of FILE: "
    + "; ".join(f"{name}: {text}" for name, (_, text) in sorted(SETS.items()))
    + ".",
)
@click.option("--limit", "-n", type=click.IntRange(1), default=None, help="Only the first N.")
@click.option(
    "--samples",
    "-k",
    type=click.IntRange(1, 64),
    default=None,
    help="Samples per problem (default: the math.samples setting, 1). All of them are "
    "solved; the report gives pass@k and maj@k from them, and the accuracy of the majority "
    "answer.",
)
@_concurrency_option("Requests")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Per-item results (JSONL). Items already in it are skipped, so an interrupted "
    "run resumes. Default: FILE-name.results.jsonl in the current folder.",
)
@click.option("--restart", is_flag=True, help="Ignore (and replace) existing results.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the summary report to this file instead of stdout.")  # fmt: skip
@format_option("text", "json", "markdown")
@dry_run_option
@no_cache_option
def eval_(
    file: Path | None,
    set_name: str | None,
    limit: int | None,
    samples: int | None,
    concurrency: int | None,
    output: Path | None,
    restart: bool,
    report: Path | None,
    fmt: str,
    dry_run: bool,
    no_cache: bool,
) -> None:
    """Score a JSONL FILE of problems: accuracy with a 95% bootstrap interval, pass@k,
    maj@k, tokens and cost.

    Layouts understood (the report says which it found): GSM8K ("question", "answer"
    ending in "#### 18"), MATH ("problem", "solution" with \\boxed{}), MATH-500 ("problem",
    "solution", "answer"), AIME-style ("problem", "answer"); "id" is optional. Without FILE,
    the shipped set gsm8k-50 (50 GSM8K test problems, MIT, OpenAI) is used. Every sample is
    kept in the results file, so `assistants eval regrade` and `eval compare` can use it.

    \b
    Examples:
      assistants math eval --set gsm8k-50 --limit 10
      assistants math eval problems.jsonl --samples 5 --output results.jsonl
      assistants math eval problems.jsonl -j 4
    """
    from ..errors import PartialFailureError
    from ..math.eval import default_output, estimate_eval, eval_math
    from ..math.sets import sample_file, set_file

    if file is not None and set_name is not None:
        raise click.UsageError("give a FILE or --set, not both")
    source = file or (set_file(set_name) if set_name else sample_file())
    settings = settings_for(no_cache=no_cache)
    results = output or default_output(source)
    if report is not None and report.resolve() in (source.resolve(), results.resolve()):
        what = "the problems file" if report.resolve() == source.resolve() else "--output"
        raise click.UsageError(f"--report {report} would overwrite {what}")
    check_output(report)
    run: dict[str, Any] = {
        "limit": limit,
        "samples": samples,
        "output": results,
        "restart": restart,
        "settings": settings,
    }
    if dry_run:
        _emit_estimate(estimate_eval(source, **run), fmt, report)
        return
    try:
        with progress("solving") as update:
            result = eval_math(source, **run, progress=update, concurrency=concurrency)
    except PartialFailureError as exc:
        if exc.result is not None:
            _emit_result(exc.result, fmt, report)
        raise
    except KeyboardInterrupt:
        click.echo(
            f"note: the items scored so far are kept in {results}; "
            "run the same command again to resume",
            err=True,
        )
        raise
    _emit_result(result, fmt, report)


def _emit_result(result: Any, fmt: str, output: Path | None) -> None:
    emit(render_result(result, fmt), output)
