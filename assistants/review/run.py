"""The code reviewer: :func:`review_path` and :func:`review_diff` return a typed :class:`Review`.

Pipeline: select files (:mod:`assistants.review.files` / :mod:`assistants.review.diff`) →
redact secrets (:mod:`assistants.review.secrets`) → cut into numbered units and pack them into
requests under ``ReviewSettings.request_token_budget`` (:mod:`assistants.review.units`) → run
the requests concurrently through :class:`assistants.llm.LLM` (JSON mode, validated by
:class:`~assistants.review.models.ModelReview`) → check every finding's anchor against the text
that was sent and merge duplicates (:mod:`assistants.review.anchor`) → hold back the findings
an ``assistants: ignore`` comment suppresses (:mod:`assistants.review.suppress`) →
:class:`Review`. A baseline is a filter over the result (:mod:`assistants.review.baseline`).
It runs as a stream (:mod:`assistants.review.pipeline`): a producer thread reads, redacts,
counts (token counts cached on disk) and packs the files in path order, and each request is
sent as soon as it is packed.

Requests are deterministic (sorted files, no timestamps, content-derived block markers), so
the response cache makes an unchanged re-run free. The fail-on gate is computed from validated
findings only (:meth:`Review.gate`): nothing inside the reviewed code can change it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AssistantsError, ConfigError, ResponseError
from .anchor import dedupe, number_occurrences, place
from .models import (
    FailedFile,
    Finding,
    ModelReview,
    Review,
    ReviewEstimate,
    SkippedFile,
)
from .pipeline import Job, Plan, estimate, redacted, send_all, token_cache
from .suppress import split_inline
from .units import Doc, Request

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings
    from ..llm import LLM, Progress
    from .files import SkippedPath
    from .house import Guide
    from .rules import ConfigFrom

__all__ = ["review_diff", "review_path"]


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from ..config import load_settings

    return load_settings()


def skipped_files(skips: Sequence[SkippedPath]) -> list[SkippedFile]:
    """Skipped paths as reported, each with its reason in words."""
    from .files import SKIP_REASONS

    out = []
    for s in skips:
        text = SKIP_REASONS.get(s.reason, s.reason)
        detail = f"{text} ({s.detail})" if s.detail else text
        out.append(SkippedFile(path=s.path, reason=s.reason, detail=detail))
    return sorted(out, key=lambda s: s.path)


def _system_prompt(
    settings: Settings, mode: str, instructions: str | None, guide: Guide | None = None
) -> str:
    from ..prompts import language_name, render

    parts = [p.strip() for p in (settings.review.instructions, instructions) if p and p.strip()]
    return render(
        "review/system.j2",
        prompts_dir=settings.prompts_dir,
        language=language_name(settings.lang),
        mode="diff" if mode != "path" else "path",
        instructions="\n\n".join(parts),
        guide=guide.context() if guide else None,
    )


def _house(
    job: Job,
    settings: Settings,
    wanted: bool | None,
    base: tuple[str, str] | None = None,
) -> Guide | None:
    """Put the house rules by path on ``job``; the project's guide (REVIEW.md / AGENTS.md)
    of ``base`` (tree-ish, name) or else of the working tree, when ``wanted`` (None: the
    ``review.project_instructions`` setting)."""
    from .house import PathRules, load_guide

    rules = PathRules(settings.review.paths)
    job.rules = rules if rules else None
    if not (settings.review.project_instructions if wanted is None else wanted):
        return None
    job.counter = job.counter or token_cache(settings)
    tree, name = base if base else (None, "")
    cap = settings.review.project_instructions_tokens
    return load_guide(job.root, job.counter, cap, base=tree, name=name)


@dataclass(frozen=True)
class _Options:
    """The arguments :func:`review_path` and :func:`review_diff` pass on to :func:`_execute`."""

    settings: Settings
    model: BaseChatModel | None
    dry_run: bool
    think: bool | None
    instructions: str | None
    concurrency: int | None
    progress: Progress | None
    guide: Guide | None = None


def _execute(job: Job, options: _Options) -> Review:
    settings, dry_run, think = options.settings, options.dry_run, options.think
    first = next(job.docs, None)
    if first is None:  # nothing to send: stay cheap (no client, no tokenizer)
        from ..llm.selector import select_model

        spec = select_model("coder", settings, thinking=think)
        return Review(
            mode=job.mode,
            target=job.target,
            root=str(job.root),
            model=spec.model,
            dry_run=dry_run,
            skipped=skipped_files(job.skips),
            deletion_only_hunks=job.deletion_only_hunks,
            plan=ReviewEstimate(model=spec.model, concurrency=1, token_budget=0)
            if dry_run
            else None,
        )
    job.docs = itertools.chain([first], job.docs)
    from ..llm import LLM, run_sync

    llm = LLM(
        profile="coder", task="review", settings=settings, model=options.model, thinking=think
    )
    limit = settings.concurrency_for("review", options.concurrency)
    system = _system_prompt(settings, job.mode, options.instructions, options.guide)
    plan = Plan(
        job, llm, settings, system, warm=not dry_run and options.model is None, probe=not dry_run
    )
    plan.lean = not dry_run
    if dry_run:
        requests = list(plan.requests())
        review = _review(job, plan, llm, dry_run=True)
        review.plan = estimate(llm, plan, requests, limit)
        plan.counter.close()
        return review
    try:
        sent = run_sync(send_all(llm, plan, limit, options.progress))
    finally:
        plan.counter.close()
    review = _review(job, plan, llm, dry_run=False)
    if not sent:
        return review
    return _collect(review, plan, sent, llm)


def _review(job: Job, plan: Plan, llm: LLM, *, dry_run: bool) -> Review:
    return Review(
        mode=job.mode,
        target=job.target,
        root=str(job.root),
        model=llm.model_name,
        dry_run=dry_run,
        files=plan.files(),
        skipped=skipped_files(job.skips),
        secrets_redacted=sum(job.secrets.values()),
        secret_kinds=dict(sorted(job.secrets.items())),
        deletion_only_hunks=job.deletion_only_hunks,
    )


def _collect(review: Review, plan: Plan, sent: list[tuple[Request, Any]], llm: LLM) -> Review:
    replies = [reply for _, reply in sent]
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
    for req, reply in sent:
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
        findings += place(answer.findings, {p: plan.doc(p) for p in req.paths}, rejected)
    merged, duplicates = dedupe(findings)
    if duplicates:
        rejected["duplicates-merged"] = duplicates
    number_occurrences(merged)
    review.findings, review.suppressed = split_inline(merged, lambda path: plan.doc(path).lines)
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
    project_instructions: bool | None = None,
) -> Review:
    """Review whole files under ``paths`` (files or folders; git-aware).

    ``dry_run`` builds the requests and returns a :class:`Review` with a
    :class:`~assistants.review.models.ReviewEstimate` in ``plan`` (requests, files per request,
    input tokens, estimated cost) without calling anything or needing a key. ``model`` injects
    a LangChain chat model (tests). ``progress(done, total)`` counts files, called as they finish.
    Raises :class:`~assistants.errors.InputError` for a missing path and the API's error when
    every request failed; when only some fail, their files are listed in
    :attr:`Review.failed` (``exit_code()`` is then 7 unless the gate trips).
    The house rules apply (:mod:`assistants.review.house`): ``review.paths`` instructions go
    with the files they match, and the guide at the root (REVIEW.md, else AGENTS.md) is read
    unless ``project_instructions`` is False (None: the ``review.project_instructions``
    setting).
    """
    from .files import stream_files

    settings = _settings(settings)
    if isinstance(paths, str | Path):
        paths = [paths]
    stream = stream_files(
        list(paths),
        include=[*settings.review.include, *include],
        exclude=[*settings.review.exclude, *exclude],
        max_bytes=settings.review.max_file_bytes,
    )
    secrets: Counter[str] = Counter()
    counter = token_cache(settings)

    def docs() -> Iterator[Doc]:
        for src in stream:
            text, kinds = redacted(src.text, counter, src.path)
            secrets.update(kinds)
            yield Doc.of(src.path, src.language, text)

    job = Job(
        mode="path",
        target=" ".join(str(p) for p in paths),
        root=stream.root,
        docs=docs(),
        total=stream.total,
        skips=stream.skipped,
        secrets=secrets,
        first_skips=len(stream.skipped),
        counter=counter,
    )
    guide = _house(job, settings, project_instructions)
    return _execute(
        job, _Options(settings, model, dry_run, think, instructions, concurrency, progress, guide)
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
    project_instructions: bool | None = None,
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
    working tree's. Given ``settings`` are used as they are. The project's guide (REVIEW.md /
    AGENTS.md) comes from the base too unless ``config_from="worktree"``. Other arguments as
    in :func:`review_path`.
    """
    settings, job = diff_settings_and_job(
        ref, staged=staged, repo=repo, paths=paths, settings=settings, include=include,
        exclude=exclude, config_from=config_from,
    )  # fmt: skip
    guide = _house(job, settings, project_instructions, guide_base(ref, staged, job, config_from))
    return _execute(
        job, _Options(settings, model, dry_run, think, instructions, concurrency, progress, guide)
    )


