"""Analyse one paper: summary, contributions, innovations, method, key results, limitations
and open questions, each citing the pages it rests on.

Long papers: when the body (references cut) has more tokens than ``paper.token_budget`` (capped
to half of the model's context window when that is known) the
paper is cut into chunks (:mod:`assistants.paper.chunks`); each chunk is mapped to notes
concurrently (``settings.concurrency_for("paper")``) and the notes are reduced into one
:class:`~assistants.paper.models.PaperAnalysis`; ``analysis.path`` says which path was taken.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import errors
from ..config import Settings
from ..llm import LLM, Progress, Usage
from ..llm.bridge import sync_twin
from ..llm.tokens import count_tokens
from ..prompts import render
from .chunks import Chunk, plan_chunks
from .models import PaperAnalysis
from .request import (
    ANALYSIS_OUTPUT_TOKENS,
    NOTES_OUTPUT_TOKENS,
    as_paper,
    checked_claim,
    checked_result,
    paper_llm,
    paper_prefix,
    plan_estimate,
    resolve_settings,
    result_facts,
    system_prompt,
    window_limits,
)
from .schema import CLAIM_LISTS, _AnalysisOut, _ClaimOut, _NotesOut
from .tables import tables_text
from .text import Paper

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["aanalyze_paper", "analyze_paper"]


# ---------------------------------------------------------------------------------------------
# map → reduce requests


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
        tables=tables_text(
            paper.tables,
            paper.figures,
            settings.paper.table_tokens,
            {page for page, _, _ in chunk.pieces},
        ),
    )
    instruction = render("paper/map.j2", prompts_dir=settings.prompts_dir, part=index, parts=total)
    return [("system", system_prompt(settings, lang)), ("user", part), ("user", instruction)]


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
    return [("system", system_prompt(settings, lang)), ("user", rendered), ("user", instruction)]


# ---------------------------------------------------------------------------------------------
# analysis


def _analysis(
    out: _AnalysisOut, paper: Paper, facts: dict[str, Any], **extra: Any
) -> PaperAnalysis:
    values: dict[str, Any] = {
        name: [checked_claim(item, paper) for item in getattr(out, name)] for name in CLAIM_LISTS
    }
    values["key_results"] = [checked_result(item, paper) for item in out.key_results]
    title = facts.pop("title", None)
    return PaperAnalysis(
        **facts,
        title=out.title.strip() or title,
        summary=checked_claim(out.summary, paper),
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
    settings = resolve_settings(settings)
    lang = lang or settings.lang
    paper = await asyncio.to_thread(as_paper, paper_or_path_or_text, settings, password)
    llm = llm or paper_llm(settings, model)
    facts = result_facts(paper, settings, llm, lang)
    prefix = paper_prefix(paper, settings, lang)
    instruction = render("paper/analyze.j2", prompts_dir=settings.prompts_dir)
    messages = [*prefix, ("user", instruction)]
    paper_tokens = count_tokens(prefix[1][1])
    _, token_budget, chunk_tokens = await asyncio.to_thread(
        window_limits, llm, settings, probe=not dry_run
    )
    single = paper_tokens <= token_budget

    if single:
        if dry_run:
            estimate = plan_estimate(
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

    chunks = plan_chunks(paper, chunk_tokens, cut_references=settings.paper.cut_references)
    total = len(chunks)
    map_requests = [
        _map_messages(paper, chunk, i, total, settings, lang)
        for i, chunk in enumerate(chunks, start=1)
    ]
    if dry_run:
        reduce_guess = [
            ("system", system_prompt(settings, lang)),
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
        estimate = plan_estimate(
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
    results = await llm.amap(one, map_requests, concurrency=settings.concurrency_for("paper"))
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
        name: [item for note in notes for item in getattr(note, name)] for name in CLAIM_LISTS
    }
    return _AnalysisOut.model_validate({"title": "", "summary": summary, **lists})


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


analyze_paper = sync_twin(
    aanalyze_paper,
    """Analyse a paper (a :class:`Paper`, a path, PDF bytes or text): summary, contributions,
    innovations, method, key results, limitations and open questions, each citing pages.
    Long papers go through map → reduce (``analysis.path``). ``dry_run`` sends nothing and
    returns an analysis with only ``estimate`` filled in.""",
)
