"""The math solver: thinking-mode answers, extracted and checked, with self-consistency.

::

    from assistants import solve_math, eval_math

    sol = solve_math("What is 1/2 + 1/4?", samples=5, reference="0.75")
    sol.answer, sol.answer_plain, sol.status, sol.votes, sol.voters, sol.vote_share
    sol.reasoning                       # the visible reasoning of the chosen sample

    report = eval_math("problems.jsonl", limit=20, output="results.jsonl")
    report.accuracy, report.usage.cost_usd

The reply's final answer is the last ``\\boxed{}`` of the answer text (see
:mod:`assistants.math.check`); answers are compared with Math-Verify, never as strings.
With ``samples > 1`` the samples run concurrently, are grouped by mathematical equivalence, and
the run stops as soon as the leading answer can no longer be overtaken.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from pydantic import BaseModel, Field

from .. import errors
from ..config import Settings, load_settings
from ..llm import LLM, Reply, Usage, run_sync
from ..prompts import language_name, render
from .check import (
    AnswerSource,
    Verifier,
    can_stop_early,
    extract_answer,
    group_answers,
    last_boxed,
    reference_answer,
    to_plain,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "AnswerGroup",
    "EvalItem",
    "EvalReport",
    "MathEstimate",
    "MathProblem",
    "MathSample",
    "MathSolution",
    "aeval_math",
    "asolve_math",
    "estimate_math",
    "eval_math",
    "load_problems",
    "pending_problems",
    "sample_file",
    "solve_math",
]

Status = Literal[
    "matches_reference", "mismatch", "self_consistent", "unverified", "no_answer", "truncated"
]
SampleStatus = Literal["answered", "no_answer", "empty", "truncated", "failed"]
Callback = Callable[[str], None]
Progress = Callable[[int, int], None]

STATUS_TEXT: dict[str, str] = {
    "matches_reference": "matches the reference",
    "mismatch": "does not match the reference",
    "self_consistent": "self-consistent (a majority of samples agree)",
    "unverified": "unverified",
    "no_answer": "no final answer found",
    "truncated": "truncated (the reply hit max_tokens)",
}

# Errors that make every further request pointless: an eval stops at the first one.
_FATAL = (
    errors.ConfigError,
    errors.AuthenticationError,
    errors.InsufficientBalanceError,
    errors.BadRequestError,
)


# --------------------------------------------------------------------------- results
class MathSample(BaseModel):
    """One sampled reply and what was extracted from it."""

    index: int
    status: SampleStatus
    answer: str | None = None
    answer_plain: str | None = None
    source: AnswerSource | None = None
    confidence: Literal["high", "low"] | None = None
    finish_reason: str | None = None
    attempts: int = Field(default=1, description="2 when an empty answer was retried")
    cached: bool = False
    reasoning_chars: int = 0
    latency_s: float = 0.0
    error: str | None = None


class AnswerGroup(BaseModel):
    """Equivalent answers (by Math-Verify) and the samples that gave them."""

    answer: str
    answer_plain: str
    votes: int
    samples: list[int]


class MathSolution(BaseModel):
    """The result of :func:`solve_math`.

    ``status`` is one of ``matches_reference``, ``mismatch`` (a reference was given),
    ``self_consistent`` (several samples, a strict majority agrees), ``unverified``,
    ``no_answer`` and ``truncated``. ``votes`` of ``voters`` samples gave the chosen answer.
    """

    problem: str
    answer: str | None = Field(default=None, description="the final answer, LaTeX")
    answer_plain: str | None = None
    status: Status
    confidence: Literal["high", "low"] | None = None
    answer_source: AnswerSource | None = None
    matches_reference: bool | None = None
    reference: str | None = None
    reasoning: str | None = None
    content: str = ""
    finish_reason: str | None = None
    samples_requested: int = 1
    voters: int = Field(default=1, description="samples that completed (n in 'k of n')")
    votes: int = Field(default=0, description="samples that gave the chosen answer (k)")
    vote_share: float | None = None
    stopped_early: bool = False
    groups: list[AnswerGroup] = Field(default_factory=list)
    samples: list[MathSample] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    model: str
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    show_reasoning: bool = Field(default=False, description="render the reasoning in full")

    @property
    def cost_usd(self) -> float:
        return self.usage.cost_usd

    @property
    def agreement(self) -> str:
        """``"3 of 5"``: samples that agree with the chosen answer, of those completed."""
        return f"{self.votes} of {self.voters}"

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    def to_markdown(self, show_reasoning: bool | None = None) -> str:
        from .render import solution_markdown

        full = self.show_reasoning if show_reasoning is None else show_reasoning
        return solution_markdown(self, show_reasoning=full)

    def to_text(self) -> str:
        from .render import solution_text

        return solution_text(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


class MathProblem(BaseModel):
    """One line of an eval file."""

    id: str
    line: int
    problem: str
    reference: str


class EvalItem(BaseModel):
    """One scored problem: a line of the results file."""

    id: str
    line: int
    problem: str
    reference: str
    answer: str | None = None
    answer_plain: str | None = None
    answer_source: AnswerSource | None = Field(
        default=None, description="boxed, answer_text (an unboxed 'answer:' line) or reasoning"
    )
    confidence: Literal["high", "low"] | None = None
    correct: bool
    status: Status
    votes: int = 0
    voters: int = 0
    vote_share: float | None = None
    model: str = ""
    samples: int | None = Field(default=None, description="samples requested per problem")
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0


class EvalReport(BaseModel):
    """The result of :func:`eval_math`. ``accuracy`` counts resumed items too."""

    file: str
    output: str | None = None
    samples: int = 1
    total: int = Field(description="items in the file (after --limit)")
    scored: int = Field(description="items scored by this run")
    skipped: int = Field(description="items already in the results file (resumed)")
    correct: int
    accuracy: float | None = None
    statuses: dict[str, int] = Field(default_factory=dict)
    failures: dict[str, str] = Field(default_factory=dict)
    model: str = ""
    usage: Usage = Field(default_factory=Usage, description="this run's requests")
    previous_cost_usd: float = Field(default=0.0, description="cost of the resumed items")
    latency_s: float = 0.0
    items: list[EvalItem] = Field(default_factory=list)

    def to_markdown(self) -> str:
        from .render import eval_markdown

        return eval_markdown(self)

    def to_text(self) -> str:
        from .render import eval_text

        return eval_text(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


class MathEstimate(BaseModel):
    """``--dry-run``: what solving would send and cost, computed offline."""

    model: str
    problems: int
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    system_prompt: str
    first_request: str
    resumed: int = Field(default=0, description="problems already scored in the results file")


# --------------------------------------------------------------------------- requests
def _messages(problem: str, settings: Settings) -> list[tuple[str, str]]:
    # static instructions first (prefix cache), the problem last
    return [
        (
            "system",
            render(
                "math/system.j2",
                prompts_dir=settings.prompts_dir,
                language=language_name(settings.lang),
            ),
        ),
        ("user", render("math/user.j2", prompts_dir=settings.prompts_dir, problem=problem)),
    ]


def _llm(settings: Settings | None, model: BaseChatModel | None) -> LLM:
    return LLM("reasoner", task="math", settings=settings or load_settings(), model=model)


def _concurrency(llm: LLM) -> int:
    return llm.settings.math.concurrency or llm.concurrency


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
) -> _Run:
    """One reply, classified; an empty answer is asked again once (never from the cache)."""
    started = time.monotonic()
    usage = Usage()
    attempts = 0
    reply: Reply | None = None
    async with limit:
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
    status: SampleStatus
    if reply.finish_reason == "length":
        status = "truncated"
    elif found is not None:
        status = "answered"
    elif not reply.content.strip():
        status = "empty"
    else:
        status = "no_answer"
    sample = MathSample(
        index=index,
        status=status,
        answer=found.latex if found else None,
        answer_plain=to_plain(found.latex) if found else None,
        source=found.source if found else None,
        confidence=found.confidence if found else None,
        finish_reason=reply.finish_reason,
        attempts=attempts,
        cached=reply.cached,
        reasoning_chars=len(reply.reasoning or ""),
        latency_s=round(time.monotonic() - started, 4),
    )
    return _Run(sample, reply, usage)


async def _solve(
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
) -> MathSolution:
    if not problem.strip():
        raise errors.InputError("the problem is empty", hint="pass the problem text")
    settings = llm.settings
    started = time.monotonic()
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
                except _FATAL:
                    raise
                except errors.AssistantsError as exc:
                    if samples == 1:
                        raise
                    failures[index] = exc
            if samples > 1 and pending:
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
    if ref is not None and answer is not None:
        matches = await asyncio.to_thread(verifier.equivalent, ref, answer)
        if matches is False and not await asyncio.to_thread(verifier.parses, ref):
            matches = None  # a typo in the reference is not a wrong answer
            notes.append(
                "the reference could not be read as math, so the answer was not checked against it"
            )
        elif matches is None:
            notes.append(
                f"checking against the reference ran out of time "
                f"({settings.math.verify_timeout:g}s)"
            )

    status: Status
    if samples == 1 and sample.status == "truncated":
        status = "truncated"
    elif answer is None:
        cut = any(r.sample.status == "truncated" for r in runs.values())
        status = "truncated" if cut else "no_answer"
    elif ref is not None:
        status = (
            "matches_reference" if matches else "mismatch" if matches is False else "unverified"
        )
    elif samples > 1 and votes * 2 > voters and votes >= 2:
        status = "self_consistent"
    else:
        status = "unverified"
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
        latency_s=round(time.monotonic() - started, 4),
        show_reasoning=show_reasoning,
    )


def _check_samples(samples: int | None, settings: Settings) -> int:
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
) -> MathSolution:
    """Async :func:`solve_math`."""
    llm = _llm(settings, model)
    k = _check_samples(samples, llm.settings)
    limit = asyncio.Semaphore(_concurrency(llm))
    return await _solve(
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


def solve_math(
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
) -> MathSolution:
    """Solve ``problem`` in thinking mode and return a checked :class:`MathSolution`.

    ``samples``: k independent replies in parallel, grouped by mathematical equivalence; the
    majority answer wins and ``vote_share`` says how many agreed (default: the ``math.samples``
    setting, 1). ``reference``: an answer to check against (``0.5``, ``\\frac{1}{2}``,
    GSM8K's ``#### 18``). ``on_reasoning`` / ``on_content`` receive the first sample's text
    as it streams; ``on_retry`` is called when a stream broke after text was shown and the
    request starts over (reset the display then; without it such a reply is not retried).
    ``model`` injects a LangChain chat model (tests).
    """
    return run_sync(
        asolve_math(
            problem,
            samples=samples,
            reference=reference,
            settings=settings,
            model=model,
            on_reasoning=on_reasoning,
            on_content=on_content,
            on_retry=on_retry,
            show_reasoning=show_reasoning,
        )
    )


def estimate_math(
    problems: list[str],
    *,
    samples: int | None = None,
    settings: Settings | None = None,
    output_tokens: int | None = None,
) -> MathEstimate:
    """Offline estimate of requests, tokens and cost (``--dry-run``); needs no key."""
    llm = _llm(settings, None)
    k = _check_samples(samples, llm.settings)
    per_reply = output_tokens or llm.settings.math.estimate_output_tokens
    inputs = 0
    cost = 0.0
    first = ""
    system = ""
    for problem in problems:
        messages = _messages(problem, llm.settings)
        if not first:
            system, first = messages[0][1], messages[1][1]
        est = llm.estimate(messages, output_tokens=per_reply)
        inputs += est.input_tokens * k
        cost += est.cost_usd * k
    return MathEstimate(
        model=llm.model_name,
        problems=len(problems),
        requests=len(problems) * k,
        input_tokens=inputs,
        output_tokens=per_reply * len(problems) * k,
        cost_usd=round(cost, 6),
        system_prompt=system,
        first_request=first,
    )


# --------------------------------------------------------------------------- evaluation
def sample_file() -> Path:
    """The shipped sample: the first 50 GSM8K test problems (MIT, OpenAI; see
    ``assistants/data/GSM8K-README.md``)."""
    return Path(__file__).resolve().parent.parent / "data" / "gsm8k_sample.jsonl"


def load_problems(path: str | Path, *, limit: int | None = None) -> list[MathProblem]:
    """Read a JSONL file of problems: ``problem`` or ``question``, plus ``answer`` (GSM8K's
    ``... #### n`` understood), ``reference`` or a ``solution`` with a ``\\boxed{}``; ``id``
    is optional (default: the line number)."""
    file = Path(path)
    if not file.is_file():
        raise errors.InputError(f"{file}: no such file", hint="pass a JSONL file of problems")
    if limit is not None and limit < 1:
        raise errors.InputError(f"--limit must be at least 1 (got {limit})")
    problems: list[MathProblem] = []
    seen: set[str] = set()
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise errors.InputError(f"{file}: not a UTF-8 text file") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise errors.InputError(
                f"{file}:{number}: not valid JSON ({exc.msg})",
                hint="each line must be one JSON object",
            ) from None
        if not isinstance(data, dict):
            raise errors.InputError(f"{file}:{number}: expected a JSON object")
        text = data.get("problem") or data.get("question")
        ref_key = next(
            (key for key in ("answer", "reference", "solution") if data.get(key) is not None),
            None,
        )
        if not isinstance(text, str) or not text.strip() or ref_key is None:
            raise errors.InputError(
                f"{file}:{number}: needs 'problem' (or 'question') and 'answer'",
                hint='e.g. {"question": "What is 2+2?", "answer": "#### 4"}',
            )
        raw_ref = data[ref_key]
        if ref_key == "solution" and not (last_boxed(str(raw_ref)) or "####" in str(raw_ref)):
            # a worked solution is not an answer: without its \boxed{} there is nothing to check
            raise errors.InputError(
                f"{file}:{number}: the 'solution' has no \\boxed{{}} final answer",
                hint="add an 'answer' field with the final answer",
            )
        ref = reference_answer(raw_ref)
        if not ref:
            raise errors.InputError(f"{file}:{number}: the answer is empty")
        item_id = str(number if data.get("id") is None else data["id"])
        if item_id in seen:
            raise errors.InputError(f"{file}:{number}: duplicate id {item_id!r}")
        seen.add(item_id)
        problems.append(MathProblem(id=item_id, line=number, problem=text, reference=ref))
        if limit is not None and len(problems) >= limit:
            break
    if not problems:
        raise errors.InputError(f"{file}: no problems found")
    return problems


def _read_results(output: Path) -> dict[str, EvalItem]:
    """Items already scored in ``output`` (the newest line of an id wins); a torn line (an
    interrupted write) is ignored. A file with no result line at all is refused: appending to
    it would mix our results into someone else's data."""
    done: dict[str, EvalItem] = {}
    if not output.is_file():
        return done
    try:
        text = output.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise errors.InputError(
            f"{output}: not a results file of `math eval` (not UTF-8 text)",
            hint="choose another --output, or --restart to replace it",
        ) from None
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate_json(line)
        except ValueError:
            continue
        done[item.id] = item
    if not done and text.strip() and text.endswith("\n"):
        raise errors.InputError(
            f"{output}: not a results file of `math eval` (no line is a scored item)",
            hint="choose another --output, or --restart to replace it",
        )
    return done


def _resumable(
    problems: list[MathProblem], previous: dict[str, EvalItem], samples: int
) -> dict[str, EvalItem]:
    """The earlier results that still hold: the same id, its line still saying the same (the
    file may have been edited, and line numbers, the default ids, then name other problems),
    scored with the same number of samples."""
    return {
        p.id: item
        for p in problems
        if (item := previous.get(p.id)) is not None
        and (item.problem, item.reference) == (p.problem, p.reference)
        and item.samples in (None, samples)
    }


def pending_problems(
    problems: list[MathProblem], output: str | Path | None, *, samples: int = 1
) -> list[MathProblem]:
    """The problems an eval writing to ``output`` would still solve (the others are resumed
    from it); what ``math eval --dry-run`` estimates."""
    previous = _read_results(Path(output)) if output is not None else {}
    done = _resumable(problems, previous, samples)
    return [p for p in problems if p.id not in done]


def _open_results(out: Path, restart: bool) -> tuple[dict[str, EvalItem], TextIO]:
    """The results already in ``out`` and a handle to append new ones (on a line of their
    own even after a torn last line)."""
    try:
        if restart and out.exists():
            out.unlink()
        previous = _read_results(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        torn = out.is_file() and out.stat().st_size > 0 and not out.read_bytes().endswith(b"\n")
        handle = out.open("a", encoding="utf-8")
    except OSError as exc:
        detail = exc.strerror or str(exc)
        if exc.filename is not None and str(exc.filename) != str(out):
            detail += f": {exc.filename}"  # e.g. a file where a folder should be
        raise errors.InputError(
            f"{out}: cannot use this results file ({detail})",
            hint="choose another --output",
        ) from None
    if torn:
        handle.write("\n")
    return previous, handle


async def aeval_math(
    file: str | Path,
    *,
    limit: int | None = None,
    samples: int | None = None,
    output: str | Path | None = None,
    restart: bool = False,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Async :func:`eval_math`."""
    started = time.monotonic()
    problems = load_problems(file, limit=limit)
    llm = _llm(settings, model)
    k = _check_samples(samples, llm.settings)
    out = Path(output) if output is not None else None
    if out is not None and out.is_dir():
        raise errors.InputError(f"{out} is a folder", hint="--output takes a file name")
    if out is not None and out.exists() and out.resolve() == Path(file).resolve():
        raise errors.InputError(
            f"{out} is the problems file", hint="--output takes another file for the results"
        )
    previous: dict[str, EvalItem] = {}
    handle = None
    if out is not None:
        previous, handle = _open_results(out, restart)
    resumed = _resumable(problems, previous, k)
    todo = [p for p in problems if p.id not in resumed]
    limit_requests = asyncio.Semaphore(_concurrency(llm))
    scored: dict[str, EvalItem] = {}
    failures: dict[str, str] = {}
    errors_seen: list[errors.AssistantsError] = []
    done = len(resumed)
    if progress:
        progress(done, len(problems))

    async def one(problem: MathProblem) -> None:
        nonlocal done
        try:
            sol = await _solve(
                llm, problem.problem, samples=k, reference=problem.reference, limit=limit_requests
            )
        except _FATAL:
            raise
        except errors.AssistantsError as exc:
            failures[problem.id] = exc.message
            errors_seen.append(exc)
        else:
            item = EvalItem(
                id=problem.id,
                line=problem.line,
                problem=problem.problem,
                reference=problem.reference,
                answer=sol.answer,
                answer_plain=sol.answer_plain,
                answer_source=sol.answer_source,
                confidence=sol.confidence,
                correct=sol.matches_reference is True,
                status=sol.status,
                votes=sol.votes,
                voters=sol.voters,
                vote_share=sol.vote_share,
                samples=k,
                model=sol.model,
                usage=sol.usage,
                latency_s=sol.latency_s,
            )
            scored[problem.id] = item
            if handle is not None:
                handle.write(item.model_dump_json() + "\n")
                handle.flush()
        finally:
            done += 1
            if progress:
                progress(done, len(problems))

    tasks = [asyncio.create_task(one(p)) for p in todo]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if handle is not None:
            handle.close()

    items = [resumed.get(p.id) or scored.get(p.id) for p in problems]
    kept = [item for item in items if item is not None]
    statuses: dict[str, int] = {}
    for item in kept:
        statuses[item.status] = statuses.get(item.status, 0) + 1
    correct = sum(item.correct for item in kept)
    report = EvalReport(
        file=str(file),
        output=str(out) if out is not None else None,
        samples=k,
        total=len(problems),
        scored=len(scored),
        skipped=len(resumed),
        correct=correct,
        accuracy=round(correct / len(kept), 4) if kept else None,
        statuses=statuses,
        failures=failures,
        model=llm.model_name,
        usage=sum((item.usage for item in scored.values()), Usage()),
        previous_cost_usd=sum((item.usage for item in resumed.values()), Usage()).cost_usd,
        latency_s=round(time.monotonic() - started, 4),
        items=kept,
    )
    if failures and not kept:  # nothing to report: the error itself, with its exit code
        raise errors_seen[0]
    if failures:
        raise errors.PartialFailureError(
            f"{len(failures)} of {len(problems)} problem(s) failed; "
            f"the other {len(kept)} are in the report",
            hint="run the same command again to retry only the failed problems"
            if out is not None
            else "pass --output to make the run resumable",
            result=report,
            failures=failures,
        )
    return report


def eval_math(
    file: str | Path,
    *,
    limit: int | None = None,
    samples: int | None = None,
    output: str | Path | None = None,
    restart: bool = False,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Score a JSONL file of problems (``problem``/``question`` + ``answer``) and return the
    accuracy, per-item results, tokens and cost.

    ``output``: a JSONL results file, one line per scored item, written as items finish. A
    later run with the same ``output`` skips items already there with the same id, problem,
    reference and number of samples (they still count in the accuracy); an edited line is
    scored again; ``restart=True`` starts over. Problems that fail (API errors after retries)
    are not written, so the next run retries them; they raise
    :class:`~assistants.errors.PartialFailureError` carrying the report (or, when nothing at
    all could be scored, the first error itself).
    """
    return run_sync(
        aeval_math(
            file,
            limit=limit,
            samples=samples,
            output=output,
            restart=restart,
            settings=settings,
            model=model,
            progress=progress,
        )
    )
