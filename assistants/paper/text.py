"""Paper text model and the pure-text half of the paper loader.

:class:`Paper` is what the PDF loader (:mod:`assistants.paper.pdf`) and the text loader here
produce: pages (1-based numbers and printed labels), metadata, sections with page spans, and the
references section located (excluded from analysis, but counted).

Everything here is plain string processing, no I/O except :func:`load_text_paper` reading a
``.txt`` / ``.md`` file:

- :func:`clean_text`: ligatures (ﬁ ﬂ ﬀ ﬃ ﬄ) expanded, end-of-line hyphenation joined,
  soft hyphens, zero-width and control characters, lone surrogates and U+FFFD removed, NFC.
- :func:`detect_headings`: the fallback when a PDF has no outline: numbered headings
  (checked to follow one another: 1, 1.1, 1.2, 2 ...), the usual named ones (Abstract,
  Introduction, Related Work, Method, Experiments, Results, Discussion, Conclusion,
  References, Appendix ...) and lettered appendix headings after the references.
- :func:`build_paper`: pages + outline + metadata → :class:`Paper`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Heading",
    "Page",
    "Paper",
    "Section",
    "build_paper",
    "clean_text",
    "count_references",
    "detect_headings",
    "find_arxiv_id",
    "find_doi",
    "load_text_paper",
    "paper_from_text",
    "split_synthetic_pages",
]

# ---------------------------------------------------------------------------------------------
# the model


class Page(BaseModel):
    """One page: ``number`` is 1-based and physical; ``label`` is the printed label (``"iv"``,
    ``"127"``) when the PDF defines page labels, else the number as a string."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    label: str
    text: str


class Section(BaseModel):
    """A section and its span. ``text`` runs from the heading to the next heading of the same
    or a higher level (so it includes the subsections); ``start_char``/``end_char`` are offsets
    into the start and end pages' text (``end_char`` exclusive)."""

    title: str
    level: int = Field(ge=1)
    start_page: int = Field(ge=1)
    end_page: int = Field(ge=1)
    start_char: int = Field(default=0, ge=0)
    end_char: int = Field(default=0, ge=0)
    text: str = ""


SectionSource = Literal["outline", "headings", "markdown", "none"]


