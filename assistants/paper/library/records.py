"""A paper's bibliographic record from what the loader found, and the labels answers cite.

Title, authors, DOI and arXiv ID come from :func:`~assistants.paper.text.build_paper` (PDF
metadata first, then the first pages). Two things are added here:

* the **year**: the loader's (arXiv's metadata), else from a new-style arXiv ID
  (``2401.01234`` → 2024), else a year printed in the first lines of page 1 (a venue line, a
  copyright line, a date), else the PDF's creation date;
* **authors** from the line under the title when the PDF metadata has none.

Labels (``Lovelace 2024``, ``Lovelace and Turing 2024``, ``Lovelace et al. 2024``) are unique
within a library: papers that would share one get ``a``, ``b`` … after the year, in the order
of their paths.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date

from ..text import Paper
from .models import LibraryPaper

__all__ = [
    "author_label",
    "find_year",
    "first_page_authors",
    "fold",
    "record_from_paper",
    "surname",
    "unique_suffixes",
    "with_labels",
]

_YEAR = re.compile(r"(?<![\d.])(19[5-9]\d|20\d\d)(?![\d.])")
_ARXIV_NEW = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}")
_ARXIV_OLD = re.compile(r"/(\d{2})(\d{2})\d{3}")
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})")
_NAME = re.compile(r"^[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,3}$")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def find_year(paper: Paper) -> int | None:
    """The year of publication as well as the paper tells it (see the module docstring); the
    year the loader found (arXiv's metadata for a paper loaded by identifier) comes first."""
    latest = date.today().year + 1
    if paper.year:
        return paper.year
    if paper.arxiv_id:
        match = _ARXIV_NEW.match(paper.arxiv_id) or _ARXIV_OLD.search(paper.arxiv_id)
        if match and 1 <= int(match.group(2)) <= 12:
            yy = int(match.group(1))
            return (1900 if yy >= 91 else 2000) + yy
    if paper.pages:
        for line in paper.pages[0].text.splitlines()[:25]:
            for found in _YEAR.findall(line):
                if int(found) <= latest:
                    return int(found)
    for key in ("creationdate", "moddate"):
        match = _PDF_DATE.match(paper.metadata.get(key, ""))
        if match and 1950 <= int(match.group(1)) <= latest:
            return int(match.group(1))
    return None


def first_page_authors(paper: Paper) -> list[str]:
    """Names from the first lines of page 1 after the title: a line of 1–12 names (two to four
    capitalised words each) separated by commas or "and"."""
    if not paper.pages:
        return []
    lines = [line.strip() for line in paper.pages[0].text.splitlines()[:12]]
    start = 0
    if paper.title:
        for index, line in enumerate(lines):
            if line and line in paper.title:
                start = index + 1
                break
    for line in lines[start : start + 4]:
        line = re.sub(r"[\d*†‡§¶]+(?=,|\s|$)", "", line)  # affiliation marks
        parts = [p.strip() for p in re.split(r"\s*(?:,|;|\band\b|&)\s*", line) if p.strip()]
        if 1 <= len(parts) <= 12 and all(_NAME.match(part) for part in parts):
            return parts
    return []


def record_from_paper(paper: Paper, source: str, *, sha256: str = "") -> LibraryPaper:
    """The record of a loaded paper (``source``: its path as the library names it)."""
    return LibraryPaper(
        source=source,
        title=paper.title,
        authors=paper.authors or first_page_authors(paper),
        year=find_year(paper),
        doi=paper.doi,
        arxiv_id=paper.arxiv_id,
        page_count=paper.page_count,
        sha256=sha256,
    )


def surname(name: str) -> str:
    """The family name: ``"Ada Lovelace"``, ``"Lovelace, Ada"``, ``"Martin Luther King Jr."``."""
    if "," in name:
        return name.split(",", 1)[0].strip()
    words = [w for w in name.split() if w.lower() not in _SUFFIXES]
    return words[-1] if words else name.strip()


def author_label(authors: Sequence[str]) -> str | None:
    names = [surname(a) for a in authors if a.strip()]
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def _fallback_name(record: LibraryPaper) -> str:
    if record.title:
        words = record.title.split()
        return " ".join(words[:3]) + (" …" if len(words) > 3 else "")
    stem = record.source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem or "Anonymous"


def unique_suffixes(keys: Sequence[str]) -> list[str]:
    """``keys`` with ``a``, ``b`` … appended to each one that occurs more than once (in
    order), so that every result is unique."""
    counts: dict[str, int] = {}
    for key in keys:
        counts[fold(key)] = counts.get(fold(key), 0) + 1
    seen: dict[str, int] = {}
    out = []
    taken = {fold(k) for k in keys}
    for key in keys:
        folded = fold(key)
        if counts[folded] == 1:
            out.append(key)
            continue
        while True:
            n = seen.get(folded, 0)
            seen[folded] = n + 1
            candidate = key + _letters(n)
            if fold(candidate) not in taken:
                break
        taken.add(fold(candidate))
        out.append(candidate)
    return out


def _letters(n: int) -> str:
    """0 → a, 25 → z, 26 → aa …"""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def fold(text: str) -> str:
    """``text`` for comparing labels: case, accents, punctuation and ``&``/``and`` ignored."""
    text = unicodedata.normalize("NFKD", text).replace("&", " and ")
    return " ".join(re.findall(r"\w+", text.casefold()))


def with_labels(records: Iterable[LibraryPaper]) -> list[LibraryPaper]:
    """The records (sorted by source) with unique citation labels."""
    ordered = sorted(records, key=lambda r: r.source)
    bases = [f"{author_label(r.authors) or _fallback_name(r)} {r.year or 'n.d.'}" for r in ordered]
    return [
        r.model_copy(update={"label": label})
        for r, label in zip(ordered, unique_suffixes(bases), strict=True)
    ]
