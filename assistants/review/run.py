"""The code reviewer: :func:`review_path` and :func:`review_diff` return a typed :class:`Review`.

Pipeline: select files (:mod:`assistants.review.files` / :mod:`assistants.review.diff`) →
redact secrets (:mod:`assistants.review.secrets`) → cut into numbered units and pack them into
requests under ``ReviewSettings.request_token_budget`` (:mod:`assistants.review.units`) → run
the requests concurrently through :class:`assistants.llm.LLM` (JSON mode, validated by
:class:`~assistants.review.models.ModelReview`) → check every finding's anchor against the text
that was sent and merge duplicates (:mod:`assistants.review.anchor`) → :class:`Review`.

Requests are deterministic (sorted files, no timestamps, content-derived block markers), so
the response cache makes an unchanged re-run free. The fail-on gate is computed from validated
findings only (:meth:`Review.gate`): nothing inside the reviewed code can change it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import AssistantsError, ConfigError, ResponseError
from .anchor import dedupe, place
from .models import (
    FailedFile,
    Finding,
    ModelReview,
    PlannedRequest,
    Review,
    ReviewedFile,
    ReviewEstimate,
    SkippedFile,
)
from .units import Doc, Request, budget_units, pack

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings
    from ..llm import LLM, Progress
    from .files import SkippedPath
    from .rules import ConfigFrom

__all__ = ["review_diff", "review_path"]


@dataclass
class _Job:
    """What to review, once the files are selected and redacted."""

    mode: Literal["path", "staged", "diff"]
    target: str
    root: Path
    docs: dict[str, Doc]
    files: list[ReviewedFile]
    skipped: list[SkippedFile]
    secrets: Counter[str]
    deletion_only_hunks: int = 0


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from ..config import load_settings

    return load_settings()


def _skipped(skips: Sequence[SkippedPath]) -> list[SkippedFile]:
    """Skipped paths as reported, each with its reason in words."""
    from .files import SKIP_REASONS

    out = []
    for s in skips:
        text = SKIP_REASONS.get(s.reason, s.reason)
        detail = f"{text} ({s.detail})" if s.detail else text
        out.append(SkippedFile(path=s.path, reason=s.reason, detail=detail))
    return sorted(out, key=lambda s: s.path)


def _system_prompt(settings: Settings, mode: str, instructions: str | None) -> str:
    from ..prompts import language_name, render

    parts = [p.strip() for p in (settings.review.instructions, instructions) if p and p.strip()]
    return render(
        "review/system.j2",
        prompts_dir=settings.prompts_dir,
        language=language_name(settings.lang),
        mode="diff" if mode != "path" else "path",
        instructions="\n\n".join(parts),
    )


def _expected_output(input_tokens: int) -> int:
    return max(300, min(4000, input_tokens // 8))


def _execute(
    job: _Job,
    *,
    settings: Settings,
    model: BaseChatModel | None,
    dry_run: bool,
    think: bool | None,
    instructions: str | None,
    concurrency: int | None,
    progress: Progress | None,
) -> Review:
    if not job.docs:  # nothing to send: stay cheap (no client, no tokenizer)
        from ..llm.selector import select_model

        spec = select_model("coder", settings, thinking=think)
        return Review(
            mode=job.mode,
            target=job.target,
            root=str(job.root),
            model=spec.model,
            dry_run=dry_run,
            skipped=job.skipped,
            deletion_only_hunks=job.deletion_only_hunks,
            plan=ReviewEstimate(model=spec.model, concurrency=1, token_budget=0)
            if dry_run
            else None,
        )
    from ..llm import LLM, run_sync
    from ..prompts import render

    llm = LLM(profile="coder", task="review", settings=settings, model=model, thinking=think)
    limit = settings.concurrency_for("review", concurrency)
    system = _system_prompt(settings, job.mode, instructions)
    # the LLM layer appends the JSON-schema instructions to the system message (JSON mode)
    static = llm.structured_prompt_tokens(system, ModelReview)
    # capped to a share of the model's context window when it is known (asked of a local
    # server once; a dry run asks nothing)
    from ..llm.window import input_budget

    window = llm.context_window(probe=not dry_run)
    budget = max(1000, input_budget(window, settings.review.request_token_budget) - static - 200)
    units, parts = budget_units(job.docs, budget)
    for reviewed in job.files:
        reviewed.parts = parts[reviewed.path]
    requests = pack(units, budget)
    for req in requests:
        user = render(
            "review/request.j2",
            prompts_dir=settings.prompts_dir,
            mode="diff" if job.mode != "path" else "path",
            units=[u.context() for u in req.units],
        )
        req.messages = [("system", system), ("user", user)]

    review = Review(
        mode=job.mode,
        target=job.target,
        root=str(job.root),
        model=llm.model_name,
        dry_run=dry_run,
        files=job.files,
        skipped=job.skipped,
        secrets_redacted=sum(job.secrets.values()),
        secret_kinds=dict(sorted(job.secrets.items())),
        deletion_only_hunks=job.deletion_only_hunks,
    )
    if dry_run:
        review.plan = _estimate(llm, system, requests, limit, budget)
        return review
    if not requests:
        return review
    replies = run_sync(_run_all(llm, requests, limit, progress))
    return _collect(review, job, requests, replies, llm)


def _estimate(
    llm: LLM, system: str, requests: list[Request], limit: int, budget: int
) -> ReviewEstimate:
    """The dry run: each request as it would be sent, its tokens and estimated cost."""
    full_system = f"{system}\n\n{llm.schema_instructions(ModelReview)}"
    planned = []
    for req in requests:
        sent = [("system", full_system), req.messages[1]]
        input_tokens = llm.estimate(sent, output_tokens=0).input_tokens
        est = llm.estimate(sent, output_tokens=_expected_output(input_tokens))
        planned.append(
            PlannedRequest(
                files=[u.label for u in req.units],
                input_tokens=est.input_tokens,
                output_tokens=est.output_tokens,
                cost_usd=round(est.cost_usd, 6),
            )
        )
    return ReviewEstimate(
        model=llm.model_name, concurrency=limit, token_budget=budget, requests=planned
    )


async def _run_all(
    llm: LLM, requests: list[Request], limit: int, progress: Progress | None
) -> list[Any]:
    async def one(req: Request) -> Any:
        return await llm.astructured(req.messages, ModelReview)

    return await llm.amap(one, requests, concurrency=limit, progress=progress)


def _collect(
    review: Review, job: _Job, requests: list[Request], replies: list[Any], llm: LLM
) -> Review:
    errors = [r for r in replies if isinstance(r, BaseException)]
    if (
        errors
        and len(errors) == len(replies)
        and not all(isinstance(e, ResponseError) for e in errors)
    ):
        raise errors[0]  # nothing worked: the error itself is the answer (key, network, ...)
    # replies that came but cannot be used fail their own files, each listed with its reason
    for exc in errors:
        if isinstance(exc, ConfigError):
            raise exc
    rejected: Counter[str] = Counter()
    findings: list[Finding] = []
    failed: dict[str, FailedFile] = {}
    for req, reply in zip(requests, replies, strict=True):
        if isinstance(reply, BaseException):
            reason = reply.message if isinstance(reply, AssistantsError) else str(reply)
            for path in req.paths:
                failed.setdefault(
                    path, FailedFile(path=path, reason=reason, error=type(reply).__name__)
                )
            continue
        answer: ModelReview = reply[0]
        if answer.invalid:
            rejected["invalid"] += answer.invalid
        findings += place(answer.findings, {p: job.docs[p] for p in req.paths}, rejected)
    merged, duplicates = dedupe(findings)
    if duplicates:
        rejected["duplicates-merged"] = duplicates
    review.findings = merged
    review.failed = sorted(failed.values(), key=lambda f: f.path)
    review.rejected = dict(sorted(rejected.items()))
    review.usage = llm.usage
    return review


# -- public API ---------------------------------------------------------------------------
def review_path(
    paths: str | Path | Sequence[str | Path] = ".",
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    dry_run: bool = False,
    think: bool | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    instructions: str | None = None,
    concurrency: int | None = None,
    progress: Progress | None = None,
) -> Review:
    """Review whole files under ``paths`` (files or folders; git-aware).

    ``dry_run`` builds the requests and returns a :class:`Review` with a
    :class:`~assistants.review.models.ReviewEstimate` in ``plan`` (requests, files per request,
    input tokens, estimated cost) without calling anything or needing a key. ``model`` injects
    a LangChain chat model (tests). ``progress(done, total)`` is called as requests finish.
    Raises :class:`~assistants.errors.InputError` for a missing path and the API's error when
    every request failed; when only some fail, their files are listed in
    :attr:`Review.failed` (``exit_code()`` is then 7 unless the gate trips).
    """
    from .files import select_files
    from .secrets import redact

    settings = _settings(settings)
    if isinstance(paths, str | Path):
        paths = [paths]
    selection = select_files(
        list(paths),
        include=[*settings.review.include, *include],
        exclude=[*settings.review.exclude, *exclude],
        max_bytes=settings.review.max_file_bytes,
    )
    secrets: Counter[str] = Counter()
    docs: dict[str, Doc] = {}
    for src in selection.files:
        red = redact(src.text, src.path)
        secrets.update(red.kinds)
        docs[src.path] = Doc.of(src.path, src.language, red.text)
    job = _Job(
        mode="path",
        target=" ".join(str(p) for p in paths),
        root=selection.root,
        docs=docs,
        files=[
            ReviewedFile(path=p, language=d.language, lines=len(d.lines))
            for p, d in sorted(docs.items())
        ],
        skipped=_skipped(selection.skipped),
        secrets=secrets,
    )
    return _execute(
        job,
        settings=settings,
        model=model,
        dry_run=dry_run,
        think=think,
        instructions=instructions,
        concurrency=concurrency,
        progress=progress,
    )


def review_diff(
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
    instructions: str | None = None,
    concurrency: int | None = None,
    progress: Progress | None = None,
    config_from: ConfigFrom = "ref",
) -> Review:
    """Review only what changed: the staged changes (``staged=True``), or the working tree
    against ``ref`` (default ``HEAD``; ``A..B`` and ``A...B`` compare commits).

    Each hunk is sent with new-side line numbers and its enclosing function or class as
    context; hunks that only delete lines are dropped (counted in ``deletion_only_hunks``).
    Findings outside the changed lines and their context are rejected (counted in
    ``rejected["outside-diff"]``). ``paths`` limits the review to changes under those files
    or folders. Without ``settings``, the review rules (``[tool.assistants.review]``, the
    prompt folder) come from the base's pyproject.toml, so a change cannot weaken its own
    review (:func:`assistants.review.rules.diff_rules`); ``config_from="worktree"`` reads the
    working tree's. Given ``settings`` are used as they are. Other arguments as in
    :func:`review_path`.
    """
    from .diff import limit_to, load_diff
    from .files import apply_globs
    from .rules import diff_rules
    from .secrets import redact, redacted_kinds

    if settings is None:
        settings = diff_rules(
            _settings(None), ref, staged=staged, repo=repo, config_from=config_from
        )
    loaded = load_diff(ref, staged=staged, repo=repo, max_bytes=settings.review.max_file_bytes)
    selection = limit_to(loaded, paths)
    kept, excluded = apply_globs(
        [f.path for f in selection.files],
        [*settings.review.include, *include],
        [*settings.review.exclude, *exclude],
    )
    secrets: Counter[str] = Counter()
    docs: dict[str, Doc] = {}
    wanted = set(kept)
    for df in (f for f in selection.files if f.path in wanted):
        doc = Doc.of(df.path, df.language, redact(df.text, df.path).text, added=set(df.added))
        doc.allowed = [(a, min(b, len(doc.lines))) for a, b in df.ranges if a <= len(doc.lines)]
        for a, b in doc.allowed:  # count the redactions in what is sent, not the whole file
            secrets.update(redacted_kinds("\n".join(doc.lines[a - 1 : b])))
        for n, old in df.removed.items():
            red_old = redact("\n".join(old), df.path)
            secrets.update(red_old.kinds)
            doc.removed[n] = red_old.text.split("\n")
        docs[df.path] = doc
    job = _Job(
        mode="staged" if staged else "diff",
        target=selection.description,
        root=selection.root,
        docs=docs,
        files=[
            ReviewedFile(
                path=p,
                language=d.language,
                lines=sum(b - a + 1 for a, b in d.allowed or []),
                changed_lines=len(d.added),
            )
            for p, d in sorted(docs.items())
        ],
        skipped=_skipped([*selection.skipped, *excluded]),
        secrets=secrets,
        deletion_only_hunks=selection.deletion_only_hunks,
    )
    return _execute(
        job,
        settings=settings,
        model=model,
        dry_run=dry_run,
        think=think,
        instructions=instructions,
        concurrency=concurrency,
        progress=progress,
    )
