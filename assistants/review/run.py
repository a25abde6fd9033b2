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

import asyncio
import itertools
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import AssistantsError, ConfigError
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
from .units import Doc, Request

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings
    from ..llm import LLM, Progress
    from .files import SkippedPath

__all__ = ["review_diff", "review_path"]


@dataclass
class _Job:
    """What to review: ``docs`` (redacted, in path order) is a stream, read as the review
    runs; ``skips`` and ``secrets`` grow while it is read; ``total`` files are expected."""

    mode: Literal["path", "staged", "diff"]
    target: str
    root: Path
    docs: Iterator[Doc]
    total: int
    skips: list[SkippedPath]
    secrets: Counter[str]
    deletion_only_hunks: int = 0
    first_skips: int = 0  # skips known before reading (settled files, for progress)


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


def _reviewed(doc: Doc, parts: int) -> ReviewedFile:
    if doc.allowed is None:
        return ReviewedFile(path=doc.path, language=doc.language, lines=len(doc.lines), parts=parts)
    return ReviewedFile(
        path=doc.path,
        language=doc.language,
        lines=sum(b - a + 1 for a, b in doc.allowed),
        parts=parts,
        changed_lines=len(doc.added),
    )


class _Plan:
    """Turns the stream of documents into requests, each complete with its messages as soon
    as it is packed (the pipeline's producer side). Token counts come from the disk cache;
    the LangChain client stack starts loading at the first text never seen before."""

    def __init__(
        self,
        job: _Job,
        llm: LLM,
        settings: Settings,
        instructions: str | None,
        *,
        warm: bool,
    ) -> None:
        from ..llm.tokens import TokenCache

        self.job = job
        self.settings = settings
        self.mode = "diff" if job.mode != "path" else "path"
        # new content means a request the response cache cannot answer: start loading the
        # client stack then (before tokenizing), and only then, so a re-run never loads it
        on_miss = None
        if warm:
            from .hook import warm_client

            on_miss = warm_client
            if llm.cache is None:
                warm_client()
        store = settings.resolved_data_dir() / "token-counts.sqlite3"
        self.counter = TokenCache(store, on_miss=on_miss)
        self.system = _system_prompt(settings, job.mode, instructions)
        # the LLM layer appends the JSON-schema instructions to the system message (JSON mode)
        self.static = self.counter.count(f"{self.system}\n\n{llm.schema_instructions(ModelReview)}")
        self.budget = max(1000, settings.review.request_token_budget - self.static - 200)
        self.docs: dict[str, Doc] = {}
        self.parts: dict[str, int] = {}

    def requests(self) -> Iterator[Request]:
        """The requests, in order, each yielded once packed (messages built)."""
        from .units import Packer, doc_units

        packer = Packer(self.budget)
        try:
            for doc in self.job.docs:
                units = doc_units(doc, self.counter, self.budget)
                self.docs[doc.path] = doc
                self.parts[doc.path] = len(units)
                for unit in units:
                    closed = packer.add(unit)
                    if closed is not None:
                        yield self._build(closed)
            last = packer.finish()
            if last is not None:
                yield self._build(last)
        finally:
            self.counter.close()

    def _build(self, req: Request) -> Request:
        from ..prompts import render

        user = render(
            "review/request.j2",
            prompts_dir=self.settings.prompts_dir,
            mode=self.mode,
            units=[u.context() for u in req.units],
        )
        req.messages = [("system", self.system), ("user", user)]
        return req

    def input_tokens(self, req: Request) -> int:
        """A request's input tokens from the counts made while packing: the fixed system
        prompt (counted once) + the first line of the user message + its blocks."""
        from ..llm.tokens import MESSAGE_OVERHEAD

        user = req.messages[1][1]
        blocks = "".join(u.block for u in req.units)
        if user.endswith(blocks):  # additive: every block starts a pre-token of its own
            user_tokens = self.counter.count(user[: len(user) - len(blocks)]) + req.tokens
        else:  # an overridden template: count the message itself
            user_tokens = self.counter.count(user)
        return self.static + user_tokens + 2 * MESSAGE_OVERHEAD

    def files(self) -> list[ReviewedFile]:
        return [_reviewed(self.docs[p], self.parts[p]) for p in sorted(self.docs)]


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
            skipped=_skipped(job.skips),
            deletion_only_hunks=job.deletion_only_hunks,
            plan=ReviewEstimate(model=spec.model, concurrency=1, token_budget=0)
            if dry_run
            else None,
        )
    job.docs = itertools.chain([first], job.docs)
    from ..llm import LLM, run_sync

    llm = LLM(profile="coder", task="review", settings=settings, model=model, thinking=think)
    limit = settings.concurrency_for("review", concurrency)
    plan = _Plan(job, llm, settings, instructions, warm=not dry_run and model is None)
    if dry_run:
        requests = list(plan.requests())
        review = _review(job, plan, llm, dry_run=True)
        review.plan = _estimate(llm, plan, requests, limit)
        return review
    sent = run_sync(_pipeline(llm, plan, limit, progress))
    review = _review(job, plan, llm, dry_run=False)
    if not sent:
        return review
    return _collect(review, plan, sent, llm)


