"""Renderers for the math solver: markdown (notebooks render the answer with LaTeX), plain
text for the terminal, and JSON (the pydantic models' own stable dump)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..llm.usage import format_usd
from .models import LAYOUT_TEXT

if TYPE_CHECKING:
    from ..stats import Interval
    from .models import (
        CompareReport,
        EvalReport,
        MathEstimate,
        MathSolution,
        RegradeReport,
        RunSummary,
    )

__all__ = [
    "compare_markdown",
    "compare_text",
    "estimate_text",
    "eval_markdown",
    "eval_text",
    "layout_text",
    "regrade_markdown",
    "regrade_text",
    "solution_json",
    "solution_markdown",
    "solution_text",
]


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _ci(interval: Interval | None) -> str:
    """``72% [58%, 84%]``: a share and its 95% interval."""
    if interval is None:
        return "-"
    return f"{interval.estimate:.0%} [{interval.low:.0%}, {interval.high:.0%}]"


def _by_k(values: dict[int, float]) -> str:
    return " · ".join(f"@{k} {v:.1%}" for k, v in sorted(values.items())) or "-"


def layout_text(layout: str | None) -> str:
    """``gsm8k: GSM8K (question, answer ending in '#### n')``, or the mixed description."""
    if layout is None:
        return "-"
    return f"{layout}: {LAYOUT_TEXT[layout]}" if layout in LAYOUT_TEXT else layout


def _cell(text: str) -> str:
    """Text for a markdown table cell: a ``|`` (as in ``|x|``) or a newline would break the row."""
    return " ".join(text.split("\n")).replace("|", "\\|")


def _usage_line(sol: MathSolution) -> str:
    u = sol.usage
    parts = [
        f"{u.requests} request(s)" + (f", {u.cached_requests} cached" if u.cached_requests else ""),
        f"{u.input_tokens:,} input tokens ({u.cache_hit_tokens:,} cache hits)",
        f"{u.output_tokens:,} output tokens ({u.reasoning_tokens:,} reasoning)",
        format_usd(u.cost_usd),
        f"{sol.latency_s:.1f}s",
    ]
    return " · ".join(parts)


def _votes_text(sol: MathSolution) -> str | None:
    if sol.samples_requested <= 1:
        return None
    if sol.votes == 0:
        return f"no final answer in {sol.voters} sample(s)"
    text = f"{sol.agreement} samples agree ({_pct(sol.vote_share)})"
    if sol.stopped_early:
        text += f"; stopped early ({sol.samples_requested} requested)"
    return text


def _status_text(sol: MathSolution) -> str:
    text = sol.status_text
    if sol.reference is not None:
        text += f" ({sol.reference})"
    return text


def solution_markdown(sol: MathSolution, *, show_reasoning: bool = False) -> str:
    """Markdown with the answer as display LaTeX (``$$...$$``) for notebooks and reports."""
    lines = ["### Answer", ""]
    if sol.answer is not None:
        lines += [f"$$\n{sol.answer}\n$$", ""]
    else:
        lines += ["_No final answer._", ""]
    facts = [f"**Status:** {_status_text(sol)}"]
    if sol.answer_plain:
        facts.append(f"**Plain:** `{sol.answer_plain}`")
    if sol.confidence:
        facts.append(f"**Confidence:** {sol.confidence}")
    votes = _votes_text(sol)
    if votes:
        facts.append(f"**Votes:** {votes}")
    lines += [" · ".join(facts), ""]
    for note in sol.notes:
        lines.append(f"> {note}")
    if sol.notes:
        lines.append("")
    if len(sol.groups) > 1:
        lines += ["| answer | votes | samples |", "|---|---:|---|"]
        for group in sol.groups:
            members = ", ".join(str(i + 1) for i in group.samples)
            lines.append(f"| ${_cell(group.answer)}$ | {group.votes} | {members} |")
        lines.append("")
    if sol.reasoning:
        reasoning = sol.reasoning.strip()
        if show_reasoning:
            lines += ["#### Reasoning", "", reasoning, ""]
        else:
            lines += [
                f"<details><summary>Reasoning ({len(reasoning):,} characters)</summary>",
                "",
                reasoning,
                "",
                "</details>",
                "",
            ]
    if sol.content.strip():
        lines += ["#### Solution", "", sol.content.strip(), ""]
    lines.append(f"<sub>{sol.model} · {_usage_line(sol)}</sub>")
    return "\n".join(lines) + "\n"


def solution_text(sol: MathSolution) -> str:
    """Plain text for a terminal or a pipe: the answer first, then how far to trust it."""
    lines = []
    if sol.answer is not None:
        plain = sol.answer_plain or sol.answer
        lines.append(f"Answer: {plain}")
        if plain != sol.answer:
            lines.append(f"LaTeX:  {sol.answer}")
    else:
        lines.append("Answer: (none)")
    lines.append(f"Status: {_status_text(sol)}")
    if sol.confidence == "low":
        lines.append("Confidence: low")
    votes = _votes_text(sol)
    if votes:
        lines.append(f"Votes:  {votes}")
        if len(sol.groups) > 1:
            others = ", ".join(f"{g.answer_plain} ×{g.votes}" for g in sol.groups)
            lines.append(f"        answers: {others}")
    for note in sol.notes:
        lines.append(f"Note:   {note}")
    lines.append(f"Usage:  {_usage_line(sol)}")
    return "\n".join(lines) + "\n"


def solution_json(sol: MathSolution) -> str:
    return sol.model_dump_json(indent=2) + "\n"


def _low_confidence(report: EvalReport) -> int:
    return sum(item.confidence == "low" for item in report.items)


def eval_markdown(report: EvalReport) -> str:
    lines = [f"### Math eval: {report.file}", ""]
    lines += [
        "| metric | value |",
        "|---|---|",
        f"| accuracy | {_pct(report.accuracy)} ({report.correct} of "
        f"{report.scored + report.skipped}) |",
        f"| accuracy, 95% bootstrap interval | {_ci(report.accuracy_ci)} |",
        f"| pass@k | {_by_k(report.pass_at_k)} |",
        f"| maj@k | {_by_k(report.maj_at_k)} |",
        f"| layout | {_cell(layout_text(report.layout))} |",
        f"| scored this run | {report.scored} |",
        f"| resumed (already scored) | {report.skipped} |",
        f"| failed | {len(report.failures)} |",
        f"| samples per problem | {report.samples} |",
        f"| tokens | {report.usage.input_tokens:,} in · {report.usage.output_tokens:,} out |",
        f"| cost | {format_usd(report.usage.cost_usd)} this run"
        + (f" · {format_usd(report.previous_cost_usd)} earlier" if report.skipped else "")
        + " |",
        f"| time | {report.latency_s:.1f}s |",
        "",
    ]
    if report.statuses:
        lines.append(
            "Statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items()))
        )
        lines.append("")
    lines += [f"Note: {note}" for note in report.metric_notes]
    low = _low_confidence(report)
    if low:
        lines += [f"Low confidence: {low} answer(s) not from a `\\boxed{{}}` of the answer", ""]
    wrong = [item for item in report.items if not item.correct]
    if wrong:
        lines += ["| id | reference | answer | status |", "|---|---|---|---|"]
        for item in wrong[:50]:
            answer = f"${_cell(item.answer)}$" if item.answer else "-"
            lines.append(
                f"| {_cell(item.id)} | {_cell(item.reference)} | {answer} | {item.status} |"
            )
        lines.append("")
    for key, reason in sorted(report.failures.items()):
        lines.append(f"- failed {key}: {reason}")
    if report.output:
        lines.append(f"Per-item results: `{report.output}`")
    return "\n".join(lines).rstrip() + "\n"


def eval_text(report: EvalReport) -> str:
    seen = report.scored + report.skipped
    lines = [
        f"Accuracy: {_pct(report.accuracy)} ({report.correct} of {seen} correct"
        + (f", {report.skipped} resumed" if report.skipped else "")
        + ")",
        f"Interval: {_ci(report.accuracy_ci)} (95% bootstrap, seeded)",
        f"pass@k:   {_by_k(report.pass_at_k)}",
        f"maj@k:    {_by_k(report.maj_at_k)}",
        f"Problems: {report.total} · scored now {report.scored} · failed {len(report.failures)}"
        f" · samples {report.samples} · layout {layout_text(report.layout)}",
    ]
    lines += [f"Note:     {note}" for note in report.metric_notes]
    if report.statuses:
        lines.append(
            "Statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items()))
        )
    low = _low_confidence(report)
    if low:
        lines.append(f"Low confidence: {low} answer(s) not from a \\boxed{{}} of the answer")
    u = report.usage
    lines.append(
        f"Tokens:   {u.input_tokens:,} input ({u.cache_hit_tokens:,} cache hits), "
        f"{u.output_tokens:,} output ({u.reasoning_tokens:,} reasoning)"
    )
    cost = f"Cost:     {format_usd(u.cost_usd)} this run"
    if report.skipped:
        cost += f" ({format_usd(report.previous_cost_usd)} for the resumed items)"
    lines.append(cost + f" · {report.latency_s:.1f}s")
    for key, reason in sorted(report.failures.items()):
        lines.append(f"Failed:   {key}: {reason}")
    if report.output:
        lines.append(f"Results:  {report.output}")
    return "\n".join(lines) + "\n"


def estimate_text(est: MathEstimate) -> str:
    """The ``--dry-run`` estimate: requests, tokens, cost and the first request in full."""
    resumed = (
        f"already scored in the results file (skipped; --restart to score again): {est.resumed}\n"
        if est.resumed
        else ""
    )
    if not est.problems:
        return f"dry run: nothing was sent\n{resumed}nothing left to solve\n"
    return (
        f"dry run: nothing was sent\n"
        f"model: {est.model}\n"
        f"layout: {layout_text(est.layout)}\n"
        f"{resumed}"
        f"problems: {est.problems} · requests: {est.requests}\n"
        f"input tokens: {est.input_tokens:,} · output tokens (assumed): {est.output_tokens:,}\n"
        f"estimated cost: {format_usd(est.cost_usd)}\n"
        f"--- system prompt ---\n{est.system_prompt}"
        f"--- first request ---\n{est.first_request}"
    )


# --------------------------------------------------------------------------- regrade, compare
def _money(value: float | None) -> str:
    return "-" if value is None else format_usd(value)


def _run_row(label: str, run: RunSummary) -> str:
    return (
        f"| {label} | {_cell(run.file)} | {run.correct} of {run.items} | {_ci(run.accuracy_ci)} | "
        f"{_money(run.cost_usd)} | {_money(run.cost_per_correct_usd)} |"
    )


_RUN_HEADER = [
    "| run | file | correct | accuracy [95% interval] | cost | cost per correct |",
    "|---|---|---|---|---|---|",
]


def _answer(text: str | None) -> str:
    return f"${_cell(text)}$" if text else "-"


def regrade_markdown(report: RegradeReport) -> str:
    lines = [
        f"### Re-graded: {report.file}",
        "",
        f"{report.items} item(s), {report.samples} saved sample(s) read again with the current "
        f"rules; {report.requests} requests sent.",
        "",
        *_RUN_HEADER,
        _run_row("before", report.before),
        _run_row("after", report.after),
        "",
        f"Fixed: {report.fixed} · broken: {report.broken} · samples changed: "
        f"{report.samples_changed}",
        "",
        f"pass@k before {_by_k(report.pass_at_k_before)}; after {_by_k(report.pass_at_k_after)}",
        f"maj@k before {_by_k(report.maj_at_k_before)}; after {_by_k(report.maj_at_k_after)}",
        "",
    ]
    if report.changes:
        lines += [
            "| id | reference | before | after | samples changed |",
            "|---|---|---|---|---|",
        ]
        for c in report.changes:
            before = _answer(c.answer_before) + (" ✓" if c.correct_before else " ✗")
            after = _answer(c.answer_after) + (" ✓" if c.correct_after else " ✗")
            lines.append(
                f"| {_cell(c.id)} | {_cell(c.reference)} | {before} | {after} | "
                f"{c.samples_changed} |"
            )
        lines.append("")
    lines += [f"- {note}" for note in report.notes]
    if report.output:
        lines.append(f"Re-graded results: `{report.output}`")
    return "\n".join(lines).rstrip() + "\n"


def regrade_text(report: RegradeReport) -> str:
    b, a = report.before, report.after
    lines = [
        f"Re-graded {report.items} item(s) ({report.samples} saved samples) of {report.file}: "
        f"{report.requests} requests sent",
        f"Accuracy: {_pct(b.accuracy)} → {_pct(a.accuracy)} ({b.correct} → {a.correct} correct)",
        f"Changed:  {report.fixed} fixed, {report.broken} broken, {report.samples_changed} "
        "sample(s) changed",
        f"pass@k:   {_by_k(report.pass_at_k_before)} → {_by_k(report.pass_at_k_after)}",
        f"maj@k:    {_by_k(report.maj_at_k_before)} → {_by_k(report.maj_at_k_after)}",
    ]
    for c in report.changes:
        verdict = (
            "fixed"
            if c.correct_after and not c.correct_before
            else ("broken" if c.correct_before and not c.correct_after else "changed")
        )
        lines.append(
            f"  {verdict:7} {c.id}: {c.answer_before or '-'} → {c.answer_after or '-'} "
            f"(reference {c.reference})"
        )
    lines += [f"Note:     {note}" for note in report.notes]
    if report.output:
        lines.append(f"Results:  {report.output}")
    return "\n".join(lines) + "\n"


def _difference(report: CompareReport) -> str:
    d = report.difference
    if d is None:
        return "-"
    return f"{d.estimate:+.1%} [{d.low:+.1%}, {d.high:+.1%}]"


def compare_markdown(report: CompareReport) -> str:
    lines = [
        f"### Compare: B = {report.b.file} against A = {report.a.file}",
        "",
        f"{report.common} item(s) in both runs.",
        "",
        *_RUN_HEADER,
        _run_row("A", report.a),
        _run_row("B", report.b),
        "",
        f"| accuracy B − A, 95% paired bootstrap interval | {_difference(report)} |",
        "|---|---|",
        f"| McNemar's exact test, p | {report.mcnemar_p:.4g} |",
        f"| fixed (wrong in A, right in B) | {len(report.fixed)} |",
        f"| broken (right in A, wrong in B) | {len(report.broken)} |",
        "",
    ]
    for title, items in (("Fixed", report.fixed), ("Broken", report.broken)):
        if items:
            lines += [f"{title}:", "", "| id | reference | A | B |", "|---|---|---|---|"]
            lines += [
                f"| {_cell(i.id)} | {_cell(i.reference)} | {_answer(i.answer_a)} | "
                f"{_answer(i.answer_b)} |"
                for i in items
            ]
            lines.append("")
    lines += _only(report)
    if report.plot:
        lines.append(f"![accuracy against cost per item]({report.plot})")
    return "\n".join(lines).rstrip() + "\n"


def _only(report: CompareReport) -> list[str]:
    lines = []
    for label, ids in (("A", report.only_a), ("B", report.only_b)):
        if ids:
            shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
            lines.append(f"Only in {label} (not compared): {len(ids)} ({shown})")
    return lines


def compare_text(report: CompareReport) -> str:
    a, b = report.a, report.b
    lines = [
        f"A: {a.file}: {_ci(a.accuracy_ci)} ({a.correct} of {a.items}) · cost {_money(a.cost_usd)}"
        f" · per correct {_money(a.cost_per_correct_usd)}",
        f"B: {b.file}: {_ci(b.accuracy_ci)} ({b.correct} of {b.items}) · cost {_money(b.cost_usd)}"
        f" · per correct {_money(b.cost_per_correct_usd)}",
        f"B − A:    {_difference(report)} (95% paired bootstrap over {report.common} items)",
        f"McNemar:  p = {report.mcnemar_p:.4g} ({len(report.fixed)} fixed, "
        f"{len(report.broken)} broken)",
    ]
    lines += [f"  fixed  {i.id}: {i.answer_a or '-'} → {i.answer_b or '-'}" for i in report.fixed]
    lines += [f"  broken {i.id}: {i.answer_a or '-'} → {i.answer_b or '-'}" for i in report.broken]
    lines += _only(report)
    if report.plot:
        lines.append(f"Plot:     {report.plot}")
    return "\n".join(lines) + "\n"
