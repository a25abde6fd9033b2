"""The paper as a document, and the pure-text half of the paper loader.

:class:`Paper` is what the PDF loader (:mod:`assistants.paper.pdf`) and the text loader here
produce: pages (1-based numbers and printed labels), metadata, sections with page spans, and the
references section located (excluded from analysis, but counted).

Everything here is plain string processing, no I/O except :func:`load_text_paper` reading a
``.txt`` / ``.md`` file. :func:`build_paper` turns pages + outline + metadata into a
:class:`Paper`: the text repaired (:mod:`assistants.paper.clean`), sections from the outline,
markdown headings or heading patterns (:mod:`assistants.paper.headings`), the references found,
and title, authors, DOI and arXiv id read from the metadata or the first pages.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .clean import clean_text
from .headings import (
    APPENDIX_TITLE,
    NAMED_HEADING,
    REFERENCES_TITLE,
    Heading,
    count_references,
    detect_headings,
    detect_markdown_headings,
    locate_outline,
)
from .tables import Figure, Table, find_tables

__all__ = [
    "Page",
    "Paper",
    "Section",
    "build_paper",
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
    year: int | None = None
    abstract: str | None = None
    pages: list[Page]
    sections: list[Section] = Field(default_factory=list)
    sections_from: SectionSource = "none"
    references_page: int | None = None
    references: Section | None = None
    reference_count: int = 0
    metadata: dict[str, str] = Field(default_factory=dict)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
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
        if self.tables or self.figures:
            lines.append("")
            lines.extend(f"- {t.caption} (p. {t.page})" for t in [*self.tables, *self.figures])
        if self.warnings:
            lines.append("")
            lines.extend(f"> warning: {w}" for w in self.warnings)
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


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
        if NAMED_HEADING.match(line) or line.endswith("."):
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
        if not REFERENCES_TITLE.match(name):
            continue
        position = starts[section.start_page - 1] + section.start_char
        back_half = section.start_page > page_count / 2 or position > starts[-1] / 2
        appendix_follows = any(
            APPENDIX_TITLE.match(later.title) or re.match(r"^[A-H](\.\d+)*\.?\s", later.title)
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
    layouts: Mapping[int, str] | None = None,
) -> Paper:
    """Assemble a :class:`Paper` from raw page texts (cleaned here unless ``clean=False``);
    ``layouts``: the layout-mode text of pages with a table caption (by 0-based index)."""
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
        extra = [h for h in pattern_headings if REFERENCES_TITLE.match(h.title.split(" ", 1)[-1])]
        merged = sorted([*headings, *extra], key=lambda h: (h.page, h.offset))
        references = _find_references(_sections_from(merged, texts), texts)

    tables, figures = find_tables(texts, layouts)
    paper = Paper(
        source=source,
        kind=kind,
        pages=page_models,
        sections_from=sections_from,
        metadata=metadata,
        tables=tables,
        figures=figures,
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
