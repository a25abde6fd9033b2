"""The paper analyzer: cited analysis, long papers (map → reduce), questions with follow-ups,
a conference-style review form, and batch analysis of a folder.

Request layout (for the API's prefix cache): the static system prompt, then the paper (page
tagged with ``[page N]`` markers) as the first user message, then the instruction or question
last. Every question about the same paper therefore shares the system + paper prefix, and a
:class:`PaperChat` follow-up shares the whole earlier conversation.

Citations: every item carries ``pages``. Each cited page is checked against the paper's real
pages. A page that does not exist is *repaired* when it is a printed page label that maps to
exactly one physical page (a model quoting "p. 131" of a journal paper), otherwise it is
*dropped* and kept in ``unverified_pages`` so the item shows as flagged — never silently kept.

Long papers: when the body (references cut) has more tokens than ``paper.token_budget`` the
paper is cut at top-level section boundaries into chunks of about ``paper.chunk_tokens`` (small
sections merged, large ones split at page boundaries); each chunk is mapped to notes
concurrently (bounded by ``paper.concurrency`` or the global concurrency) and the notes are
reduced into one :class:`PaperAnalysis`; ``analysis.path`` says which path was taken.
Questions and reviews read the whole paper in one request (up to ``MAX_SINGLE_TOKENS``) because
follow-ups are then served from the prefix cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import errors
from ..config import Settings, load_settings
from ..llm import LLM, Usage, run_sync
from ..llm.tokens import count_message_tokens, count_tokens
from ..prompts import language_name, render
from .pdf import load_paper
from .text import Paper

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "BatchItem",
    "BatchResult",
    "Claim",
    "PaperAnalysis",
    "PaperAnswer",
    "PaperChat",
    "PaperEstimate",
    "PaperReview",
    "ReviewForm",
    "aanalyze_paper",
    "analyze_folder",
    "analyze_paper",
    "ask_paper",
    "check_pages",
    "plan_chunks",
    "review_paper",
]

MAX_SINGLE_TOKENS = 900_000  # the model's context is 1M tokens; keep room for the reply
ANALYSIS_OUTPUT_TOKENS = 2_500  # for --dry-run estimates
NOTES_OUTPUT_TOKENS = 1_200
ANSWER_OUTPUT_TOKENS = 400
REVIEW_OUTPUT_TOKENS = 1_500
PAPER_SUFFIXES = (".pdf", ".md", ".markdown", ".txt")


Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------------
# result models


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


class _PaperFacts(BaseModel):
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

    def _repr_markdown_(self) -> str:
        return str(self.to_markdown())  # type: ignore[attr-defined]


class PaperAnalysis(_PaperFacts):
    """The analysis of one paper. ``path`` is ``"single"`` or ``"map-reduce"``."""

    summary: Claim = Field(default_factory=lambda: Claim(text=""))
    contributions: list[Claim] = Field(default_factory=list)
    innovations: list[Claim] = Field(default_factory=list)
    method: list[Claim] = Field(default_factory=list)
    key_results: list[Claim] = Field(default_factory=list)
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

    def to_markdown(self) -> str:
        from .render import analysis_markdown

        return analysis_markdown(self)

    def to_text(self) -> str:
        from .render import analysis_text

        return analysis_text(self)


class PaperAnswer(_PaperFacts):
    """An answer about a paper: ``answerable`` is false when the paper does not say."""

    question: str
    answer: str = ""
    pages: list[int] = Field(default_factory=list)
    unverified_pages: list[int] = Field(default_factory=list)
    answerable: bool = True

    def to_markdown(self) -> str:
        from .render import answer_markdown

        return answer_markdown(self)

    def to_text(self) -> str:
        from .render import answer_text

        return answer_text(self)


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


class PaperReview(_PaperFacts):
    """The review (the aggregate of ``reviews`` when ``ensemble`` > 1: scores are the means of
    the individual reviews, the decision is the majority, the text is an area chair's
    meta-review)."""

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

    def to_markdown(self) -> str:
        from .render import review_markdown

        return review_markdown(self)

    def to_text(self) -> str:
        from .render import review_text

        return review_text(self)


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
        return self.to_markdown()

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


# ---------------------------------------------------------------------------------------------
# what the model returns (the JSON schemas sent to it)


_PAGE_REF = re.compile(
    r"(?:p{1,2}\.?|pages?)?\s*\[?(?:page\s*)?(-?\d+)\]?(?:\s*[-–—]\s*(\d+))?", re.IGNORECASE
)
MAX_PAGE_RANGE = 50  # a wider "3-500" keeps its two ends only


def _read_pages(value: Any) -> Any:
    """Pages as models write them: ``4``, ``"4"``, ``"p. 4"``, ``"3-5"``, ``["pp. 6–7", 2.0]``
    or ``null`` → a list of ints. Anything else (``"Section 3"``) is dropped, so
    an item left with no page shows as flagged; numbers that are not pages are checked later.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    out: list[Any] = []
    for item in value:
        if isinstance(item, bool):
            continue
        if isinstance(item, float) and item.is_integer():
            out.append(int(item))
        elif isinstance(item, str):
            parts = [part.strip() for part in re.split(r",|;|\band\b", item)]
            matches = [_PAGE_REF.fullmatch(part) for part in parts if part]
            for match in matches:
                if match is None:
                    continue
                first = int(match.group(1))
                last = int(match.group(2)) if match.group(2) else first
                if first <= last <= first + MAX_PAGE_RANGE:
                    out.extend(range(first, last + 1))
                else:
                    out.extend([first, last] if last != first else [first])
        else:
            out.append(item)
    return out


