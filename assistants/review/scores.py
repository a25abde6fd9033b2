"""Scores of the reviewer's benchmark: per-diff records, totals by operator and language.

A seeded diff is *found* when a reported finding in its file covers a line within
:data:`WINDOW` lines of the seeded line (``line_start - 2 <= seeded <= line_end + 2``). Every
finding on a clean diff is a false positive; findings on a seeded diff away from the seeded
line are counted as *other* (they may be real problems of the original code, so they are kept
apart from the false positives, and they do count against precision). Precision is matched
findings over all findings. Recall carries a Wilson 95% score interval (closed form, no
sampling). Severity calibration: for each operator, the highest severity among the findings
that found it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field, computed_field

from ..llm.usage import Usage, format_usd
from .models import SEVERITIES, SEVERITY_RANK, Finding

__all__ = [
    "WINDOW",
    "BenchEstimate",
    "BenchReport",
    "CaseRecord",
    "FindingBrief",
    "Group",
    "ReviewBenchReport",
    "RunInfo",
    "hits",
    "wilson",
]

WINDOW = 2
SCHEMA_VERSION = 1


def hits(findings: Iterable[Finding], path: str, line: int) -> list[Finding]:
    """The findings in ``path`` that cover ``line`` give or take :data:`WINDOW` lines."""
    return [
        f
        for f in findings
        if f.path == path and f.line_start - WINDOW <= line <= f.line_end + WINDOW
    ]


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); (0, 0) for n = 0."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


class FindingBrief(BaseModel):
    """A finding as the benchmark keeps it."""

    line_start: int
    line_end: int
    severity: str
    category: str
    title: str


class CaseRecord(BaseModel):
    """One diff of the run: what the reviewer reported and how it scored."""

    id: str
    kind: str
    operator: str
    language: str
    path: str
    line: int
    findings: list[FindingBrief] = Field(default_factory=list)
    found: bool | None = Field(default=None, description="seeded: a finding near the line")
    severity: str | None = Field(default=None, description="highest severity that found it")
    matched: int = Field(default=0, description="findings near the seeded line")
    false_positives: int = Field(default=0, description="findings on a clean diff")
    other: int = Field(default=0, description="findings on a seeded diff away from its line")
    rejected: dict[str, int] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    error: str | None = Field(default=None, description="why the diff was not reviewed")


class Group(BaseModel):
    """Totals over some records (all, one operator, one language)."""

    seeded: int = 0
    clean: int = 0
    errors: int = 0
    found: int = 0
    findings: int = 0
    matched: int = 0
    false_positives: int = 0
    other: int = 0
    severities: dict[str, int] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float | None:
        return round(self.found / self.seeded, 4) if self.seeded else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall_interval(self) -> tuple[float, float] | None:
        return wilson(self.found, self.seeded) if self.seeded else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def false_positives_per_clean_diff(self) -> float | None:
        return round(self.false_positives / self.clean, 4) if self.clean else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float | None:
        return round(self.matched / self.findings, 4) if self.findings else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_per_diff(self) -> float | None:
        reviewed = self.seeded + self.clean
        return round(self.usage.cost_usd / reviewed, 8) if reviewed else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens_per_diff(self) -> float | None:
        reviewed = self.seeded + self.clean
        total = self.usage.input_tokens + self.usage.output_tokens
        return round(total / reviewed, 1) if reviewed else None

    @classmethod
    def of(cls, records: Iterable[CaseRecord]) -> Group:
        g = cls()
        severities: Counter[str] = Counter()
        for r in records:
            g.usage += r.usage
            if r.error is not None:
                g.errors += 1
                continue
            g.findings += len(r.findings)
            g.matched += r.matched
            g.false_positives += r.false_positives
            g.other += r.other
            if r.kind == "seeded":
                g.seeded += 1
                g.found += bool(r.found)
                if r.severity:
                    severities[r.severity] += 1
            else:
                g.clean += 1
        g.severities = {s: severities[s] for s in SEVERITIES if severities[s]}
        return g


class RunInfo(BaseModel):
    """What was measured, so two runs are compared like for like."""

    model: str
    base_url: str
    think: bool | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    corpus: str = Field(description="sha256 of the corpus's cases.jsonl")
    cases: int
    operators: list[str] = Field(default_factory=list)
    language: str | None = None
    limit: int | None = None
    version: str = ""
    started: str = ""


class BenchReport(BaseModel):
    """The result of :func:`assistants.review.bench.eval_review`. JSON: ``model_dump_json``;
    the per-diff ``records`` let two runs be compared diff by diff."""

    schema_version: int = SCHEMA_VERSION
    run: RunInfo
    total: Group
    by_operator: dict[str, Group] = Field(default_factory=dict)
    by_language: dict[str, Group] = Field(default_factory=dict)
    records: list[CaseRecord] = Field(default_factory=list)

    @classmethod
    def of(cls, run: RunInfo, records: list[CaseRecord]) -> BenchReport:
        ops = sorted({r.operator for r in records})
        langs = sorted({r.language for r in records})
        return cls(
            run=run,
            total=Group.of(records),
            by_operator={op: Group.of(r for r in records if r.operator == op) for op in ops},
            by_language={
                lang: Group.of(r for r in records if r.language == lang) for lang in langs
            },
            records=records,
        )

    def to_markdown(self) -> str:
        return _markdown(self)

    def to_text(self) -> str:
        """The terminal report: the markdown (tables read as text)."""
        return self.to_markdown()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


ReviewBenchReport = BenchReport  # the public name (``assistants.ReviewBenchReport``)


class BenchEstimate(BaseModel):
    """A dry run of the benchmark: requests, tokens and estimated cost, nothing sent."""

    model: str
    cases: int
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float

    def to_markdown(self) -> str:
        return (
            "# Reviewer benchmark — dry run\n\n"
            f"{self.cases} diffs → {self.requests} request(s) to `{self.model}`, "
            f"{self.input_tokens:,} input tokens, about {self.output_tokens:,} output tokens, "
            f"estimated {format_usd(self.cost_usd)} (nothing was sent).\n"
        )

    def to_text(self) -> str:
        return self.to_markdown()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


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


def _markdown(report: BenchReport) -> str:
    run = report.run
    think = {True: "on", False: "off", None: "profile default"}[run.think]
    options = "".join(f", {k} {v}" for k, v in sorted(run.options.items()))
    lines = [
        "# Reviewer benchmark",
        "",
        f"Model `{run.model}` at {run.base_url}, thinking {think}{options}; {run.cases} diffs "
        f"of corpus {run.corpus[:12]}. Found: a finding within ±{WINDOW} lines of the seeded "
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
