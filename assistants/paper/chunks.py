"""Long papers: the body cut into chunks for the map step of map → reduce.

:func:`plan_chunks` cuts the body (references left out) at top-level section starts, merges
small sections and splits large ones at page boundaries, so that each :class:`Chunk` has about
``paper.chunk_tokens`` tokens at most; a single page bigger than a chunk is cut at a line
break (else a space) near its middle.
"""

from __future__ import annotations

import itertools

from pydantic import BaseModel, Field

from ..llm.tokens import count_tokens
from .text import Paper

__all__ = ["Chunk", "plan_chunks"]


class Chunk(BaseModel):
    """A part of the paper for the map step: page pieces ``(page, start, end)``."""

    pieces: list[tuple[int, int, int]]
    sections: list[str] = Field(default_factory=list)
    tokens: int = 0

    def text(self, paper: Paper) -> str:
        merged: list[tuple[int, int, int]] = []
        for page, lo, hi in self.pieces:  # one [page N] marker for adjoining pieces
            if merged and merged[-1][0] == page and merged[-1][2] == lo:
                merged[-1] = (page, merged[-1][1], hi)
            else:
                merged.append((page, lo, hi))
        out: list[str] = []
        for page, lo, hi in merged:
            piece = paper.pages[page - 1].text[lo:hi].strip("\n")
            if piece.strip():
                out.append(f"[page {page}]\n{piece}")
        return "\n\n".join(out)


def plan_chunks(paper: Paper, chunk_tokens: int, *, cut_references: bool = True) -> list[Chunk]:
    """Cut the paper body at top-level section starts; merge small sections and split large
    ones at page boundaries so that each chunk has about ``chunk_tokens`` tokens at most."""
    spans = (
        paper.body_spans()
        if cut_references
        else [((1, 0), (paper.page_count, len(paper.pages[-1].text)))]
    )
    top = min((s.level for s in paper.sections), default=1)
    starts = sorted(
        (s.start_page, s.start_char, s.title)
        for s in paper.sections
        if s.level == top and s is not paper.references
    )
    # atoms: (page, lo, hi, section title) pieces of at most one page and one section
    atoms: list[tuple[int, int, int, str]] = []
    for (start_page, start_char), (end_page, end_char) in spans:
        for page in range(start_page, end_page + 1):
            text = paper.pages[page - 1].text
            lo = start_char if page == start_page else 0
            hi = end_char if page == end_page else len(text)
            cuts = [lo] + [c for p, c, _ in starts if p == page and lo < c < hi] + [hi]
            for a, b in itertools.pairwise(cuts):
                title = "Front matter"
                for p, c, name in starts:
                    if (p, c) <= (page, a):
                        title = name
                if text[a:b].strip():
                    atoms.append((page, a, b, title))
    # group by section, then pack
    units: list[Chunk] = []
    for title, group in _group_by(atoms):
        current = Chunk(pieces=[], sections=[title])
        for page, a, b, _ in group:
            for lo, hi, tokens in _split_piece(paper.pages[page - 1].text, a, b, chunk_tokens):
                if current.pieces and current.tokens + tokens > chunk_tokens:
                    units.append(current)
                    current = Chunk(pieces=[], sections=[title])
                current.pieces.append((page, lo, hi))
                current.tokens += tokens
        if current.pieces:
            units.append(current)
    chunks: list[Chunk] = []
    for unit in units:
        last = chunks[-1] if chunks else None
        if last is not None and last.tokens + unit.tokens <= chunk_tokens:
            last.pieces.extend(unit.pieces)
            last.tokens += unit.tokens
            for name in unit.sections:
                if name not in last.sections:
                    last.sections.append(name)
        else:
            chunks.append(unit.model_copy(deep=True))
    return chunks


def _split_piece(text: str, a: int, b: int, limit: int) -> list[tuple[int, int, int]]:
    """``text[a:b]`` as ``(start, end, tokens)`` pieces of at most ``limit`` tokens (a page
    bigger than a chunk is cut at line breaks, else at spaces, near the middle)."""
    tokens = count_tokens(text[a:b]) + 6
    if tokens <= limit or b - a < 64:
        return [(a, b, tokens)]
    mid = a + (b - a) // 2
    lo, hi = a + (b - a) // 4, a + 3 * (b - a) // 4
    cut = -1
    for sep in ("\n", " "):
        before, after = text.rfind(sep, lo, mid), text.find(sep, mid, hi)
        options = [c for c in (before, after) if c > a]
        if options:
            cut = min(options, key=lambda c: abs(c - mid)) + 1
            break
    if cut <= a or cut >= b:
        cut = mid
    return _split_piece(text, a, cut, limit) + _split_piece(text, cut, b, limit)


def _group_by(
    atoms: list[tuple[int, int, int, str]],
) -> list[tuple[str, list[tuple[int, int, int, str]]]]:
    groups: list[tuple[str, list[tuple[int, int, int, str]]]] = []
    for atom in atoms:
        if groups and groups[-1][0] == atom[3]:
            groups[-1][1].append(atom)
        else:
            groups.append((atom[3], [atom]))
    return groups