class _ClaimOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1)
    pages: list[int] = Field(default_factory=list, description="[page N] numbers cited")

    _pages = field_validator("pages", mode="before")(_read_pages)


class _AnalysisOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = ""
    summary: _ClaimOut
    contributions: list[_ClaimOut] = Field(default_factory=list)
    innovations: list[_ClaimOut] = Field(default_factory=list)
    method: list[_ClaimOut] = Field(default_factory=list)
    key_results: list[_ClaimOut] = Field(default_factory=list)
    limitations: list[_ClaimOut] = Field(default_factory=list)
    open_questions: list[_ClaimOut] = Field(default_factory=list)


class _NotesOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: _ClaimOut
    contributions: list[_ClaimOut] = Field(default_factory=list)
    innovations: list[_ClaimOut] = Field(default_factory=list)
    method: list[_ClaimOut] = Field(default_factory=list)
    key_results: list[_ClaimOut] = Field(default_factory=list)
    limitations: list[_ClaimOut] = Field(default_factory=list)
    open_questions: list[_ClaimOut] = Field(default_factory=list)


class _AnswerOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answerable: bool
    answer: str = Field(min_length=1)
    pages: list[int] = Field(default_factory=list)

    _pages = field_validator("pages", mode="before")(_read_pages)


class _ReviewOut(ReviewForm):
    model_config = ConfigDict(extra="ignore")

    strengths: list[_ClaimOut] = Field(default_factory=list)  # type: ignore[assignment]
    weaknesses: list[_ClaimOut] = Field(default_factory=list)  # type: ignore[assignment]


_CLAIM_LISTS = (
    "contributions",
    "innovations",
    "method",
    "key_results",
    "limitations",
    "open_questions",
)


# ---------------------------------------------------------------------------------------------
# page checking


def check_pages(pages: Sequence[int], paper: Paper) -> tuple[list[int], list[int]]:
    """(valid pages, unverified pages) for cited ``pages``: a page is valid when it exists;
    one that does not is repaired when it is a printed label of exactly one page."""
    valid_numbers = paper.page_numbers()
    labels = paper.label_map()
    valid: list[int] = []
    unverified: list[int] = []
    for page in pages:
        if page in valid_numbers:
            number: int | None = page
        else:
            number = labels.get(str(page))
        if number is None:
            if page not in unverified:
                unverified.append(page)
        elif number not in valid:
            valid.append(number)
    return sorted(valid), unverified


def _claim(out: _ClaimOut, paper: Paper) -> Claim:
    valid, unverified = check_pages(out.pages, paper)
    return Claim(text=out.text.strip(), pages=valid, unverified_pages=unverified)


# ---------------------------------------------------------------------------------------------
# requests


def _settings(settings: Settings | None) -> Settings:
    return settings or load_settings()


def _llm(settings: Settings, model: BaseChatModel | None) -> LLM:
    return LLM(profile="chat", task="paper", settings=settings, model=model)


def _system(settings: Settings, lang: str) -> str:
    return render("paper/system.j2", prompts_dir=settings.prompts_dir, language=language_name(lang))


