"""Pull-request descriptions from a diff: :func:`describe_diff` returns a typed
:class:`~assistants.review.models.PullRequestDescription`.

The diff goes the review's way (:func:`assistants.review.run.diff_job`: the review's globs,
secrets redacted in added and removed lines; :class:`assistants.review.pipeline.Plan`: hunks
numbered and packed under ``review.request_token_budget``, the same deterministic boundaries),
through the same LLM layer (response cache, ledger rows labelled ``describe``), asking for
:class:`~assistants.review.models.ModelDescription` in JSON mode. A diff that fits one request
is described by it. A bigger one is described part by part (map) and one more request combines
the parts' titles, summaries, risks and tests (reduce); the walkthrough is the parts' rows,
merged by us in path order. The reduce request is built from the parts' answers in request
order, so an unchanged re-run is served wholly by the response cache. If any request fails,
its error is raised: a description of part of a change would read as the whole. The answers
that did come are cached, so a re-run pays only for what failed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .models import (
    FileChange,
    ModelDescription,
    ModelSynthesis,
    PlannedRequest,
    PullRequestDescription,
    ReviewEstimate,
)
from .pipeline import Plan, estimate, send_all

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings
    from ..llm import LLM, Progress
    from .rules import ConfigFrom
    from .units import Request

__all__ = ["describe_diff"]

REDUCE_OUTPUT_TOKENS = 800  # what the dry run assumes the combining request answers


def _system(settings: Settings) -> str:
    from ..prompts import language_name, render

    return render(
        "review/describe_system.j2",
        prompts_dir=settings.prompts_dir,
        language=language_name(settings.lang),
    )


def describe_diff(
    ref: str | None = None,
    *,
    staged: bool = False,
    repo: str | Path = ".",
    paths: Sequence[str | Path] = (),
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    dry_run: bool = False,
    think: bool | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    concurrency: int | None = None,
    progress: Progress | None = None,
    config_from: ConfigFrom = "ref",
) -> PullRequestDescription:
    """A pull-request description of the staged changes (``staged=True``) or of the working
    tree against ``ref`` (default ``HEAD``; ``A..B`` / ``A...B`` compare commits): title,
    summary, a walkthrough row per changed file, risk areas and what to test.

    Files are chosen, redacted and packed as :func:`~assistants.review.run.review_diff` does
    (the review rules, include/exclude, come from the diff's base unless ``settings`` are
    given or ``config_from="worktree"``). ``dry_run`` returns the requests it would send with
    their tokens and estimated cost in ``plan``, sending nothing and needing no key.
    Raises :class:`~assistants.errors.InputError` when there is no change to describe.
    """
    from ..llm import LLM, run_sync
    from .run import diff_settings_and_job, skipped_files

    settings, job = diff_settings_and_job(
        ref, staged=staged, repo=repo, paths=paths, settings=settings, include=include,
        exclude=exclude, config_from=config_from,
    )  # fmt: skip
    docs = list(job.docs)
    if not docs:
        raise InputError(
            f"nothing to describe: no changed file to send in the {job.target}",
            hint="check the ref (e.g. --diff main) and --include/--exclude",
        )
    job.docs = iter(docs)
    result = PullRequestDescription(
        mode="staged" if staged else "diff",
        target=job.target,
        model="",
        dry_run=dry_run,
        walkthrough=[
            FileChange(
                path=d.path, added=len(d.added), removed=sum(len(v) for v in d.removed.values())
            )
            for d in docs
        ],
        skipped=skipped_files(job.skips),
        secrets_redacted=sum(job.secrets.values()),
    )
    llm = LLM(profile="coder", task="describe", settings=settings, model=model, thinking=think)
    result.model = llm.model_name
    limit = settings.concurrency_for("review", concurrency)
    system = _system(settings)
    plan = Plan(
        job,
        llm,
        settings,
        system,
        warm=not dry_run and model is None,
        probe=not dry_run,
        schema=ModelDescription,
        template="review/describe.j2",
    )
    plan.lean = not dry_run
    try:
        if dry_run:
            requests = list(plan.requests())
            result.plan = estimate(llm, plan, requests, limit)
            result.parts = len(requests)
            if len(requests) > 1:
                result.plan.requests.append(_reduce_estimate(llm, plan, system, result.plan))
            return result
        sent = run_sync(send_all(llm, plan, limit, progress))
    finally:
        plan.counter.close()
    for _, reply in sent:
        if isinstance(reply, BaseException):
            raise reply
    answers: list[tuple[Request, ModelDescription]] = [(req, reply[0]) for req, reply in sent]
    result.parts = len(answers)
    synthesis: ModelSynthesis = answers[0][1]
    if len(answers) > 1:
        synthesis = _combine(llm, settings, system, answers)
    result.title = synthesis.title
    result.summary = synthesis.summary.strip()
    result.risks = _distinct(synthesis.risks)
    result.tests = _distinct(synthesis.tests)
    result.unknown_files = _walkthrough(result.walkthrough, [a for _, a in answers])
    result.usage = llm.usage
    return result


def _distinct(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        text = " ".join(item.split())
        if text and text not in out:
            out.append(text)
    return out


def _walkthrough(rows: list[FileChange], answers: list[ModelDescription]) -> int:
    """Fill each row's ``change`` from the answers (a file split over several requests: its
    distinct sentences joined); returns how many answer rows named no file that was sent."""
    by_path = {row.path: row for row in rows}
    said: dict[str, list[str]] = {}
    unknown = 0
    for answer in answers:
        for item in answer.walkthrough:
            path = item.file.strip().removeprefix("./")
            if path not in by_path:
                unknown += 1
                continue
            said.setdefault(path, []).append(item.change)
    for path, changes in said.items():
        by_path[path].change = " ".join(_distinct(changes)) or None
    return unknown


def _parts(answers: list[tuple[Request, ModelDescription]]) -> list[str]:
    from .units import visible

    return [
        visible(
            json.dumps(
                {
                    "part": n,
                    "files": req.paths,
                    "title": a.title,
                    "summary": a.summary,
                    "risks": a.risks,
                    "tests": a.tests,
                },
                ensure_ascii=False,
            )
        )
        for n, (req, a) in enumerate(answers, 1)
    ]


def _reduce_message(settings: Settings, parts: list[str]) -> str:
    from ..prompts import render

    marker = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
    return render(
        "review/describe_reduce.j2", prompts_dir=settings.prompts_dir, parts=parts, marker=marker
    )


def _combine(
    llm: LLM, settings: Settings, system: str, answers: list[tuple[Request, ModelDescription]]
) -> ModelSynthesis:
    """One request combining the parts' answers (the reduce step)."""
    user = _reduce_message(settings, _parts(answers))
    synthesis, _ = llm.structured([("system", system), ("user", user)], ModelSynthesis)
    return synthesis


def _reduce_estimate(llm: LLM, plan: Plan, system: str, planned: ReviewEstimate) -> PlannedRequest:
    """The combining request of a dry run: its fixed text plus the parts' expected answers."""
    from ..llm.tokens import MESSAGE_OVERHEAD

    fixed = plan.counter.count(f"{system}\n\n{llm.schema_instructions(ModelSynthesis)}")
    frame = plan.counter.count(_reduce_message(plan.settings, []))
    notes = sum(r.output_tokens for r in planned.requests)
    input_tokens = fixed + frame + notes + 2 * MESSAGE_OVERHEAD
    cost = llm.prices.cost(
        llm.model_name,
        cache_hit=0,
        cache_miss=input_tokens,
        output=REDUCE_OUTPUT_TOKENS,
        when=datetime.now(timezone.utc),
    )
    return PlannedRequest(
        files=[f"(combines the {len(planned.requests)} parts)"],
        input_tokens=input_tokens,
        output_tokens=REDUCE_OUTPUT_TOKENS,
        cost_usd=round(cost, 6),
    )
