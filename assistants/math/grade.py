"""Grading saved math runs without the model: re-grade a results file with the current
extraction and equivalence rules, and compare two results files.

::

    from assistants import compare_math_runs, regrade_math

    report = regrade_math("run.results.jsonl")            # zero requests
    report.fixed, report.broken, report.after.accuracy
    diff = compare_math_runs("a.results.jsonl", "b.results.jsonl")
    diff.difference, diff.mcnemar_p, [item.id for item in diff.fixed]

Nothing here builds a model client or sends a request: only the saved answer texts are read
again (:mod:`assistants.math.extract`) and checked (:mod:`assistants.math.check`). The
statistics are those of :mod:`assistants.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import errors
from ..config import Settings, load_settings
from ..llm.usage import Usage
from ..stats import DEFAULT_RESAMPLES, DEFAULT_SEED, Interval, mcnemar_exact, paired_bootstrap_ci
from .check import Verifier, group_answers
from .extract import extract_answer, to_plain
from .metrics import accuracy_interval, sample_metrics
from .models import (
    CompareItem,
    CompareReport,
    EvalItem,
    MathSample,
    RegradeChange,
    RegradeReport,
    RunSummary,
    SampleStatus,
    Status,
)

__all__ = [
    "compare_math_runs",
    "final_status",
    "label_samples",
    "plot_comparison",
    "read_run",
    "regrade_math",
    "sample_status",
    "summarize",
]


# --------------------------------------------------------------------------- shared rules
def label_samples(
    samples: Sequence[MathSample],
    groups: Sequence[tuple[str, list[int]]],
    verdicts: Sequence[bool | None],
    *,
    reference: str | None,
) -> None:
    """Set each sample's answer ``group`` and ``correct`` from the answer groups and each
    group's verdict against the reference. A sample without an answer is wrong when there is
    a reference, unknown (``None``) when there is none."""
    group_of = {index: g for g, (_, members) in enumerate(groups) for index in members}
    for sample in samples:
        g = group_of.get(sample.index)
        sample.group = g
        if g is not None:
            sample.correct = verdicts[g]
        elif sample.status != "failed":
            sample.correct = False if reference is not None else None


def final_status(
    *,
    samples: int,
    chosen: SampleStatus,
    answer: str | None,
    any_truncated: bool,
    has_reference: bool,
    matches: bool | None,
    votes: int,
    voters: int,
) -> Status:
    """The status of a solution from its chosen sample and answer: one rule for the solver
    and for re-grading."""
    if samples == 1 and chosen == "truncated":
        return "truncated"
    if answer is None:
        return "truncated" if any_truncated else "no_answer"
    if has_reference:
        return "matches_reference" if matches else "mismatch" if matches is False else "unverified"
    if samples > 1 and votes * 2 > voters and votes >= 2:
        return "self_consistent"
    return "unverified"


def sample_status(finish_reason: str | None, answered: bool, content: str) -> SampleStatus:
    """A reply's status: cut at max_tokens, answered, empty, or text without an answer."""
    if finish_reason == "length":
        return "truncated"
    if answered:
        return "answered"
    return "empty" if not content.strip() else "no_answer"


# --------------------------------------------------------------------------- reading
def read_run(path: str | Path) -> list[EvalItem]:
    """The items of a ``math eval`` results file in the order of the problems file (their
    ``line``; the results file itself is in order of completion). A later line of the same id
    replaces the earlier one, as a resumed run writes it. A torn last line (an interrupted
    write) is skipped; any other line that is not a scored item is an error."""
    file = Path(path)
    if not file.is_file():
        raise errors.InputError(f"{file}: no such file", hint="pass a results file of math eval")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise errors.InputError(f"{file}: not a UTF-8 text file") from None
    lines = text.split("\n")
    items: dict[str, EvalItem] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate_json(line)
        except ValueError:
            if number == len(lines):  # no newline after it: a write cut short
                continue
            raise errors.InputError(
                f"{file}:{number}: not a scored item of `math eval`",
                hint="pass the --output file of `assistants math eval`",
            ) from None
        items[item.id] = item
    if not items:
        raise errors.InputError(f"{file}: no scored items", hint="run `assistants math eval` first")
    return sorted(items.values(), key=lambda item: item.line)