def _paper_message(paper: Paper, settings: Settings) -> str:
    cut = settings.paper.cut_references and paper.references is not None
    text = (
        paper.body_text(tagged=True)
        if cut
        else paper.text_between((1, 0), (paper.page_count, len(paper.pages[-1].text)), tagged=True)
    )
    return render(
        "paper/paper.j2",
        prompts_dir=settings.prompts_dir,
        part=None,
        parts=None,
        sections=None,
        title=paper.title,
        page_count=paper.page_count,
        references_cut=cut,
        text=text,
    )


def _prefix(paper: Paper, settings: Settings, lang: str) -> list[tuple[str, str]]:
    """System prompt + paper: the shared prefix of every request about this paper."""
    return [("system", _system(settings, lang)), ("user", _paper_message(paper, settings))]


def _load(
    paper_or_path: Paper | str | Path | bytes, settings: Settings, password: str | None
) -> Paper:
    if isinstance(paper_or_path, Paper):
        return paper_or_path
    return load_paper(paper_or_path, password=password, settings=settings.paper)


def _facts(paper: Paper, settings: Settings, llm: LLM, lang: str) -> dict[str, Any]:
    return {
        "source": paper.source,
        "title": paper.title,
        "page_count": paper.page_count,
        "reference_count": paper.reference_count,
        "references_excluded": settings.paper.cut_references and paper.references is not None,
        "warnings": list(paper.warnings),
        "model": llm.model_name,
        "lang": lang,
    }


def _estimate(
    llm: LLM, requests: Sequence[tuple[list[tuple[str, str]], int]], **extra: Any
) -> PaperEstimate:
    input_tokens = output_tokens = 0
    cost = 0.0
    for messages, output in requests:
        est = llm.estimate(messages, output_tokens=output)
        input_tokens += est.input_tokens
        output_tokens += est.output_tokens
        cost += est.cost_usd
    return PaperEstimate(
        requests=len(requests),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=round(cost, 6),
        model=llm.model_name,
        **extra,
    )


def _single_tokens(messages: list[tuple[str, str]], source: str) -> int:
    tokens = count_message_tokens(messages)
    if tokens > MAX_SINGLE_TOKENS:
        raise errors.InputError(
            f"{source}: {tokens:,} tokens do not fit in one request ({MAX_SINGLE_TOKENS:,} max)",
            hint="ask about a shorter file, or split it",
        )
    return tokens


# ---------------------------------------------------------------------------------------------
# long papers: chunks


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


def _map_messages(
    paper: Paper, chunk: Chunk, index: int, total: int, settings: Settings, lang: str
) -> list[tuple[str, str]]:
    part = render(
        "paper/paper.j2",
        prompts_dir=settings.prompts_dir,
        part=index,
        parts=total,
        sections=", ".join(chunk.sections),
        title=paper.title,
        page_count=paper.page_count,
        references_cut=True,
        text=chunk.text(paper),
    )
    instruction = render("paper/map.j2", prompts_dir=settings.prompts_dir, part=index, parts=total)
    return [("system", _system(settings, lang)), ("user", part), ("user", instruction)]


def _reduce_messages(
    paper: Paper,
    notes: list[tuple[int, Chunk, _NotesOut]],
    total: int,
    settings: Settings,
    lang: str,
) -> list[tuple[str, str]]:
    rendered = render(
        "paper/notes.j2",
        prompts_dir=settings.prompts_dir,
        title=paper.title,
        notes=[
            {
                "part": index,
                "parts": total,
                "sections": ", ".join(chunk.sections),
                "json": note.model_dump_json(indent=1),
            }
            for index, chunk, note in notes
        ],
    )
    instruction = render(
        "paper/reduce.j2", prompts_dir=settings.prompts_dir, title=paper.title, parts=len(notes)
    )
    return [("system", _system(settings, lang)), ("user", rendered), ("user", instruction)]


# ---------------------------------------------------------------------------------------------
# analysis


def _analysis(
    out: _AnalysisOut, paper: Paper, facts: dict[str, Any], **extra: Any
) -> PaperAnalysis:
    values: dict[str, Any] = {
        name: [_claim(item, paper) for item in getattr(out, name)] for name in _CLAIM_LISTS
    }
    title = facts.pop("title", None)
    return PaperAnalysis(
        **facts,
        title=out.title.strip() or title,
        summary=_claim(out.summary, paper),
        **values,
        **extra,
    )


