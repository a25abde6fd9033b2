"""Renderers for the paper analyzer: markdown (reports, notebooks) and plain text (terminal).
JSON is the pydantic models' own ``model_dump_json``. Page citations read ``(p. 3, 5)``;
an item whose citations could not be verified says so."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from ..llm.usage import format_usd

if TYPE_CHECKING:
    from ..llm import Usage
    from .models import (
        BatchItem,
        BatchResult,
        Claim,
        PaperAnalysis,
        PaperAnswer,
        PaperEstimate,
        PaperReview,
    )

__all__ = [
    "analysis_markdown",
    "analysis_text",
    "answer_markdown",
    "answer_text",
    "batch_markdown",
    "batch_text",
    "cite",
    "estimate_text",
    "report_name",
    "review_markdown",
    "review_text",
]


def cite(
    pages: Sequence[int],
    unverified: Sequence[int] = (),
    table: str | None = None,
    unverified_table: str | None = None,
) -> str:
    """``(p. 3, 5)``, ``(Table 2, p. 7)``; unverifiable citations are named, never hidden."""
    parts = []
    if pages:
        where = "p. " + ", ".join(str(p) for p in pages)
        parts.append(f"Table {table}, {where}" if table else where)
    if unverified:
        parts.append("unverified: p. " + ", ".join(str(p) for p in unverified))
    if unverified_table:
        parts.append(f"unverified: {unverified_table} (no such table)")
    if not parts:
        return "(no page cited)"
    return "(" + "; ".join(parts) + ")"


def _claim(claim: Claim) -> str:
    table = getattr(claim, "table", None)  # a KeyResult's
    unverified_table = getattr(claim, "unverified_table", None)
    return f"{claim.text} {cite(claim.pages, claim.unverified_pages, table, unverified_table)}"


def _usage(usage: Usage) -> str:
    parts = [f"{usage.requests} request(s)"]
    if usage.cached_requests:
        parts.append(f"{usage.cached_requests} from cache")
    parts.append(f"{usage.input_tokens:,} input tokens ({usage.cache_hit_tokens:,} cache hits)")
    parts.append(f"{usage.output_tokens:,} output tokens")
    parts.append(format_usd(usage.cost_usd))
    return " · ".join(parts)


def estimate_text(est: PaperEstimate) -> str:
    lines = [
        "dry run: nothing was sent",
        f"model: {est.model}",
        f"path: {est.path}" + (f" ({est.chunks} chunks)" if est.chunks else ""),
        f"requests: {est.requests}",
        f"input tokens: {est.input_tokens:,} (paper: {est.paper_tokens:,})",
        f"output tokens (assumed): {est.output_tokens:,}",
        f"estimated cost: {format_usd(est.cost_usd)}",
    ]
    return "\n".join(lines) + "\n"


def _facts_line(result: PaperAnalysis | PaperReview | PaperAnswer) -> str:
    facts = [f"{result.page_count} page{'' if result.page_count == 1 else 's'}"]
    if result.references_excluded:
        facts.append(f"references cut ({result.reference_count} entries)")
    return " · ".join(facts)


_SECTIONS = (
    ("contributions", "Core contributions"),
    ("innovations", "Innovations"),
    ("method", "Method"),
    ("key_results", "Key results"),
    ("limitations", "Limitations"),
    ("open_questions", "Open questions"),
)


def _title(result: PaperAnalysis | PaperReview) -> str:
    return result.title or PurePath(result.source).name


def _estimate_markdown(heading: str, est: PaperEstimate) -> str:
    """A dry run's markdown: the heading, then the estimate as a code block."""
    return "\n".join([heading, "", "```", estimate_text(est).rstrip(), "```"]) + "\n"


def analysis_markdown(a: PaperAnalysis) -> str:
    if a.dry_run and a.estimate is not None:
        return _estimate_markdown(f"# {_title(a)}", a.estimate)
    lines = [f"# {_title(a)}", ""]
    path = a.path + (f", {a.chunks} parts" if a.path == "map-reduce" else "")
    lines += [f"*{a.source} · {_facts_line(a)} · {path}*", "", "## Summary", ""]
    lines += [_claim(a.summary), ""]
    for name, heading in _SECTIONS:
        items = getattr(a, name)
        lines += [f"## {heading}", ""]
        lines += [f"- {_claim(item)}" for item in items] or ["_None given._"]
        lines.append("")
    flagged = a.flagged
    notes = [*a.warnings]
    if flagged:
        notes.append(f"{len(flagged)} item(s) cite pages that could not be verified")
    if notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    lines.append(f"---\n{a.model} · {_usage(a.usage)}")
    return "\n".join(lines) + "\n"


