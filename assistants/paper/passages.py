"""Passage selection: when a paper does not fit the model's context window, the pages most
relevant to a question, up to a token budget.

Pages are scored against the question with BM25 (stdlib only: words of two or more letters or
digits, case-folded, a few stop words dropped), taken best first while they fit, and sent in
page order with their ``[page N]`` markers, so the answer can still cite them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from ..llm.tokens import count_tokens

__all__ = ["page_pieces", "scores", "select_pages", "words"]

_MARK = re.compile(r"^\[page (\d+)\]\n", re.M)
_WORD = re.compile(r"[^\W_]{2,}")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
    ]
)
K1 = 1.5
B = 0.75


def page_pieces(tagged_text: str) -> list[tuple[int, str]]:
    """``(page number, its text with the marker)`` of page-tagged paper text."""
    marks = list(_MARK.finditer(tagged_text))
    pieces = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(tagged_text)
        piece = tagged_text[mark.start() : end].strip()
        if piece:
            pieces.append((int(mark.group(1)), piece))
    return pieces


def words(text: str) -> list[str]:
    """The words BM25 scores: two or more letters or digits, case-folded, stop words out."""
    return [w for w in _WORD.findall(text.casefold()) if w not in _STOP]


def scores(pieces: Sequence[tuple[int, str]], question: str) -> list[float]:
    """The BM25 score of each piece for ``question``."""
    docs = [Counter(words(text)) for _, text in pieces]
    if not docs:
        return []
    lengths = [sum(doc.values()) for doc in docs]
    mean = (sum(lengths) / len(lengths)) or 1.0
    terms = set(words(question))
    idf = {
        term: math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for term in terms
        for df in [sum(1 for doc in docs if term in doc)]
    }
    out = []
    for doc, length in zip(docs, lengths, strict=True):
        total = 0.0
        for term in terms:
            tf = doc.get(term, 0)
            if tf:
                total += idf[term] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / mean))
        out.append(total)
    return out


def select_pages(tagged_text: str, question: str, budget: int) -> list[tuple[int, str]]:
    """The pages to send for ``question``: ``(number, text)``, the most relevant first while
    they fit in ``budget`` tokens (ties: earlier pages first), returned in page order. Empty
    when not even one page fits."""
    pieces = page_pieces(tagged_text)
    ranked = sorted(
        zip(pieces, scores(pieces, question), strict=True), key=lambda item: (-item[1], item[0][0])
    )
    chosen: list[tuple[int, str]] = []
    used = 0
    for piece, _ in ranked:
        tokens = count_tokens(piece[1]) + 2  # the blank line between pages
        if used + tokens <= budget:
            chosen.append(piece)
            used += tokens
    return sorted(chosen)