async def aanalyze_paper(
    paper_or_path_or_text: Paper | str | Path | bytes,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
    llm: LLM | None = None,
    gate: asyncio.Semaphore | None = None,
) -> PaperAnalysis:
    """Async :func:`analyze_paper`. ``gate`` bounds the requests in flight across several
    analyses (a folder batch), map steps included."""
    gated: Any = gate or contextlib.nullcontext()
    settings = _settings(settings)
    lang = lang or settings.lang
    paper = await asyncio.to_thread(_load, paper_or_path_or_text, settings, password)
    llm = llm or _llm(settings, model)
    facts = _facts(paper, settings, llm, lang)
    prefix = _prefix(paper, settings, lang)
    instruction = render("paper/analyze.j2", prompts_dir=settings.prompts_dir)
    messages = [*prefix, ("user", instruction)]
    paper_tokens = count_tokens(prefix[1][1])
    single = paper_tokens <= settings.paper.token_budget

    if single:
        if dry_run:
            estimate = _estimate(
                llm, [(messages, ANALYSIS_OUTPUT_TOKENS)], path="single", paper_tokens=paper_tokens
            )
            return PaperAnalysis(
                **facts, dry_run=True, estimate=estimate, paper_tokens=paper_tokens
            )
        if progress:
            progress(0, 1)
        async with gated:
            out, reply = await llm.astructured(messages, _AnalysisOut, schema_in="last")
        if progress:
            progress(1, 1)
        return _analysis(
            out, paper, facts, usage=reply.usage, path="single", paper_tokens=paper_tokens
        )

    chunks = plan_chunks(
        paper, settings.paper.chunk_tokens, cut_references=settings.paper.cut_references
    )
    total = len(chunks)
    map_requests = [
        _map_messages(paper, chunk, i, total, settings, lang)
        for i, chunk in enumerate(chunks, start=1)
    ]
    if dry_run:
        reduce_guess = [
            ("system", _system(settings, lang)),
            ("user", "x " * (NOTES_OUTPUT_TOKENS * total)),
            (
                "user",
                render(
                    "paper/reduce.j2",
                    prompts_dir=settings.prompts_dir,
                    title=paper.title,
                    parts=total,
                ),
            ),
        ]
        estimate = _estimate(
            llm,
            [(m, NOTES_OUTPUT_TOKENS) for m in map_requests]
            + [(reduce_guess, ANALYSIS_OUTPUT_TOKENS)],
            path="map-reduce",
            paper_tokens=paper_tokens,
            chunks=total,
        )
        return PaperAnalysis(
            **facts,
            dry_run=True,
            estimate=estimate,
            path="map-reduce",
            chunks=total,
            paper_tokens=paper_tokens,
        )

    start_usage = llm.usage
    done = 0

    def tick() -> None:
        if progress:
            progress(done, total + 1)

    async def one(msgs: list[tuple[str, str]]) -> _NotesOut:
        nonlocal done
        async with gated:
            notes, _ = await llm.astructured(msgs, _NotesOut)
        done += 1
        tick()
        return notes

    tick()
    limit = settings.paper.concurrency or llm.concurrency
    results = await llm.amap(one, map_requests, concurrency=limit)
    notes: list[tuple[int, Chunk, _NotesOut]] = []
    warnings: list[str] = []
    failures: list[errors.AssistantsError] = []
    for index, (chunk, result) in enumerate(zip(chunks, results, strict=True), start=1):
        if isinstance(result, errors.AssistantsError):
            failures.append(result)
            warnings.append(
                f"part {index} of {total} ({', '.join(chunk.sections)}) failed: {result}"
            )
        else:
            notes.append((index, chunk, result))
    if not notes:
        raise failures[0]
    try:
        async with gated:
            out, _ = await llm.astructured(
                _reduce_messages(paper, notes, total, settings, lang), _AnalysisOut
            )
    except errors.AssistantsError as exc:
        # the notes are paid for: keep them, unmerged, rather than lose the whole analysis
        out = _merge_notes([note for _, _, note in notes])
        warnings.append(f"the reduce step failed ({exc}); the items are the parts' notes")
    done += 1
    tick()
    facts["warnings"] = [*facts["warnings"], *warnings]
    return _analysis(
        out,
        paper,
        facts,
        usage=llm.usage + _negate(start_usage),
        path="map-reduce",
        chunks=total,
        paper_tokens=paper_tokens,
    )


