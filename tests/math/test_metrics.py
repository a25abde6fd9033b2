"""pass@k and maj@k of scored items, against values computed by hand."""

from __future__ import annotations

import pytest

from assistants.math.metrics import accuracy_interval, item_outcomes, sample_metrics
from assistants.math.models import EvalItem, MathSample


def _item(item_id: str, samples: list[tuple[int | None, bool]], *, failed: int = 0) -> EvalItem:
    """An item whose samples are (answer group, correct) in sample order; ``failed`` more
    samples failed (API errors)."""
    replies = [
        MathSample(
            index=i,
            status="answered" if group is not None else "no_answer",
            answer=None if group is None else f"g{group}",
            group=group,
            correct=correct,
        )
        for i, (group, correct) in enumerate(samples)
    ]
    replies += [
        MathSample(index=len(samples) + j, status="failed", error="HTTP 503") for j in range(failed)
    ]
    leading = [s for s in replies if s.group == 0]
    return EvalItem(
        id=item_id,
        line=1,
        problem="p",
        reference="1",
        correct=bool(leading and leading[0].correct),
        status="matches_reference",
        samples=len(replies),
        replies=replies,
    )


# A: wrong, right, right, wrong (groups 1, 0, 0, 2): c = 2 of 4
ITEM_A = _item("a", [(1, False), (0, True), (0, True), (2, False)])
# B: no answer, then three wrong answers
ITEM_B = _item("b", [(None, False), (0, False), (0, False), (1, False)])
# C: four right
ITEM_C = _item("c", [(0, True)] * 4)


def test_pass_and_maj_at_k_by_hand() -> None:
    metrics = sample_metrics([ITEM_A, ITEM_B, ITEM_C])
    # pass@1 = mean(c/n) = (2/4 + 0 + 1) / 3
    # pass@2: A is 1 - C(2,2)/C(4,2) = 5/6; B 0; C 1
    # pass@4 (n = k): A 1 (it has a right sample), B 0, C 1
    assert metrics.pass_at_k == pytest.approx({1: 0.5, 2: (5 / 6 + 1) / 3, 4: 2 / 3}, abs=1e-6)
    # maj@1: the first sample: A wrong, B no answer, C right
    # maj@2: A's first two samples tie (groups 1 and 0): the first (wrong) wins
    # maj@4: A's group 0 has two votes: right
    assert metrics.maj_at_k == pytest.approx({1: 1 / 3, 2: 1 / 3, 4: 2 / 3}, abs=1e-6)
    assert metrics.notes == []


def test_k_list_can_be_given() -> None:
    metrics = sample_metrics([ITEM_A], ks=[3])
    assert metrics.pass_at_k == {3: 1.0}  # only two wrong samples: any three hold a right one
    # the first three samples of A are in groups 1, 0, 0: group 0 leads, and it is right
    assert metrics.maj_at_k == {3: 1.0}


def test_failed_samples_do_not_count_and_short_items_are_left_out() -> None:
    short = _item("d", [(0, True), (1, False), (1, False)], failed=1)
    flags, labels = item_outcomes(short) or ([], [])
    assert (flags, labels) == ([True, False, False], [0, 1, 1])
    metrics = sample_metrics([ITEM_C, short])
    assert metrics.pass_at_k[1] == pytest.approx((1 + 1 / 3) / 2)
    assert metrics.pass_at_k[4] == 1.0  # only ITEM_C has 4 completed samples
    assert metrics.maj_at_k[2] == pytest.approx((1 + 1) / 2)  # d: tie 0/1, first wins
    assert any("pass@4 and maj@4 over 1 of 2" in note for note in metrics.notes)


def test_single_sample_items_of_older_files() -> None:
    old = EvalItem(id="x", line=1, problem="p", reference="1", answer="1", correct=True,
                   status="matches_reference", samples=1)  # fmt: skip
    assert item_outcomes(old) == ([True], [0])
    many = old.model_copy(update={"samples": 5})
    assert item_outcomes(many) is None
    metrics = sample_metrics([old, many])
    assert metrics.pass_at_k == {1: 1.0}
    assert "1 item(s) have no saved samples" in metrics.notes[0]


def test_accuracy_interval() -> None:
    interval = accuracy_interval([True] * 30 + [False] * 20, seed=1)
    assert interval is not None
    assert interval.estimate == 0.6
    assert interval.low < 0.6 < interval.high
    assert accuracy_interval([True] * 30 + [False] * 20, seed=1) == interval
    assert accuracy_interval([]) is None