def _plain(markdown: str) -> str:
    """Markdown → plain terminal text (headings underlined, emphasis removed)."""
    out = []
    for line in markdown.splitlines():
        heading = re.match(r"^(#{1,3}) (.*)$", line)
        if heading:
            text = heading.group(2)
            out.append(text)
            out.append(("=" if heading.group(1) == "#" else "-") * min(len(text), 78))
            continue
        if line.strip() in {"```", "---"}:
            continue
        line = line.replace("**", "")
        line = re.sub(r"(?<!\w)[*_](\S[^*_]*?)[*_](?!\w)", r"\1", line)
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


def analysis_text(a: PaperAnalysis) -> str:
    return _plain(analysis_markdown(a))


def answer_markdown(ans: PaperAnswer) -> str:
    if ans.dry_run and ans.estimate is not None:
        return f"**Q:** {ans.question}\n\n```\n{estimate_text(ans.estimate).rstrip()}\n```\n"
    lines = [f"**Q:** {ans.question}", ""]
    if ans.answerable:
        lines.append(f"**A:** {ans.answer} {cite(ans.pages, ans.unverified_pages)}")
    else:
        lines.append(f"**A:** _The paper does not answer this._ {ans.answer}")
    if ans.passages:
        lines += ["", f"_{_passages_note(ans)}_"]
    lines += ["", f"*{ans.model} · {_usage(ans.usage)}*"]
    return "\n".join(lines) + "\n"


def answer_text(ans: PaperAnswer) -> str:
    if ans.dry_run and ans.estimate is not None:
        return estimate_text(ans.estimate)
    note = f"({_passages_note(ans)})\n" if ans.passages else ""
    if ans.answerable:
        return f"{ans.answer} {cite(ans.pages, ans.unverified_pages)}\n{note}"
    return f"The paper does not answer this. {ans.answer}\n{note}"


def _passages_note(ans: PaperAnswer) -> str:
    sent = ", ".join(str(page) for page in ans.pages_sent)
    return (
        f"The paper does not fit the model's context window: only pages {sent} "
        f"(of {ans.page_count}), chosen for the question, were sent."
    )


def _score(value: float, top: int) -> str:
    shown = f"{value:g}" if value == int(value) else f"{value:.2f}"
    return f"{shown} / {top}"


def review_markdown(r: PaperReview) -> str:
    if r.dry_run and r.estimate is not None:
        return _estimate_markdown(f"# Review: {_title(r)}", r.estimate)
    lines = [f"# Review: {_title(r)}", ""]
    label = f"ensemble of {r.ensemble}" if r.ensemble > 1 else "single reviewer"
    lines += [f"*{r.source} · {_facts_line(r)} · {label}*", ""]
    lines += ["## Summary", "", r.summary, ""]
    for heading, claims in (("Strengths", r.strengths), ("Weaknesses", r.weaknesses)):
        lines += [f"## {heading}", ""]
        lines += [f"- {_claim(c)}" for c in claims] or ["_None given._"]
        lines.append("")
    for heading, texts in (("Questions", r.questions), ("Limitations", r.limitations)):
        lines += [f"## {heading}", ""]
        lines += [f"- {t}" for t in texts] or ["_None given._"]
        lines.append("")
    lines += [
        "## Scores",
        "",
        "| | score |",
        "|---|---|",
        f"| Soundness | {_score(r.soundness, 4)} |",
        f"| Presentation | {_score(r.presentation, 4)} |",
        f"| Contribution | {_score(r.contribution, 4)} |",
        f"| Overall | {_score(r.overall, 10)} |",
        f"| Confidence | {_score(r.confidence, 5)} |",
        "",
        f"**Decision: {r.decision}**"
        + (
            f" ({sum(f.decision == 'accept' for f in r.reviews)} of {len(r.reviews)} reviewers "
            "accept)"
            if r.ensemble > 1
            else ""
        ),
        "",
    ]
    if r.reflections:
        lines += ["## Reflection", "", *_reflection_lines(r), ""]
    if r.warnings:
        lines += ["## Notes", ""] + [f"- {w}" for w in r.warnings] + [""]
    lines.append(f"---\n{r.model} · {_usage(r.usage)}")
    return "\n".join(lines) + "\n"


