"""What the paper analyzer returns: :class:`PaperAnalysis`, :class:`PaperAnswer`,
:class:`PaperReview` (with the :class:`ReviewForm` of each reviewer), :class:`BatchResult` for
a folder, and :class:`PaperEstimate` for a dry run. Every statement is a :class:`Claim` with
the pages it rests on.

Results render through :mod:`assistants.paper.render`, imported lazily inside the methods
(render imports this module, never the other way round at import time).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from ..llm import Usage
from ..results import Result

__all__ = [
    "BatchItem",
    "BatchResult",
    "Claim",
    "KeyResult",
    "PaperAnalysis",
    "PaperAnswer",
    "PaperEstimate",
    "PaperReview",
    "ReflectionRound",
    "ReviewForm",
]


class Claim(BaseModel):
    """One statement with the pages it rests on. ``unverified_pages`` holds cited pages that
    do not exist in the paper (dropped from ``pages``); ``flagged`` is true when there were
    any, or when no valid page is left."""

    text: str
    pages: list[int] = Field(default_factory=list)
    unverified_pages: list[int] = Field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.unverified_pages) or not self.pages


class KeyResult(Claim):
    """A key result: a claim that may name the table its number came from (``table``, as
    printed: "2", "III"), checked against the paper's tables; a table the paper does not have
    is kept in ``unverified_table`` and flags the item."""

    table: str | None = None
    unverified_table: str | None = None

    @property
    def flagged(self) -> bool:
        return super().flagged or self.unverified_table is not None


class PaperEstimate(BaseModel):
    """What a request plan would cost (``dry_run=True``): nothing is sent."""

    path: Literal["single", "map-reduce"] = "single"
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    model: str
    paper_tokens: int = 0
    chunks: int = 0


class _PaperFacts(Result):
    source: str
    title: str | None = None
    page_count: int = 0
    reference_count: int = 0
    references_excluded: bool = False
    warnings: list[str] = Field(default_factory=list)
    model: str = ""
    lang: str = "en"
    usage: Usage = Field(default_factory=Usage)
    dry_run: bool = False
    estimate: PaperEstimate | None = None


class PaperAnalysis(_PaperFacts):
    """The analysis of one paper. ``path`` is ``"single"`` or ``"map-reduce"``."""

    render_as: ClassVar[str] = "analysis"

    summary: Claim = Field(default_factory=lambda: Claim(text=""))
    contributions: list[Claim] = Field(default_factory=list)
    innovations: list[Claim] = Field(default_factory=list)
    method: list[Claim] = Field(default_factory=list)
    key_results: list[KeyResult] = Field(default_factory=list)
    limitations: list[Claim] = Field(default_factory=list)
    open_questions: list[Claim] = Field(default_factory=list)
    path: Literal["single", "map-reduce"] = "single"
    chunks: int = 0
    paper_tokens: int = 0

    def claims(self) -> list[Claim]:
        return [
            self.summary,
            *self.contributions,
            *self.innovations,
            *self.method,
            *self.key_results,
            *self.limitations,
            *self.open_questions,
        ]

    @property
    def flagged(self) -> list[Claim]:
        return [claim for claim in self.claims() if claim.text and claim.flagged]


class PaperAnswer(_PaperFacts):
    """An answer about a paper: ``answerable`` is false when the paper does not say."""

    render_as: ClassVar[str] = "answer"

    question: str
    answer: str = ""
    pages: list[int] = Field(default_factory=list)
    unverified_pages: list[int] = Field(default_factory=list)
    answerable: bool = True
    passages: bool = Field(
        default=False,
        description="the paper did not fit the model's context window: only pages_sent, "
        "chosen for the question, were sent",
    )
    pages_sent: list[int] = Field(default_factory=list, description="with passages")


class ReviewForm(BaseModel):
    """One conference-style review. Scores are validated to their ranges, so a reply with an
    out-of-range score fails validation and goes through the llm layer's repair round."""

    summary: str
    strengths: list[Claim] = Field(default_factory=list)
    weaknesses: list[Claim] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    soundness: int = Field(ge=1, le=4, description="1 poor, 2 fair, 3 good, 4 excellent")
    presentation: int = Field(ge=1, le=4, description="1 poor, 2 fair, 3 good, 4 excellent")
    contribution: int = Field(ge=1, le=4, description="1 poor, 2 fair, 3 good, 4 excellent")
    overall: int = Field(ge=1, le=10, description="1 very strong reject ... 10 award quality")
    confidence: int = Field(ge=1, le=5, description="1 educated guess ... 5 certain")
    decision: Literal["accept", "reject"]


