"""Request building for the code reviewer: numbered units packed under the token budget.

Every file (redacted, as a :class:`Doc`) becomes one or more :class:`Unit`: the whole file
with numbered lines, or in diff mode its hunks with new-side numbers, ``+`` on added lines and
the removed lines shown as ``-|``. A file over the budget is split on definition boundaries
(:func:`assistants.review.spans.cut_points`), a definition over it by lines. :func:`pack`
puts consecutive units (sorted by path) into :class:`Request`-s under the budget, with
boundaries that mostly stay put when one file changes (so the response cache serves the rest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .spans import cut_points, split_lines

__all__ = [
    "Doc",
    "Request",
    "Unit",
    "budget_units",
    "diff_units",
    "file_units",
    "pack",
]


@dataclass
class Doc:
    """A file as sent (redacted): its lines, and in diff mode the ranges shown (changes and
    their context), the added lines and the removed lines (before new-side line n)."""

    path: str
    language: str
    lines: list[str]
    allowed: list[tuple[int, int]] | None = None  # diff mode: changes + context
    added: set[int] = field(default_factory=set)
    removed: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, path: str, language: str, text: str, **diff: Any) -> Doc:
        """A file from its (redacted) text, lines numbered as git numbers them."""
        return cls(path, language, split_lines(text), **diff)


@dataclass
class Unit:
    """A numbered piece of one file (the whole file, a part of it, or its hunks) as it goes
    into a request, with its token count."""

    path: str
    language: str
    start: int
    end: int
    body: str
    tokens: int
    part: int = 1
    parts: int = 1

    @property
    def label(self) -> str:
        return self.path if self.parts == 1 else f"{self.path}:{self.start}-{self.end}"

    def context(self) -> dict[str, Any]:
        return {
            "marker": hashlib.sha256(f"{self.path}\0{self.body}".encode()).hexdigest()[:12],
            "path_json": json.dumps(self.path, ensure_ascii=False),
            "language": self.language,
            "start": self.start,
            "end": self.end,
            "part": self.part,
            "parts": self.parts,
            "body": self.body,
        }


@dataclass
class Request:
    """Units sent together in one request; ``messages`` once built."""

    units: list[Unit]
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return sorted({u.path for u in self.units})


def _numbered(lines: Sequence[str], start: int, end: int) -> list[str]:
    return [f"{n:>5} | {lines[n - 1]}" for n in range(start, end + 1)]


def _diff_lines(doc: Doc) -> list[list[str]]:
    """One list of rendered lines per shown range (a hunk header, then the lines)."""
    assert doc.allowed is not None
    added, removed = doc.added, doc.removed
    out = []
    for a, b in doc.allowed:
        rows = [f"@@ lines {a}-{b} @@"]
        for n in range(a, b + 1):
            rows.extend(f"      -| {old}" for old in removed.get(n, ()))
            mark = "+" if n in added else " "
            rows.append(f"{n:>5}{mark}| {doc.lines[n - 1]}")
        if b == len(doc.lines):
            rows.extend(f"      -| {old}" for old in removed.get(b + 1, ()))
        out.append(rows)
    return out


def _split_by_tokens(
    rows: list[str], first_line: int, count: Callable[[str], int], budget: int
) -> list[tuple[int, int, str, int]]:
    """Hard split of numbered rows (one per line) into chunks under ``budget``."""
    chunks: list[tuple[int, int, str, int]] = []
    cur: list[str] = []
    cur_tokens = 0
    start = first_line
    for i, row in enumerate(rows):
        t = count(row) + 1
        if cur and cur_tokens + t > budget:
            chunks.append((start, first_line + i - 1, "\n".join(cur), cur_tokens))
            cur, cur_tokens, start = [], 0, first_line + i
        cur.append(row)
        cur_tokens += t
    if cur:
        chunks.append((start, first_line + len(rows) - 1, "\n".join(cur), cur_tokens))
    return chunks


def file_units(doc: Doc, count: Callable[[str], int], budget: int) -> list[Unit]:
    """A whole file as one unit, or split on definition boundaries when over ``budget``."""
    total = len(doc.lines)
    body = "\n".join(_numbered(doc.lines, 1, total))
    tokens = count(body)
    if tokens <= budget:
        return [Unit(doc.path, doc.language, 1, total, body, tokens)]
    text = "\n".join(doc.lines)
    row_tokens = [count(r) + 1 for r in _numbered(doc.lines, 1, total)]

    def seg_tokens(a: int, b: int) -> int:
        return sum(row_tokens[a - 1 : b])

    def segments(a: int, b: int, depth: int) -> list[tuple[int, int]]:
        points = [p for p in cut_points(text, doc.language, a, b) if a <= p <= b]
        bounds = [*points, b + 1]
        segs = [(bounds[i], bounds[i + 1] - 1) for i in range(len(points))]
        out: list[tuple[int, int]] = []
        for s, e in segs:
            if seg_tokens(s, e) > budget and depth < 3 and (s, e) != (a, b):
                out.extend(segments(s, e, depth + 1))
            else:
                out.append((s, e))
        return out

    pieces: list[tuple[int, int]] = []
    for s, e in segments(1, total, 0):  # greedy packing of consecutive segments
        if pieces and seg_tokens(pieces[-1][0], e) <= budget:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    chunks: list[tuple[int, int, str, int]] = []
    for s, e in pieces:
        rows = _numbered(doc.lines, s, e)
        if seg_tokens(s, e) > budget:  # one definition bigger than the budget: cut by lines
            chunks.extend(_split_by_tokens(rows, s, count, budget))
        else:
            chunks.append((s, e, "\n".join(rows), seg_tokens(s, e)))
    return [
        Unit(doc.path, doc.language, s, e, b, t, i + 1, len(chunks))
        for i, (s, e, b, t) in enumerate(chunks)
    ]


def diff_units(doc: Doc, count: Callable[[str], int], budget: int) -> list[Unit]:
    """The hunks of a changed file as one unit, or packed into several under ``budget``
    (a hunk larger than the budget is cut by lines)."""
    hunks = _diff_lines(doc)
    assert doc.allowed is not None
    spans = list(doc.allowed)
    whole = "\n".join("\n".join(h) for h in hunks)
    tokens = count(whole)
    if tokens <= budget:
        return [Unit(doc.path, doc.language, spans[0][0], spans[-1][1], whole, tokens)]
    chunks: list[tuple[int, int, str, int]] = []
    for (a, b), rows in zip(spans, hunks, strict=True):
        body = "\n".join(rows)
        t = count(body)
        if chunks and chunks[-1][3] + t <= budget:
            s0, _, b0, t0 = chunks[-1]
            chunks[-1] = (s0, b, f"{b0}\n{body}", t0 + t)
        elif t <= budget:
            chunks.append((a, b, body, t))
        else:
            for s, e, part, pt in _split_by_tokens(rows[1:], a, count, budget):
                chunks.append((s, e, f"@@ lines {s}-{e} @@\n{part}", pt))
    return [
        Unit(doc.path, doc.language, s, e, body, t, i + 1, len(chunks))
        for i, (s, e, body, t) in enumerate(chunks)
    ]


def _is_anchor(unit: Unit) -> bool:
    """About one file in four may start a request, chosen by a hash of its path."""
    return unit.part == 1 and hashlib.sha256(unit.path.encode()).digest()[0] % 4 == 0


def pack(units: list[Unit], budget: int) -> list[Request]:
    """Consecutive units (sorted by path) into requests under ``budget`` tokens.

    A request also ends before an anchor file (:func:`_is_anchor`) once it holds 30% of the
    budget, so boundaries mostly depend on nearby files: editing one file changes one or two
    requests and the rest stay byte-identical (served by the response cache), where plain
    greedy packing would shift every later boundary.
    """
    requests: list[Request] = []
    used = 0
    for unit in units:
        cost = unit.tokens + 40  # markers
        fits = used + cost <= budget
        if requests and fits and not (_is_anchor(unit) and used >= budget * 3 // 10):
            requests[-1].units.append(unit)
            used += cost
        else:
            requests.append(Request([unit]))
            used = cost
    return requests


def budget_units(docs: dict[str, Doc], budget: int) -> tuple[list[Unit], dict[str, int]]:
    """Every file cut into units of at most ``budget`` tokens (sorted by path)."""
    from ..llm.tokens import count_tokens

    units: list[Unit] = []
    parts: dict[str, int] = {}
    for path in sorted(docs):
        doc = docs[path]
        if doc.allowed is None:
            cut = file_units(doc, count_tokens, budget)
        else:
            cut = diff_units(doc, count_tokens, budget)
        parts[path] = len(cut)
        units.extend(cut)
    return units, parts
