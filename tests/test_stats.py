"""The shared statistics: pass@k, maj@k voting, bootstrap intervals, McNemar's exact test,
against values computed by hand."""

from __future__ import annotations

import pytest

from assistants.stats import (
    Interval,
    bootstrap_ci,
    default_ks,
    majority_index,
    mcnemar_exact,
    paired_bootstrap_ci,
    pass_at_k,
)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 2 / 5),  # k=1 is c/n
        (10, 3, 1, 0.3),
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (10, 3, 3, 1 - 35 / 120),  # 1 - C(7,3)/C(10,3)
        (5, 2, 4, 1.0),  # only 3 wrong samples: any 4 hold a correct one
        (4, 0, 4, 0.0),  # n = k, none correct
        (4, 1, 4, 1.0),  # n = k, one correct
        (4, 4, 1, 1.0),
        (1, 0, 1, 0.0),
        (1, 1, 1, 1.0),
    ],
)
def test_pass_at_k_matches_hand_computed_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 1, 4), (3, 4, 1), (3, 1, 0), (3, -1, 1)])
def test_pass_at_k_refuses_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_default_ks_are_powers_of_two_and_n() -> None:
    assert default_ks(1) == [1]
    assert default_ks(5) == [1, 2, 4, 5]
    assert default_ks(8) == [1, 2, 4, 8]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["a", "b", "b"], 1),
        (["a", "b", "b", "a"], 0),  # a tie: the label that came first wins
        (["b", "a", "a", "b"], 0),
        ([None, "x"], 1),  # None does not vote
        ([None, None], None),
        ([], None),
        ([2, 1, 1, 2, 1], 1),
    ],
)
def test_majority_index_breaks_ties_by_first_appearance(
    labels: list[object], expected: int | None
) -> None:
    assert majority_index(labels) == expected


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    values = [(i * 37 % 101) / 101 for i in range(50)]  # scores, not only 0/1
    first = bootstrap_ci(values, seed=7)
    assert bootstrap_ci(values, seed=7) == first
    assert bootstrap_ci(values, seed=8) != first  # the seed is what is reproduced
    assert first.estimate == pytest.approx(sum(values) / 50)
    assert first.low < first.estimate < first.high


def test_bootstrap_width_is_that_of_a_proportion() -> None:
    # p = 0.5 over 100 items: standard error 0.05, so the 95% interval is about ±0.098
    interval = bootstrap_ci([1.0, 0.0] * 50, seed=0)
    half_width = (interval.high - interval.low) / 2
    assert 0.08 < half_width < 0.12
    assert interval.confidence == 0.95


def test_bootstrap_of_constant_values_has_no_width() -> None:
    assert bootstrap_ci([1.0] * 5, seed=0) == Interval(1.0, 1.0, 1.0)


def test_paired_bootstrap_difference() -> None:
    a = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    b = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    interval = paired_bootstrap_ci(a, b, seed=3)
    assert interval.estimate == pytest.approx(3 / 8)
    assert paired_bootstrap_ci(a, b, seed=3) == interval
    assert 0.0 <= interval.low <= interval.estimate <= interval.high <= 1.0
    same = paired_bootstrap_ci(a, a, seed=3)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        paired_bootstrap_ci(a, b[:-1])


@pytest.mark.parametrize(
    ("fixed", "broken", "expected"),
    [
        (7, 1, 2 * (1 + 8) / 2**8),  # 0.0703125
        (1, 7, 2 * (1 + 8) / 2**8),  # symmetric
        (10, 2, 2 * (1 + 12 + 66) / 2**12),  # 0.03857421875
        (6, 0, 2 * 1 / 2**6),  # 0.03125
        (3, 3, 1.0),  # capped at 1
        (0, 0, 1.0),  # no discordant pair
    ],
)
def test_mcnemar_exact_matches_the_binomial_by_hand(
    fixed: int, broken: int, expected: float
) -> None:
    assert abs(mcnemar_exact(fixed, broken) - expected) < 1e-6
