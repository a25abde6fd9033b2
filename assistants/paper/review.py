"""A conference-style review of a paper (a NeurIPS-like form): strengths, weaknesses,
questions, limitations, scores and a decision. With an ensemble of n reviewers, n independent
reviews run concurrently and an area chair's meta-review aggregates them (scores: means of the
reviews; decision: the majority)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from .. import errors
from ..config import Settings
from ..llm import Progress
from ..llm.bridge import sync_twin
from ..llm.tokens import count_tokens
from ..prompts import render
from .models import PaperReview, ReviewForm
from .request import (
    REVIEW_OUTPUT_TOKENS,
    as_paper,
    check_single_request,
    checked_claim,
    paper_llm,
    paper_prefix,
    plan_estimate,
    resolve_settings,
    result_facts,
)
from .schema import _ReviewOut
from .text import Paper

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["areview_paper", "review_paper"]


def _form(out: _ReviewOut, paper: Paper) -> ReviewForm:
    data = out.model_dump()
    data["strengths"] = [checked_claim(item, paper) for item in out.strengths]
    data["weaknesses"] = [checked_claim(item, paper) for item in out.weaknesses]
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
    settings = resolve_settings(settings)
    lang = lang or settings.lang
    n = ensemble or settings.paper.ensemble
    if not 1 <= n <= 16:
        raise errors.InputError(f"ensemble must be 1..16, not {n}")
    loaded = await asyncio.to_thread(as_paper, paper, settings, password)
    llm = paper_llm(settings, model)
    facts = result_facts(loaded, settings, llm, lang)
    prefix = paper_prefix(loaded, settings, lang)
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
    check_single_request(requests[0], loaded.source)
    if dry_run:
        plan = [(msgs, REVIEW_OUTPUT_TOKENS) for msgs in requests]
        if n > 1:
            plan.append(
                (
                    [prefix[0], ("user", "x " * (REVIEW_OUTPUT_TOKENS * n))],
                    REVIEW_OUTPUT_TOKENS,
                )
            )
        estimate = plan_estimate(llm, plan, paper_tokens=count_tokens(prefix[1][1]))
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
    results = await llm.amap(one, requests, concurrency=settings.concurrency_for("paper"))
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


review_paper = sync_twin(
    areview_paper,
    """A conference-style review (NeurIPS-like form). With ``ensemble`` n > 1, n independent
    reviews run concurrently and an area-chair meta-review aggregates them (scores: means of
    the reviews; decision: majority).""",
)
