"""A question across the library: passages retrieved with FTS5/BM25, a token-budgeted request,
and the citations of the answer checked against the passages sent.

Retrieval: the question's content words, OR-ed (:func:`~.store.fts_query`); the best passages
by BM25, at most ``per_paper`` from one paper, up to ``passages`` of them within ``budget``
tokens, none scored under a tenth of the best. When nothing matches, no request is made: the
answer says that the library has no passage for the question.

Citations: the model is shown each passage's citation, ``(Label, p. N)``, and asked to copy it
after each statement. Every parenthesised ``Label, p. N`` of the answer is read back; it is
verified only when that label and page belong to a passage that was sent. Any other one stays
in the text marked ``[unverified]`` and in ``LibraryAnswer.unverified`` — never shown as valid.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...config import Settings
from ...llm import LLM
from ...prompts import language_name, render
from ..request import plan_estimate
from .models import Citation, LibraryAnswer, LibraryPaper, Passage
from .records import fold
from .store import LibraryStore, Row, fts_query

__all__ = [
    "LIBRARY_OUTPUT_TOKENS",
    "aask_library",
    "check_citations",
    "choose_passages",
    "library_messages",
    "to_passage",
]

LIBRARY_OUTPUT_TOKENS = 600  # for --dry-run estimates
MIN_RELATIVE_SCORE = 0.1
_GROUP = re.compile(r"\(([^()]*(?:\bpp?\.|\bpages?)\s*\d[^()]*)\)")
_PART = re.compile(
    r"^\s*(?P<label>.+?),?\s+(?:pp?\.|pages?)\s*(?P<pages>\d+(?:\s*(?:[-–—,]|and)\s*\d+)*)\s*$"
)


class _LibraryAnswerOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answerable: bool
    answer: str = Field(min_length=1, description="with (Label, p. N) citations")


def to_passage(row: Row, paper: LibraryPaper) -> Passage:
    return Passage(
        source=paper.source,
        label=paper.label,
        title=paper.title,
        page=row.page,
        text=row.text,
        tokens=row.tokens,
        score=round(row.score, 4),
        snippet=row.snippet,
    )


def choose_passages(
    rows: Sequence[Row],
    papers: dict[int, LibraryPaper],
    *,
    passages: int,
    budget: int,
    per_paper: int,
) -> list[Passage]:
    """The best rows (in rank order) within the limits; a passage that alone is over the
    budget is skipped, and so is one scored below ``MIN_RELATIVE_SCORE`` of the best (it
    shares only words that every paper has)."""
    floor = rows[0].score * MIN_RELATIVE_SCORE if rows else 0.0
    chosen: list[Passage] = []
    used = 0
    taken: dict[int, int] = {}
    for row in rows:
        paper = papers.get(row.paper_id)
        if paper is None or taken.get(row.paper_id, 0) >= per_paper:
            continue
        if used + row.tokens > budget or row.score < floor:
            continue
        chosen.append(to_passage(row, paper))
        used += row.tokens
        taken[row.paper_id] = taken.get(row.paper_id, 0) + 1
        if len(chosen) >= passages:
            break
    return chosen


def library_messages(
    question: str, passages: Sequence[Passage], papers: int, settings: Settings, lang: str
) -> list[tuple[str, str]]:
    """System prompt, the passages, then the question (static material first)."""
    system = render(
        "paper/library_system.j2", prompts_dir=settings.prompts_dir, language=language_name(lang)
    )
    given = render(
        "paper/library.j2", prompts_dir=settings.prompts_dir, passages=passages, papers=papers
    )
    ask = render("paper/library_ask.j2", prompts_dir=settings.prompts_dir, question=question)
    return [("system", system), ("user", given), ("user", ask)]


def _pages(text: str) -> list[int]:
    pages: list[int] = []
    for piece in re.split(r"\s*(?:,|and)\s*", text):
        ends = [int(n) for n in re.split(r"\s*[-–—]\s*", piece) if n.strip().isdigit()]
        if len(ends) == 2 and 0 <= ends[1] - ends[0] <= 50:
            pages.extend(range(ends[0], ends[1] + 1))
        else:
            pages.extend(ends)
    return pages


def check_citations(answer: str, sent: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """The answer with unverified citations marked, and every citation it makes (see the
    module docstring)."""
    by_label: dict[str, Passage] = {}
    pages_sent: dict[str, set[int]] = {}
    for passage in sent:
        key = fold(passage.label)
        by_label.setdefault(key, passage)
        pages_sent.setdefault(key, set()).add(passage.page)
    citations: list[Citation] = []

    def check(group: re.Match[str]) -> str:
        parts = group.group(1).split(";")
        out = []
        for part in parts:
            match = _PART.match(part)
            if match is None:
                out.append(part)
                continue
            label = match.group("label").strip()
            pages = _pages(match.group("pages"))
            key = fold(label)
            known = by_label.get(key)
            verified = bool(pages) and set(pages) <= pages_sent.get(key, set())
            citations.append(
                Citation(
                    text=f"({part.strip()})",
                    label=label,
                    pages=pages,
                    verified=verified,
                    source=known.source if known else None,
                    title=known.title if known else None,
                )
            )
            out.append(part if verified else f"{part.rstrip()} [unverified]")
        return "(" + ";".join(out) + ")"

    return _GROUP.sub(check, answer), citations


async def aask_library(
    store: LibraryStore,
    question: str,
    *,
    settings: Settings,
    llm: LLM,
    lang: str,
    passages: int,
    budget: int,
    per_paper: int,
    dry_run: bool,
) -> LibraryAnswer:
    """Retrieve, ask, check (see the module docstring). ``store`` is up to date."""
    query = fts_query(question)
    papers = await asyncio.to_thread(store.papers)
    rows = await asyncio.to_thread(store.search, query, max(50, passages * 6))
    chosen = choose_passages(rows, papers, passages=passages, budget=budget, per_paper=per_paper)
    facts: dict[str, Any] = {
        "folder": str(store.folder),
        "question": question,
        "query": query,
        "library_tokens": sum(p.tokens for p in papers.values()),
        "model": llm.model_name,
        "passages_sent": chosen,
    }
    if not chosen:
        why = (
            "the question has no words to search for"
            if not query
            else "no passage of the library matches its words"
            if not rows
            else f"no matching passage fits the budget of {budget:,} tokens"
        )
        return LibraryAnswer(
            **facts,
            answerable=False,
            answer=f"The library does not answer this: {why} (no request was made).",
            warnings=[] if papers else ["the library has no indexed papers"],
        )
    messages = library_messages(question, chosen, len(papers), settings, lang)
    if dry_run:
        estimate = plan_estimate(
            llm,
            [(messages, LIBRARY_OUTPUT_TOKENS)],
            paper_tokens=sum(p.tokens for p in chosen),
        )
        return LibraryAnswer(**facts, dry_run=True, estimate=estimate)
    out, reply = await llm.astructured(messages, _LibraryAnswerOut)
    warnings: list[str] = []
    if not out.answerable:
        return LibraryAnswer(
            **facts, answerable=False, answer=out.answer.strip(), usage=reply.usage
        )
    text, citations = check_citations(out.answer.strip(), chosen)
    bad = [c.text for c in citations if not c.verified]
    if bad:
        warnings.append(f"{len(bad)} citation(s) name no passage that was sent: {', '.join(bad)}")
    if not any(c.verified for c in citations):
        warnings.append("the answer cites no passage that was sent")
    return LibraryAnswer(
        **facts,
        answer=text,
        citations=citations,
        usage=reply.usage,
        warnings=warnings,
    )
