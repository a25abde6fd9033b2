"""Renderers for :class:`assistants.review.models.Review`: rich terminal text, markdown, JSON
and GitHub workflow annotations (SARIF lives in :mod:`assistants.review.sarif`, GitLab Code
Quality and reviewdog's rdjson in :mod:`assistants.review.formats`). Every format says how
many findings were suppressed, inline and by a baseline."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..llm.usage import format_usd

if TYPE_CHECKING:
    from rich.console import Console

    from .models import (
        Finding,
        PullRequestDescription,
        Review,
        ReviewEstimate,
    )

__all__ = [
    "SEVERITY_STYLE",
    "description_markdown",
    "render",
    "suppressed_note",
    "to_github",
    "to_json",
    "to_markdown",
    "to_text",
]

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}
_GITHUB_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}


def _no_findings(review: Review) -> str:
    """What an empty finding list means: nothing found in what was reviewed, or nothing
    reviewed at all (every file failed) — never "No findings" for files nobody reviewed."""
    reviewed = review.coverage.files_reviewed
    if review.failed and not reviewed:
        return "Nothing was reviewed: every file failed (below)."
    if review.failed:
        return f"No findings in the {reviewed} file(s) reviewed; some failed (below)."
    return "No findings."


def _by_file(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.path, []).append(f)
    return out


def _lines(f: Finding) -> str:
    return f"{f.line_start}" if f.line_end == f.line_start else f"{f.line_start}-{f.line_end}"


def _summary(review: Review) -> str:
    counts = review.counts
    found = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
    cov = review.coverage
    parts = [
        f"{len(review.findings)} finding{'s' if len(review.findings) != 1 else ''} ({found})",
        f"{cov.files_reviewed} file{'s' if cov.files_reviewed != 1 else ''} reviewed",
        f"{cov.files_skipped} skipped",
    ]
    if cov.files_failed:
        parts.append(f"{cov.files_failed} failed")
    if review.suppressed:
        parts.append(suppressed_note(review))
    usage = review.usage
    parts.append(
        f"{usage.requests} request(s), {usage.cached_requests} from cache, "
        f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens, "
        + format_usd(usage.cost_usd)
    )
    return " · ".join(parts)


def suppressed_note(review: Review) -> str:
    """``"3 suppressed (1 inline, 2 baseline)"``, or "" when nothing was suppressed."""
    if not review.suppressed:
        return ""
    kinds = ", ".join(f"{n} {kind}" for kind, n in review.suppressed_counts.items() if n)
    return f"{len(review.suppressed)} suppressed ({kinds})"


def _plan_rows(plan: ReviewEstimate) -> list[tuple[str, str, str, str]]:
    return [
        (str(i), ", ".join(r.files), f"{r.input_tokens:,}", format_usd(r.cost_usd))
        for i, r in enumerate(plan.requests, 1)
    ]


def _plan_table(plan: ReviewEstimate) -> list[str]:
    out = ["| # | files | input tokens | est. cost |", "|---|---|---:|---:|"]
    return out + [f"| {a} | {_md_cell(b)} | {c} | {d} |" for a, b, c, d in _plan_rows(plan)]


def _plan_summary(review: Review) -> str:
    plan = review.plan
    assert plan is not None
    files = len(review.files)
    return (
        f"dry run: {len(plan.requests)} request(s) for {files} file(s), "
        f"{plan.input_tokens:,} input tokens, estimated {format_usd(plan.cost_usd)} "
        f"(model {plan.model}, concurrency {plan.concurrency}); nothing was sent"
    )


# -- markdown -----------------------------------------------------------------------------
def _fence(code: str, language: str = "") -> str:
    ticks = "```"
    while ticks in code:
        ticks += "`"
    return f"{ticks}{language}\n{code.rstrip()}\n{ticks}"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(review: Review) -> str:
    """A markdown report: summary, findings grouped by file, skipped and failed files."""
    languages = {f.path: f.language for f in review.files}
    out = [f"# Code review: {review.target}", ""]
    if review.dry_run and review.plan is not None:
        out += [_plan_summary(review), "", *_plan_table(review.plan), ""]
    else:
        out += [_summary(review), ""]
        if not review.findings:
            out += [_no_findings(review), ""]
        for path, findings in _by_file(review.findings).items():
            out += [f"## `{path}`", ""]
            for f in findings:
                anchor = "" if f.anchored else " (unverified line)"
                out.append(
                    f"- **{f.severity.upper()}** · {f.category} · line {_lines(f)}{anchor} — "
                    f"**{f.title}**"
                )
                if f.explanation:
                    out.append("")
                    out.extend(f"  {line}" for line in f.explanation.splitlines())
                if f.suggestion:
                    out.append("")
                    fenced = _fence(f.suggestion, languages.get(path, ""))
                    out.extend(f"  {line}" for line in fenced.splitlines())
                out.append("")
    if review.failed:
        out += ["## Failed", "", "| file | reason |", "|---|---|"]
        out += [f"| `{f.path}` | {_md_cell(f.reason)} |" for f in review.failed]
        out.append("")
    if review.skipped:
        out += ["## Skipped", "", "| file | reason |", "|---|---|"]
        out += [f"| `{s.path}` | {_md_cell(s.detail or s.reason)} |" for s in review.skipped]
        out.append("")
    if review.suppressed:
        out += [f"<details><summary>{suppressed_note(review)}</summary>", ""]
        out += ["| file | line | category | title | suppressed by |", "|---|---:|---|---|---|"]
        out += [
            f"| `{f.path}` | {_lines(f)} | {f.category} | {_md_cell(f.title)} | {f.suppression} |"
            for f in review.suppressed
        ]
        out += ["", "</details>", ""]
    notes = []
    if review.rejected:
        notes.append("not reported: " + ", ".join(f"{n} {k}" for k, n in review.rejected.items()))
    if review.deletion_only_hunks:
        notes.append(f"{review.deletion_only_hunks} deletion-only hunk(s) not sent")
    if review.secrets_redacted:
        notes.append(_secrets_note(review, "×", count=False))
    if notes:
        out += ["---", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(out).rstrip() + "\n"


def _secrets_note(review: Review, times: str, *, count: bool) -> str:
    """Which secrets were redacted. A dry run sends nothing, so it says what would happen."""
    kinds = ", ".join(f"{k} {times}{n}" for k, n in review.secret_kinds.items())
    what = f"{review.secrets_redacted} secret(s)" if count else "secrets"
    if review.dry_run:
        return f"{what} would be redacted before sending: {kinds}"
    return f"{what} redacted before sending: {kinds}"


# -- json ---------------------------------------------------------------------------------
def to_json(review: Review) -> str:
    """Stable JSON (``Review.model_validate_json`` reads it back)."""
    return review.model_dump_json(indent=2) + "\n"


# -- github annotations -------------------------------------------------------------------
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(review: Review) -> str:
    """GitHub Actions workflow commands: one ``::error|warning|notice`` line per finding,
    paths relative to the repository root, plus a summary ``::notice``."""
    out = []
    for f in review.findings:
        level = _GITHUB_LEVEL[f.severity]
        props = [
            f"file={_gh_prop(f.path)}",
            f"line={f.line_start}",
            f"endLine={f.line_end}",
            f"title={_gh_prop(f'[{f.severity}/{f.category}] {f.title}')}",
        ]
        message = f.explanation or f.title
        if f.suggestion:
            message += "\n\nSuggested fix:\n" + f.suggestion
        out.append(f"::{level} {','.join(props)}::{_gh_data(message)}")
    for failed in review.failed:
        out.append(
            f"::warning file={_gh_prop(failed.path)},title=not reviewed::{_gh_data(failed.reason)}"
        )
    if review.dry_run and review.plan is not None:
        out.append(f"::notice title=assistants review::{_gh_data(_plan_summary(review))}")
    else:
        out.append(f"::notice title=assistants review::{_gh_data(_summary(review))}")
    return "\n".join(out) + "\n"


# -- rich terminal ------------------------------------------------------------------------
def print_text(review: Review, console: Console) -> None:
    """Print the report on a rich console (grouped by file, severity colours)."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    languages = {f.path: f.language for f in review.files}
    if review.dry_run and review.plan is not None:
        table = Table(title="requests (dry run)", show_lines=False)
        table.add_column("#", justify="right")
        table.add_column("files")
        table.add_column("input tokens", justify="right")
        table.add_column("est. cost", justify="right")
        for row in _plan_rows(review.plan):
            table.add_row(*row)
        console.print(table)
        console.print(escape(_plan_summary(review)), soft_wrap=True)
    else:
        for path, findings in _by_file(review.findings).items():
            console.print(Text(path, style="bold underline"))
            for f in findings:
                line = Text("  ")
                line.append(f"{f.severity.upper():<8}", style=SEVERITY_STYLE[f.severity])
                line.append(f" {path}:{_lines(f)} ", style="bold")
                line.append(f"[{f.category}] ", style="dim")
                line.append(f.title)
                if not f.anchored:
                    line.append(" (unverified line)", style="dim italic")
                console.print(line, soft_wrap=True)  # one line per finding, even when piped
                if f.explanation:
                    console.print(Padding(Text(f.explanation), (0, 0, 0, 11), expand=False))
                if f.suggestion:
                    from rich.syntax import Syntax  # pygments: only when there is code to show

                    code = Syntax(
                        f.suggestion.rstrip(),
                        languages.get(path, "text"),
                        theme="ansi_dark",
                        background_color="default",
                    )
                    console.print(Padding(Text("suggested fix:", style="dim"), (0, 0, 0, 11)))
                    console.print(Padding(code, (0, 0, 0, 13), expand=False))
            console.print()
        if not review.files and not review.failed:
            console.print("Nothing to review.", style="green")
        elif not review.findings:
            style = "red" if review.failed else "green"
            console.print(_no_findings(review), style=style)
    for failed in review.failed:
        console.print(Text(f"failed  {failed.path}: {failed.reason}", style="red"))
    for s in review.skipped:
        console.print(Text(f"skipped {s.path}: {s.detail or s.reason}", style="dim"))
    if review.secrets_redacted:
        console.print(Text(_secrets_note(review, "x", count=True)), style="dim")
    if review.rejected:
        console.print(
            Text(
                "not reported: " + ", ".join(f"{n} {k}" for k, n in review.rejected.items()),
                style="dim",
            )
        )
    if not review.dry_run:
        console.print(Text(_summary(review), style="bold"), soft_wrap=True)


