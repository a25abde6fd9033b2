"""The review pipeline: documents stream in (path order), are counted and packed into
requests, and each request is sent as soon as it is packed.

:class:`Plan` is the producer side (redacted documents → units → requests, with token counts
from a :class:`~assistants.llm.tokens.TokenCache` on disk, so an unchanged file is never
tokenized twice); :func:`send_all` runs it in a thread and sends its requests, at most
``limit`` at a time, as they come; :func:`estimate` is the dry run, from the counts made while
packing. In a review of several requests the LangChain client stack starts loading (in the
background) at the first text never seen before, so a re-run served wholly by the caches never
loads it; a one-request review (the hook's) loads it when that request is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import AssistantsError
from ..llm.limiter import Limiter
from .hook import wait_for_client, warm_client
from .models import ModelReview, PlannedRequest, ReviewedFile, ReviewEstimate
from .units import Doc, Request, Unit

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..config import Settings
    from ..llm import LLM, Progress
    from ..llm.tokens import TokenCache
    from .files import SkippedPath
    from .house import PathRules

__all__ = ["Job", "Plan", "estimate", "redacted", "send_all", "token_cache"]


@dataclass
class Job:
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
    counter: TokenCache | None = None  # token counts (and other facts) by content hash
    rules: PathRules | None = None  # house rules by path (review.paths)


def token_cache(settings: Settings) -> TokenCache:
    """The data dir's cache of token counts (and of files found to hold no secrets)."""
    from ..llm.tokens import TokenCache

    return TokenCache(settings.resolved_data_dir() / "token-counts.sqlite3")


@lru_cache(maxsize=1)
def _redaction_rules() -> str:
    """What redaction depends on: the secrets module's source (its patterns and logic)."""
    from . import secrets

    return hashlib.sha256(Path(secrets.__file__).read_bytes()).hexdigest()[:16]


def redacted(text: str, counter: TokenCache, path: str | None = None) -> tuple[str, Counter[str]]:
    """``text`` redacted (read as code, or as the config or shell file ``path`` names), and
    what was found; a text known to hold nothing to redact (for these very rules, read the
    same way) is not scanned again."""
    from .secrets import redact

    clean = f"clean:{_redaction_rules()}:{Path(path).name if path else ''}"
    if counter.has(clean, text):
        return text, Counter()
    red = redact(text, path)
    if not red.kinds and red.text == text:
        counter.flag(clean, text)
    return red.text, red.kinds


