"""What the library returns: :class:`LibraryPaper` (one paper's metadata in the index),
:class:`IndexReport` (what an indexing run did), :class:`SearchResult` (passages found),
:class:`LibraryAnswer` (an answer across papers with its checked :class:`Citation` list) and
:class:`Comparison` (papers side by side, every cell a :class:`~assistants.paper.models.Claim`).

Results render through :mod:`assistants.paper.library.render`, imported lazily.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from ...llm import Usage
from ...results import Result
from ..models import Claim, PaperEstimate

__all__ = [
    "ASPECTS",
    "Citation",
    "Comparison",
    "ComparisonRow",
    "IndexFailure",
    "IndexReport",
    "LibraryAnswer",
    "LibraryPaper",
    "Passage",
    "SearchResult",
]


class LibraryPaper(BaseModel):
    """A paper's metadata as found by the loader (PDF metadata, first page, arXiv ID).
    ``source`` is the path relative to the library folder; ``label`` is how answers cite it
    (``Lovelace and Turing 2024``, unique within the library)."""

    source: str
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    page_count: int = 0
    passages: int = 0
    tokens: int = Field(default=0, description="tokens of the indexed text (references cut)")
    label: str = ""
    sha256: str = ""


class IndexFailure(BaseModel):
    source: str
    error: str
    hint: str | None = None


class IndexReport(Result):
    """One indexing run: ``read`` is how many files were opened by the PDF loader (0 when
    nothing changed since the last run)."""

    render_as: ClassVar[str] = "index"

    folder: str
    index_path: str
    papers: int = 0
    passages: int = 0
    tokens: int = 0
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    moved: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: int = 0
    read: int = 0
    failures: list[IndexFailure] = Field(default_factory=list)
    size_bytes: int = 0


class Passage(BaseModel):
    """A page (or a part of a long page) of a paper, as found by a search."""

    source: str
    label: str
    title: str | None = None
    page: int
    text: str
    tokens: int = 0
    score: float = Field(default=0.0, description="BM25 relevance; higher is better")
    snippet: str = ""

    @property
    def citation(self) -> str:
        return f"({self.label}, p. {self.page})"


class SearchResult(Result):
    render_as: ClassVar[str] = "search"

    folder: str
    query: str
    passages: list[Passage] = Field(default_factory=list)


class Citation(BaseModel):
    """A citation written in an answer. ``verified`` only when it names a passage that was
    sent with the question (its paper's label and its page)."""

    text: str
    label: str
    pages: list[int] = Field(default_factory=list)
    verified: bool = False
    source: str | None = None
    title: str | None = None


class LibraryAnswer(Result):
    """An answer across a library. ``answerable`` is false when the passages found do not
    answer the question (or nothing matched it: then no request is made). ``answer`` marks
    each citation that does not name a passage sent as ``[unverified]``."""

    render_as: ClassVar[str] = "answer"

    folder: str
    question: str
    answer: str = ""
    answerable: bool = True
    citations: list[Citation] = Field(default_factory=list)
    passages_sent: list[Passage] = Field(default_factory=list)
    query: str = Field(default="", description="the full-text query made from the question")
    library_tokens: int = Field(default=0, description="tokens of the whole indexed library")
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    warnings: list[str] = Field(default_factory=list)
    dry_run: bool = False
    estimate: PaperEstimate | None = None

    @property
    def verified(self) -> list[Citation]:
        return [c for c in self.citations if c.verified]

    @property
    def unverified(self) -> list[Citation]:
        return [c for c in self.citations if not c.verified]

    @property
    def flagged(self) -> bool:
        """An answer with an unverified citation, or one that cites nothing."""
        return self.answerable and (bool(self.unverified) or not self.verified)


ASPECTS: tuple[tuple[str, str], ...] = (
    ("problem", "Problem"),
    ("method", "Method"),
    ("data", "Data"),
    ("results", "Main results"),
    ("limitations", "Limitations"),
)


class ComparisonRow(BaseModel):
    """One paper's cells. Each is a claim citing the paper's pages (checked)."""

    source: str
    title: str | None = None
    label: str = ""
    problem: Claim = Field(default_factory=lambda: Claim(text=""))
    method: Claim = Field(default_factory=lambda: Claim(text=""))
    data: Claim = Field(default_factory=lambda: Claim(text=""))
    results: Claim = Field(default_factory=lambda: Claim(text=""))
    limitations: Claim = Field(default_factory=lambda: Claim(text=""))
    warnings: list[str] = Field(default_factory=list)

    def cells(self) -> list[tuple[str, Claim]]:
        return [(name, getattr(self, name)) for name, _ in ASPECTS]


class Comparison(Result):
    """Papers side by side: problem, method, data, main results, limitations."""

    render_as: ClassVar[str] = "comparison"

    rows: list[ComparisonRow] = Field(default_factory=list)
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    warnings: list[str] = Field(default_factory=list)
    dry_run: bool = False
    estimate: PaperEstimate | None = None

    @property
    def flagged(self) -> list[tuple[str, str]]:
        """``(source, aspect)`` of every cell without a verified page."""
        return [
            (row.source, name)
            for row in self.rows
            for name, claim in row.cells()
            if claim.text and claim.flagged
        ]

    def to_csv(self) -> str:
        from .render import comparison_csv

        return comparison_csv(self)
