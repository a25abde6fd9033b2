"""``assistants eval``: measure the assistants' quality and cost, and compare runs.

Thin: each sub-command calls the library (math evaluation in :mod:`assistants.math`, the
reviewer's benchmark in :mod:`assistants.review`) and prints what it returns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ._common import (
    check_output,
    dry_run_option,
    emit,
    format_option,
    no_cache_option,
    output_option,
    progress,
    render_result,
    settings_for,
)

__all__ = ["eval_group"]

_RUN = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("eval")
def eval_group() -> None:
    """Measure quality and cost: re-grade saved runs, compare two runs, benchmark the reviewer.

    \b
    Examples:
      assistants eval regrade run.jsonl
      assistants eval compare a.jsonl b.jsonl
      assistants eval review --dry-run
    """


def _seed_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--seed",
        type=int,
        default=0,
        show_default=True,
        help="Seed of the bootstrap intervals (the same seed gives the same interval).",
    )(func)


@eval_group.command("regrade")
@click.argument("run", type=_RUN)
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the re-graded items here (JSONL, like a results file of math eval).",
)
@format_option("text", "json", "markdown")
@output_option
@_seed_option
def regrade(run: Path, results: Path | None, fmt: str, output: Path | None, seed: int) -> None:
    """Re-check the saved replies of RUN (a results file of `math eval`) with the current
    answer extraction and equivalence rules, and report what changed. Sends no request.

    \b
    Examples:
      assistants eval regrade gsm8k_sample.results.jsonl
      assistants eval regrade run.jsonl --results run.regraded.jsonl -f markdown
    """
    from ..math.grade import regrade_math

    check_output(output)
    check_output(results)
    emit(render_result(regrade_math(run, output=results, seed=seed), fmt), output)


@eval_group.command()
@click.argument("a", type=_RUN)
@click.argument("b", type=_RUN)
@format_option("text", "json", "markdown")
@output_option
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw accuracy against cost per item, one point per run (.svg or .png; "
    'needs pip install "assistants[plots]").',
)
@_seed_option
def compare(a: Path, b: Path, fmt: str, output: Path | None, plot: Path | None, seed: int) -> None:
    """Compare run B with run A (results files of `math eval` over the same problems): the
    items fixed and broken, the accuracy difference with a paired bootstrap 95% interval,
    McNemar's exact test and each run's cost per correct answer. Sends no request.

    \b
    Examples:
      assistants eval compare baseline.jsonl candidate.jsonl
      assistants eval compare a.jsonl b.jsonl -f markdown -o compare.md --plot compare.svg
    """
    from ..math.grade import compare_math_runs, plot_comparison
    from ..plot import check_plot_path

    check_output(output)
    if plot is not None:
        check_plot_path(plot)
    report = compare_math_runs(a, b, seed=seed)
    if plot is not None:
        drawn = plot_comparison(report, plot)
        # the report links the picture relative to where the report is written
        base = output.parent if output is not None else Path.cwd()
        report.plot = os.path.relpath(drawn.resolve(), base.resolve())
    emit(render_result(report, fmt), output)


OPERATORS_HELP = (
    "Only the seeded diffs of these mutation operators (comma-separated, e.g. "
    "off-by-one,missing-await); the clean diffs stay, so false positives are still measured."
)


@eval_group.command("review")
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(1),
    default=None,
    help="Only N diffs, spread over operators and languages (the same N every time).",
)
@click.option("--operators", default=None, metavar="OP[,OP...]", help=OPERATORS_HELP)
@click.option(
    "--language",
    type=click.Choice(["python", "javascript"]),
    default=None,
    help="Only the diffs of this language.",
)
@click.option(
    "--think/--no-think",
    default=None,
    help="Review with thinking mode on or off [default: the coder profile's].",
)
@click.option(
    "--model",
    default=None,
    metavar="NAME",
    help="Model to review with (the endpoint comes from the settings, e.g. ASSISTANTS_BASE_URL).",
)
@click.option(
    "--instructions",
    metavar="TEXT|@FILE",
    default=None,
    help="Extra review instructions, as for `assistants review`.",
)
@click.option(
    "--concurrency",
    "-j",
    type=click.IntRange(1, 256),
    default=None,
    help="Diffs reviewed at once [default: the review concurrency setting].",
)
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A corpus folder (files.jsonl, cases.jsonl) instead of the shipped one.",
)
@click.option(
    "--baseline",
    "baseline_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Hold back the findings of this baseline file before scoring, as `assistants review "
    "--baseline` does.",
)
@format_option("text", "markdown", "json")
@output_option
@dry_run_option
@no_cache_option
def review_bench(
    limit: int | None,
    operators: str | None,
    language: str | None,
    think: bool | None,
    model: str | None,
    instructions: str | None,
    concurrency: int | None,
    corpus: Path | None,
    baseline_file: Path | None,
    fmt: str,
    output: Path | None,
    dry_run: bool,
    no_cache: bool,
) -> None:
    """Benchmark the reviewer on real code with seeded bugs and on clean diffs.

    Each diff of the shipped corpus (about 200 seeded bugs and 50 harmless changes in
    Python and JavaScript from pinned, permissively licensed packages) is reviewed as
    `assistants review --diff` would review it. Reports recall (a finding within 2 lines of
    the seeded line), false positives per clean diff, precision, the severities given to
    seeded bugs, tokens and cost per diff: in total, by operator and by language. The JSON
    report keeps one record per diff, so two runs (another model, --think, other
    instructions) can be compared diff by diff. Exit 7 when some diffs could not be
    reviewed (they are listed in the report).

    \b
    Examples:
      assistants eval review --dry-run
      assistants eval review --limit 40 --format json -o flash.json
      assistants eval review --think --operators missing-await,off-by-one
    """
    from ..errors import PartialFailureError
    from ..review.bench.run import estimate_review_bench, eval_review
    from .review import _read_instructions

    check_output(output)
    settings = settings_for(no_cache=no_cache, model=model)
    run: dict[str, Any] = {
        "corpus": corpus,
        "limit": limit,
        "operators": [op.strip() for op in (operators or "").split(",") if op.strip()],
        "language": language,
        "settings": settings,
        "think": think,
        "instructions": _read_instructions(instructions),
        "concurrency": concurrency,
    }
    if dry_run:
        emit(render_result(estimate_review_bench(**run), fmt), output)
        return
    if baseline_file is not None:  # a bad file is an error before anything is paid for
        from ..review.baseline import load_baseline

        run["baseline"] = load_baseline(baseline_file)
    try:
        with progress("reviewing diffs") as update:
            report = eval_review(**run, progress=update)
    except PartialFailureError as exc:
        if exc.result is not None:
            emit(render_result(exc.result, fmt), output)
        raise
    emit(render_result(report, fmt), output)
