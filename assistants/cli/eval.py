"""``assistants eval``: measure the assistants' quality and cost, and compare runs.

Thin: each sub-command calls the library (math evaluation in :mod:`assistants.math`, the
reviewer's benchmark in :mod:`assistants.review`) and prints what it returns.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ._common import check_output, emit, format_option, output_option, render_result

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
