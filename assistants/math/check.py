"""Equivalence checking and voting for the math solver (answers come from
:mod:`assistants.math.extract`):

* :class:`Verifier`: mathematical equivalence with Math-Verify (fractions, decimals,
  percentages, intervals, sets, matrices, expressions). Math-Verify's own time limits use
  ``signal.alarm`` and fail away from the main thread, so they are switched off and every check
  runs in a daemon worker thread with a time limit of our own; a check that runs out of time is
  *undecided* (``None``), never silently "equal".
* :func:`group_answers` / :func:`can_stop_early`: self-consistency voting by equivalence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .._deadline import DeadlineExceeded, run_with_timeout
from .extract import normalize_answer

__all__ = ["Verifier", "can_stop_early", "group_answers"]


# --------------------------------------------------------------------------- answer forms
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
            _load_math_verify()  # importing it is not the check: outside the time limit
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


def _load_math_verify() -> None:
    """Import Math-Verify and its LaTeX parser (seconds on a busy machine) before any timed
    check, so the time limit measures the check and never the import."""
    import math_verify  # noqa: F401
    from latex2sympy2_extended import latex2sympy  # noqa: F401


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
