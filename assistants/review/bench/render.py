"""The reviewer's benchmark as text and markdown (a report's ``to_markdown()`` /
``to_text()`` call these)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...llm.usage import format_usd
from ..models import SEVERITIES, SEVERITY_RANK
from .models import HIT_WINDOW

if TYPE_CHECKING:
    from .models import Group, ReviewBenchEstimate, ReviewBenchReport

__all__ = ["bench_estimate_markdown", "bench_estimate_text", "bench_markdown", "bench_text"]


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