def _merge_notes(notes: Sequence[_NotesOut]) -> _AnalysisOut:
    """The parts' notes side by side (what the reduce step would have combined)."""
    summary = _ClaimOut(
        text=" ".join(note.summary.text.strip() for note in notes),
        pages=sorted({page for note in notes for page in note.summary.pages}),
    )
    lists: dict[str, Any] = {
        name: [item for note in notes for item in getattr(note, name)] for name in _CLAIM_LISTS
    }
    return _AnalysisOut.model_validate({"summary": summary, **lists})


def _negate(usage: Usage) -> Usage:
    return Usage(
        requests=-usage.requests,
        cached_requests=-usage.cached_requests,
        cache_hit_tokens=-usage.cache_hit_tokens,
        cache_miss_tokens=-usage.cache_miss_tokens,
        output_tokens=-usage.output_tokens,
        reasoning_tokens=-usage.reasoning_tokens,
        cost_usd=-usage.cost_usd,
    )


def analyze_paper(
    paper_or_path_or_text: Paper | str | Path | bytes,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
) -> PaperAnalysis:
    """Analyse a paper (a :class:`Paper`, a path, PDF bytes or text): summary, contributions,
    innovations, method, key results, limitations and open questions, each citing pages.
    Long papers go through map → reduce (``analysis.path``). ``dry_run`` sends nothing and
    returns an analysis with only ``estimate`` filled in."""
    return run_sync(
        aanalyze_paper(
            paper_or_path_or_text,
            settings=settings,
            model=model,
            lang=lang,
            dry_run=dry_run,
            password=password,
            progress=progress,
        )
    )


# ---------------------------------------------------------------------------------------------
# questions


class PaperChat:
    """Questions about one paper that keep the conversation: each request is the system prompt,
    the paper, then every earlier question and answer (their content only), then the new
    question — so follow-ups share the whole earlier request as a cached prefix."""

    def __init__(
        self,
        paper: Paper | str | Path | bytes,
        *,
        settings: Settings | None = None,
        model: BaseChatModel | None = None,
        lang: str | None = None,
        password: str | None = None,
    ) -> None:
        self.settings = _settings(settings)
        self.lang = lang or self.settings.lang
        self.paper = _load(paper, self.settings, password)
        self.llm = _llm(self.settings, model)
        self._prefix = _prefix(self.paper, self.settings, self.lang)
        self.history: list[tuple[str, str]] = []  # (question, the answer's JSON content)
        self.answers: list[PaperAnswer] = []

    def messages(self, question: str) -> list[tuple[str, str]]:
        msgs = list(self._prefix)
        for asked, answered in self.history:
            msgs.append(("user", self._question(asked)))
            msgs.append(("assistant", answered))
        msgs.append(("user", self._question(question)))
        return msgs

    def _question(self, question: str) -> str:
        return render("paper/ask.j2", prompts_dir=self.settings.prompts_dir, question=question)

    def estimate(self, question: str) -> PaperEstimate:
        msgs = self.messages(question)
        _single_tokens(msgs, self.paper.source)
        paper_tokens = count_tokens(self._prefix[1][1])
        return _estimate(self.llm, [(msgs, ANSWER_OUTPUT_TOKENS)], paper_tokens=paper_tokens)

    async def aask(self, question: str, *, dry_run: bool = False) -> PaperAnswer:
        question = question.strip()
        if not question:
            raise errors.InputError("the question is empty")
        facts = _facts(self.paper, self.settings, self.llm, self.lang)
        if dry_run:
            return PaperAnswer(
                **facts, question=question, dry_run=True, estimate=self.estimate(question)
            )
        msgs = self.messages(question)
        _single_tokens(msgs, self.paper.source)
        out, reply = await self.llm.astructured(msgs, _AnswerOut)
        pages, unverified = check_pages(out.pages, self.paper)
        answer = PaperAnswer(
            **facts,
            question=question,
            answer=out.answer.strip(),
            pages=pages if out.answerable else [],
            unverified_pages=unverified if out.answerable else [],
            answerable=out.answerable,
            usage=reply.usage,
        )
        self.history.append((question, reply.content))
        self.answers.append(answer)
        return answer

    def ask(self, question: str, *, dry_run: bool = False) -> PaperAnswer:
        return run_sync(self.aask(question, dry_run=dry_run))

    @property
    def usage(self) -> Usage:
        return self.llm.usage