def _reflection_lines(r: PaperReview) -> list[str]:
    """One line per reviewer: the rounds taken and how overall score and decision moved."""
    lines = []
    for k in sorted({item.reviewer for item in r.reflections}):
        rounds = [item for item in r.reflections if item.reviewer == k]
        taken = len(rounds) - 1
        moves = " → ".join(f"{item.form.overall} ({item.form.decision})" for item in rounds)
        end = "; done" if rounds[-1].done else ""
        who = f"Reviewer {k}: " if r.ensemble > 1 else ""
        lines.append(f"- {who}{taken} of {r.reflect} rounds{end}; overall {moves}")
    return lines


def review_text(r: PaperReview) -> str:
    return _plain(review_markdown(r))


def report_name(source: str, suffix: str, used: set[str]) -> str:
    """A unique, safe file name for a paper's report."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", PurePath(source).with_suffix("").as_posix())
    stem = stem.strip("._") or "paper"
    name = f"{stem}{suffix}"
    n = 2
    while name in used or name in {"index.md", "index.json", "index.txt"}:
        name = f"{stem}-{n}{suffix}"
        n += 1
    used.add(name)
    return name


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _batch_total(batch: BatchResult) -> str:
    ok = [i for i in batch.items if i.ok]
    plans = [
        i.analysis.estimate
        for i in ok
        if i.analysis is not None and i.analysis.dry_run and i.analysis.estimate is not None
    ]
    if plans:  # a dry run: the totals of the plans, not the (empty) usage
        return (
            f"dry run: nothing was sent · {len(ok)} planned, {len(batch.failures)} failed · "
            f"{sum(e.requests for e in plans)} request(s) · "
            f"{sum(e.input_tokens for e in plans):,} input tokens · "
            f"estimated cost {format_usd(sum(e.cost_usd for e in plans))}"
        )
    return f"{len(ok)} analysed, {len(batch.failures)} failed · {_usage(batch.usage)}"


def _failure(item: BatchItem) -> str:
    hint = f" (hint: {item.hint})" if item.hint else ""
    return f"- {item.source}: {item.error}{hint}"


def batch_markdown(batch: BatchResult, reports: dict[str, str] | None = None) -> str:
    reports = reports or {}
    ok = [i for i in batch.items if i.ok]
    lines = [f"# Papers in {batch.folder}", "", _batch_total(batch), ""]
    if ok:
        lines += ["| paper | title | pages | path | report |", "|---|---|---|---|---|"]
        for item in ok:
            a = item.analysis
            assert a is not None
            report = (
                f"[{reports[item.source]}]({reports[item.source]})"
                if item.source in reports
                else ""
            )
            cells = [_cell(item.source), _cell(a.title), str(a.page_count), a.path, report]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if batch.failures:
        lines += ["## Failures", ""]
        lines += [_failure(item) for item in batch.failures]
        lines.append("")
    return "\n".join(lines)


def batch_text(batch: BatchResult) -> str:
    """The index as terminal text: one line per paper (no markdown table)."""
    heading = f"Papers in {batch.folder}"
    lines = [heading, "=" * min(len(heading), 78), "", _batch_total(batch), ""]
    for item in batch.items:
        a = item.analysis
        if item.ok and a is not None:
            pages = f"{a.page_count} page{'' if a.page_count == 1 else 's'}"
            title = f": {a.title}" if a.title else ""
            est = a.estimate if a.dry_run else None
            plan = (
                f" · {est.requests} request(s), {est.input_tokens:,} input tokens, "
                f"estimated {format_usd(est.cost_usd)}"
                if est is not None
                else ""
            )
            lines.append(f"- {item.source}{title} ({pages}, {a.path}){plan}")
    if batch.failures:
        lines += ["", "Failures", "--------"]
        lines += [_failure(item) for item in batch.failures]
    return "\n".join(lines).rstrip() + "\n"
