"""``assistants eval``: measure the assistants' quality and cost, and compare runs.

Thin: each sub-command calls the library (math evaluation in :mod:`assistants.math`, the
reviewer's benchmark in :mod:`assistants.review`) and prints what it returns.
"""

from __future__ import annotations

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


@click.group("eval")
def eval_group() -> None:
    """Measure quality and cost: re-grade saved runs, compare two runs, benchmark the reviewer.

    \b
    Examples:
      assistants eval regrade run.jsonl
      assistants eval compare a.jsonl b.jsonl
      assistants eval review --dry-run
    """


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
    from ..review.bench import estimate_review_bench, eval_review
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
    try:
        with progress("reviewing diffs") as update:
            report = eval_review(**run, progress=update)
    except PartialFailureError as exc:
        if exc.result is not None:
            emit(render_result(exc.result, fmt), output)
        raise
    emit(render_result(report, fmt), output)
