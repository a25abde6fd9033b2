"""Statistics of evaluations, shared by every assistant's benchmark: pass@k, maj@k,
bootstrap intervals, McNemar's exact test and the Wilson interval of a proportion. Pure Python
(stdlib only), deterministic given a seed.

::

    from assistants.stats import bootstrap_ci, mcnemar_exact, pass_at_k

    pass_at_k(n=5, c=2, k=1)                 # 0.4
    bootstrap_ci([1, 0, 1, 1], seed=0)       # Interval(estimate=0.75, low=..., high=...)
    mcnemar_exact(fixed=7, broken=1)         # 0.0703125

Every interval but :func:`wilson` is a percentile bootstrap: ``resamples`` draws of the items
with replacement from :class:`random.Random` seeded with ``seed``, so the same input and seed
give the same interval on every machine and Python version that keeps ``random``'s documented
algorithm.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from math import comb, sqrt

__all__ = [
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "Interval",
    "bootstrap_ci",
    "default_ks",
    "majority_index",
    "mcnemar_exact",
    "paired_bootstrap_ci",
    "pass_at_k",
    "wilson",
]

DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A point estimate and its ``confidence`` interval ``[low, high]``."""

    estimate: float
    low: float
    high: float
    confidence: float = 0.95

    def __str__(self) -> str:
        return f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}]"


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator from ``n`` samples of which ``c`` are correct:
    ``1 - C(n-c, k) / C(n, k)`` (Chen et al. 2021, "Evaluating Large Language Models Trained
    on Code"): the chance that at least one of ``k`` samples drawn without replacement from
    the ``n`` is correct. Exact integer binomials, one correctly rounded division."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n (got n={n}, c={c})")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n (got n={n}, k={k})")
    if n - c < k:  # every draw of k contains a correct sample
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def default_ks(n: int) -> list[int]:
    """The k values reported for ``n`` samples: the powers of two below ``n``, and ``n``
    (``n=5`` → ``[1, 2, 4, 5]``; ``n=1`` → ``[1]``)."""
    if n < 1:
        raise ValueError(f"need n >= 1 (got {n})")
    ks = []
    k = 1
    while k < n:
        ks.append(k)
        k *= 2
    return [*ks, n]


def majority_index(labels: Sequence[Hashable | None]) -> int | None:
    """The position of the majority label's first occurrence, or ``None`` when no label is
    given (``None`` labels do not vote).

    Ties are broken deterministically: of the labels with the most votes, the one that
    appeared first wins (the same order as the math solver's answer groups). maj@k of a
    problem is whether the label at this index, over the first k samples, is correct.
    """
    counts: dict[Hashable, int] = {}
    first: dict[Hashable, int] = {}
    for i, label in enumerate(labels):
        if label is None:
            continue
        counts[label] = counts.get(label, 0) + 1
        first.setdefault(label, i)
    if not counts:
        return None
    best = min(counts, key=lambda label: (-counts[label], first[label]))
    return first[best]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-quantile of sorted values, interpolated linearly between order statistics
    (numpy's default "linear" method)."""
    position = q * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    weight = position - lower
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def _check(confidence: float, resamples: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence})")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1 (got {resamples})")


def _interval(estimate: float, draws: list[float], confidence: float) -> Interval:
    draws.sort()
    tail = (1 - confidence) / 2
    return Interval(
        estimate=estimate,
        low=_percentile(draws, tail),
        high=_percentile(draws, 1 - tail),
        confidence=confidence,
    )


def bootstrap_ci(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """The mean of ``values`` (e.g. 1/0 per item for accuracy) and its percentile bootstrap
    interval: ``resamples`` means of ``len(values)`` items drawn with replacement. Reproducible:
    the same values and ``seed`` give the same interval."""
    _check(confidence, resamples)
    if not values:
        raise ValueError("no values to bootstrap")
    rng = random.Random(seed)
    n = len(values)
    draws = [sum(rng.choices(values, k=n)) / n for _ in range(resamples)]
    return _interval(_mean(values), draws, confidence)


def paired_bootstrap_ci(
    a: Sequence[float],
    b: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """The difference ``mean(b) - mean(a)`` of two runs over the same items (``a[i]`` and
    ``b[i]`` score item ``i``) and its paired percentile bootstrap interval: each resample
    draws items, keeping both runs' scores of an item together."""
    _check(confidence, resamples)
    if len(a) != len(b):
        raise ValueError(f"paired values differ in length ({len(a)} and {len(b)})")
    if not a:
        raise ValueError("no values to bootstrap")
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    rng = random.Random(seed)
    n = len(diffs)
    draws = [sum(rng.choices(diffs, k=n)) / n for _ in range(resamples)]
    return _interval(_mean(diffs), draws, confidence)


def mcnemar_exact(fixed: int, broken: int) -> float:
    """McNemar's exact test, two-sided: the p-value of ``fixed`` items right only in the
    second run and ``broken`` right only in the first, under the null hypothesis that both
    runs are equally good (each discordant item is a fair coin):
    ``min(1, 2 * P(X <= min(fixed, broken)))`` with ``X ~ Binomial(fixed + broken, 1/2)``.
    No discordant items: 1.0."""
    if fixed < 0 or broken < 0:
        raise ValueError(f"counts must be non-negative (got {fixed}, {broken})")
    n = fixed + broken
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(min(fixed, broken) + 1))
    return min(1.0, 2 * tail / 2**n)


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default; closed form, so a recall
    from a handful of diffs still gets an honest interval); (0, 0) for n = 0."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))
