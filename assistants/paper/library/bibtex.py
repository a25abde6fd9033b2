"""BibTeX entries from the metadata the loader found: title, authors, year, DOI, and the arXiv
ID as ``eprint`` with ``archivePrefix = {arXiv}``.

Keys are ``firstauthorYEARfirstword`` in ASCII lower case (``lovelace2024sparse``; no author:
the title's first words; no year: none), stable for the same metadata, and unique: keys that
collide get ``a``, ``b`` … in the order of the papers' paths. Values escape LaTeX's special
characters; the title is wrapped in an extra pair of braces so its capitals survive a
bibliography style.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from ...config import Settings
from ..request import as_paper, resolve_settings
from ..text import Paper
from .models import LibraryPaper
from .records import record_from_paper, surname, unique_suffixes

__all__ = ["bibtex_entries", "bibtex_entry", "bibtex_key", "latex_escape", "paper_bibtex"]

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL = re.compile("|".join(re.escape(ch) for ch in _SPECIALS))
_SKIP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "on",
        "of",
        "in",
        "for",
        "to",
        "and",
        "with",
        "from",
        "towards",
        "toward",
        "via",
    ]
)


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (whitespace runs collapsed)."""
    return _SPECIAL.sub(lambda m: _SPECIALS[m.group(0)], " ".join(text.split()))


_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "ı": "i"}
)  # fmt: skip


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits: accents dropped, ø → o, ß → ss …"""
    plain = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    plain = plain.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def bibtex_key(paper: LibraryPaper) -> str:
    """``firstauthorYEARfirstword`` (before the uniqueness suffix)."""
    author = _ascii(surname(paper.authors[0])) if paper.authors else ""
    title_words = [_ascii(w) for w in (paper.title or "").split()]
    first = next((w for w in title_words if w and w not in _SKIP_WORDS), "")
    year = str(paper.year) if paper.year else ""
    if not author:
        author = first or _ascii(paper.source.rsplit("/", 1)[-1].rsplit(".", 1)[0]) or "paper"
        first = next((w for w in title_words[1:] if w and w not in _SKIP_WORDS), "")
    return f"{author}{year}{first}"


def bibtex_entry(paper: LibraryPaper, key: str | None = None) -> str:
    """One ``@misc`` entry (the metadata found says nothing of the venue)."""
    fields: list[tuple[str, str]] = []
    if paper.title:
        fields.append(("title", "{" + latex_escape(paper.title) + "}"))
    if paper.authors:
        fields.append(("author", " and ".join(latex_escape(a) for a in paper.authors)))
    if paper.year:
        fields.append(("year", str(paper.year)))
    if paper.doi:
        fields.append(("doi", latex_escape(paper.doi)))
    if paper.arxiv_id:
        fields.append(("eprint", latex_escape(paper.arxiv_id)))
        fields.append(("archivePrefix", "arXiv"))
    if not paper.title:
        fields.append(("note", latex_escape(f"file: {paper.source}")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key or bibtex_key(paper)},\n{body}\n}}\n"


def bibtex_entries(papers: Sequence[LibraryPaper]) -> str:
    """Entries of ``papers`` (sorted by path), keys made unique, separated by blank lines."""
    ordered = sorted(papers, key=lambda p: p.source)
    keys = unique_suffixes([bibtex_key(p) for p in ordered])
    return "\n".join(bibtex_entry(p, k) for p, k in zip(ordered, keys, strict=True))


def paper_bibtex(
    paper: Paper | str | Path | bytes,
    *,
    settings: Settings | None = None,
    password: str | None = None,
) -> str:
    """The BibTeX entry of one paper (a :class:`Paper`, or anything :func:`load_paper`
    takes)."""
    settings = resolve_settings(settings)
    loaded = as_paper(paper, settings, password)
    source = loaded.source.replace("\\", "/")
    return bibtex_entry(record_from_paper(loaded, source))
