"""Solving: thinking-mode answers, extracted and checked, with self-consistency.

::

    from assistants import solve_math

    sol = solve_math("What is 1/2 + 1/4?", samples=5, reference="0.75")
    sol.answer, sol.answer_plain, sol.status, sol.votes, sol.voters, sol.vote_share
    sol.reasoning                       # the visible reasoning of the chosen sample

The reply's final answer is the last ``\\boxed{}`` of the answer text (see
:mod:`assistants.math.extract`); answers are compared with Math-Verify, never as strings (see
:mod:`assistants.math.check`). With ``samples > 1`` the samples run concurrently, are grouped
by mathematical equivalence, and the run stops as soon as the leading answer can no longer be
overtaken. :func:`estimate_math` is the offline ``--dry-run`` estimate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import errors
from ..config import Settings, load_settings
from ..llm import LLM, Limiter, Reply, Usage
from ..llm.bridge import sync_twin
from ..llm.tokens import MESSAGE_OVERHEAD, count_message_tokens, count_tokens_batch
from ..prompts import language_name, render, renderer
from .check import Verifier, can_stop_early, group_answers
from .extract import extract_answer, reference_answer, to_plain
from .grade import final_status, label_samples, sample_status
from .models import AnswerGroup, MathEstimate, MathSample, MathSolution

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["asolve_math", "estimate_math", "solve_math"]

Callback = Callable[[str], None]

# The clock of every latency (a seam for tests).
_clock = time.monotonic

# Errors that make every further request pointless: an eval stops at the first one.
FATAL_ERRORS = (
    errors.ConfigError,
    errors.AuthenticationError,
    errors.InsufficientBalanceError,
    errors.BadRequestError,
)


# --------------------------------------------------------------------------- requests
def _system_prompt(settings: Settings) -> str:
    return render(
        "math/system.j2", prompts_dir=settings.prompts_dir, language=language_name(settings.lang)
    )


def _user_message(problem: str, settings: Settings) -> str:
    return render("math/user.j2", prompts_dir=settings.prompts_dir, problem=problem)


def _messages(problem: str, settings: Settings) -> list[tuple[str, str]]:
    # static instructions first (prefix cache), the problem last
    return [("system", _system_prompt(settings)), ("user", _user_message(problem, settings))]


def math_llm(settings: Settings | None, model: BaseChatModel | None) -> LLM:
    """The reasoner profile for the math task (``model`` injects a chat model)."""
    return LLM("reasoner", task="math", settings=settings or load_settings(), model=model)


@dataclass
class _Run:
    sample: MathSample
    reply: Reply | None
    usage: Usage


async def _sample(
    llm: LLM,
    messages: list[tuple[str, str]],
    index: int,
    limit: asyncio.Semaphore,
    *,
    use_cache: bool,
    on_reasoning: Callback | None,
    on_content: Callback | None,
    on_retry: Callable[[], None] | None = None,
    first_start: list[float] | None = None,
) -> _Run:
    """One reply, classified; an empty answer is asked again once (never from the cache).
    Its latency counts from when it gets its slot of ``limit``, not while it waits for one;
    the first sample to get one notes the time in ``first_start``."""
    usage = Usage()
    attempts = 0
    reply: Reply | None = None
    async with limit:
        started = _clock()
        if first_start is not None and not first_start:
            first_start.append(started)
        for attempt in range(2):
            attempts += 1
            if attempt and on_reasoning is not None:
                on_reasoning("\n\n")  # the retry streams a second reasoning: keep them apart
            reply = await llm.acomplete(
                messages,
                allow_truncated=True,
                allow_empty=True,
                on_reasoning=on_reasoning,
                on_content=on_content,
                on_retry=on_retry,
                use_cache=use_cache and attempt == 0,
            )
            usage = usage + reply.usage
            if reply.content.strip() or reply.finish_reason == "length":
                break
    assert reply is not None
    found = extract_answer(reply.content, reply.reasoning)
    sample = MathSample(
        index=index,
        status=sample_status(reply.finish_reason, found is not None, reply.content),
        answer=found.latex if found else None,
        answer_plain=to_plain(found.latex) if found else None,
        source=found.source if found else None,
        confidence=found.confidence if found else None,
        finish_reason=reply.finish_reason,
        attempts=attempts,
        cached=reply.cached,
        reasoning_chars=len(reply.reasoning or ""),
        latency_s=round(_clock() - started, 4),
        content=reply.content,
        reasoning=None if reply.content.strip() else reply.reasoning,
        usage=usage,
    )
    return _Run(sample, reply, usage)


async def solve_problem(
    llm: LLM,
    problem: str,
    *,
    samples: int,
    reference: str | None,
    limit: asyncio.Semaphore,
    on_reasoning: Callback | None = None,
    on_content: Callback | None = None,
    on_retry: Callable[[], None] | None = None,
    show_reasoning: bool = False,
    stop_early: bool = True,
) -> MathSolution:
    """One problem solved with ``samples`` replies under the shared ``limit``: what
    :func:`solve_math` and every item of an eval run. Its latency counts from when its first
    request gets a slot of ``limit``: time spent queued behind other problems is not in it.
    ``stop_early=False`` waits for every sample even once the majority is decided (an eval's
    pass@k needs all n)."""
    if not problem.strip():
        raise errors.InputError("the problem is empty", hint="pass the problem text")
    settings = llm.settings
    first_start: list[float] = []
    ref = reference_answer(reference) if reference is not None else None
    if ref == "":
        raise errors.InputError("the reference is empty", hint="e.g. --reference 0.5")
    messages = _messages(problem, settings)
    verifier = Verifier(timeout=settings.math.verify_timeout)
    # Independent samples must not come from the response cache (they would all be one).
    use_cache = samples == 1

    async def run(index: int) -> _Run:
        first = index == 0  # only the first sample streams, so the terminal stays readable
        return await _sample(
            llm,
            messages,
            index,
            limit,
            use_cache=use_cache,
            on_reasoning=on_reasoning if first else None,
            on_content=on_content if first else None,
            on_retry=on_retry if first else None,
            first_start=first_start,
        )

    tasks = {asyncio.create_task(run(i)): i for i in range(samples)}
    runs: dict[int, _Run] = {}
    failures: dict[int, errors.AssistantsError] = {}
    groups: list[tuple[str, list[int]]] = []
    pending = set(tasks)
    stopped_early = False

    try:
        while pending:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                index = tasks[task]
                try:
                    runs[index] = task.result()
                except FATAL_ERRORS:
                    raise
                except errors.AssistantsError as exc:
                    if samples == 1:
                        raise
                    failures[index] = exc
            if stop_early and samples > 1 and pending:
                answers = [
                    runs[i].sample.answer
                    if i in runs and runs[i].sample.status == "answered"
                    else None
                    for i in range(samples)
                ]
                groups = await asyncio.to_thread(group_answers, answers, verifier)
                if can_stop_early([len(m) for _, m in groups], len(pending)):
                    stopped_early = True
                    break
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    if not runs:  # every sample failed
        raise next(iter(failures.values()))
    answers = [
        runs[i].sample.answer if i in runs and runs[i].sample.status == "answered" else None
        for i in range(samples)
    ]
    groups = await asyncio.to_thread(group_answers, answers, verifier)
    answer_groups = [
        AnswerGroup(answer=rep, answer_plain=to_plain(rep), votes=len(m), samples=m)
        for rep, m in groups
    ]
    sample_list = [runs[i].sample for i in sorted(runs)]
    for index, failure in sorted(failures.items()):
        sample_list.append(MathSample(index=index, status="failed", error=failure.message))
    sample_list.sort(key=lambda s: s.index)
    usage = sum((r.usage for r in runs.values()), Usage())
    voters = len(runs)
    notes: list[str] = []
    if failures:
        notes.append(f"{len(failures)} sample(s) failed: {next(iter(failures.values())).message}")
    if stopped_early:
        notes.append(
            f"stopped early: the leading answer could not be overtaken "
            f"({samples - voters - len(failures)} sample(s) cancelled)"
        )

    # the chosen sample: the first of the leading group, or else the first one completed
    chosen = runs[groups[0][1][0]] if groups else runs[min(runs)]
    sample = chosen.sample
    reply = chosen.reply
    answer = groups[0][0] if groups else sample.answer
    votes = len(groups[0][1]) if groups else 0

    matches: bool | None = None
    readable = True
    if ref is not None and answer is not None:
        matches = await asyncio.to_thread(verifier.equivalent, ref, answer)
        if matches is False and not await asyncio.to_thread(verifier.parses, ref):
            matches = None  # a typo in the reference is not a wrong answer
            readable = False
            notes.append(
                "the reference could not be read as math, so the answer was not checked against it"
            )
        elif matches is None:
            notes.append(
                f"checking against the reference ran out of time "
                f"({settings.math.verify_timeout:g}s)"
            )

    # each answer group's verdict (the leading group's is ``matches``), for every sample
    verdicts: list[bool | None] = [None] * len(groups)
    if ref is not None and groups and readable:
        verdicts = [matches] + [
            await asyncio.to_thread(verifier.equivalent, ref, rep) for rep, _ in groups[1:]
        ]
    label_samples(sample_list, groups, verdicts, reference=ref)

    status = final_status(
        samples=samples,
        chosen=sample.status,
        answer=answer,
        any_truncated=any(r.sample.status == "truncated" for r in runs.values()),
        has_reference=ref is not None,
        matches=matches,
        votes=votes,
        voters=voters,
    )
    if sample.status == "truncated":
        notes.append("the reply hit max_tokens; the partial reasoning is kept")
    if sample.source == "reasoning":
        notes.append("the answer was empty; the final answer was taken from the reasoning")
    elif sample.source == "answer_text":
        notes.append("no \\boxed{} answer; taken from an explicit 'final answer' line")

    return MathSolution(
        problem=problem,
        answer=answer,
        answer_plain=to_plain(answer) if answer else None,
        status=status,
        confidence=sample.confidence,
        answer_source=sample.source,
        matches_reference=matches,
        reference=ref,
        reasoning=reply.reasoning if reply else None,
        content=reply.content if reply else "",
        finish_reason=sample.finish_reason,
        samples_requested=samples,
        voters=voters,
        votes=votes,
        vote_share=votes / voters if voters and answer is not None else None,
        stopped_early=stopped_early,
        groups=answer_groups,
        samples=sample_list,
        notes=notes,
        model=llm.model_name,
        usage=usage,
        latency_s=round(_clock() - first_start[0], 4) if first_start else 0.0,
        show_reasoning=show_reasoning,
    )


def request_limit(concurrency: int | None, settings: Settings) -> Limiter:
    """The requests in flight at once for math: ``concurrency`` (``-j``), else the
    ``math.concurrency`` setting, else the global ``concurrency``."""
    if concurrency is not None and concurrency < 1:
        raise errors.InputError(
            f"concurrency must be at least 1 (got {concurrency})", hint="use --concurrency 1.."
        )
    return Limiter(settings.concurrency_for("math", concurrency))


def check_samples(samples: int | None, settings: Settings) -> int:
    """The samples per problem: ``samples``, else the ``math.samples`` setting; 1..64."""
    k = settings.math.samples if samples is None else samples
    if k < 1 or k > 64:
        raise errors.InputError(
            f"samples must be between 1 and 64 (got {k})", hint="use --samples 1..64"
        )
    return k


# --------------------------------------------------------------------------- public API
async def asolve_math(
    problem: str,
    *,
    samples: int | None = None,
    reference: Any = None,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    on_reasoning: Callback | None = None,
    on_content: Callback | None = None,
    on_retry: Callable[[], None] | None = None,
    show_reasoning: bool = False,
    concurrency: int | None = None,
) -> MathSolution:
    """Async :func:`solve_math`."""
    llm = math_llm(settings, model)
    k = check_samples(samples, llm.settings)
    limit = request_limit(concurrency, llm.settings)
    return await solve_problem(
        llm,
        problem,
        samples=k,
        reference=None if reference is None else str(reference),
        limit=limit,
        on_reasoning=on_reasoning,
        on_content=on_content,
        on_retry=on_retry,
        show_reasoning=show_reasoning,
    )


solve_math = sync_twin(
    asolve_math,
    """Solve ``problem`` in thinking mode and return a checked :class:`MathSolution`.

    ``samples``: k independent replies in parallel, grouped by mathematical equivalence; the
    majority answer wins and ``vote_share`` says how many agreed (default: the ``math.samples``
    setting, 1). ``reference``: an answer to check against (``0.5``, ``\\frac{1}{2}``,
    GSM8K's ``#### 18``). ``on_reasoning`` / ``on_content`` receive the first sample's text
    as it streams; ``on_retry`` is called when a stream broke after text was shown and the
    request starts over (reset the display then; without it such a reply is not retried).
    ``concurrency``: samples in flight at once (default: the ``math.concurrency`` setting,
    else the global one). ``model`` injects a LangChain chat model (tests).
    """,
)


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


ESTIMATE_CHUNK = 1024  # messages tokenized per batch call


def _token_counts(texts: Iterable[str]) -> Iterator[int]:
    """:func:`~assistants.llm.tokens.count_tokens` of each text, in order, in batches: a
    worker thread tokenizes one chunk while the next is being read (never more than that)."""
    with ThreadPoolExecutor(1, thread_name_prefix="assistants-tokens") as pool:
        ahead: Future[list[int]] | None = None
        for chunk in _chunks(texts, ESTIMATE_CHUNK):
            counting = pool.submit(count_tokens_batch, chunk)
            if ahead is not None:
                yield from ahead.result()
            ahead = counting
        if ahead is not None:
            yield from ahead.result()


def estimate_math(
    problems: Iterable[str],
    *,
    samples: int | None = None,
    settings: Settings | None = None,
    output_tokens: int | None = None,
) -> MathEstimate:
    """Offline estimate of requests, tokens and cost (``--dry-run``); needs no key.

    ``problems`` is read once, as a stream, so a generator over a large file is estimated in
    constant memory. Every request is the same system prompt plus the problem's user message:
    the system prompt is counted once, the user messages in batches; the totals are those of
    :meth:`~assistants.llm.LLM.estimate` on each request.
    """
    llm = math_llm(settings, None)
    k = check_samples(samples, llm.settings)
    per_reply = output_tokens or llm.settings.math.estimate_output_tokens
    when = datetime.now(timezone.utc)  # one price period for the whole estimate
    system = first = ""
    fixed = 0  # the system message and the user message's overhead

    user_message = renderer("math/user.j2", "problem", prompts_dir=llm.settings.prompts_dir)

    def users() -> Iterator[str]:
        nonlocal system, first, fixed
        for problem in problems:
            message = user_message(problem)
            if not first:
                system, first = _system_prompt(llm.settings), message
                fixed = count_message_tokens([("system", system)]) + MESSAGE_OVERHEAD
            yield message

    count = inputs = 0
    cost = 0.0
    prices: dict[int, float] = {}  # by input tokens: one per distinct request size
    for tokens in _token_counts(users()):
        request = fixed + tokens
        price = prices.get(request)
        if price is None:
            price = prices[request] = llm.prices.cost(
                llm.model_name, cache_hit=0, cache_miss=request, output=per_reply, when=when
            )
        inputs += request * k
        cost += price * k
        count += 1
    return MathEstimate(
        model=llm.model_name,
        problems=count,
        requests=count * k,
        input_tokens=inputs,
        output_tokens=per_reply * count * k,
        cost_usd=round(cost, 6),
        system_prompt=system,
        first_request=first,
    )
