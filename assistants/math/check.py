"""Answer extraction, equivalence checking and voting for the math solver.

Pure code, no model calls:

* :func:`find_boxed` / :func:`extract_answer`: the last ``\\boxed{...}`` of the answer (nested
  braces handled). Only when the answer is empty is the reasoning searched, and that result is
  marked lower confidence. An explicit "Final answer: ..." line in the answer is accepted as a
  labelled, lower-confidence fallback. Never the "last number in the text".
* :class:`Verifier`: mathematical equivalence with Math-Verify (fractions, decimals,
  percentages, intervals, sets, matrices, expressions). Math-Verify's own time limits use
  ``signal.alarm`` and fail away from the main thread, so they are switched off and every check
  runs in a daemon worker thread with a time limit of our own; a check that runs out of time is
  *undecided* (``None``), never silently "equal".
* :func:`group_answers` / :func:`can_stop_early`: self-consistency voting by equivalence.
* :func:`reference_answer` and :func:`to_plain`: GSM8K ``#### n`` references and a plain-text
  rendering of a LaTeX answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeVar

from .._deadline import DeadlineExceeded, run_with_timeout

__all__ = [
    "AnswerSource",
    "Extracted",
    "Verifier",
    "can_stop_early",
    "extract_answer",
    "find_boxed",
    "group_answers",
    "last_boxed",
    "normalize_answer",
    "reference_answer",
    "to_plain",
]

AnswerSource = Literal["boxed", "answer_text", "reasoning"]
T = TypeVar("T")

_BOX_COMMANDS = ("\\boxed", "\\fbox")


# --------------------------------------------------------------------------- extraction
def _read_group(text: str, start: int) -> tuple[str, int] | None:
    """``text[start]`` is ``{``: return the balanced group's content and the index after it."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":  # skip escaped characters such as \{ and \}
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    return None


def find_boxed(text: str | None) -> list[str]:
    """Every ``\\boxed{...}`` (or ``\\fbox{...}``, or ``\\boxed 5``) content, in order."""
    if not text:
        return []
    found: list[str] = []
    i = 0
    while True:
        positions = [(text.find(cmd, i), cmd) for cmd in _BOX_COMMANDS]
        positions = [(pos, cmd) for pos, cmd in positions if pos >= 0]
        if not positions:
            return found
        pos, cmd = min(positions)
        j = pos + len(cmd)
        if j < len(text) and text[j].isalpha():  # \boxedx is another command
            i = j
            continue
        k = j
        while k < len(text) and text[k] in " \t":
            k += 1
        if k < len(text) and text[k] == "{":
            group = _read_group(text, k)
            if group is None:  # unbalanced: the reply was cut off inside the box
                return found
            content, i = group
            found.append(content.strip())
        elif k > j and k < len(text):  # "\boxed 5": one token up to whitespace or $
            m = re.match(r"[^\s$]+", text[k:])
            if m:
                found.append(m.group(0))
                i = k + m.end()
            else:
                i = k
        else:
            i = j


def last_boxed(text: str | None) -> str | None:
    """The content of the last non-empty box in ``text``, or None."""
    for content in reversed(find_boxed(text)):
        if content:
            return content
    return None


# "Final answer: ...", "The answer is ...", or a line that starts with "Answer:" (not "Let us
# answer: first ...")
_FINAL_LINE = re.compile(
    r"(?:final\s+answer|the\s+answer\s+is|^[ \t*#>_-]*answer\s*:)"
    r"\s*(?:is\s*)?[:=]?\s*(?P<ans>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_HOPE = re.compile(r"\.?\s*I hope it is correct\.?\s*$", re.IGNORECASE)


def _final_answer_line(text: str) -> str | None:
    matches = list(_FINAL_LINE.finditer(text))
    if not matches:
        return None
    ans = matches[-1].group("ans").strip()
    # "Final Answer: The final answer is $18$. I hope it is correct." (the Minerva format)
    while (inner := _FINAL_LINE.search(ans)) is not None:
        ans = inner.group("ans").strip()
    ans = _HOPE.sub("", ans)
    ans = ans.rstrip(".").strip()
    ans = re.sub(r"^\*+|\*+$", "", ans).strip()  # markdown bold around the answer
    ans = ans.rstrip(".").strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if ans.startswith(left) and ans.endswith(right) and len(ans) > len(left) + len(right):
            ans = ans[len(left) : -len(right)].strip()
            break
    if len(_WORD.findall(ans)) >= 3:  # a sentence ("18, but let me check"), not an answer
        return None
    return ans or None


@dataclass(frozen=True)
class Extracted:
    """An extracted final answer: its LaTeX, where it came from and how far to trust it."""

    latex: str
    source: AnswerSource
    confidence: Literal["high", "low"]


_BOX_OPEN = re.compile(r"\\(?:boxed|fbox)[ \t]*\{")


def _has_open_box(text: str) -> bool:
    """A ``\\boxed{`` that never closes: the answer text is malformed or cut off."""
    return any(_read_group(text, m.end() - 1) is None for m in _BOX_OPEN.finditer(text))


def extract_answer(content: str | None, reasoning: str | None = None) -> Extracted | None:
    """The final answer of a reply.

    1. the last ``\\boxed{}`` of the answer text: high confidence;
    2. an explicit "Final answer: ..." / "The answer is ..." line of the answer: low;
    3. only when the answer text is empty: the last box of the reasoning: low.

    An answer text with a box that never closes has no final answer (an earlier box is not
    the final one, and the open box is unreadable).
    """
    text = content or ""
    if _has_open_box(text):
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return Extracted(boxed, "boxed", "high")
    if text.strip():
        line = _final_answer_line(text)
        if line is not None:
            inner = last_boxed(line)
            return Extracted(inner or line, "answer_text", "low")
        return None
    boxed = last_boxed(reasoning)
    if boxed is not None:
        return Extracted(boxed, "reasoning", "low")
    return None


# --------------------------------------------------------------------------- references
_GSM8K = re.compile(r"^.*####\s*(?P<ans>.*?)\s*$", re.DOTALL)  # the last ####


def reference_answer(raw: Any) -> str:
    """The final answer inside a reference: GSM8K's ``... #### 18`` → ``18``; a boxed answer →
    its content; numbers → their text; anything else stripped of surrounding ``$``."""
    text = str(raw).strip()
    m = _GSM8K.search(text)
    if m:
        text = m.group("ans").strip()
    boxed = last_boxed(text)
    if boxed is not None:
        text = boxed
    return _strip_math_delimiters(text)


def _strip_math_delimiters(text: str) -> str:
    text = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            return text[len(left) : -len(right)].strip()
    return text


_DIGIT_SPACE = re.compile(r"(?<=\d)(?:\\[,;!: ]|~|\{,\})(?=\d{3}\b)")


def normalize_answer(latex: str) -> str:
    """Light normalisation before parsing: math delimiters, thin-space digit groups
    (``12\\,000``), ``\\dfrac``; and a canonical string for the string fallback."""
    text = _strip_math_delimiters(latex)
    text = _DIGIT_SPACE.sub("", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return text.strip()


# "\text{18 dollars}": the number first, so Math-Verify drops the unit words as it does
# for "18\text{ dollars}"
_TEXT_NUMBER = re.compile(
    r"\\(?:text|textbf|textrm|mathrm|mbox)\s*\{\s*(\\?\$?-?\d[\d,]*(?:\.\d+)?)"
    r"(?:\s|\\[ ,;])+([A-Za-z][A-Za-z\s.'/^-]*?)\s*\}"  # unit words only: not "3 and 5"
)
_REPEATING = re.compile(r"(?<![\w.])(-?)(\d*)\.(\d*)\\overline\s*(?:\{(\d+)\}|(\d))")


def _repeating_to_fraction(m: re.Match[str]) -> str:
    sign, whole, fixed, repeat = m.group(1), m.group(2), m.group(3), m.group(4) or m.group(5)
    value = Fraction(int(whole or 0)) + Fraction(
        int(fixed + repeat) - int(fixed or 0), 10 ** len(fixed) * (10 ** len(repeat) - 1)
    )
    return f"{sign}\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _math_form(text: str) -> str:
    """What Math-Verify is given: a number written inside ``\\text{}`` with its unit, and
    repeating decimals (``0.\\overline{3}``, which it cannot read), rewritten."""
    text = _TEXT_NUMBER.sub(r"\1\\text{ \2}", text)
    return _REPEATING.sub(_repeating_to_fraction, text)


def _string_key(latex: str) -> str:
    text = normalize_answer(latex)
    text = re.sub(r"\\(?:text|mathrm|textbf|mbox|operatorname)\s*\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\[,;!: ]|\\left|\\right|\s+", "", text)
    return text.lower().rstrip(".")


# --------------------------------------------------------------------------- plain text
_SYMBOLS = {
    "pi": "π", "infty": "∞", "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "in": "∈", "cup": "∪", "cap": "∩", "emptyset": "∅", "varnothing": "∅", "circ": "°",
    "degree": "°", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
    "theta": "θ", "lambda": "λ", "mu": "μ", "sigma": "σ", "phi": "φ", "omega": "ω",
    "Delta": "Δ", "Omega": "Ω", "to": "→", "rightarrow": "→", "ldots": "...", "dots": "...",
    "cdots": "...", "%": "%", "$": "$", "{": "{", "}": "}", "&": "&", "#": "#", "_": "_",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "angle": "∠", "|": "‖",
}  # fmt: skip
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ"}
_DROP = {"left", "right", "displaystyle", "big", "Big", "bigl", "bigr", "quad", "qquad"}
_UNWRAP = {"text", "mathrm", "textbf", "mathbf", "mbox", "operatorname", "textit", "mathit"}


def _simple(text: str) -> bool:
    """One number or one symbol: safe next to ``/`` or ``√`` without parentheses (``2a`` is
    not: ``1/2a`` would read as ``a/2``)."""
    return bool(re.fullmatch(r"√?(?:\d+(?:\.\d+)?|[A-Za-zα-ωΑ-Ωπ∞](?:_\w+)?)", text))


def _arg(text: str, i: int) -> tuple[str, int]:
    """One macro argument starting at ``i`` (after spaces): a brace group or one character."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        group = _read_group(text, i)
        if group is not None:
            return group[0], group[1]
    if i < len(text) and text[i] == "\\":
        m = re.match(r"\\[A-Za-z]+", text[i:])
        if m:
            return m.group(0), i + m.end()
    return (text[i], i + 1) if i < len(text) else ("", i)


def _matrix(body: str) -> str:
    rows = [r for r in re.split(r"\\\\", body) if r.strip()]
    cells = [[to_plain(c) for c in row.split("&")] for row in rows]
    return "[" + ", ".join("[" + ", ".join(row) + "]" for row in cells) + "]"


def to_plain(latex: str | None) -> str:
    """A readable plain-text form of a LaTeX answer: ``\\frac{1}{2}`` → ``1/2``,
    ``2\\sqrt{3}`` → ``2√3``, ``\\pi`` → ``π``, matrices as nested lists."""
    if not latex:
        return ""
    text = normalize_answer(latex)
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("\\begin{", i):
            m = re.match(r"\\begin\{(\w+\*?)\}(.*?)\\end\{\1\}", text[i:], re.DOTALL)
            if m:
                out.append(_matrix(m.group(2)))
                i += m.end()
                continue
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+)|\\(.)", text[i:])
            if m is None:
                i += 1
                continue
            name = m.group(1) or m.group(2)
            i += m.end()
            if name in ("frac", "cfrac"):
                num, i = _arg(text, i)
                den, i = _arg(text, i)
                a, b = to_plain(num), to_plain(den)
                a = a if _simple(a) else f"({a})"
                b = b if _simple(b) else f"({b})"
                out.append(f"{a}/{b}")
            elif name == "sqrt":
                index = None
                if i < len(text) and text[i] == "[":
                    end = text.find("]", i)
                    if end > 0:
                        index, i = text[i + 1 : end], end + 1
                body, i = _arg(text, i)
                inner = to_plain(body)
                inner = inner if _simple(inner) else f"({inner})"
                roots = {None: "√", "2": "√", "3": "∛", "4": "∜"}
                if index in roots:
                    out.append(f"{roots[index]}{inner}")
                else:
                    out.append(f"{inner}^(1/{to_plain(index)})")
            elif name in ("binom", "dbinom", "tbinom"):
                n, i = _arg(text, i)
                k, i = _arg(text, i)
                out.append(f"C({to_plain(n)}, {to_plain(k)})")
            elif name == "mathbb":
                body, i = _arg(text, i)
                out.append(_BLACKBOARD.get(body.strip(), to_plain(body)))
            elif name == "overline":
                body, i = _arg(text, i)
                out.append("".join(c + "\u0305" for c in to_plain(body)))
            elif name in _UNWRAP:
                body, i = _arg(text, i)
                out.append(to_plain(body))
            elif name in _DROP:
                continue
            elif name in (",", ";", ":", " ", "!"):
                out.append(" " if name != "!" else "")
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            else:
                out.append(name)
            continue
        if ch in "^_":
            body, i = _arg(text, i + 1)
            inner = to_plain(body)
            if ch == "^" and inner == "°":
                out.append("°")
            else:
                short = len(inner) == 1 or inner.isdigit()
                out.append(ch + (inner if short else f"({inner})"))
            continue
        if ch == "{":
            group = _read_group(text, i)
            if group is not None:
                out.append(to_plain(group[0]))
                i = group[1]
                continue
        out.append("" if ch in "{}$" else ch)
        i += 1
    plain = "".join(out)
    plain = re.sub(r"[ \t]+", " ", plain)
    return plain.replace("·", " · ").replace("  ", " ").strip()


# --------------------------------------------------------------------------- verification
class _QuietTimeoutWarning(logging.Filter):
    """Math-Verify warns once that its timeouts are off: we enforce our own, so drop that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Timeout is disabled" not in record.getMessage()


_FILTER_INSTALLED = False


def _install_log_filter() -> None:
    global _FILTER_INSTALLED
    if not _FILTER_INSTALLED:
        for name in ("math_verify.parser", "math_verify.grader"):
            logging.getLogger(name).addFilter(_QuietTimeoutWarning())
        _FILTER_INSTALLED = True


@dataclass
class Verifier:
    """Equivalence of answers with Math-Verify, under a time limit per check.

    ``equivalent(gold, target)`` returns True, False, or None when the check ran out of time.
    Parsed answers are cached per string, so grouping n answers parses each once.
    """

    timeout: float = 5.0
    _parsed: dict[str, list[Any]] = field(default_factory=dict, repr=False)
    _pairs: dict[tuple[str, str], bool | None] = field(default_factory=dict, repr=False)
    timed_out: int = 0

    def parse(self, latex: str) -> list[Any]:
        """Math-Verify's parse of an answer (``[]`` when it cannot be read as math)."""
        return self._parse(latex) or []

    def _parse(self, latex: str) -> list[Any] | None:
        """As :meth:`parse`, but ``None`` when parsing ran out of time."""
        key = normalize_answer(latex)
        if key not in self._parsed:
            try:
                form = _math_form(key)
                self._parsed[key] = run_with_timeout(lambda: _parse(form), self.timeout)
            except DeadlineExceeded:
                self.timed_out += 1
                return None
        return self._parsed[key]

    def equivalent(self, gold: str, target: str) -> bool | None:
        """Is ``target`` the same answer as ``gold`` (the reference, or a group's leader)?"""
        if _string_key(gold) == _string_key(target):
            return True
        key = (gold, target)
        if key not in self._pairs:
            self._pairs[key] = self._check(gold, target)
        return self._pairs[key]

    def _check(self, gold: str, target: str) -> bool | None:
        gold_p, target_p = self._parse(gold), self._parse(target)
        if gold_p is None or target_p is None:
            return None
        if not gold_p or not target_p:
            return False
        try:
            return run_with_timeout(lambda: _verify(gold_p, target_p), self.timeout)
        except DeadlineExceeded:
            self.timed_out += 1
            return None

    def parses(self, latex: str) -> bool:
        """Can ``latex`` be read as math? (Math-Verify keeps an unreadable answer only as its
        string; a parse that ran out of time counts as readable: undecided, not broken.)"""
        parsed = self._parse(latex)
        return parsed is None or any(not isinstance(item, str) for item in parsed)


def _parse(text: str) -> list[Any]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    _install_log_filter()
    latex_cfg = [LatexExtractionConfig()]
    for candidate in (f"\\boxed{{{text}}}", f"${text}$"):
        found = parse(candidate, extraction_config=latex_cfg, parsing_timeout=None)
        if found:
            return list(found)
    found = parse(text, extraction_config=[ExprExtractionConfig()], parsing_timeout=None)
    return list(found)


def _verify(gold: list[Any], target: list[Any]) -> bool:
    from math_verify import verify

    return bool(verify(gold, target, timeout_seconds=None, allow_set_relation_comp=True))


# --------------------------------------------------------------------------- voting
def group_answers(answers: Sequence[str | None], verifier: Verifier) -> list[tuple[str, list[int]]]:
    """Group answers by mathematical equivalence: ``[(representative, [indices])]``, largest
    group first (ties: the group whose first answer came first). ``None`` answers do not vote.
    An answer joins the first group whose representative it is equivalent to."""
    groups: list[tuple[str, list[int]]] = []
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        for rep, members in groups:
            if verifier.equivalent(rep, answer):
                members.append(index)
                break
        else:
            groups.append((answer, [index]))
    return sorted(groups, key=lambda g: (-len(g[1]), g[1][0]))


def can_stop_early(vote_counts: Sequence[int], remaining: int) -> bool:
    """True when the leading group can no longer be overtaken or tied by the ``remaining``
    samples (each of which could join any group, including the runner-up)."""
    if not vote_counts:
        return False
    ordered = sorted(vote_counts, reverse=True)
    leader = ordered[0]
    runner_up = ordered[1] if len(ordered) > 1 else 0
    return leader > runner_up + remaining