class Paper(BaseModel):
    """A loaded paper. Build it with :func:`assistants.paper.pdf.load_paper`."""

    source: str
    kind: Literal["pdf", "text", "markdown"] = "pdf"
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    doi: str | None = None
    arxiv_id: str | None = None
    pages: list[Page]
    sections: list[Section] = Field(default_factory=list)
    sections_from: SectionSource = "none"
    references_page: int | None = None
    references: Section | None = None
    reference_count: int = 0
    metadata: dict[str, str] = Field(default_factory=dict)
    synthetic_pages: bool = False
    warnings: list[str] = Field(default_factory=list)

    # -- pages ------------------------------------------------------------------------------
    @property
    def page_count(self) -> int:
        return len(self.pages)

    def page_numbers(self) -> set[int]:
        return {page.number for page in self.pages}

    def page(self, number: int) -> Page:
        """The page with this 1-based physical number."""
        if not 1 <= number <= len(self.pages):
            raise IndexError(f"page {number} is not in 1..{len(self.pages)}")
        return self.pages[number - 1]

    def label_map(self) -> dict[str, int]:
        """Printed label → physical page number, for labels that occur exactly once."""
        seen: dict[str, list[int]] = {}
        for page in self.pages:
            seen.setdefault(page.label, []).append(page.number)
        return {label: nums[0] for label, nums in seen.items() if len(nums) == 1}

    # -- text -------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """All the text, pages separated by blank lines."""
        return "\n\n".join(page.text for page in self.pages)

    def text_between(
        self,
        start: tuple[int, int],
        end: tuple[int, int],
        *,
        tagged: bool = False,
    ) -> str:
        """Text from ``start`` to ``end`` (each ``(page_number, char_offset)``, end exclusive).
        With ``tagged`` each page's piece starts with a ``[page N]`` marker."""
        pieces: list[str] = []
        start_page, start_char = start
        end_page, end_char = end
        for number in range(start_page, end_page + 1):
            text = self.pages[number - 1].text
            lo = start_char if number == start_page else 0
            hi = end_char if number == end_page else len(text)
            piece = text[lo:hi].strip("\n")
            if not piece.strip():
                continue
            pieces.append(f"[page {number}]\n{piece}" if tagged else piece)
        return "\n\n".join(pieces)

    def body_spans(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """The document minus the references section, as ``(start, end)`` positions."""
        end = (len(self.pages), len(self.pages[-1].text)) if self.pages else (1, 0)
        refs = self.references
        if refs is None:
            return [((1, 0), end)]
        spans = [((1, 0), (refs.start_page, refs.start_char))]
        if (refs.end_page, refs.end_char) < end:
            spans.append(((refs.end_page, refs.end_char), end))
        return spans

    def body_text(self, *, tagged: bool = True) -> str:
        """What the analysis reads: every page except the references (appendices kept), with
        ``[page N]`` markers when ``tagged``."""
        parts = [self.text_between(s, e, tagged=tagged) for s, e in self.body_spans()]
        return "\n\n".join(part for part in parts if part)

    def section_text(self, section: Section, *, tagged: bool = True) -> str:
        return self.text_between(
            (section.start_page, section.start_char),
            (section.end_page, section.end_char),
            tagged=tagged,
        )

    # -- display ----------------------------------------------------------------------------
    def to_markdown(self) -> str:
        lines = [f"# {self.title or Path(self.source).name}", ""]
        if self.authors:
            lines.append(f"*{', '.join(self.authors)}*")
            lines.append("")
        facts = [f"{self.page_count} pages", f"sections from {self.sections_from}"]
        if self.doi:
            facts.append(f"DOI {self.doi}")
        if self.arxiv_id:
            facts.append(f"arXiv {self.arxiv_id}")
        if self.references_page:
            facts.append(
                f"references from p. {self.references_page} ({self.reference_count} entries, "
                "excluded from analysis)"
            )
        lines.append("; ".join(facts))
        if self.sections:
            lines.append("")
            for section in self.sections:
                indent = "  " * (section.level - 1)
                span = (
                    f"p. {section.start_page}"
                    if section.start_page == section.end_page
                    else f"pp. {section.start_page}–{section.end_page}"
                )
                lines.append(f"{indent}- {section.title} ({span})")
        if self.warnings:
            lines.append("")
            lines.extend(f"> warning: {w}" for w in self.warnings)
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


# ---------------------------------------------------------------------------------------------
# cleaning

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\t": " ",
    }
)
# control characters except \n, lone surrogates, U+FFFD, soft hyphen, zero-width characters,
# BOM, and the private-use area (glyphs with no unicode mapping).
_JUNK = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffd\u00ad\u200b-\u200d\u2060\ufeff\ue000-\uf8ff]"
)
_HYPHENS = "-\u2010\u2011"
# "hyphen-\nation" → "hyphenation\n"; not when the left part is itself a compound
# ("state-of-the-\nart" keeps its hyphen) and only when the next line starts in lowercase.
_HYPHENATED = re.compile(
    rf"(?<![{_HYPHENS}\w])([^\W\d_]{{1,40}})[{_HYPHENS}][ ]*\n[ ]*([^\W\d_A-Z]+)([^\s]*)[ ]?"
)
_COMPOUND_END = re.compile(rf"[{_HYPHENS}]([^\W\d_]{{1,40}})[{_HYPHENS}][ ]*\n[ ]*([a-z]+)")


