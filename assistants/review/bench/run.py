"""The reviewer's benchmark: review every corpus diff through the real pipeline and score it.

Each diff becomes a small git repository in a temporary folder: the original file in the
index (:func:`assistants.git.snapshot`), the changed file in the working tree. It is then
reviewed by :func:`assistants.review.run.review_diff` against that tree, exactly as
``assistants review --diff`` would review it (git diff, hunks widened to their enclosing
function, secret redaction, packing, the request, validation, anchoring against the changed
lines). The findings are scored here (below). Diffs run in parallel
(``concurrency``; one review each), so the endpoint sees what a folder review would send.

Scoring: a seeded diff is *found* when a finding in its file covers a line within
:data:`~assistants.review.bench.models.HIT_WINDOW` (2) lines of the seeded line. Every finding on a
clean diff is a false positive; findings on a seeded diff away from its line are counted as
*other* (they may be real problems of the original code, so they are kept apart from the false
positives; they do count against precision). Precision is matched findings over all findings;
recall carries a Wilson 95% score interval (closed form, no sampling). Severity calibration:
for each operator, the highest severity among the findings that found it.

Settings pass straight through (model, endpoint, thinking, instructions, profile limits), and
the report records them, so two runs are compared like for like.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import errors, git
from ..models import SEVERITY_RANK, Finding
from .corpus import Case, Corpus, apply_diff, load_corpus
from .models import (
    HIT_WINDOW,
    CaseRecord,
    FindingBrief,
    ReviewBenchEstimate,
    ReviewBenchReport,
    RunInfo,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ...config import Settings
    from ..baseline import Baseline
    from ..models import Review

__all__ = ["estimate_review_bench", "eval_review", "hits"]

# errors that would fail every diff the same way: the run stops on the first one
_FATAL = (
    errors.ConfigError,
    errors.AuthenticationError,
    errors.InsufficientBalanceError,
    errors.InputError,
)


def hits(findings: Iterable[Finding], path: str, line: int) -> list[Finding]:
    """The findings in ``path`` that cover ``line``, give or take ``HIT_WINDOW`` lines."""
    return [
        f
        for f in findings
        if f.path == path and f.line_start - HIT_WINDOW <= line <= f.line_end + HIT_WINDOW
    ]


def _bench_settings(settings: Settings | None) -> Settings:
    """The settings, with the project's include/exclude globs cleared: the corpus decides
    what is reviewed (a project that excludes ``*.js`` would otherwise skip half of it)."""
    from ...config import load_settings

    settings = settings if settings is not None else load_settings()
    review = settings.review.model_copy(update={"include": [], "exclude": []})
    return settings.model_copy(update={"review": review})


def _checkout(case: Case, corpus: Corpus, folder: Path) -> tuple[Path, str]:
    """A repository for ``case``: the original file at its corpus path in the index, the
    changed file in the working tree. Returns (root, tree id of the original)."""
    original = corpus.files[case.file]
    root = folder / case.id
    target = root / original.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(original.text, encoding="utf-8", newline="")
    tree = git.snapshot(root)
    target.write_text(apply_diff(original.text, case.diff), encoding="utf-8", newline="")
    return root, tree


def _record(case: Case, path: str, review: Review | None, error: str | None) -> CaseRecord:
    record = CaseRecord(
        id=case.id,
        kind=case.kind,
        operator=case.operator,
        language=case.language,
        path=path,
        line=case.line,
        error=error,
    )
    if review is None:
        return record
    record.usage = review.usage
    record.rejected = review.rejected
    if review.failed:
        record.error = review.failed[0].reason
        return record
    if not review.files:
        record.error = "nothing was reviewed: " + (
            ", ".join(f"{s.path} ({s.reason})" for s in review.skipped) or "empty diff"
        )
        return record
    record.findings = [
        FindingBrief(
            line_start=f.line_start,
            line_end=f.line_end,
            severity=f.severity,
            category=f.category,
            title=f.title,
            fingerprint=f.fingerprint,
        )
        for f in review.findings
    ]
    if case.kind == "clean":
        record.false_positives = len(review.findings)
        return record
    matched = hits(review.findings, path, case.line)
    record.matched = len(matched)
    record.other = len(review.findings) - len(matched)
    record.found = bool(matched)
    if matched:
        record.severity = max((f.severity for f in matched), key=SEVERITY_RANK.__getitem__)
    return record


def _review_one(
    case: Case,
    corpus: Corpus,
    folder: Path,
    *,
    settings: Settings,
    model: BaseChatModel | None,
    think: bool | None,
    instructions: str | None,
    dry_run: bool,
    baseline: Baseline | None = None,
) -> tuple[CaseRecord, Review | None]:
    from ..run import review_diff

    root, tree = _checkout(case, corpus, folder)
    path = corpus.files[case.file].path
    try:
        review = review_diff(
            tree,
            repo=root,
            settings=settings,
            model=model,
            think=think,
            instructions=instructions,
            dry_run=dry_run,
            concurrency=1,
        )
    except _FATAL:
        raise
    except errors.AssistantsError as exc:
        return _record(case, path, None, f"{type(exc).__name__}: {exc.message}"), None
    finally:
        shutil.rmtree(root, ignore_errors=True)  # reviewed: its repository is not needed
    if baseline is not None and not dry_run:  # as `assistants review --baseline` reports
        review = baseline.apply(review)
    return _record(case, path, review, None), review


def _run_all(
    corpus: Corpus,
    settings: Settings,
    concurrency: int | None,
    progress: Callable[[int, int], None] | None,
    **kwargs: Any,
) -> list[tuple[CaseRecord, Review | None]]:
    """Every case, ``concurrency`` at a time; results in corpus order. A fatal error (no key,
    a rejected key, a bad setting) stops the run and is raised."""
    workers = settings.concurrency_for("review", concurrency)
    total = len(corpus.cases)
    done = 0
    with tempfile.TemporaryDirectory(prefix="assistants-bench-") as tmp:
        folder = Path(tmp)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench") as pool:
            futures = [
                pool.submit(_review_one, case, corpus, folder, settings=settings, **kwargs)
                for case in corpus.cases
            ]
            pending: set[Future[Any]] = set(futures)
            if progress:
                progress(0, total)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    if future.exception() is not None:
                        for other in pending:
                            other.cancel()
                        raise future.exception()  # type: ignore[misc]
                done += len(finished)
                if progress:
                    progress(done, total)
            return [f.result() for f in futures]


def _run_info(
    corpus: Corpus,
    settings: Settings,
    think: bool | None,
    options: dict[str, Any],
    filters: dict[str, Any],
) -> RunInfo:
    from ..._version import __version__
    from ...llm.selector import select_model

    spec = select_model("coder", settings, thinking=think)
    return RunInfo(
        model=spec.model,
        base_url=spec.base_url,
        think=spec.thinking,
        options={k: v for k, v in options.items() if v is not None},
        corpus=corpus.digest,
        cases=len(corpus.cases),
        operators=list(filters["operators"]),
        language=filters["language"],
        limit=filters["limit"],
        version=__version__,
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def eval_review(
    *,
    corpus: str | Path | None = None,
    limit: int | None = None,
    operators: Sequence[str] = (),
    language: str | None = None,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    think: bool | None = None,
    instructions: str | None = None,
    concurrency: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    baseline: Baseline | None = None,
) -> ReviewBenchReport:
    """Run the reviewer's benchmark. The
    :class:`~assistants.review.bench.models.ReviewBenchReport` gives recall (a finding within ±2
    lines of the seeded line), false positives per clean diff, precision, the severities given
    to seeded bugs, tokens and cost per diff — in total, by operator and by language, with one
    record per diff.

    ``corpus``: a corpus folder (default: the shipped one). ``limit``, ``operators``,
    ``language`` filter it (:func:`assistants.review.bench.corpus.load_corpus`). ``settings``,
    ``model``, ``think``, ``instructions`` are those of :func:`assistants.review.run.review_diff`
    (the project's include/exclude globs are ignored: the corpus decides what is reviewed).
    ``baseline``: findings in it are held back before scoring, as ``assistants review
    --baseline`` holds them back (a baseline of a run's findings on the clean diffs shows what
    it leaves of the false positives, and what it costs in recall).
    ``concurrency``: diffs reviewed at once (default: the review concurrency setting).
    ``progress(done, total)`` counts diffs. A diff that cannot be reviewed (the API failed
    after its retries, an unusable reply) is recorded with its reason and left out of the
    scores, and the run raises :class:`~assistants.errors.PartialFailureError` carrying the
    report (also when no diff at all could be reviewed: what was paid for is still reported);
    a missing or rejected key, a bad setting or a broken corpus stops the run at once.
    """
    chosen = load_corpus(corpus, operators=operators, language=language, limit=limit)
    settings = _bench_settings(settings)
    results = _run_all(
        chosen,
        settings,
        concurrency,
        progress,
        model=model,
        think=think,
        instructions=instructions,
        dry_run=False,
        baseline=baseline,
    )
    records = [record for record, _ in results]
    options = {
        "instructions": "custom" if instructions else None,
        "baseline": len(baseline.findings) if baseline is not None else None,
    }
    filters = {"operators": operators, "language": language, "limit": limit}
    report = ReviewBenchReport.of(_run_info(chosen, settings, think, options, filters), records)
    failed = {r.id: r.error for r in records if r.error}
    if failed:
        what = (
            f"none of the {len(records)} diff(s) could be reviewed (first: "
            f"{next(iter(failed.values()))})"
            if len(failed) == len(records)
            else f"{len(failed)} of {len(records)} diff(s) could not be reviewed"
        )
        raise errors.PartialFailureError(
            f"{what}; they are listed in the report and left out of the scores",
            hint="run again to retry them (reviews already answered come from the cache)",
            result=report,
            failures={k: v for k, v in failed.items() if v},
        )
    return report


def estimate_review_bench(
    *,
    corpus: str | Path | None = None,
    limit: int | None = None,
    operators: Sequence[str] = (),
    language: str | None = None,
    settings: Settings | None = None,
    think: bool | None = None,
    instructions: str | None = None,
    concurrency: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReviewBenchEstimate:
    """What :func:`eval_review` would send with the same arguments: requests, input tokens,
    expected output tokens and estimated cost, from the real requests built as in a dry-run
    review. Calls nothing and needs no key."""
    chosen = load_corpus(corpus, operators=operators, language=language, limit=limit)
    settings = _bench_settings(settings)
    results = _run_all(
        chosen,
        settings,
        concurrency,
        progress,
        model=None,
        think=think,
        instructions=instructions,
        dry_run=True,
    )
    plans = [review.plan for _, review in results if review is not None and review.plan]
    requests = [r for plan in plans for r in plan.requests]
    return ReviewBenchEstimate(
        model=plans[0].model if plans else "",
        cases=len(chosen.cases),
        requests=len(requests),
        input_tokens=sum(r.input_tokens for r in requests),
        output_tokens=sum(r.output_tokens for r in requests),
        cost_usd=round(sum(r.cost_usd for r in requests), 6),
    )
