"""``assistants eval``: measure the assistants' quality and cost, and compare runs.

Thin: each sub-command calls the library (math evaluation in :mod:`assistants.math`, the
reviewer's benchmark in :mod:`assistants.review`) and prints what it returns.
"""

from __future__ import annotations

import click

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
