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
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .. import errors
from ..config import Settings, load_settings
from ..llm import Limiter, Progress, Usage, run_sync
from .extract import last_boxed, reference_answer
from .models import EvalItem, EvalReport, MathEstimate, MathProblem
from .solve import FATAL_ERRORS, check_samples, estimate_math, math_llm, solve_problem

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "aeval_math",
    "default_output",
    "estimate_eval",
    "eval_math",
    "load_problems",
    "pending_problems",
    "sample_file",
]


# --------------------------------------------------------------------------- problems
def sample_file() -> Path:
    """The shipped sample: the first 50 GSM8K test problems (MIT, OpenAI; see
    ``assistants/data/GSM8K-README.md``)."""
    return Path(__file__).resolve().parent.parent / "data" / "gsm8k_sample.jsonl"


def default_output(file: str | Path) -> Path:
    """Where ``math eval`` keeps its per-item results unless told: ``<name>.results.jsonl`` in
    the current folder."""
    return Path(f"{Path(file).stem}.results.jsonl")


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
    problems = load_problems(file, limit=limit)
    results = None if restart or output is None or Path(output).is_dir() else output
    todo = pending_problems(
        problems, results, samples=settings.math.samples if samples is None else samples
    )
    est = estimate_math([p.problem for p in todo], samples=samples, settings=settings)
    est.resumed = len(problems) - len(todo)
    return est


# --------------------------------------------------------------------------- evaluation
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
    llm = math_llm(settings, model)
    k = check_samples(samples, llm.settings)
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
    limit_requests = Limiter(llm.settings.concurrency_for("math"))
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
                llm, problem.problem, samples=k, reference=problem.reference, limit=limit_requests
            )
        except FATAL_ERRORS:
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
