"""Papers side by side: problem, method, data, main results (with their numbers) and
limitations, every cell citing the pages it rests on (checked like every paper citation).

Cost: one small request per paper whose prefix — system prompt, then the paper — is the
prefix every other request about that paper sends (analyze, ask, chat), so the API's prefix
cache serves the paper's tokens when it was read recently, and our response cache makes a
repeated comparison free. The answer is a short row (five cells), not a whole analysis. A
paper over ``paper.token_budget`` sends only its pages most relevant to the five aspects
(with a warning).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from ... import errors
from ...config import Settings
from ...llm import LLM, Progress
from ...llm.bridge import sync_twin
from ...llm.tokens import count_tokens
from ...prompts import render
from ..batch import MAX_LOADING
from ..passages import select_pages
from ..request import (
    as_paper,
    checked_claim,
    paper_llm,
    paper_message,
    paper_text,
    plan_estimate,
    resolve_settings,
    system_prompt,
    window_limits,
)
from ..schema import _ClaimOut
from ..text import Paper
from .models import ASPECTS, Comparison, ComparisonRow
from .records import record_from_paper, with_labels

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["acompare_papers", "compare_papers"]

ROW_OUTPUT_TOKENS = 700  # for --dry-run estimates
_ASPECT_WORDS = (
    "problem task we propose method approach model dataset datasets benchmark data results "
    "accuracy improves outperforms baseline percent table limitations limitation future work"
)


class _CompareRowOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    problem: _ClaimOut
    method: _ClaimOut
    data: _ClaimOut
    results: _ClaimOut
    limitations: _ClaimOut


def _row_messages(
    paper: Paper, settings: Settings, lang: str, token_budget: int
) -> tuple[list[tuple[str, str]], list[int]]:
    """The request for one paper's row, and the pages sent when not the whole paper."""
    instruction = render("paper/compare.j2", prompts_dir=settings.prompts_dir)
    whole = paper_message(paper, settings)
    sent: list[int] = []
    if count_tokens(whole) > token_budget:
        chosen = select_pages(paper_text(paper, settings), _ASPECT_WORDS, token_budget)
        whole = paper_message(paper, settings, passages=chosen)
        sent = [number for number, _ in chosen]
    return [("system", system_prompt(settings, lang)), ("user", whole), ("user", instruction)], sent


async def acompare_papers(
    papers: Sequence[Paper | str | Path | bytes],
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
    names: Sequence[str] | None = None,
) -> Comparison:
    """Async :func:`compare_papers`."""
    if len(papers) < 2:
        raise errors.InputError("compare: give at least two papers")
    settings = resolve_settings(settings)
    lang = lang or settings.lang
    llm: LLM = paper_llm(settings, model)
    loading = asyncio.Semaphore(MAX_LOADING)

    async def load(item: Paper | str | Path | bytes) -> Paper:
        async with loading:
            return await asyncio.to_thread(as_paper, item, settings, password)

    loaded = await asyncio.gather(*(load(item) for item in papers))
    sources = list(names) if names is not None else [p.source for p in loaded]
    labels = {
        r.source: r.label
        for r in with_labels(record_from_paper(p, s) for p, s in zip(loaded, sources, strict=True))
    }
    _, token_budget, _ = await asyncio.to_thread(window_limits, llm, settings, probe=not dry_run)
    requests = [_row_messages(paper, settings, lang, token_budget) for paper in loaded]
    if dry_run:
        estimate = plan_estimate(
            llm,
            [(messages, ROW_OUTPUT_TOKENS) for messages, _ in requests],
            paper_tokens=sum(count_tokens(m[1][1]) for m, _ in requests),
        )
        planned = [
            ComparisonRow(source=s, title=p.title, label=labels[s])
            for p, s in zip(loaded, sources, strict=True)
        ]
        return Comparison(rows=planned, model=llm.model_name, dry_run=True, estimate=estimate)

    async def one(messages: list[tuple[str, str]]) -> _CompareRowOut:
        out, _ = await llm.astructured(messages, _CompareRowOut, schema_in="last")
        return out

    results = await llm.amap(
        one,
        [m for m, _ in requests],
        concurrency=settings.concurrency_for("paper"),
        progress=progress,
    )
    rows: list[ComparisonRow] = []
    warnings: list[str] = []
    failures = [r for r in results if isinstance(r, errors.AssistantsError)]
    if len(failures) == len(results):
        raise failures[0]
    for paper, source, (_, sent), result in zip(loaded, sources, requests, results, strict=True):
        notes = list(paper.warnings)
        if sent:
            notes.append(
                f"too long to send whole: {len(sent)} of {paper.page_count} pages were sent"
            )
        cells: dict[str, Any] = {}
        if isinstance(result, errors.AssistantsError):
            notes.append(f"failed: {result}")
        else:
            cells = {name: checked_claim(getattr(result, name), paper) for name, _ in ASPECTS}
        warnings.extend(f"{source}: {note}" for note in notes)
        rows.append(
            ComparisonRow(
                source=source, title=paper.title, label=labels[source], warnings=notes, **cells
            )
        )
    return Comparison(rows=rows, model=llm.model_name, usage=llm.usage, warnings=warnings)


compare_papers = sync_twin(
    acompare_papers,
    """Compare papers (paths, :class:`Paper` objects, PDF bytes or text) side by side:
    problem, method, data, main results and limitations, every cell citing pages. ``names``
    replaces the papers' sources in the table. ``dry_run`` sends nothing and returns the
    estimate.""",
)
