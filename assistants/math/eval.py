"""Evaluation: score a JSONL file of problems, with per-item results that make a run
resumable.

::

    from assistants import eval_math

    report = eval_math("problems.jsonl", limit=20, output="results.jsonl")
    report.accuracy, report.usage.cost_usd

Each problem is solved as :func:`~assistants.math.solve.solve_math` solves it; the results
file gets one :class:`~assistants.math.models.EvalItem` per line as items finish, and a later
run with the same file skips what is already there.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .. import errors
from ..config import Settings, load_settings
from ..llm import Progress, Usage
from ..llm.bridge import sync_twin
from .extract import last_boxed, reference_answer
from .metrics import accuracy_interval, sample_metrics
from .models import EvalItem, EvalReport, MathEstimate, MathProblem
from .sets import SETS, sample_file, set_file
from .solve import (
    FATAL_ERRORS,
    check_samples,
    estimate_math,
    math_llm,
    request_limit,
    solve_problem,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "SETS",
    "aeval_math",
    "default_output",
    "describe_layout",
    "estimate_eval",
    "eval_math",
    "iter_problems",
    "load_problems",
    "pending_problems",
    "sample_file",
    "set_file",
]


# --------------------------------------------------------------------------- problems
def describe_layout(layouts: Counter[str]) -> str | None:
    """The layout of a problems file from its lines' layouts: one name of
    :data:`~assistants.math.models.LAYOUT_TEXT`, or ``mixed: gsm8k 3, aime 2``."""
    if not layouts:
        return None
    if len(layouts) == 1:
        return next(iter(layouts))
    return "mixed: " + ", ".join(f"{name} {n}" for name, n in layouts.most_common())


def _layout(data: dict[str, Any], ref_key: str) -> str:
    """Which common layout a problem line follows (see ``LAYOUT_TEXT``)."""
    if ref_key == "reference":
        return "reference"
    if data.get("solution") is not None:
        return "math-500" if ref_key == "answer" else "math"
    if "####" in str(data["answer"]):
        return "gsm8k"
    return "aime" if data.get("problem") else "question-answer"


def default_output(file: str | Path) -> Path:
    """Where ``math eval`` keeps its per-item results unless told: ``<name>.results.jsonl`` in
    the current folder."""
    return Path(f"{Path(file).stem}.results.jsonl")


def load_problems(
    path: str | Path, *, limit: int | None = None, layouts: Counter[str] | None = None
) -> list[MathProblem]:
    """Read a JSONL file of problems in one of the common layouts: GSM8K (``question``,
    ``answer`` ending in ``#### n``), MATH (``problem``, ``solution`` with a ``\\boxed{}``),
    MATH-500 (``problem``, ``solution``, ``answer``: the ``answer`` is used), AIME-style
    (``problem``, ``answer``); also ``question``/``answer`` and a ``reference`` field. ``id``
    is optional (default: the line number). ``layouts`` counts the layout of each line read
    (see :func:`describe_layout`)."""
    return list(iter_problems(path, limit=limit, layouts=layouts))


def iter_problems(
    path: str | Path, *, limit: int | None = None, layouts: Counter[str] | None = None
) -> Iterator[MathProblem]:
    """:func:`load_problems` one line at a time: the file is read as a stream (only the ids
    seen so far are kept, to refuse a duplicate). The path and ``limit`` are checked at once;
    a bad line is reported when the stream reaches it."""
    file = Path(path)
    if not file.is_file():
        raise errors.InputError(f"{file}: no such file", hint="pass a JSONL file of problems")
    if limit is not None and limit < 1:
        raise errors.InputError(f"--limit must be at least 1 (got {limit})")
    return _problems(file, limit, Counter() if layouts is None else layouts)


def _lines(file: Path, not_text: errors.InputError) -> Iterator[tuple[int, str, str]]:
    """(number, line, physical line) one at a time, numbered as ``str.splitlines()`` numbers
    the whole text (universal newlines; a line separator such as U+2028 splits a line);
    ``not_text`` is raised at the first byte that is not UTF-8."""
    number = 0
    try:
        with file.open(encoding="utf-8") as handle:
            for physical in handle:
                for line in physical.splitlines():
                    number += 1
                    yield number, line, physical
    except UnicodeDecodeError:
        raise not_text from None


def _problems(file: Path, limit: int | None, layouts: Counter[str]) -> Iterator[MathProblem]:
    seen: set[str] = set()
    for number, line, _ in _lines(file, errors.InputError(f"{file}: not a UTF-8 text file")):
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
        layouts[_layout(data, ref_key)] += 1
        yield MathProblem(id=item_id, line=number, problem=text, reference=ref)
        if limit is not None and len(seen) >= limit:
            return
    if not seen:
        raise errors.InputError(f"{file}: no problems found")


def _results(output: Path) -> Iterator[EvalItem]:
    """The items of a results file in order, read as a stream; a torn line (an interrupted
    write) is skipped. A file with no result line at all is refused: appending to it would
    mix our results into someone else's data."""
    if not output.is_file():
        return
    found = written = False
    last = ""
    not_ours = "choose another --output, or --restart to replace it"
    not_text = errors.InputError(
        f"{output}: not a results file of `math eval` (not UTF-8 text)", hint=not_ours
    )
    for _, line, physical in _lines(output, not_text):
        written = written or bool(line.strip())
        last = physical
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate_json(line)
        except ValueError:
            continue
        found = True
        yield item
    if not found and written and last.endswith("\n"):
        raise errors.InputError(
            f"{output}: not a results file of `math eval` (no line is a scored item)",
            hint=not_ours,
        )


def _read_results(output: Path) -> dict[str, EvalItem]:
    """Items already scored in ``output`` (the newest line of an id wins)."""
    return {item.id: item for item in _results(output)}


def _fingerprint(problem: str, reference: str) -> bytes:
    return hashlib.blake2b(json.dumps([problem, reference]).encode(), digest_size=16).digest()


def _resume_index(output: Path) -> dict[str, tuple[bytes, int | None]]:
    """What :func:`_resumable` compares, kept small for a large results file: per id (the
    newest line wins) a fingerprint of its problem and reference, and its samples."""
    return {
        item.id: (_fingerprint(item.problem, item.reference), item.samples)
        for item in _results(output)
    }


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


class _Pending:
    """The problems an eval writing to ``output`` would still solve, as a stream; the others
    (resumed from ``output``) are counted in ``resumed``. Holds only a fingerprint per id of
    the results file, never the problems."""

    def __init__(self, output: Path | None, samples: int) -> None:
        self.done = _resume_index(output) if output is not None else {}
        self.samples = samples
        self.resumed = 0

    def __call__(self, problems: Iterable[MathProblem]) -> Iterator[MathProblem]:
        for p in problems:
            fingerprint, samples = self.done.get(p.id, (None, None))
            if (
                fingerprint is not None
                and samples in (None, self.samples)
                and fingerprint == _fingerprint(p.problem, p.reference)
            ):
                self.resumed += 1
            else:
                yield p


def pending_problems(
    problems: list[MathProblem], output: str | Path | None, *, samples: int = 1
) -> list[MathProblem]:
    """The problems an eval writing to ``output`` would still solve (the others are resumed
    from it); what ``math eval --dry-run`` estimates."""
    return list(_Pending(Path(output) if output is not None else None, samples)(problems))


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


def estimate_eval(
    file: str | Path,
    *,
    limit: int | None = None,
    samples: int | None = None,
    output: str | Path | None = None,
    restart: bool = False,
    settings: Settings | None = None,
) -> MathEstimate:
    """``math eval --dry-run``: what :func:`eval_math` with the same arguments would still send
    and cost, computed offline (no key needed). Problems already scored in ``output`` would be
    resumed, not sent: they are counted in ``resumed``."""
    settings = settings or load_settings()
    layouts: Counter[str] = Counter()
    problems = iter_problems(file, limit=limit, layouts=layouts)
    results = None if restart or output is None or Path(output).is_dir() else Path(output)
    pending = _Pending(results, settings.math.samples if samples is None else samples)
    todo = (p.problem for p in pending(problems))
    est = estimate_math(todo, samples=samples, settings=settings)
    est.resumed = pending.resumed
    est.layout = describe_layout(layouts)
    return est


# --------------------------------------------------------------------------- evaluation
# the fields an EvalItem takes as they are from the problem's MathSolution
_FROM_SOLUTION = (
    "answer",
    "answer_plain",
    "answer_source",
    "confidence",
    "status",
    "votes",
    "voters",
    "vote_share",
    "model",
    "usage",
    "latency_s",
)


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
    concurrency: int | None = None,
) -> EvalReport:
    """Async :func:`eval_math`."""
    started = time.monotonic()
    layouts: Counter[str] = Counter()
    problems = load_problems(file, limit=limit, layouts=layouts)
    llm = math_llm(settings, model)
    k = check_samples(samples, llm.settings)
    limit_requests = request_limit(concurrency, llm.settings)
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
    scored: dict[str, EvalItem] = {}
    failures: dict[str, str] = {}
    errors_seen: list[errors.AssistantsError] = []
    done = len(resumed)
    if progress:
        progress(done, len(problems))

    async def one(problem: MathProblem) -> None:
        nonlocal done
        try:
            sol = await solve_problem(
                llm,
                problem.problem,
                samples=k,
                reference=problem.reference,
                limit=limit_requests,
                stop_early=False,  # pass@k and maj@k need every sample
            )
        except FATAL_ERRORS:
            raise
        except errors.AssistantsError as exc:
            failures[problem.id] = exc.message
            errors_seen.append(exc)
        else:
            item = EvalItem(
                **problem.model_dump(),
                **{name: getattr(sol, name) for name in _FROM_SOLUTION},
                correct=sol.matches_reference is True,
                samples=k,
                replies=sol.samples,
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
    metrics = sample_metrics(kept)
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
        layout=describe_layout(layouts),
        accuracy_ci=accuracy_interval([item.correct for item in kept]),
        pass_at_k=metrics.pass_at_k,
        maj_at_k=metrics.maj_at_k,
        metric_notes=metrics.notes,
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


eval_math = sync_twin(
    aeval_math,
    """Score a JSONL file of problems (``problem``/``question`` + ``answer``) and return the
    accuracy, per-item results, tokens and cost.

    ``output``: a JSONL results file, one line per scored item, written as items finish. A
    later run with the same ``output`` skips items already there with the same id, problem,
    reference and number of samples (they still count in the accuracy); an edited line is
    scored again; ``restart=True`` starts over. Problems that fail (API errors after retries)
    are not written, so the next run retries them; they raise
    :class:`~assistants.errors.PartialFailureError` carrying the report (or, when nothing at
    all could be scored, the first error itself).

    ``concurrency``: requests in flight at once (default: the ``math.concurrency`` setting,
    else the global one). Each item's ``latency_s`` counts from when its first request got
    a slot, not the time it waited for one.
    """,
)