def _review(job: _Job, plan: _Plan, llm: LLM, *, dry_run: bool) -> Review:
    return Review(
        mode=job.mode,
        target=job.target,
        root=str(job.root),
        model=llm.model_name,
        dry_run=dry_run,
        files=plan.files(),
        skipped=_skipped(job.skips),
        secrets_redacted=sum(job.secrets.values()),
        secret_kinds=dict(sorted(job.secrets.items())),
        deletion_only_hunks=job.deletion_only_hunks,
    )


def _estimate(llm: LLM, plan: _Plan, requests: list[Request], limit: int) -> ReviewEstimate:
    """The dry run: each request as it would be sent, its tokens and estimated cost (from the
    counts made while packing: nothing is tokenized twice)."""
    from datetime import datetime, timezone

    when = datetime.now(timezone.utc)
    planned = []
    for req in requests:
        input_tokens = plan.input_tokens(req)
        output_tokens = _expected_output(input_tokens)
        cost = llm.prices.cost(
            llm.model_name, cache_hit=0, cache_miss=input_tokens, output=output_tokens, when=when
        )
        planned.append(
            PlannedRequest(
                files=[u.label for u in req.units],
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost_usd=round(cost, 6),
            )
        )
    return ReviewEstimate(
        model=llm.model_name, concurrency=limit, token_budget=plan.budget, requests=planned
    )


async def _pipeline(
    llm: LLM, plan: _Plan, limit: int, progress: Progress | None
) -> list[tuple[Request, Any]]:
    """Send each request as soon as it is packed, at most ``limit`` at a time, while a
    producer thread goes on reading, redacting and tokenizing the later files. Results in
    request order; a failed request's result is its exception (``AssistantsError``)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Request | BaseException | None] = asyncio.Queue()

    def produce() -> None:
        try:
            for req in plan.requests():
                loop.call_soon_threadsafe(queue.put_nowait, req)
        except BaseException as exc:  # handed to the loop, raised there
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        else:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    # a daemon thread, not an executor: a hook that times out must not wait for it at exit
    threading.Thread(target=produce, name="assistants-review-read", daemon=True).start()
    gate = asyncio.Semaphore(limit)
    finished: Counter[str] = Counter()
    done_files = 0
    job = plan.job

    def report() -> None:
        if progress:
            settled = len(job.skips) - job.first_skips
            progress(min(done_files + settled, job.total), job.total)

    async def one(req: Request) -> Any:
        nonlocal done_files
        async with gate:
            try:
                return await llm.astructured(req.messages, ModelReview)
            except AssistantsError as exc:
                return exc
            finally:
                for unit in req.units:
                    finished[unit.path] += 1
                    if finished[unit.path] == plan.parts.get(unit.path):
                        done_files += 1
                report()

    report()
    tasks: list[tuple[Request, asyncio.Task[Any]]] = []
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            tasks.append((item, asyncio.create_task(one(item))))
            report()
        replies = await asyncio.gather(*(task for _, task in tasks))
    except BaseException:
        for _, task in tasks:
            task.cancel()
        raise
    report()
    return [(req, reply) for (req, _), reply in zip(tasks, replies, strict=True)]


def _collect(review: Review, plan: _Plan, sent: list[tuple[Request, Any]], llm: LLM) -> Review:
    replies = [reply for _, reply in sent]
    errors = [r for r in replies if isinstance(r, BaseException)]
    if errors and len(errors) == len(replies):
        raise errors[0]  # nothing worked: the error itself is the answer (key, network, ...)
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
        findings += place(answer.findings, {p: plan.docs[p] for p in req.paths}, rejected)
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
    from .files import stream_files
    from .secrets import redact

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

    def docs() -> Iterator[Doc]:
        for src in stream:
            red = redact(src.text)
            secrets.update(red.kinds)
            yield Doc.of(src.path, src.language, red.text)

    job = _Job(
        mode="path",
        target=" ".join(str(p) for p in paths),
        root=stream.root,
        docs=docs(),
        total=stream.total,
        skips=stream.skipped,
        secrets=secrets,
        first_skips=len(stream.skipped),
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
) -> Review:
    """Review only what changed: the staged changes (``staged=True``), or the working tree
    against ``ref`` (default ``HEAD``; ``A..B`` and ``A...B`` compare commits).

    Each hunk is sent with new-side line numbers and its enclosing function or class as
    context; hunks that only delete lines are dropped (counted in ``deletion_only_hunks``).
    Findings outside the changed lines and their context are rejected (counted in
    ``rejected["outside-diff"]``). ``paths`` limits the review to changes under those files
    or folders. Other arguments as in :func:`review_path`.
    """
    from .diff import limit_to, load_diff
    from .files import apply_globs
    from .secrets import redact, redacted_kinds

    settings = _settings(settings)
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
        doc = Doc.of(df.path, df.language, redact(df.text).text, added=set(df.added))
        doc.allowed = [(a, min(b, len(doc.lines))) for a, b in df.ranges if a <= len(doc.lines)]
        for a, b in doc.allowed:  # count the redactions in what is sent, not the whole file
            secrets.update(redacted_kinds("\n".join(doc.lines[a - 1 : b])))
        for n, old in df.removed.items():
            red_old = redact("\n".join(old))
            secrets.update(red_old.kinds)
            doc.removed[n] = red_old.text.split("\n")
        docs[df.path] = doc
    job = _Job(
        mode="staged" if staged else "diff",
        target=selection.description,
        root=selection.root,
        docs=iter([docs[p] for p in sorted(docs)]),
        total=len(docs),
        skips=[*selection.skipped, *excluded],
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
