"""The metrics of a math eval from its scored items: accuracy with a bootstrap interval,
pass@k and maj@k from each item's samples. Pure computation over
:class:`~assistants.math.models.EvalItem` (the statistics live in :mod:`assistants.stats`).

* **accuracy**: the share of items whose final answer (the majority of its samples) matches
  the reference; its 95% interval is a seeded percentile bootstrap over the items.
* **pass@k**: the unbiased estimator ``1 - C(n-c, k) / C(n, k)`` of each item (``n``
  completed samples, ``c`` correct), averaged over the items.
* **maj@k**: whether the majority answer of an item's first ``k`` completed samples (in
  sample order) is correct, averaged. Samples vote by answer group (mathematical
  equivalence); a tie goes to the answer that appeared first; samples without an answer do
  not vote, and an item with no answer among them counts as wrong. maj@n is the accuracy.

Samples that failed (an API error after retries) are not samples: an item with fewer than
``k`` completed samples is left out of pass@k and maj@k for that ``k``, and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..stats import DEFAULT_SEED, Interval, bootstrap_ci, default_ks, majority_index, pass_at_k
from .models import EvalItem

__all__ = ["SampleMetrics", "accuracy_interval", "item_outcomes", "sample_metrics"]


def item_outcomes(item: EvalItem) -> tuple[list[bool], list[int | None]] | None:
    """An item's completed samples in order: whether each is correct, and its answer group
    (``None``: no answer). A results line written before samples were kept has none: with
    one sample its final answer is that sample; with several, ``None`` (unknown)."""
    replies = sorted((r for r in item.replies if r.status != "failed"), key=lambda r: r.index)
    if replies:
        return [r.correct is True for r in replies], [r.group for r in replies]
    if not item.replies and item.samples in (None, 1):
        return [item.correct], [0 if item.answer is not None else None]
    return None


@dataclass
class SampleMetrics:
    """pass@k and maj@k by k, and what was left out."""

    pass_at_k: dict[int, float] = field(default_factory=dict)
    maj_at_k: dict[int, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def sample_metrics(items: Sequence[EvalItem], ks: Sequence[int] | None = None) -> SampleMetrics:
    """pass@k and maj@k over ``items`` for each k of ``ks`` (default: powers of two up to
    the most samples any item has, and that number)."""
    outcomes = [(item.id, item_outcomes(item)) for item in items]
    known = [o for _, o in outcomes if o is not None]
    result = SampleMetrics()
    unknown = len(outcomes) - len(known)
    if unknown:
        result.notes.append(
            f"{unknown} item(s) have no saved samples (written by an older version): "
            "left out of pass@k and maj@k"
        )
    if not known:
        return result
    most = max(len(flags) for flags, _ in known)
    for k in ks or default_ks(most):
        usable = [(flags, labels) for flags, labels in known if len(flags) >= k]
        if not usable:
            continue
        passes = [pass_at_k(len(flags), sum(flags), k) for flags, _ in usable]
        majority = []
        for flags, labels in usable:
            chosen = majority_index(labels[:k])
            majority.append(chosen is not None and flags[chosen])
        result.pass_at_k[k] = round(sum(passes) / len(usable), 6)
        result.maj_at_k[k] = round(sum(majority) / len(usable), 6)
        if len(usable) < len(known):
            result.notes.append(
                f"pass@{k} and maj@{k} over {len(usable)} of {len(known)} item(s): "
                f"the others have fewer than {k} completed samples"
            )
    return result


def accuracy_interval(
    correct: Sequence[bool], *, seed: int = DEFAULT_SEED, confidence: float = 0.95
) -> Interval | None:
    """The accuracy of items scored ``correct`` with its seeded bootstrap interval (``None``
    without items)."""
    if not correct:
        return None
    interval = bootstrap_ci([1.0 if c else 0.0 for c in correct], seed=seed, confidence=confidence)
    return Interval(
        estimate=round(interval.estimate, 6),
        low=round(interval.low, 6),
        high=round(interval.high, 6),
        confidence=confidence,
    )
