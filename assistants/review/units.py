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
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .spans import cut_points, split_lines

__all__ = [
    "BYTE_BOUND",
    "Counter",
    "Doc",
    "Packer",
    "Request",
    "Unit",
    "budget_units",
    "diff_units",
    "doc_units",
    "file_units",
    "pack",
    "visible",
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
    rules: tuple[int, ...] = ()  # the numbers of the house rules for this path (house.py)

    @classmethod
    def of(cls, path: str, language: str, text: str, **diff: Any) -> Doc:
        """A file from its (redacted) text, lines numbered as git numbers them."""
        return cls(path, language, split_lines(text), **diff)


# str.splitlines() breaks lines at these as well as at "\n": inside a numbered line each is
# shown escaped, so every line the model sees starts with its number
_BREAKERS = str.maketrans(
    {c: c.encode("unicode_escape").decode() for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
)


def visible(text: str) -> str:
    """``text`` with every line breaker other than "\\n" escaped (``\\r``, ``\\x0b``,
    ``\\u2028``, ...)."""
    return text.translate(_BREAKERS)


@dataclass
class Unit:
    """A numbered piece of one file (the whole file, a part of it, or its hunks) as it goes
    into a request: ``block`` is its text there (markers included), ``tokens`` its count."""

    path: str
    language: str
    start: int
    end: int
    body: str
    tokens: int = 0
    part: int = 1
    parts: int = 1
    rules: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        return self.path if self.parts == 1 else f"{self.path}:{self.start}-{self.end}"

    @property
    def marker(self) -> str:
        return hashlib.sha256(f"{self.path}\0{self.body}".encode()).hexdigest()[:12]

    @property
    def block(self) -> str:
        """The unit as sent: its body between markers, ending in a newline (so the token
        count of a request is the sum of its blocks' counts plus its first line's)."""
        marker = self.marker
        path_json = visible(json.dumps(self.path, ensure_ascii=False))
        part = f" part={self.part}/{self.parts}" if self.parts > 1 else ""
        rules = f" rules={','.join(map(str, self.rules))}" if self.rules else ""
        return (
            f"<<<FILE {marker} path={path_json} language={self.language} "
            f"lines={self.start}-{self.end}{part}{rules}>>>\n{self.body}\n"
            f"<<<END FILE {marker}>>>\n"
        )

    def context(self) -> dict[str, Any]:
        return {
            "marker": self.marker,
            "path_json": visible(json.dumps(self.path, ensure_ascii=False)),
            "language": self.language,
            "start": self.start,
            "end": self.end,
            "part": self.part,
            "parts": self.parts,
            "rules": list(self.rules),
            "body": self.body,
            "block": self.block,
        }


@dataclass
class Request:
    """Units sent together in one request; ``messages`` once built."""

    units: list[Unit]
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return sorted({u.path for u in self.units})

    @property
    def tokens(self) -> int:
        return sum(u.tokens for u in self.units)


def _numbered(lines: Sequence[str], start: int, end: int) -> list[str]:
    """Lines ``start``..``end`` as sent: the number, a tab, the line (cheaper in tokens than a
    padded ``"   12 | "`` and read as reliably: it is ``cat -n``'s form). A blank line goes
    empty, without its number (``benchmarks/bench_review.py --mode numbering``: a sixth of
    the numbering's cost; the next number says where counting resumes)."""
    return [_row(n, "", lines[n - 1]) for n in range(start, end + 1)]


def _row(n: int, mark: str, line: str) -> str:
    """One numbered line; a blank unchanged line is sent empty."""
    if not mark.strip() and not line.strip():
        return ""
    return f"{n}{mark}\t{visible(line)}"


def _diff_lines(doc: Doc) -> list[list[str]]:
    """One list of rendered lines per shown range (a hunk header, then the lines)."""
    assert doc.allowed is not None
    added, removed = doc.added, doc.removed
    out = []
    for a, b in doc.allowed:
        rows = [f"@@ lines {a}-{b} @@"]
        for n in range(a, b + 1):
            rows.extend(f"-\t{visible(old)}" for old in removed.get(n, ()))
            mark = "+" if n in added else " "
            rows.append(_row(n, mark, doc.lines[n - 1]))
        if b == len(doc.lines):
            rows.extend(f"-\t{visible(old)}" for old in removed.get(b + 1, ()))
        out.append(rows)
    return out


class Counter(Protocol):
    """Token counting as :class:`assistants.llm.tokens.TokenCache` does it."""

    def counts(self, texts: Sequence[str]) -> list[int]: ...

    def row_counts(self, rows: Sequence[str]) -> list[int]: ...


class _ByteBound:
    """Token counts' upper bound, without the tokenizer: a token is at least one byte."""

    def counts(self, texts: Sequence[str]) -> list[int]:
        return [len(t.encode("utf-8", "surrogatepass")) for t in texts]

    def row_counts(self, rows: Sequence[str]) -> list[int]:
        return self.counts(rows)


BYTE_BOUND: Counter = _ByteBound()


def _split_by_tokens(
    rows: list[str], row_tokens: list[int], first_line: int, budget: int
) -> list[tuple[int, int, str]]:
    """Hard split of numbered rows (one per line) into chunks under ``budget``."""
    chunks: list[tuple[int, int, str]] = []
    cur: list[str] = []
    cur_tokens = 0
    start = first_line
    for i, (row, t) in enumerate(zip(rows, row_tokens, strict=True)):
        if cur and cur_tokens + t > budget:
            chunks.append((start, first_line + i - 1, "\n".join(cur)))
            cur, cur_tokens, start = [], 0, first_line + i
        cur.append(row)
        cur_tokens += t
    if cur:
        chunks.append((start, first_line + len(rows) - 1, "\n".join(cur)))
    return chunks


def _units(doc: Doc, chunks: list[tuple[int, int, str]], counter: Counter) -> list[Unit]:
    """The units of ``doc`` from (start, end, body) chunks, each counted as its block."""
    units = [
        Unit(doc.path, doc.language, s, e, body, 0, i + 1, len(chunks), doc.rules)
        for i, (s, e, body) in enumerate(chunks)
    ]
    for unit, tokens in zip(units, counter.counts([u.block for u in units]), strict=True):
        unit.tokens = tokens
    return units


def file_units(doc: Doc, counter: Counter, budget: int) -> list[Unit]:
    """A whole file as one unit, or split on definition boundaries when over ``budget``."""
    total = len(doc.lines)
    numbered = _numbered(doc.lines, 1, total)
    whole = _units(doc, [(1, total, "\n".join(numbered))], counter)
    if whole[0].tokens <= budget:
        return whole
    text = "\n".join(doc.lines)
    row_tokens = [t + 1 for t in counter.row_counts(numbered)]
    budget -= 40  # the markers of each part
    cumulative = [0, *itertools.accumulate(row_tokens)]

    def seg_tokens(a: int, b: int) -> int:
        return cumulative[b] - cumulative[a - 1]

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
    chunks: list[tuple[int, int, str]] = []
    for s, e in pieces:
        rows = numbered[s - 1 : e]
        if seg_tokens(s, e) > budget:  # one definition bigger than the budget: cut by lines
            chunks.extend(_split_by_tokens(rows, row_tokens[s - 1 : e], s, budget))
        else:
            chunks.append((s, e, "\n".join(rows)))
    return _units(doc, chunks, counter)


def diff_units(doc: Doc, counter: Counter, budget: int) -> list[Unit]:
    """The hunks of a changed file as one unit, or packed into several under ``budget``
    (a hunk larger than the budget is cut by lines)."""
    hunks = _diff_lines(doc)
    assert doc.allowed is not None
    spans = list(doc.allowed)
    whole = "\n".join("\n".join(h) for h in hunks)
    units = _units(doc, [(spans[0][0], spans[-1][1], whole)], counter)
    if units[0].tokens <= budget:
        return units
    budget -= 40  # the markers of each part
    hunk_tokens = counter.counts(["\n".join(rows) for rows in hunks])
    chunks: list[tuple[int, int, str]] = []
    used = 0
    for (a, b), rows, t in zip(spans, hunks, hunk_tokens, strict=True):
        body = "\n".join(rows)
        if chunks and used + t <= budget:
            s0, _, b0 = chunks[-1]
            chunks[-1] = (s0, b, f"{b0}\n{body}")
            used += t
        elif t <= budget:
            chunks.append((a, b, body))
            used = t
        else:
            row_tokens = [n + 1 for n in counter.row_counts(rows[1:])]
            for s, e, part in _split_by_tokens(rows[1:], row_tokens, a, budget):
                chunks.append((s, e, f"@@ lines {s}-{e} @@\n{part}"))
            used = budget  # the next hunk starts a new part
    return _units(doc, chunks, counter)


def doc_units(doc: Doc, counter: Counter, budget: int) -> list[Unit]:
    """``doc`` cut into units of at most ``budget`` tokens (as far as lines allow)."""
    if doc.allowed is None:
        return file_units(doc, counter, budget)
    return diff_units(doc, counter, budget)


# Request boundaries are content-defined, so that one edited file re-sends only the requests
# near it and the response cache serves the rest. A file is an *anchor* (a request may start
# at it) with a probability proportional to its size, decided by a hash of its path:
# tokens / (ANCHOR_SPACING x budget), so anchors fall about every ANCHOR_SPACING of a budget
# whatever the files' sizes. A request ends before an anchor once it holds FILL_BEFORE_ANCHOR
# of the budget, or when the next file does not fit. Depending on the file alone, a boundary
# resynchronises at the first anchor after an edit; the first-round rule (one file in four an
# anchor, a boundary once half full) could run two chains of boundaries side by side after an
# edit and re-send a whole review (19 of 66 requests). benchmarks/bench_review.py --mode
# packing measures fill and requests re-sent per random edit for these constants: these fill
# requests to ~80% of the budget and re-send 1.6 requests per edit (worst of 40: 6); anchors
# every 70% with a 25% floor re-sent 1.4 at 65-68% fill, which cost 10% more requests (and
# their repeated instructions) on a repository of real code (--mode tokens).
ANCHOR_SPACING = 1.0
FILL_BEFORE_ANCHOR = 0.4


def _is_anchor(unit: Unit, budget: int) -> bool:
    """May a request start at this unit? (A first part only; see ANCHOR_SPACING.)"""
    if unit.part != 1:
        return False
    draw = int.from_bytes(hashlib.sha256(unit.path.encode()).digest()[:8], "big") / 2**64
    return draw < unit.tokens / (ANCHOR_SPACING * budget)


class Packer:
    """Streaming :func:`pack`: :meth:`add` units in path order; each call returns the request
    the unit closed (if any), so it can be sent while later files are still being read."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._open: Request | None = None
        self._used = 0

    def add(self, unit: Unit) -> Request | None:
        fits = self._used + unit.tokens <= self.budget
        full_enough = self._used >= self.budget * FILL_BEFORE_ANCHOR
        if self._open is not None and fits and not (full_enough and _is_anchor(unit, self.budget)):
            self._open.units.append(unit)
            self._used += unit.tokens
            return None
        closed, self._open, self._used = self._open, Request([unit]), unit.tokens
        return closed

    def finish(self) -> Request | None:
        closed, self._open, self._used = self._open, None, 0
        return closed


def pack(units: list[Unit], budget: int) -> list[Request]:
    """Consecutive units (sorted by path) into requests under ``budget`` tokens.

    A request also ends before an anchor file (:func:`_is_anchor`) once it holds
    :data:`FILL_BEFORE_ANCHOR` of the budget, so boundaries depend on nearby files only:
    editing one file changes one or two requests and the rest stay byte-identical (served by
    the response cache), where plain greedy packing would shift every later boundary.
    """
    packer = Packer(budget)
    requests = [r for r in map(packer.add, units) if r is not None]
    last = packer.finish()
    return [*requests, last] if last is not None else requests


def budget_units(
    docs: dict[str, Doc], budget: int, counter: Counter | None = None
) -> tuple[list[Unit], dict[str, int]]:
    """Every file cut into units of at most ``budget`` tokens (sorted by path)."""
    from ..llm.tokens import TokenCache

    counter = counter or TokenCache()
    units: list[Unit] = []
    parts: dict[str, int] = {}
    for path in sorted(docs):
        cut = doc_units(docs[path], counter, budget)
        parts[path] = len(cut)
        units.extend(cut)
    return units, parts
