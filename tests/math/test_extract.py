"""Answer extraction: the final answer of a reply, what a reference says, and the plain-text
form of a LaTeX answer (pure code, no model calls)."""

from __future__ import annotations

import pytest

from assistants.math.extract import (
    extract_answer,
    find_boxed,
    last_boxed,
    reference_answer,
    to_plain,
)

# --------------------------------------------------------------------------- final answers


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
    "content",
    [
        r"So the answer is \boxed{18",  # the box never closes: not an answer
        r"First \boxed{4}, no wait, it is \boxed{5",  # the final box is unreadable
    ],
)
def test_an_unclosed_final_box_is_no_answer(content: str) -> None:
    assert extract_answer(content, r"\boxed{99}") is None


def test_minerva_style_final_answer_line() -> None:
    got = extract_answer("Final Answer: The final answer is $18$. I hope it is correct.")
    assert got is not None
    assert (got.latex, got.source, got.confidence) == ("18", "answer_text", "low")
    got = extract_answer("The answer is: the final answer is 7.")
    assert got is not None and got.latex == "7"


@pytest.mark.parametrize(
    "content",
    [
        "Let us answer: first we compute 3+4 = 7.",  # Math-Verify would read "... = 7" as 7
        "I think the answer is 18, but let me check again.",
    ],
)
def test_a_sentence_after_answer_is_not_an_answer(content: str) -> None:
    assert extract_answer(content) is None


@pytest.mark.parametrize(
    ("content", "latex"),
    [
        ("**Answer:** 18", "18"),
        ("> Answer: 42", "42"),
        ("### Final Answer\n\n$$18$$", "18"),
        ("Final answer: 18 dollars.", "18 dollars"),
        ("The answer is: x = 3 or x = 5", "x = 3 or x = 5"),
    ],
)
def test_labelled_answers_are_still_taken(content: str, latex: str) -> None:
    got = extract_answer(content)
    assert got is not None and (got.latex, got.confidence) == (latex, "low")


# --------------------------------------------------------------------------- references


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


# --------------------------------------------------------------------------- plain text


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
        # unambiguous as plain text
        (r"\frac{1}{2a}", "1/(2a)"),  # not "1/2a", which reads as a/2
        (r"\frac{-b \pm \sqrt{b^2-4ac}}{2a}", "(-b ± √(b^2-4ac))/(2a)"),
        (r"\sqrt{2a}", "√(2a)"),
        (r"\frac{\sqrt{3}}{2}", "√3/2"),
        (r"\frac{x_1}{2}", "x_1/2"),
        (r"\binom{5}{2}", "C(5, 2)"),
        (r"\mathbb{R}", "ℝ"),
        (r"\lfloor x \rfloor", "⌊ x ⌋"),
    ],
)
def test_to_plain(latex: str, plain: str) -> None:
    assert to_plain(latex) == plain