def clean_text(text: str) -> str:
    """Normalise extracted text (see the module docstring). Line structure is kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.translate(_LIGATURES)
    text = _JUNK.sub("", text)
    text = unicodedata.normalize("NFC", text)
    # Compounds first: mark their line-end hyphen so the general rule leaves it alone.
    text = _COMPOUND_END.sub(lambda m: f"-{m[1]}-{m[2]}", text)
    text = _HYPHENATED.sub(lambda m: f"{m[1]}{m[2]}{m[3]}\n", text)
    text = re.sub(r"[ ]{2,}", " ", text)
    text = re.sub(r"[ ]+\n", "\n", text)
    text = re.sub(r"\n[ ]+", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# ---------------------------------------------------------------------------------------------
# metadata

_DOI = re.compile(r"\b(10\.\d{4,9}/[-._;()/:A-Za-z0-9]*[A-Za-z0-9])")
_ARXIV_NEW = re.compile(
    r"(?:arxiv[:\s]\s*|arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5}(?:v\d+)?)", re.IGNORECASE
)
_ARXIV_OLD = re.compile(
    r"(?:arxiv[:\s]\s*|arxiv\.org/(?:abs|pdf)/)([a-z-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)",
    re.IGNORECASE,
)
_ARXIV_FILENAME = re.compile(r"^(\d{4}\.\d{4,5}(?:v\d+)?)$")


def find_doi(*texts: str | None) -> str | None:
    for text in texts:
        if text:
            match = _DOI.search(text)
            if match:
                return match.group(1).rstrip(".")
    return None


def find_arxiv_id(*texts: str | None, filename: str | None = None) -> str | None:
    for text in texts:
        if text:
            match = _ARXIV_NEW.search(text) or _ARXIV_OLD.search(text)
            if match:
                return match.group(1)
    if filename:
        match = _ARXIV_FILENAME.match(Path(filename).stem)
        if match:
            return match.group(1)
    return None


_BAD_TITLES = re.compile(
    r"^(untitled|title|none|null|document\d*|microsoft word\b.*|.*\.(pdf|docx?|tex|dvi))$",
    re.IGNORECASE,
)
_NOT_TITLE_LINE = re.compile(
    r"(arxiv|preprint|proceedings|conference|journal|vol\.|volume|page \d|\bpp\.|@|https?://|"
    r"©|copyright|licen[cs]e|under review|submitted to|workshop)",
    re.IGNORECASE,
)


def _plausible_title(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(clean_text(value).split())
    if len(value) < 4 or len(value) > 300 or _BAD_TITLES.match(value):
        return None
    return value


def _title_from_text(first_page: str) -> str | None:
    for line in first_page.splitlines()[:15]:
        line = line.strip()
        words = line.split()
        if not 2 <= len(words) <= 25 or _NOT_TITLE_LINE.search(line):
            continue
        if _NAMED_HEADING.match(line) or line.endswith("."):
            continue
        if words[0].isalpha() and words[0].islower():
            continue  # a line of prose that continues a sentence (not "mT5: ...", "word2vec")
        letters = sum(ch.isalpha() for ch in line)
        if letters < 0.6 * len(line.replace(" ", "")):
            continue
        return line
    return None


def _split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    value = " ".join(clean_text(value).split())
    parts = re.split(r"\s*(?:;|,|\band\b|&)\s*", value)
    return [part for part in (p.strip() for p in parts) if part and len(part) > 1]


# ---------------------------------------------------------------------------------------------
# headings

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
_NAMED_HEADING = re.compile(rf"^{_PREFIX}(?P<name>{_NAMES})\s*:?$", re.IGNORECASE)
_APPENDIX_NAMED = re.compile(
    r"^(?:appendix|supplementary\s+material)\s+(?P<let>[A-Z])(?:[.:]|\s+[-–—]\s*|\s+)"
    r"(?P<title>\S.{0,80})$",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z][^\n]{1,90})$")
_ROMAN_NUMBERED = re.compile(r"^(?P<num>[IVX]{1,5})\.\s+(?P<title>[A-Z][^\n]{1,90})$")
_ROMAN = {"I": 1, "V": 5, "X": 10}
_LETTERED = re.compile(r"^(?P<num>[A-H](?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z][^\n]{1,90})$")
_REFERENCES = re.compile(
    r"^(?:references|bibliography|works\s+cited|literature\s+cited|参考文献|參考文獻)$",
    re.IGNORECASE,
)
_APPENDIX_TITLE = re.compile(r"^(?:appendix|appendices|supplementary)\b", re.IGNORECASE)
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
            named = _NAMED_HEADING.match(line)
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
                if _REFERENCES.match(name):
                    after_references = True
                if _APPENDIX_TITLE.match(name):
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


# ---------------------------------------------------------------------------------------------
# assembling


def _sections_from(headings: Sequence[Heading], pages: Sequence[str]) -> list[Section]:
    sections: list[Section] = []
    last_page = len(pages)
    doc_end = (last_page, len(pages[-1]) if pages else 0)
    for index, heading in enumerate(headings):
        end = doc_end
        for later in headings[index + 1 :]:
            if later.level <= heading.level:
                end = (later.page, later.offset)
                break
        end_page, end_char = end
        if end_char == 0 and end_page > heading.page:
            # The section stops at the very top of a page: it ends on the page before.
            end_page -= 1
            end_char = len(pages[end_page - 1])
        sections.append(
            Section(
                title=heading.title,
                level=heading.level,
                start_page=heading.page,
                end_page=end_page,
                start_char=heading.offset,
                end_char=end_char,
            )
        )
    return sections


def _find_references(sections: Sequence[Section], pages: Sequence[str]) -> Section | None:
    """The last References/Bibliography heading in the back half of the paper, by pages or by
    characters (a short text has few pages), or followed by an appendix, which marks the end
    of the main text."""
    page_count = len(pages)
    starts = list(itertools.accumulate((len(text) for text in pages), initial=0))
    candidates = []
    for index, section in enumerate(sections):
        name = re.sub(r"^[\dIVX.]+\s+", "", section.title).strip().rstrip(":")
        if not _REFERENCES.match(name):
            continue
        position = starts[section.start_page - 1] + section.start_char
        back_half = section.start_page > page_count / 2 or position > starts[-1] / 2
        appendix_follows = any(
            _APPENDIX_TITLE.match(later.title) or re.match(r"^[A-H](\.\d+)*\.?\s", later.title)
            for later in sections[index + 1 :]
        )
        if back_half or appendix_follows:
            candidates.append(section)
    return candidates[-1] if candidates else None


def build_paper(
    *,
    source: str,
    kind: Literal["pdf", "text", "markdown"],
    pages: Sequence[str],
    labels: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
    outline: Sequence[tuple[str, int, int]] = (),
    synthetic_pages: bool = False,
    warnings: Sequence[str] = (),
    clean: bool = True,
) -> Paper:
    """Assemble a :class:`Paper` from raw page texts (cleaned here unless ``clean=False``)."""
    texts = [clean_text(text) for text in pages] if clean else list(pages)
    labels = list(labels or [])
    if len(labels) != len(texts):
        labels = [str(i) for i in range(1, len(texts) + 1)]
    page_models = [
        Page(number=i, label=label or str(i), text=text)
        for i, (label, text) in enumerate(zip(labels, texts, strict=True), start=1)
    ]
    metadata = {k: v for k, v in (metadata or {}).items() if v}

    headings: list[Heading] = []
    sections_from: SectionSource = "none"
    if kind == "markdown":
        headings = detect_markdown_headings(texts)
        sections_from = "markdown" if headings else "none"
    if not headings and len(outline) >= 2:
        headings = locate_outline(texts, outline)
        sections_from = "outline" if headings else "none"
    pattern_headings = detect_headings(texts) if kind != "markdown" else []
    if not headings:
        headings = pattern_headings
        sections_from = "headings" if headings else "none"
    sections = _sections_from(headings, texts)
    references = _find_references(sections, texts)
    if references is None and sections_from in ("outline", "markdown"):
        # The outline may leave the references out: look for the heading in the text.
        extra = [h for h in pattern_headings if _REFERENCES.match(h.title.split(" ", 1)[-1])]
        merged = sorted([*headings, *extra], key=lambda h: (h.page, h.offset))
        references = _find_references(_sections_from(merged, texts), texts)

    paper = Paper(
        source=source,
        kind=kind,
        pages=page_models,
        sections_from=sections_from,
        metadata=metadata,
        synthetic_pages=synthetic_pages,
        warnings=list(warnings),
    )
    for section in sections:
        section.text = paper.section_text(section, tagged=False)
    paper.sections = sections
    if references is not None:
        references.text = paper.section_text(references, tagged=False)
        paper.references = references
        paper.references_page = references.start_page
        paper.reference_count = count_references(references.text)

    first_pages = "\n".join(texts[:2])
    meta_text = " ".join(metadata.values())
    first_heading = next((h.title for h in headings if h.kind == "markdown" and h.level == 1), None)
    paper.title = (
        _plausible_title(metadata.get("title"))
        or _plausible_title(first_heading)
        or (_title_from_text(texts[0]) if texts else None)
    )
    paper.authors = _split_authors(metadata.get("author"))
    paper.doi = find_doi(metadata.get("doi"), meta_text, first_pages)
    paper.arxiv_id = find_arxiv_id(
        metadata.get("arxiv"), meta_text, first_pages, filename=Path(source).name
    )
    return paper


# ---------------------------------------------------------------------------------------------
# .txt / .md


def split_synthetic_pages(text: str, size: int = 3000) -> list[str]:
    """Cut text without pages into ~``size``-character "pages" at paragraph boundaries, so that
    analyses of plain text can still cite where a claim comes from."""
    paragraphs = re.split(r"(\n\s*\n)", text)
    pages: list[str] = []
    current = ""
    for piece in paragraphs:
        if len(current) + len(piece) > size and current.strip():
            pages.append(current)
            current = ""
        while len(piece) > 2 * size:  # a single huge paragraph: cut at a line or space
            cut = max(piece.rfind("\n", 0, size), piece.rfind(" ", 0, size), size // 2)
            pages.append(piece[:cut])
            piece = piece[cut:]
        current += piece
    if current.strip():
        pages.append(current)
    return pages or [""]


def paper_from_text(
    text: str,
    *,
    source: str = "<text>",
    kind: Literal["text", "markdown"] = "text",
    page_size: int = 3000,
) -> Paper:
    """A :class:`Paper` from plain text or markdown. Form feeds separate real pages; without
    them the text is cut into synthetic pages of ~``page_size`` characters."""
    from ..errors import InputError

    text = text.replace("\r\n", "\n")
    if "\f" in text:
        raw_pages = text.split("\f")
        synthetic = False
    else:
        raw_pages = split_synthetic_pages(text, page_size)
        synthetic = True
    paper = build_paper(source=source, kind=kind, pages=raw_pages, synthetic_pages=synthetic)
    if not any(page.text.strip() for page in paper.pages):
        raise InputError(f"{source}: no text to analyse", hint="the file is empty")
    return paper


def load_text_paper(path: Path, *, max_bytes: int = 50_000_000) -> Paper:
    """Load a ``.txt`` or ``.md`` file (UTF-8, or UTF-16 with a BOM; invalid bytes replaced
    and then dropped)."""
    from ..errors import InputError

    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit",
                hint="raise paper.max_file_mb in [tool.assistants] if this is intended",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM (Windows editors)
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:8192]:
        raise InputError(f"{path}: looks binary, not text", hint="pass a .pdf, .txt or .md file")
    else:
        text = data.decode("utf-8", errors="replace")
    kind: Literal["text", "markdown"] = (
        "markdown" if path.suffix.lower() in {".md", ".markdown"} else "text"
    )
    return paper_from_text(text, source=str(path), kind=kind)
