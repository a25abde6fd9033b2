"""A conference-style review of a paper (a NeurIPS-like form): strengths, weaknesses,
questions, limitations, scores and a decision. With an ensemble of n reviewers, n independent
reviews run concurrently and an area chair's meta-review aggregates them (scores: means of the
reviews; decision: the majority).

Reflection (``reflect`` rounds, the AI Scientist reviewer's): after its first review each
reviewer re-reads the paper with its current review and revises it, up to ``reflect`` times,
stopping early when a round says it is done. Every reflection request is the system prompt and
the paper — byte for byte the first review's prefix, so the API's prefix cache serves the paper
— then one message with the current review and the instruction. A failed round keeps the
review of the round before (with a warning): the rounds are paid for."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import errors
from ..config import Settings
from ..llm import Progress
from ..llm.bridge import sync_twin
from ..llm.tokens import count_tokens
from ..prompts import render
from .models import PaperReview, ReflectionRound, ReviewForm
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
from .schema import _ReflectionOut, _ReviewOut
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
    reflect: int | None = None,
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
    rounds = settings.paper.reflect if reflect is None else reflect
    if not 0 <= rounds <= 10:
        raise errors.InputError(f"reflect must be 0..10, not {rounds}")
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
        draft = "x " * REVIEW_OUTPUT_TOKENS  # a review of the assumed length
        plan += [
            (_reflect_messages(prefix, settings, draft, k, n, r, rounds), REVIEW_OUTPUT_TOKENS)
            for k in range(1, n + 1)
            for r in range(1, rounds + 1)
        ]
        if n > 1:
            plan.append(
                (
                    [prefix[0], ("user", "x " * (REVIEW_OUTPUT_TOKENS * n))],
                    REVIEW_OUTPUT_TOKENS,
                )
            )
        estimate = plan_estimate(llm, plan, paper_tokens=count_tokens(prefix[1][1]))
        return PaperReview(**facts, ensemble=n, reflect=rounds, dry_run=True, estimate=estimate)
    done = 0
    total = n * (1 + rounds) + (1 if n > 1 else 0)  # at most: a round may say it is done
    reflections: list[ReflectionRound] = []
    warnings: list[str] = []

    def tick(steps: int = 1) -> None:
        nonlocal done
        done += steps
        if progress:
            progress(done, total)

    async def one(indexed: tuple[int, list[tuple[str, str]]]) -> _ReviewOut:
        k, msgs = indexed
        out, _ = await llm.astructured(msgs, _ReviewOut, schema_in="last")
        tick()
        reflections.append(ReflectionRound(reviewer=k, round=0, form=_form(out, loaded)))
        for r in range(1, rounds + 1):
            review = out.model_dump_json(indent=1)
            ask = _reflect_messages(prefix, settings, review, k, n, r, rounds)
            try:
                revised, _ = await llm.astructured(ask, _ReflectionOut, schema_in="last")
            except errors.AssistantsError as exc:
                warnings.append(
                    f"reviewer {k}: reflection round {r} failed ({exc}); "
                    f"the review is round {r - 1}'s"
                )
                tick(rounds - r + 1)
                break
            out = _ReviewOut.model_validate(revised.model_dump(exclude={"done"}))
            form = _form(out, loaded)
            reflections.append(ReflectionRound(reviewer=k, round=r, done=revised.done, form=form))
            if revised.done:
                tick(rounds - r + 1)
                break
            tick()
        return out

    if progress:
        progress(0, total)
    results = await llm.amap(
        one, list(enumerate(requests, start=1)), concurrency=settings.concurrency_for("paper")
    )
    outs = [r for r in results if not isinstance(r, BaseException)]
    if not outs:
        raise results[0]
    reflections.sort(key=lambda item: (item.reviewer, item.round))
    facts["warnings"] = [*facts["warnings"], *sorted(warnings)]
    trail: dict[str, Any] = {"reflect": rounds, "reflections": reflections if rounds else []}
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
            **trail,
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
        progress(total, total)
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
        **trail,
    )


def _reflect_messages(
    prefix: list[tuple[str, str]],
    settings: Settings,
    review: str,
    reviewer: int,
    reviewers: int,
    round_: int,
    rounds: int,
) -> list[tuple[str, str]]:
    """A reflection request: the paper prefix as it is (cached), then the current review and
    the instruction."""
    instruction = render(
        "paper/reflect.j2",
        prompts_dir=settings.prompts_dir,
        reviewer=reviewer,
        reviewers=reviewers,
        round=round_,
        rounds=rounds,
        review=review,
    )
    return [*prefix, ("user", instruction)]


review_paper = sync_twin(
    areview_paper,
    """A conference-style review (NeurIPS-like form). With ``ensemble`` n > 1, n independent
    reviews run concurrently and an area-chair meta-review aggregates them (scores: means of
    the reviews; decision: majority). With ``reflect`` N > 0 each reviewer re-reads the paper
    and revises its review up to N times, stopping when a round says it is done
    (``review.reflections`` records every round).""",
)
