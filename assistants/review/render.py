"""Renderers for :class:`assistants.review.models.Review`: rich terminal text, markdown, JSON
and GitHub workflow annotations (SARIF lives in :mod:`assistants.review.sarif`)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..llm.usage import format_usd
from .models import HIT_WINDOW, SEVERITIES, SEVERITY_RANK

if TYPE_CHECKING:
    from rich.console import Console

    from .models import Finding, Group, Review, ReviewBenchEstimate, ReviewBenchReport

__all__ = [
    "SEVERITY_STYLE",
    "bench_estimate_markdown",
    "bench_estimate_text",
    "bench_markdown",
    "bench_text",
    "render",
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
    usage = review.usage
    parts.append(
        f"{usage.requests} request(s), {usage.cached_requests} from cache, "
        f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens, "
        + format_usd(usage.cost_usd)
    )
    return " · ".join(parts)


def _plan_rows(review: Review) -> list[tuple[str, str, str, str]]:
    assert review.plan is not None
    return [
        (str(i), ", ".join(r.files), f"{r.input_tokens:,}", format_usd(r.cost_usd))
        for i, r in enumerate(review.plan.requests, 1)
    ]


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
        out += [_plan_summary(review), "", "| # | files | input tokens | est. cost |"]
        out += ["|---|---|---:|---:|"]
        out += [f"| {a} | {_md_cell(b)} | {c} | {d} |" for a, b, c, d in _plan_rows(review)]
        out.append("")
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
        for row in _plan_rows(review):
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


# -- the reviewer's benchmark ---------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _row(name: str, g: Group) -> str:
    lo_hi = g.recall_interval
    interval = f" ({100 * lo_hi[0]:.0f}–{100 * lo_hi[1]:.0f})" if lo_hi else ""
    fp = (
        "–"
        if g.false_positives_per_clean_diff is None
        else f"{g.false_positives_per_clean_diff:.2f}"
    )
    cost = "–" if g.cost_per_diff is None else format_usd(g.cost_per_diff)
    tokens = "–" if g.tokens_per_diff is None else f"{g.tokens_per_diff:,.0f}"
    return (
        f"| {name} | {g.found}/{g.seeded} | {_pct(g.recall)}{interval} | {g.false_positives}/"
        f"{g.clean} | {fp} | {_pct(g.precision)} | {g.other} | {tokens} | {cost} | {g.errors} |"
    )


_HEAD = (
    "| | found | recall (95% CI) | FP / clean diffs | FP per clean diff | precision | other "
    "| tokens per diff | cost per diff | errors |\n|---|---|---|---|---|---|---|---|---|---|"
)


def bench_markdown(report: ReviewBenchReport) -> str:
    run = report.run
    think = {True: "on", False: "off", None: "profile default"}[run.think]
    options = "".join(f", {k} {v}" for k, v in sorted(run.options.items()))
    lines = [
        "# Reviewer benchmark",
        "",
        f"Model `{run.model}` at {run.base_url}, thinking {think}{options}; {run.cases} diffs "
        f"of corpus {run.corpus[:12]}. Found: a finding within ±{HIT_WINDOW} lines of the seeded "
        "line. Other: findings on seeded diffs away from the seeded line.",
        "",
        _HEAD,
        _row("**all**", report.total),
    ]
    lines += [_row(lang, g) for lang, g in report.by_language.items()]
    lines += ["", "## By operator", "", _HEAD]
    lines += [_row(op, g) for op, g in report.by_operator.items()]
    lines += ["", "## Severity of the findings that found a seeded bug", ""]
    lines.append("| operator | " + " | ".join(SEVERITIES) + " | mean |")
    lines.append("|---" * (len(SEVERITIES) + 2) + "|")
    for op, g in report.by_operator.items():
        if g.seeded:
            counts = [g.severities.get(s, 0) for s in SEVERITIES]
            total = sum(counts)
            ranks = sum(SEVERITY_RANK[s] * n for s, n in zip(SEVERITIES, counts, strict=True))
            mean = f"{ranks / total:.1f}" if total else "–"
            lines.append(f"| {op} | " + " | ".join(map(str, counts)) + f" | {mean} |")
    lines += [
        "",
        f"Severity ranks: {', '.join(f'{s} {SEVERITY_RANK[s]}' for s in SEVERITIES)}.",
        "",
        f"Usage: {report.total.usage.summary()}.",
    ]
    failed = [r for r in report.records if r.error]
    if failed:
        lines += ["", f"## Not reviewed ({len(failed)})", ""]
        lines += [f"- {r.id}: {r.error}" for r in failed]
    return "\n".join(lines) + "\n"


def bench_text(report: ReviewBenchReport) -> str:
    """The terminal report: the markdown (its tables read as text)."""
    return bench_markdown(report)


def bench_estimate_markdown(est: ReviewBenchEstimate) -> str:
    return (
        "# Reviewer benchmark — dry run\n\n"
        f"{est.cases} diffs → {est.requests} request(s) to `{est.model}`, "
        f"{est.input_tokens:,} input tokens, about {est.output_tokens:,} output tokens, "
        f"estimated {format_usd(est.cost_usd)} (nothing was sent).\n"
    )


def bench_estimate_text(est: ReviewBenchEstimate) -> str:
    return bench_estimate_markdown(est)