class ReflectionRound(BaseModel):
    """One round of a reviewer's reflection: round 0 is the first review, round k its k-th
    revision after re-reading the paper; ``done`` when the reviewer said the review needs no
    further change (the rounds stop there)."""

    reviewer: int = Field(ge=1)
    round: int = Field(ge=0)
    done: bool = False
    form: ReviewForm


class PaperReview(_PaperFacts):
    """The review (the aggregate of ``reviews`` when ``ensemble`` > 1: scores are the means of
    the individual reviews, the decision is the majority, the text is an area chair's
    meta-review)."""

    render_as: ClassVar[str] = "review"

    summary: str = ""
    strengths: list[Claim] = Field(default_factory=list)
    weaknesses: list[Claim] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    soundness: float = Field(default=1, ge=1, le=4)
    presentation: float = Field(default=1, ge=1, le=4)
    contribution: float = Field(default=1, ge=1, le=4)
    overall: float = Field(default=1, ge=1, le=10)
    confidence: float = Field(default=1, ge=1, le=5)
    decision: Literal["accept", "reject"] = "reject"
    ensemble: int = 1
    reviews: list[ReviewForm] = Field(default_factory=list)
    reflect: int = Field(default=0, description="reflection rounds asked per reviewer")
    reflections: list[ReflectionRound] = Field(
        default_factory=list, description="every reviewer's rounds; the last is in reviews"
    )


class BatchItem(BaseModel):
    source: str
    ok: bool
    analysis: PaperAnalysis | None = None
    error: str | None = None
    hint: str | None = None


class BatchResult(BaseModel):
    """One analysis per paper plus failures; ``to_markdown()`` is the index."""

    folder: str
    items: list[BatchItem] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)

    @property
    def failures(self) -> list[BatchItem]:
        return [item for item in self.items if not item.ok]

    @property
    def analyses(self) -> list[PaperAnalysis]:
        return [item.analysis for item in self.items if item.analysis is not None]

    def to_markdown(self, reports: dict[str, str] | None = None) -> str:
        from .render import batch_markdown

        return batch_markdown(self, reports)

    def to_text(self) -> str:
        """The index as plain terminal text (no markdown table)."""
        from .render import batch_text

        return batch_text(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def write(
        self, folder: str | Path, fmt: Literal["markdown", "json", "text"] = "markdown"
    ) -> Path:
        """Write one report per paper and ``index.md`` (or ``index.json``) into ``folder``;
        returns the index path."""
        from .render import report_name

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        suffix = {"markdown": ".md", "json": ".json", "text": ".txt"}[fmt]
        reports: dict[str, str] = {}
        used: set[str] = set()
        for item in self.items:
            if item.analysis is None:
                continue
            name = report_name(item.source, suffix, used)
            analysis = item.analysis
            if fmt == "json":
                text = analysis.model_dump_json(indent=2)
            elif fmt == "text":
                text = analysis.to_text()
            else:
                text = analysis.to_markdown()
            (out / name).write_text(text if text.endswith("\n") else text + "\n", "utf-8")
            reports[item.source] = name
        if fmt == "json":
            index = out / "index.json"
            index.write_text(self.model_dump_json(indent=2) + "\n", "utf-8")
        else:
            index = out / "index.md"
            index.write_text(self.to_markdown(reports), "utf-8")
        return index
