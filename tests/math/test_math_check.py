"""Answer extraction, reference checking and voting (pure code, Math-Verify runs for real)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from assistants.math import check as mathcheck
from assistants.math.check import (
    Verifier,
    can_stop_early,
    extract_answer,
    find_boxed,
    group_answers,
    last_boxed,
    reference_answer,
    to_plain,
)

# --------------------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"so \boxed{5}", "5"),
        (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
        (r"\boxed{\frac{\sqrt{3}}{2}}", r"\frac{\sqrt{3}}{2}"),
        (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
        (r"\boxed{\begin{pmatrix}1&2\\3&4\end{pmatrix}}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
        (r"first \boxed{1} then \boxed{x^{2}+{y}}", "x^{2}+{y}"),
        (r"\fbox{7}", "7"),
        (r"$\boxed 12$", "12"),
        (r"\boxed{(0, 1]}", "(0, 1]"),
        (r"\boxed{}", None),
        (r"\boxed{3} and then \boxed{", "3"),  # cut off inside the last box
        ("no box at all, 42", None),
    ],
)
def test_last_boxed_handles_nesting(text: str, expected: str | None) -> None:
    assert last_boxed(text) == expected


def test_find_boxed_returns_all_in_order() -> None:
    assert find_boxed(r"\boxed{a} x \boxed{{b}} \boxedfoo{c} \boxed{c}") == ["a", "{b}", "c"]


def test_extract_prefers_the_answer_box() -> None:
    got = extract_answer(r"Thus \boxed{18}.", r"maybe \boxed{17}")
    assert got is not None
    assert (got.latex, got.source, got.confidence) == ("18", "boxed", "high")


def test_extract_reasoning_only_when_answer_empty() -> None:
    got = extract_answer("", r"... so the result is \boxed{17}")
    assert got is not None
    assert (got.latex, got.source, got.confidence) == ("17", "reasoning", "low")
    # a non-empty answer without a box never falls back to the reasoning
    assert extract_answer("I am not sure.", r"\boxed{17}") is None


def test_extract_final_answer_line_is_low_confidence() -> None:
    got = extract_answer("Working...\n**Final answer:** $\\frac{3}{4}$.")
    assert got is not None
    assert (got.latex, got.source, got.confidence) == (r"\frac{3}{4}", "answer_text", "low")


def test_extract_never_takes_the_last_number() -> None:
    assert extract_answer("She has 3 apples and 4 pears, 7 in total.") is None
    assert extract_answer(None, None) is None
    assert extract_answer("", "the total is 7") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("She makes 9 * 2 = $<<9*2=18>>18.\n#### 18", "18"),
        ("#### 1,000", "1,000"),
        (0.5, "0.5"),
        ("$\\frac{1}{2}$", "\\frac{1}{2}"),
        ("\\boxed{(1, 2)}", "(1, 2)"),
        ("  42 ", "42"),
    ],
)
def test_reference_answer(raw: object, expected: str) -> None:
    assert reference_answer(raw) == expected


@pytest.mark.parametrize(
    ("latex", "plain"),
    [
        (r"\frac{1}{2}", "1/2"),
        (r"\dfrac{x+1}{2}", "(x+1)/2"),
        (r"2\sqrt{3}", "2√3"),
        (r"\sqrt[3]{2}", "∛2"),
        (r"\pi", "π"),
        (r"(-\infty, 2]", "(-∞, 2]"),
        (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "[[1, 2], [3, 4]]"),
        (r"90^\circ", "90°"),
        (r"\text{Monday}", "Monday"),
        (r"12\,000", "12000"),
        (r"50\%", "50%"),
        (r"e^{i\pi}", "e^(iπ)"),
        (r"\$18", "$18"),
    ],
)
def test_to_plain(latex: str, plain: str) -> None:
    assert to_plain(latex) == plain


# --------------------------------------------------------------------------- checking

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
        mathcheck.run_with_timeout(boom, 5)
    assert mathcheck.run_with_timeout(lambda: 3, 5) == 3
    with pytest.raises(mathcheck.DeadlineExceeded):
        mathcheck.run_with_timeout(lambda: time.sleep(2), 0.01)


def test_unparseable_answers_compare_as_text(verifier: Verifier) -> None:
    assert verifier.equivalent(r"\text{Monday}", "monday") is True
    assert verifier.equivalent("", "5") is False


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


def test_sample_data_is_shipped_with_licence() -> None:
    data = Path(mathcheck.__file__).resolve().parent.parent / "data"
    lines = (data / "gsm8k_sample.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50
    first = json.loads(lines[0])
    assert set(first) == {"id", "question", "answer"}
    assert reference_answer(first["answer"]) == "18"
    assert "MIT License" in (data / "GSM8K-LICENSE").read_text(encoding="utf-8")
    assert "openai/grade-school-math" in (data / "GSM8K-README.md").read_text(encoding="utf-8")
