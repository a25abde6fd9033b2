"""Renderers for the math solver: markdown (notebooks render the answer with LaTeX), plain
text for the terminal, and JSON (the pydantic models' own stable dump)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..llm.usage import format_usd

if TYPE_CHECKING:
    from .models import EvalReport, MathEstimate, MathSolution

__all__ = [
    "estimate_text",
    "eval_markdown",
    "eval_text",
    "solution_json",
    "solution_markdown",
    "solution_text",
]


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


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
        f"Problems: {report.total} · scored now {report.scored} · failed {len(report.failures)}"
        f" · samples {report.samples}",
    ]
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
        f"{resumed}"
        f"problems: {est.problems} · requests: {est.requests}\n"
        f"input tokens: {est.input_tokens:,} · output tokens (assumed): {est.output_tokens:,}\n"
        f"estimated cost: {format_usd(est.cost_usd)}\n"
        f"--- system prompt ---\n{est.system_prompt}"
        f"--- first request ---\n{est.first_request}"
    )