def ask_paper(
    paper: Paper | str | Path | bytes,
    question: str,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
) -> PaperAnswer:
    """Answer one question from the paper, citing pages, or say that it does not answer it."""
    chat = PaperChat(paper, settings=settings, model=model, lang=lang, password=password)
    return chat.ask(question, dry_run=dry_run)


# ---------------------------------------------------------------------------------------------
# review


def _form(out: _ReviewOut, paper: Paper) -> ReviewForm:
    data = out.model_dump()
    data["strengths"] = [_claim(item, paper) for item in out.strengths]
    data["weaknesses"] = [_claim(item, paper) for item in out.weaknesses]
    return ReviewForm.model_validate(data)


async def areview_paper(
    paper: Paper | str | Path | bytes,
    *,
    ensemble: int | None = None,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
) -> PaperReview:
    """Async :func:`review_paper`."""
    settings = _settings(settings)
    lang = lang or settings.lang
    n = ensemble or settings.paper.ensemble
    if not 1 <= n <= 16:
        raise errors.InputError(f"ensemble must be 1..16, not {n}")
    loaded = await asyncio.to_thread(_load, paper, settings, password)
    llm = _llm(settings, model)
    facts = _facts(loaded, settings, llm, lang)
    prefix = _prefix(loaded, settings, lang)
    requests = [
        [
            *prefix,
            (
                "user",
                render(
                    "paper/review.j2",
                    prompts_dir=settings.prompts_dir,
                    reviewer=k,
                    reviewers=n,
                ),
            ),
        ]
        for k in range(1, n + 1)
    ]
    _single_tokens(requests[0], loaded.source)
    if dry_run:
        plan = [(msgs, REVIEW_OUTPUT_TOKENS) for msgs in requests]
        if n > 1:
            plan.append(
                (
                    [prefix[0], ("user", "x " * (REVIEW_OUTPUT_TOKENS * n))],
                    REVIEW_OUTPUT_TOKENS,
                )
            )
        estimate = _estimate(llm, plan, paper_tokens=count_tokens(prefix[1][1]))
        return PaperReview(**facts, ensemble=n, dry_run=True, estimate=estimate)
    done = 0

    async def one(msgs: list[tuple[str, str]]) -> _ReviewOut:
        nonlocal done
        out, _ = await llm.astructured(msgs, _ReviewOut, schema_in="last")
        done += 1
        if progress:
            progress(done, n + (1 if n > 1 else 0))
        return out

    if progress:
        progress(0, n + (1 if n > 1 else 0))
    results = await llm.amap(one, requests, concurrency=settings.paper.concurrency)
    outs = [r for r in results if not isinstance(r, BaseException)]
    if not outs:
        raise results[0]
    forms = [_form(out, loaded) for out in outs]
    if len(forms) < n:
        facts["warnings"] = [*facts["warnings"], f"{n - len(forms)} of {n} reviews failed"]
    if len(forms) == 1:
        form = forms[0]
        return PaperReview(
            **facts,
            **form.model_dump(exclude={"strengths", "weaknesses"}),
            strengths=form.strengths,
            weaknesses=form.weaknesses,
            ensemble=n,
            reviews=forms,
            usage=llm.usage,
        )
    meta_request = [
        prefix[0],
        (
            "user",
            render(
                "paper/meta_review.j2",
                prompts_dir=settings.prompts_dir,
                title=loaded.title,
                reviews=[out.model_dump_json(indent=1) for out in outs],
            ),
        ),
    ]

    def mean(name: str) -> float:
        return round(sum(getattr(form, name) for form in forms) / len(forms), 2)

    try:
        meta, _ = await llm.astructured(meta_request, _ReviewOut)
        meta_form = _form(meta, loaded)
    except errors.AssistantsError as exc:
        # the reviews are paid for: keep them, with the text of the most typical one
        typical = min(range(len(forms)), key=lambda i: abs(forms[i].overall - mean("overall")))
        meta_form = forms[typical]
        facts["warnings"] = [
            *facts["warnings"],
            f"the meta-review failed ({exc}); the text is reviewer {typical + 1}'s",
        ]
    if progress:
        progress(n + 1, n + 1)
    votes = Counter(form.decision for form in forms)
    decision = (
        meta_form.decision if votes["accept"] == votes["reject"] else votes.most_common(1)[0][0]
    )

    return PaperReview(
        **facts,
        summary=meta_form.summary,
        strengths=meta_form.strengths,
        weaknesses=meta_form.weaknesses,
        questions=meta_form.questions,
        limitations=meta_form.limitations,
        soundness=mean("soundness"),
        presentation=mean("presentation"),
        contribution=mean("contribution"),
        overall=mean("overall"),
        confidence=mean("confidence"),
        decision=decision,
        ensemble=n,
        reviews=forms,
        usage=llm.usage,
    )


