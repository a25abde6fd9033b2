"""Inline suppressions: ``assistants: ignore`` in a comment on a finding's line, or alone on
the line above, holds the finding back (the linters' ``noqa`` convention).

``assistants: ignore`` holds back every category; ``assistants: ignore[security]`` or
``assistants: ignore[bug, style]`` only those. The directive counts inside a comment of any
common syntax: it must follow a comment opener on the same line (``#``, ``//``, ``/*``,
``--``, ``<!--``, ``;``, ``%``, ``REM``, ``::``, ``{-``, ``(*``). On the line above it only
counts when that line is a comment and nothing else, so a trailing comment meant for one line
does not also hide a finding on the next. Suppressed findings are not dropped: they are
returned beside the reported ones, counted and shown in every report format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .models import CATEGORIES, Finding, SuppressedFinding, Suppression

__all__ = ["DIRECTIVE", "ignored_categories", "split_inline", "suppress"]

_OPENER = r"(?:\#|//|/\*|<!--|--|;|%|::|\{-|\(\*|\bREM\b)"
DIRECTIVE = re.compile(
    _OPENER + r".*?\bassistants:\s*ignore\b(?:\s*\[(?P<cats>[^\]]*)\])?", re.IGNORECASE
)
"""The directive after a comment opener; ``cats`` is the bracketed category list, if any."""
_COMMENT_ONLY = re.compile(r"^\s*" + _OPENER, re.IGNORECASE)


def ignored_categories(line: str) -> frozenset[str] | None:
    """The categories an ``assistants: ignore`` comment on ``line`` holds back (every category
    without a list), or None when the line has no such comment."""
    match = DIRECTIVE.search(line)
    if match is None:
        return None
    listed = match.group("cats")
    if listed is None:
        return frozenset(CATEGORIES)
    return frozenset(c.strip().lower() for c in listed.split(",") if c.strip())


def _ignored(finding: Finding, lines: list[str]) -> bool:
    n = finding.line_start
    candidates = lines[n - 1 : n]
    if n >= 2 and _COMMENT_ONLY.match(lines[n - 2]):
        candidates.append(lines[n - 2])
    for line in candidates:
        cats = ignored_categories(line)
        if cats is not None and finding.category in cats:
            return True
    return False


def suppress(finding: Finding, kind: Suppression) -> SuppressedFinding:
    """``finding`` as held back by ``kind``."""
    return SuppressedFinding(**finding.model_dump(), suppression=kind)


def split_inline(
    findings: Iterable[Finding], lines_of: Callable[[str], list[str]]
) -> tuple[list[Finding], list[SuppressedFinding]]:
    """(reported, suppressed): a finding is suppressed when its line or the line above carries
    an ``assistants: ignore`` comment naming its category (or none). ``lines_of(path)`` gives
    the file's lines as they were reviewed."""
    kept: list[Finding] = []
    held: list[SuppressedFinding] = []
    files: dict[str, list[str]] = {}
    for f in findings:
        if f.path not in files:
            files[f.path] = lines_of(f.path)
        if _ignored(f, files[f.path]):
            held.append(suppress(f, "inline"))
        else:
            kept.append(f)
    return kept, held