def _expected_output(input_tokens: int) -> int:
    return max(300, min(4000, input_tokens // 8))


def _reviewed(doc: Doc, parts: int) -> ReviewedFile:
    """A changed file as reported (diff mode)."""
    assert doc.allowed is not None
    return ReviewedFile(
        path=doc.path,
        language=doc.language,
        lines=sum(b - a + 1 for a, b in doc.allowed),
        parts=parts,
        changed_lines=len(doc.added),
    )


class Plan:
    """Turns the stream of documents into requests, each complete with its messages as soon
    as it is packed (the pipeline's producer side). Token counts come from the disk cache;
    in a review of several requests, the LangChain client stack starts loading at the first
    text never seen before.
    ``schema`` is what each request asks for, ``template`` its user message (the review's by
    default)."""

    def __init__(
        self,
        job: Job,
        llm: LLM,
        settings: Settings,
        system: str,
        *,
        warm: bool,
        probe: bool = True,
        schema: type[BaseModel] = ModelReview,
        template: str = "review/request.j2",
    ) -> None:
        self.job = job
        self.settings = settings
        self.mode = "diff" if job.mode != "path" else "path"
        # In a review of several requests, new content means a request the response cache
        # cannot answer: the client stack starts loading then (before tokenizing, beside the
        # reader), and only then, so a re-run never loads it; without a cache, at once.
        self.counter = job.counter or token_cache(settings)
        self.counter.on_miss = None  # set once the review turns out to take several requests
        self.warm = warm
        self.cacheless = llm.cache is None
        self.system = system
        self.schema = schema
        self.template = template
        # the LLM layer appends the JSON-schema instructions to the system message (JSON mode)
        self.static = self.counter.count(f"{self.system}\n\n{llm.schema_instructions(schema)}")
        # capped to a share of the model's context window when it is known (asked of a local
        # server once; a dry run asks nothing)
        from ..llm.window import input_budget

        cap = input_budget(llm.context_window(probe=probe), settings.review.request_token_budget)
        # room for the house rules a request lists (at most all of them)
        rules = job.rules
        reserve = self.counter.count(rules.header()) + 40 if rules else 0
        self.budget = max(1000, cap - self.static - 200 - reserve)
        # a whole file is kept as one string once cut into units (a list of lines costs about
        # three times as much); its lines are split again only when a finding needs them
        self.docs: dict[str, Doc | tuple[str, str, int]] = {}
        self.parts: dict[str, int] = {}
        self.lean = False

    def requests(self) -> Iterator[Request]:
        """The requests, in order, each yielded once packed (messages built)."""
        from .units import BYTE_BOUND, Packer, doc_units

        try:
            # A review whose every byte fits the budget is one request: known without the
            # tokenizer (a token is at least one byte), so a small review (the hook) starts
            # sending without loading it.
            head: list[tuple[Doc, list[Unit]]] = []
            bound = 0
            stream = self._ruled()
            for doc in stream:
                head.append((doc, doc_units(doc, BYTE_BOUND, self.budget)))
                bound += sum(u.tokens for u in head[-1][1])
                if bound > self.budget:
                    break
            else:
                if head:
                    yield self._build(self._whole([self._keep(d, u) for d, u in head]))
                return
            if self.warm:
                self.counter.on_miss = warm_client
                if self.cacheless:  # every request will be sent
                    warm_client()
            packer = Packer(self.budget)
            docs = itertools.chain((d for d, _ in head), stream)
            for doc in docs:
                for unit in self._keep(doc, doc_units(doc, self.counter, self.budget)):
                    closed = packer.add(unit)
                    if closed is not None:
                        yield self._build(closed)
            last = packer.finish()
            if last is not None:
                yield self._build(last)
        finally:
            self.counter.flush()

    def _ruled(self) -> Iterator[Doc]:
        """The documents, each with the numbers of the house rules its path matches."""
        rules = self.job.rules
        for doc in self.job.docs:
            if rules:
                doc.rules = rules.match(doc.path)
            yield doc

    def _keep(self, doc: Doc, units: list[Unit]) -> list[Unit]:
        if doc.allowed is None:
            self.docs[doc.path] = (doc.language, "\n".join(doc.lines), len(doc.lines))
        else:
            self.docs[doc.path] = doc
        self.parts[doc.path] = len(units)
        return units

    def _whole(self, cut: list[list[Unit]]) -> Request:
        """Everything in one request; counted now only for a dry run's estimate."""
        units = [u for part in cut for u in part]
        blocks = [u.block for u in units]
        if not self.lean:
            for unit, tokens in zip(units, self.counter.counts(blocks), strict=True):
                unit.tokens = tokens
        # the client is not loaded ahead: with nothing left to read, the sender loads it
        # when needed, after the cache and the key are checked (see warm_client)
        return Request(units)

    def _build(self, req: Request) -> Request:
        from ..prompts import render

        rules = self.job.rules
        used = {n for u in req.units for n in u.rules}
        user = render(
            self.template,
            prompts_dir=self.settings.prompts_dir,
            mode=self.mode,
            units=[u.context() for u in req.units],
            rules=rules.used(used) if rules else [],
        )
        req.messages = [("system", self.system), ("user", user)]
        if self.lean:  # sent, not estimated: the message is all that is needed of the text
            for unit in req.units:
                unit.body = ""
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

    def doc(self, path: str) -> Doc:
        """The document of ``path`` as it was sent."""
        kept = self.docs[path]
        if isinstance(kept, Doc):
            return kept
        language, text, _ = kept
        return Doc(path, language, text.split("\n") if text else [])

    def files(self) -> list[ReviewedFile]:
        out = []
        for path in sorted(self.docs):
            kept = self.docs[path]
            if isinstance(kept, Doc):
                out.append(_reviewed(kept, self.parts[path]))
            else:
                language, _, lines = kept
                out.append(
                    ReviewedFile(path=path, language=language, lines=lines, parts=self.parts[path])
                )
        return out


def estimate(llm: LLM, plan: Plan, requests: list[Request], limit: int) -> ReviewEstimate:
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


async def send_all(
    llm: LLM, plan: Plan, limit: int, progress: Progress | None
) -> list[tuple[Request, Any]]:
    """Send each request as soon as it is packed, at most ``limit`` at a time, while a
    producer thread goes on reading, redacting and tokenizing the later files. Results in
    request order; a failed request's result is its exception (``AssistantsError``)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Request | BaseException | None] = asyncio.Queue()

    stop = threading.Event()

    def produce() -> None:
        try:
            for n, req in enumerate(plan.requests()):
                if stop.is_set():  # the run failed: read no further
                    return
                loop.call_soon_threadsafe(queue.put_nowait, req)
                if n == 0:  # the first request waits for the client: let it load undisturbed
                    wait_for_client(timeout=30)
        except BaseException as exc:  # handed to the loop, raised there
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        else:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    # a daemon thread, not an executor: a hook that times out must not wait for it at exit
    threading.Thread(target=produce, name="assistants-review-read", daemon=True).start()
    gate = Limiter(limit)  # adaptive: 429s and timeouts halve the requests in flight
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
                return await llm.astructured(req.messages, plan.schema)
            except AssistantsError as exc:
                return exc
            finally:
                req.messages = []  # answered: its text is no longer needed
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
        stop.set()
        for _, task in tasks:
            task.cancel()
        raise
    report()
    return [(req, reply) for (req, _), reply in zip(tasks, replies, strict=True)]
