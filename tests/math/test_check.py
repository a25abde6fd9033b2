"""Equivalence checking with Math-Verify (which runs for real) and self-consistency voting."""

from __future__ import annotations

import threading
import time

import pytest

from assistants._deadline import DeadlineExceeded, run_with_timeout
from assistants.math import check as mathcheck
from assistants.math.check import Verifier, can_stop_early, group_answers
from assistants.math.extract import reference_answer, to_plain

# --------------------------------------------------------------------------- equivalence

EQUIVALENT = [
    ("0.5", r"\frac{1}{2}"),
    ("1/2", "0.5"),
    (r"\frac{1}{2}", r"\dfrac{2}{4}"),
    ("0.1", "1/10"),
    ("18", "18.0"),
    ("18", r"\$18"),
    ("18", r"18 \text{ dollars}"),
    ("1000", "1,000"),
    ("12000", r"12\,000"),
    ("-3", "-3.0"),
    ("50%", "0.5"),
    (r"50\%", r"\frac{1}{2}"),
    ("25", r"25\%"),
    (r"\frac{1}{3}", "0.3333333"),
    (r"\sqrt{12}", r"2\sqrt{3}"),
    (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}"),
    ("10^3", "1000"),
    ("(0,1]", r"(0, 1]"),
    (r"[2, 5)", r"[2,5)"),
    (r"(-\infty, 3)", r"(-\infty,3)"),
    (r"\{1,2,3\}", r"\{3,2,1\}"),
    ("3, 5", "5, 3"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{pmatrix}1 & 2\\ 3 & 4\end{pmatrix}"),
    ("(x+1)^2", "x^2+2x+1"),
    (r"\frac{x}{2}", "0.5x"),
    ("x=5", "5"),
    (r"\text{A}", "A"),
    (r"\infty", r"\infty"),
    (r"$\frac{7}{4}$", "1.75"),
    ("#### 72", "72"),
    ("(-1, 1)", "-1 < x < 1"),
]

NOT_EQUIVALENT = [
    ("17", "18"),
    ("0.5", "0.55"),
    (r"\frac{1}{3}", "0.333"),
    (r"\pi", "3.14"),
    ("(0,1]", "[0,1]"),
    ("(0,1)", "(0,1]"),
    (r"\{1,2\}", r"\{1,2,3\}"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{pmatrix}1&2\\4&3\end{pmatrix}"),
    ("x^2+1", "(x+1)^2"),
    ("2x", "x+2"),
    ("-3", "3"),
    ("1000", "100"),
    (r"\sqrt{2}", "2"),
    ("60", "40"),
    ("A", "B"),
    ("(0,1]", "0 < x < 1"),
]


def test_table_has_at_least_forty_pairs() -> None:
    assert len(EQUIVALENT) + len(NOT_EQUIVALENT) >= 40


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(timeout=20.0)


@pytest.mark.parametrize(("reference", "answer"), EQUIVALENT)
def test_equivalent_pairs(verifier: Verifier, reference: str, answer: str) -> None:
    assert verifier.equivalent(reference_answer(reference), answer) is True


@pytest.mark.parametrize(("reference", "answer"), NOT_EQUIVALENT)
def test_non_equivalent_pairs(verifier: Verifier, reference: str, answer: str) -> None:
    assert verifier.equivalent(reference_answer(reference), answer) is False


def test_answer_with_its_unit_inside_text_matches_the_number(verifier: Verifier) -> None:
    assert verifier.equivalent("18", r"\text{18 dollars}") is True
    assert verifier.equivalent("1000", r"\text{1,000 apples}") is True
    assert verifier.equivalent("18", r"\textbf{18 dollars per hour}") is True
    assert verifier.equivalent("17", r"\text{18 dollars}") is False
    assert verifier.equivalent("3", r"\text{3 and 5}") is False  # words, not a unit
    assert to_plain(r"\text{18 dollars}") == "18 dollars"  # the display keeps the words


def test_repeating_decimal_is_its_fraction(verifier: Verifier) -> None:
    assert verifier.equivalent(r"\frac{1}{3}", r"0.\overline{3}") is True
    assert verifier.equivalent(r"\frac{41}{333}", r"0.\overline{123}") is True
    assert verifier.equivalent(r"\frac{7}{6}", r"1.1\overline{6}") is True
    assert verifier.equivalent(r"\frac{1}{3}", r"0.\overline{6}") is False
    assert to_plain(r"0.\overline{3}") == "0.3̅"


def test_unparseable_answers_compare_as_text(verifier: Verifier) -> None:
    assert verifier.equivalent(r"\text{Monday}", "monday") is True
    assert verifier.equivalent("", "5") is False


# --------------------------------------------------------------------------- time limits


def test_checks_work_off_the_main_thread() -> None:
    """Math-Verify's signal-based timeouts would raise here; ours do not."""
    results: list[bool | None] = []

    def run() -> None:
        v = Verifier(timeout=20.0)
        results.append(v.equivalent("1/2", "0.5"))
        results.append(v.equivalent("1/2", "0.6"))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert results == [True, False]


def test_check_time_limit_is_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow_verify(gold: object, target: object) -> bool:
        release.wait(10)
        return True

    monkeypatch.setattr(mathcheck, "_verify", slow_verify)
    v = Verifier(timeout=0.05)
    try:
        assert v.equivalent("x+1", "1+x") is None  # undecided, not "equal"
        assert v.timed_out == 1
    finally:
        release.set()


def test_run_with_timeout_passes_errors_through() -> None:
    def boom() -> int:
        raise KeyError("x")

    with pytest.raises(KeyError):
        run_with_timeout(boom, 5)
    assert run_with_timeout(lambda: 3, 5) == 3
    with pytest.raises(DeadlineExceeded):
        run_with_timeout(lambda: time.sleep(2), 0.01)


# --------------------------------------------------------------------------- voting


def test_voting_groups_by_equivalence_not_strings(verifier: Verifier) -> None:
    groups = group_answers(["1/2", "0.5", r"\frac{1}{2}", "2", None, "2.0"], verifier)
    assert [(rep, members) for rep, members in groups] == [("1/2", [0, 1, 2]), ("2", [3, 5])]


def test_voting_tie_goes_to_the_first_answer(verifier: Verifier) -> None:
    groups = group_answers(["3", "4", "4.0", "3.0"], verifier)
    assert [members for _, members in groups] == [[0, 3], [1, 2]]


@pytest.mark.parametrize(
    ("counts", "remaining", "stop"),
    [
        ([3], 2, True),  # 3 of 5 agree: nothing can change the majority
        ([2], 2, False),
        ([2, 1], 1, False),  # 2 vs 1 with one left could tie
        ([3, 1], 1, True),
        ([1, 1, 1], 0, False),  # a three-way tie is never decided early
        ([], 3, False),
        ([1], 0, True),
    ],
)
def test_can_stop_early(counts: list[int], remaining: int, stop: bool) -> None:
    assert can_stop_early(counts, remaining) is stop