def to_text(review: Review, *, color: bool | None = None, width: int = 100) -> str:
    """The terminal report as a string. ``color=None``: colour unless ``NO_COLOR`` is set."""
    from rich.console import Console

    if color is None:
        color = not os.environ.get("NO_COLOR")
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
    )
    print_text(review, console)
    return buffer.getvalue()


def render(review: Review, fmt: str) -> str:
    """``fmt``: text, markdown, json, sarif or github (as :meth:`Review.render`)."""
    return review.render(fmt)


# -- pull-request descriptions ------------------------------------------------------------
def _bullets(items: list[str], empty: str) -> list[str]:
    return [f"- {' '.join(item.split())}" for item in items] or [f"_{empty}_"]


def description_markdown(d: PullRequestDescription) -> str:
    """A pull-request description in markdown (a dry run: the requests it would send)."""
    if d.dry_run and d.plan is not None:
        plan = d.plan
        return "\n".join([
            f"# Pull-request description: {d.target} (dry run)",
            "",
            f"dry run: {len(plan.requests)} request(s) for {len(d.walkthrough)} file(s), "
            f"{plan.input_tokens:,} input tokens, estimated {format_usd(plan.cost_usd)} "
            f"(model {plan.model}); nothing was sent",
            "",
            *_plan_table(plan),
        ]) + "\n"  # fmt: skip
    out = [f"## {' '.join(d.title.split())}", "", d.summary.strip(), ""]
    out += ["### Walkthrough", "", "| File | Change |", "|---|---|"]
    for row in d.walkthrough:
        change = _md_cell(row.change) if row.change else "_(not described)_"
        out.append(f"| `{_md_cell(row.path)}` (+{row.added} −{row.removed}) | {change} |")
    out += ["", "### Risk areas", "", *_bullets(d.risks, "none named"), ""]
    out += ["### What to test", "", *_bullets(d.tests, "nothing named"), ""]
    notes = []
    if d.skipped:
        listed = ", ".join(f"`{s.path}` ({s.reason})" for s in d.skipped)
        notes.append(f"not sent: {listed}")
    if d.secrets_redacted:
        notes.append(f"{d.secrets_redacted} secret(s) redacted before sending")
    if notes:
        out += ["<sub>" + "; ".join(notes) + "</sub>", ""]
    return "\n".join(out).rstrip() + "\n"
