"""Headings and references found in page text.

- :func:`detect_headings`: the fallback when a PDF has no outline: numbered headings
  (checked to follow one another: 1, 1.1, 1.2, 2 ...), the usual named ones (Abstract,
  Introduction, Related Work, Method, Experiments, Results, Discussion, Conclusion,
  References, Appendix ...) and lettered appendix headings after the references.
- :func:`detect_markdown_headings`: ``#`` headings of a markdown paper.
- :func:`locate_outline`: a PDF outline's entries found on their pages.
- :func:`count_references`: how many entries a references section holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .clean import clean_text

__all__ = [
    "APPENDIX_TITLE",
    "NAMED_HEADING",
    "REFERENCES_TITLE",
    "Heading",
    "count_references",
    "detect_headings",
    "detect_markdown_headings",
    "locate_outline",
]

_NAMES = (
    r"abstract|introduction|related\s+work|related\s+literature|background|preliminaries|"
    r"problem\s+(?:setup|statement|formulation)|methods?|methodology|approach|our\s+approach|"
    r"proposed\s+method|model|experiments?|experimental\s+(?:setup|results|evaluation)|"
    r"evaluation|results(?:\s+and\s+discussion)?|analysis|discussion|"
    r"conclusions?(?:\s+and\s+future\s+work)?|summary|limitations|future\s+work|"
    r"broader\s+impacts?|ethics\s+statement|acknowledg(?:e)?ments?|references|bibliography|"
    r"works\s+cited|literature\s+cited|appendix|appendices|supplementary\s+materials?|"
    r"参考文献|參考文獻"
)
_PREFIX = (
    r"(?:(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+|(?P<roman>[IVX]{1,5})\.\s+|(?P<let>[A-H])\.?\s+)?"
)
NAMED_HEADING = re.compile(rf"^{_PREFIX}(?P<name>{_NAMES})\s*:?$", re.IGNORECASE)
_APPENDIX_NAMED = re.compile(
    r"^(?:appendix|supplementary\s+material)\s+(?P<let>[A-Z])(?:[.:]|\s+[-–—]\s*|\s+)"
    r"(?P<title>\S.{0,80})$",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z][^\n]{1,90})$")
_ROMAN_NUMBERED = re.compile(r"^(?P<num>[IVX]{1,5})\.\s+(?P<title>[A-Z][^\n]{1,90})$")
_ROMAN = {"I": 1, "V": 5, "X": 10}
_LETTERED = re.compile(r"^(?P<num>[A-H](?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z][^\n]{1,90})$")
REFERENCES_TITLE = re.compile(
    r"^(?:references|bibliography|works\s+cited|literature\s+cited|参考文献|參考文獻)$",
    re.IGNORECASE,
)
APPENDIX_TITLE = re.compile(r"^(?:appendix|appendices|supplementary)\b", re.IGNORECASE)
_TOC_LINE = re.compile(r"(\.\s?){4,}\s*\d+$|\s\d{1,4}$")


@dataclass(frozen=True)
class Heading:
    """A heading found in the text: 1-based page, char offset of the heading line."""

    title: str
    level: int
    page: int
    offset: int
    kind: Literal["named", "numbered", "appendix", "outline", "markdown"]


def _title_ok(title: str) -> bool:
    words = title.split()
    if not 1 <= len(words) <= 14 or title[-1] in ".,;:":
        return False
    if _TOC_LINE.search(title):
        return False
    letters = sum(ch.isalpha() for ch in title)
    return letters >= 0.6 * len(title.replace(" ", "")) and not re.search(r"[=<>≤≥±]", title)


def _follows(number: tuple[int, ...], last: tuple[int, ...]) -> bool:
    """Whether heading ``number`` can come right after ``last`` (1 → 1.1 → 1.2 → 2 ...)."""
    if not last:
        return len(number) == 1 and number[0] in (0, 1)
    depth = len(number)
    if number[:-1] != last[: depth - 1] or len(last) < depth - 1:
        return False
    previous = last[depth - 1] if len(last) >= depth else 0
    return number[-1] == previous + 1


def _lines(text: str) -> Iterable[tuple[int, str]]:
    offset = 0
    for raw in text.split("\n"):
        yield offset, raw.strip()
        offset += len(raw) + 1


def detect_headings(pages: Sequence[str]) -> list[Heading]:
    """Headings found from text patterns alone (pages are 1-based in the result)."""
    found: list[Heading] = []
    last: tuple[int, ...] = ()
    last_roman = 0
    after_references = False
    in_appendix = False
    # Numbered headings after a References heading are held back: they are confirmed (the
    # references were mid-paper, e.g. a survey or per-chapter lists) by a numbered named
    # heading that continues them ("4 Discussion"), else they are reference entries.
    pending: list[tuple[Heading, tuple[int, ...]]] = []
    for page_number, text in enumerate(pages, start=1):
        for offset, line in _lines(text):
            if not line or len(line) > 100:
                continue
            named = NAMED_HEADING.match(line)
            if named:
                name = " ".join(named.group("name").split())
                title = line.rstrip(":").strip()
                level = 1
                if named.group("num"):
                    number = tuple(int(x) for x in named.group("num").split("."))
                    level = len(number)
                    if after_references and not in_appendix:
                        held = pending[-1][1] if pending else last
                        if _follows(number, held):
                            found.extend(heading for heading, _ in pending)
                            after_references = False
                        pending = []
                    last = number
                elif named.group("roman"):
                    last_roman = _roman_value(named.group("roman"))
                elif named.group("let"):
                    level = named.group(0).count(".") + 1 if in_appendix else 1
                if REFERENCES_TITLE.match(name):
                    after_references = True
                if APPENDIX_TITLE.match(name):
                    in_appendix = True
                found.append(Heading(title, level, page_number, offset, "named"))
                continue
            appendix = _APPENDIX_NAMED.match(line)
            if appendix and _title_ok(appendix.group("title")):
                in_appendix = True
                found.append(Heading(line, 1, page_number, offset, "appendix"))
                continue
            if in_appendix or after_references:
                lettered = _LETTERED.match(line)
                if lettered and _title_ok(lettered.group("title")):
                    in_appendix = True
                    depth = lettered.group("num").count(".") + 1
                    found.append(Heading(line, depth, page_number, offset, "appendix"))
                    continue
                numbered = None if in_appendix else _NUMBERED.match(line)
                if numbered and _title_ok(numbered.group("title")):
                    number = tuple(int(x) for x in numbered.group("num").split("."))
                    if _follows(number, pending[-1][1] if pending else last):
                        heading = Heading(line, len(number), page_number, offset, "numbered")
                        pending.append((heading, number))
                continue  # numbered lines after the references are reference entries
            numbered = _NUMBERED.match(line)
            if numbered and _title_ok(numbered.group("title")):
                number = tuple(int(x) for x in numbered.group("num").split("."))
                if _follows(number, last):
                    last = number
                    found.append(Heading(line, len(number), page_number, offset, "numbered"))
                continue
            roman = _ROMAN_NUMBERED.match(line)  # IEEE style: "II. RELATED WORK"
            if roman and _title_ok(roman.group("title")):
                value = _roman_value(roman.group("num"))
                if value == last_roman + 1:
                    last_roman = value
                    found.append(Heading(line, 1, page_number, offset, "numbered"))
    return found


def _roman_value(text: str) -> int:
    total = 0
    for index, char in enumerate(text):
        value = _ROMAN[char]
        following = _ROMAN[text[index + 1]] if index + 1 < len(text) else 0
        total += -value if value < following else value
    return total


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def detect_markdown_headings(pages: Sequence[str]) -> list[Heading]:
    found: list[Heading] = []
    in_fence = False
    for page_number, text in enumerate(pages, start=1):
        for offset, line in _lines(text):
            if line.startswith("```") or line.startswith("~~~"):
                in_fence = not in_fence
                continue
            match = None if in_fence else _MD_HEADING.match(line)
            if match:
                found.append(
                    Heading(match.group(2), len(match.group(1)), page_number, offset, "markdown")
                )
    return found


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def locate_outline(pages: Sequence[str], outline: Sequence[tuple[str, int, int]]) -> list[Heading]:
    """Outline entries ``(title, level, page_index)`` → headings with char offsets, found by
    looking for the title's line on its page (offset 0 when the line is not there)."""
    found: list[Heading] = []
    for title, level, page_index in outline:
        if not 0 <= page_index < len(pages):
            continue
        title = " ".join(clean_text(title).split())
        if not title:
            continue
        target = _norm(title)
        offset = 0
        if target:
            previous = found[-1] if found and found[-1].page == page_index + 1 else None
            floor = previous.offset + 1 if previous else 0
            for line_offset, line in _lines(pages[page_index]):
                if line_offset < floor:
                    continue
                norm = _norm(line)
                if norm and (norm == target or (len(norm) <= len(target) + 8 and target in norm)):
                    offset = line_offset
                    break
            else:
                offset = floor if previous else 0
        found.append(Heading(title, max(1, level), page_index + 1, offset, "outline"))
    found.sort(key=lambda h: (h.page, h.offset))
    return found


# ---------------------------------------------------------------------------------------------
# references


def count_references(text: str) -> int:
    """How many entries a references section holds (best effort)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    bracketed = {m.group(1) for line in lines if (m := re.match(r"^\[(\d{1,4})\]", line))}
    if len(bracketed) >= 2:
        return len(bracketed)
    numbered = [int(m.group(1)) for line in lines if (m := re.match(r"^(\d{1,4})\.\s+\S", line))]
    # numbered entries: count the longest run 1, 2, 3 ...
    run = 0
    for value in numbered:
        if value == run + 1:
            run = value
    if run >= 2:
        return run
    author_year = [
        line
        for line in lines
        if re.match(r"^[A-Z][\w'’\-]+(?:\s[A-Z][\w'’\-]+)?,\s+(?:[A-Z]\.|[A-Z][a-z]+)", line)
        and not re.match(r"^(?:In|Proceedings|Journal|Vol)\b", line)
    ]
    if author_year:
        return len(author_year)
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    if len(blocks) > 2:
        return len(blocks) - 1  # minus the heading
    # one entry per line starting with a capital; continuation lines (URLs, lowercase starts)
    # and page numbers are not counted
    return sum(1 for line in lines[1:] if re.match(r"^[A-Z]", line))