def diff_settings_and_job(
    ref: str | None,
    *,
    staged: bool,
    repo: str | Path,
    paths: Sequence[str | Path],
    settings: Settings | None,
    include: Sequence[str],
    exclude: Sequence[str],
    config_from: ConfigFrom,
) -> tuple[Settings, Job]:
    """A diff's settings (given ones as they are, else the base's review rules:
    :func:`assistants.review.rules.diff_rules`) and its :func:`diff_job`."""
    from .rules import diff_rules

    if settings is None:
        settings = diff_rules(
            _settings(None), ref, staged=staged, repo=repo, config_from=config_from
        )
    job = diff_job(
        ref, staged=staged, repo=repo, paths=paths, settings=settings, include=include,
        exclude=exclude,
    )  # fmt: skip
    return settings, job


def guide_base(
    ref: str | None, staged: bool, job: Job, config_from: ConfigFrom
) -> tuple[str, str] | None:
    """Where a diff's guide is read: the diff's base (tree-ish, name), or None for the
    working tree (``config_from="worktree"``)."""
    from .rules import base_ref

    return base_ref(ref, staged=staged, root=job.root) if config_from == "ref" else None


def diff_job(
    ref: str | None,
    *,
    staged: bool,
    repo: str | Path,
    paths: Sequence[str | Path],
    settings: Settings,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Job:
    """The changed files of a diff as a :class:`Job`: selected by the review's globs, each
    redacted (added and removed lines), with the redactions counted in what is sent."""
    from .diff import limit_to, load_diff
    from .files import apply_globs
    from .secrets import redact, redacted_kinds

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
    return Job(
        mode="staged" if staged else "diff",
        target=selection.description,
        root=selection.root,
        docs=iter([docs[p] for p in sorted(docs)]),
        total=len(docs),
        skips=[*selection.skipped, *excluded],
        secrets=secrets,
        first_skips=len(selection.skipped) + len(excluded),
        deletion_only_hunks=selection.deletion_only_hunks,
    )