def review_paper(
    paper: Paper | str | Path | bytes,
    *,
    ensemble: int | None = None,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
) -> PaperReview:
    """A conference-style review (NeurIPS-like form). With ``ensemble`` n > 1, n independent
    reviews run concurrently and an area-chair meta-review aggregates them (scores: means of
    the reviews; decision: majority)."""
    return run_sync(
        areview_paper(
            paper,
            ensemble=ensemble,
            settings=settings,
            model=model,
            lang=lang,
            dry_run=dry_run,
            password=password,
            progress=progress,
        )
    )


# ---------------------------------------------------------------------------------------------
# batch


def paper_files(folder: Path, exclude: Sequence[str | Path] = ()) -> list[Path]:
    """The papers in ``folder`` (recursively): .pdf, .md, .markdown, .txt; hidden ones and
    those under an ``exclude`` folder (e.g. where earlier reports were written) skipped."""
    if not folder.is_dir():
        raise errors.InputError(f"{folder}: not a folder")
    skip = [Path(p).expanduser().resolve() for p in exclude]
    found = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.suffix.lower() in PAPER_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and not any(path.resolve().is_relative_to(s) for s in skip)
    ]
    return found


async def aanalyze_folder(
    folder: str | Path,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
    exclude: Sequence[str | Path] = (),
) -> BatchResult:
    """Async :func:`analyze_folder`."""
    settings = _settings(settings)
    root = Path(folder).expanduser()
    files = paper_files(root, exclude)
    if not files:
        raise errors.InputError(
            f"{root}: no papers found", hint="put .pdf, .md or .txt files in the folder"
        )
    llm = _llm(settings, model)
    # Loading runs a worker process per file: bound it by the core count as well.
    loading = asyncio.Semaphore(max(1, min(4, settings.paper.concurrency or 4)))
    done = 0
    total = len(files)

    async def one(path: Path) -> PaperAnalysis:
        nonlocal done
        try:
            async with loading:
                paper = await asyncio.to_thread(_load, path, settings, password)
            return await aanalyze_paper(
                paper,
                settings=settings,
                lang=lang,
                dry_run=dry_run,
                llm=_llm(settings, model),
                gate=gate,
            )
        finally:
            done += 1
            if progress:
                progress(done, total)

    if progress:
        progress(0, total)
    limit = settings.paper.concurrency or llm.concurrency
    gate = asyncio.Semaphore(limit)  # every request of every paper (map steps too)
    results = await llm.amap(one, files, concurrency=limit)
    items: list[BatchItem] = []
    usage = Usage()
    for path, result in zip(files, results, strict=True):
        if isinstance(result, errors.AssistantsError):
            message = result.message
            for prefix in (f"{path}: ", f"{path.resolve()}: "):
                message = message.removeprefix(prefix)  # the index names the file already
            items.append(
                BatchItem(
                    source=str(path.relative_to(root)),
                    ok=False,
                    error=message,
                    hint=result.hint,
                )
            )
        else:
            result.source = str(path.relative_to(root))
            usage = usage + result.usage
            items.append(BatchItem(source=result.source, ok=True, analysis=result))
    return BatchResult(folder=str(root), items=items, usage=usage)


def analyze_folder(
    folder: str | Path,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
    exclude: Sequence[str | Path] = (),
) -> BatchResult:
    """Analyse every paper in a folder concurrently. A paper that fails is listed in the
    result (``failures``), never fatal for the others. Papers under an ``exclude`` folder
    are skipped."""
    return run_sync(
        aanalyze_folder(
            folder,
            settings=settings,
            model=model,
            lang=lang,
            dry_run=dry_run,
            password=password,
            progress=progress,
            exclude=exclude,
        )
    )