def summarize(file: str, items: Sequence[EvalItem], *, seed: int = DEFAULT_SEED) -> RunSummary:
    """Accuracy (with its bootstrap interval), cost and cost per correct answer of ``items``."""
    correct = sum(item.correct for item in items)
    cost = sum((item.usage for item in items), Usage()).cost_usd
    models = sorted({item.model for item in items if item.model})
    samples = sorted({item.samples for item in items if item.samples is not None})
    return RunSummary(
        file=file,
        model=", ".join(models),
        samples=samples[0] if len(samples) == 1 else None,
        items=len(items),
        correct=correct,
        accuracy=round(correct / len(items), 6) if items else None,
        accuracy_ci=accuracy_interval([item.correct for item in items], seed=seed),
        cost_usd=cost,
        cost_per_correct_usd=cost / correct if correct else None,
        cost_per_item_usd=cost / len(items) if items else None,
    )


# --------------------------------------------------------------------------- re-grading
def _regrade_item(item: EvalItem, verifier: Verifier) -> tuple[EvalItem, int]:
    """``item`` graded again, and how many of its samples changed answer or verdict."""
    ref = item.reference
    if all(s.status == "failed" for s in item.replies):
        # an older line (or only failed samples): only the final answer can be checked again
        correct = item.answer is not None and verifier.equivalent(ref, item.answer) is True
        status: Status = item.status
        if item.answer is not None:
            status = "matches_reference" if correct else "mismatch"
        return item.model_copy(update={"correct": correct, "status": status}), 0
    samples = [s.model_copy() for s in item.replies]
    for s in samples:
        if s.status == "failed" or s.content is None:
            continue  # nothing saved to read again
        found = extract_answer(s.content, s.reasoning)
        s.status = sample_status(s.finish_reason, found is not None, s.content)
        s.answer = found.latex if found else None
        s.answer_plain = to_plain(found.latex) if found else None
        s.source = found.source if found else None
        s.confidence = found.confidence if found else None
    size = max(s.index for s in samples) + 1
    answers: list[str | None] = [None] * size
    for s in samples:
        if s.status == "answered":
            answers[s.index] = s.answer
    groups = group_answers(answers, verifier)
    verdicts: list[bool | None] = [verifier.equivalent(ref, rep) for rep, _ in groups]
    if verdicts and verdicts[0] is False and not verifier.parses(ref):
        verdicts = [None] * len(groups)  # a reference that is not math checks nothing
    label_samples(samples, groups, verdicts, reference=ref)
    done = [s for s in samples if s.status != "failed"]
    by_index = {s.index: s for s in done}
    chosen = by_index[groups[0][1][0]] if groups else min(done, key=lambda s: s.index)
    answer = groups[0][0] if groups else chosen.answer
    votes = len(groups[0][1]) if groups else 0
    matches = verdicts[0] if groups else None
    status = final_status(
        samples=item.samples or len(samples),
        chosen=chosen.status,
        answer=answer,
        any_truncated=any(s.status == "truncated" for s in done),
        has_reference=True,
        matches=matches,
        votes=votes,
        voters=len(done),
    )
    changed = sum(
        (old.answer, old.correct) != (new.answer, new.correct)
        for old, new in zip(item.replies, samples, strict=True)
    )
    update = {
        "answer": answer,
        "answer_plain": to_plain(answer) if answer else None,
        "answer_source": chosen.source,
        "confidence": chosen.confidence,
        "correct": matches is True,
        "status": status,
        "votes": votes,
        "voters": len(done),
        "vote_share": votes / len(done) if done and answer is not None else None,
        "replies": samples,
    }
    return item.model_copy(update=update), changed


def regrade_math(
    path: str | Path,
    *,
    output: str | Path | None = None,
    settings: Settings | None = None,
    seed: int = DEFAULT_SEED,
) -> RegradeReport:
    """Grade the saved replies of a results file again with the current extraction and
    equivalence rules, and report what changed. Sends nothing (no client is built).

    ``output``: write the re-graded items there (same layout as the results file, so
    :func:`compare_math_runs` and ``math eval`` read it); never the input file itself.
    """
    settings = settings or load_settings()
    file = Path(path)
    out = Path(output) if output is not None else None
    if out is not None and out.exists() and out.resolve() == file.resolve():
        raise errors.InputError(
            f"{out} is the results file being re-graded", hint="write to another file"
        )
    before = read_run(file)
    verifier = Verifier(timeout=settings.math.verify_timeout)
    after: list[EvalItem] = []
    changes: list[RegradeChange] = []
    samples_changed = 0
    for item in before:
        new, changed = _regrade_item(item, verifier)
        after.append(new)
        samples_changed += changed
        if changed or (item.answer, item.correct) != (new.answer, new.correct):
            changes.append(
                RegradeChange(
                    id=item.id,
                    reference=item.reference,
                    answer_before=item.answer,
                    answer_after=new.answer,
                    correct_before=item.correct,
                    correct_after=new.correct,
                    samples_changed=changed,
                )
            )
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(i.model_dump_json() + "\n" for i in after), encoding="utf-8")
        except OSError as exc:
            raise errors.InputError(f"{out}: cannot write ({exc.strerror or exc})") from None
    old_metrics, new_metrics = sample_metrics(before), sample_metrics(after)
    notes = list(new_metrics.notes)
    unread = sum(1 for item in before if not item.replies)
    if unread:
        notes.append(
            f"{unread} item(s) have no saved answer text: only their final answer was checked "
            "again (extraction not re-run)"
        )
    return RegradeReport(
        file=str(file),
        output=str(out) if out is not None else None,
        items=len(before),
        samples=sum(len(item.replies) for item in before),
        samples_changed=samples_changed,
        before=summarize(str(file), before, seed=seed),
        after=summarize(str(out or file), after, seed=seed),
        fixed=sum(not a.correct and b.correct for a, b in zip(before, after, strict=True)),
        broken=sum(a.correct and not b.correct for a, b in zip(before, after, strict=True)),
        pass_at_k_before=old_metrics.pass_at_k,
        pass_at_k_after=new_metrics.pass_at_k,
        maj_at_k_before=old_metrics.maj_at_k,
        maj_at_k_after=new_metrics.maj_at_k,
        changes=changes,
        notes=notes,
    )


# --------------------------------------------------------------------------- comparing
def compare_math_runs(
    a: str | Path,
    b: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
) -> CompareReport:
    """Run ``b`` against run ``a`` over the items both scored (matched by id): the items
    fixed (wrong in A, right in B) and broken, the accuracy difference B - A with a paired
    bootstrap 95% interval (seeded), McNemar's exact p-value on fixed/broken, and each run's
    accuracy and cost per correct answer over those items."""
    run_a, run_b = read_run(a), read_run(b)
    by_id_b = {item.id: item for item in run_b}
    ids_a = {item.id for item in run_a}
    pairs = [(x, by_id_b[x.id]) for x in run_a if x.id in by_id_b]
    if not pairs:
        raise errors.InputError(
            f"{a} and {b} have no item in common", hint="compare runs over the same problems"
        )
    for x, y in pairs:
        if x.reference != y.reference:
            raise errors.InputError(
                f"item {x.id!r} has another reference in {b} ({y.reference!r} vs {x.reference!r})",
                hint="compare runs of the same problems file",
            )
    fixed = [_compare_item(x, y) for x, y in pairs if not x.correct and y.correct]
    broken = [_compare_item(x, y) for x, y in pairs if x.correct and not y.correct]
    score_a = [1.0 if x.correct else 0.0 for x, _ in pairs]
    score_b = [1.0 if y.correct else 0.0 for _, y in pairs]
    diff = paired_bootstrap_ci(score_a, score_b, seed=seed, resamples=resamples)
    return CompareReport(
        a=summarize(str(a), [x for x, _ in pairs], seed=seed),
        b=summarize(str(b), [y for _, y in pairs], seed=seed),
        common=len(pairs),
        only_a=[x.id for x in run_a if x.id not in by_id_b],
        only_b=[y.id for y in run_b if y.id not in ids_a],
        difference=Interval(
            estimate=round(diff.estimate, 6),
            low=round(diff.low, 6),
            high=round(diff.high, 6),
            confidence=diff.confidence,
        ),
        mcnemar_p=mcnemar_exact(len(fixed), len(broken)),
        fixed=fixed,
        broken=broken,
        seed=seed,
    )


def _compare_item(x: EvalItem, y: EvalItem) -> CompareItem:
    return CompareItem(id=x.id, reference=x.reference, answer_a=x.answer, answer_b=y.answer)


def plot_comparison(report: CompareReport, path: str | Path) -> Path:
    """Accuracy (with its 95% interval) against cost per item of both runs of ``report``,
    drawn to ``path`` (.svg or .png; needs the ``plots`` extra)."""
    from ..plot import PlotPoint, plot_runs

    points = [
        PlotPoint(
            label=f"{name}: {Path(run.file).name}",
            cost_per_item=run.cost_per_item_usd or 0.0,
            value=run.accuracy or 0.0,
            low=run.accuracy_ci.low if run.accuracy_ci else None,
            high=run.accuracy_ci.high if run.accuracy_ci else None,
        )
        for name, run in (("A", report.a), ("B", report.b))
    ]
    return plot_runs(points, path, y_label="accuracy", title=f"{report.common} items")
