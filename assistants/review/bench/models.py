"""The reviewer's benchmark results (:mod:`assistants.review.bench.run`): a
:class:`ReviewBenchReport` holds one :class:`CaseRecord` per diff and :class:`Group` totals
(recall with its Wilson interval, false positives per clean diff, precision, severities,
usage); a dry run gives a :class:`ReviewBenchEstimate`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, Field, computed_field

from ...llm.usage import Usage
from ...results import Result
from ...stats import wilson
from ..models import SEVERITIES

__all__ = [
    "BENCH_SCHEMA_VERSION",
    "HIT_WINDOW",
    "CaseRecord",
    "FindingBrief",
    "Group",
    "ReviewBenchEstimate",
    "ReviewBenchReport",
    "RunInfo",
]

BENCH_SCHEMA_VERSION = 1
HIT_WINDOW = 2  # a finding this many lines from a seeded line still finds it


class FindingBrief(BaseModel):
    """A finding as the benchmark keeps it."""

    line_start: int
    line_end: int
    severity: str
    category: str
    title: str
    fingerprint: str = Field(default="", description="as in a baseline file")


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


class ReviewBenchReport(Result):
    """The result of :func:`assistants.review.bench.eval_review`. JSON: ``model_dump_json``;
    the per-diff ``records`` let two runs be compared diff by diff."""

    render_as: ClassVar[str] = "bench"

    schema_version: int = BENCH_SCHEMA_VERSION
    run: RunInfo
    total: Group
    by_operator: dict[str, Group] = Field(default_factory=dict)
    by_language: dict[str, Group] = Field(default_factory=dict)
    records: list[CaseRecord] = Field(default_factory=list)

    @classmethod
    def of(cls, run: RunInfo, records: list[CaseRecord]) -> ReviewBenchReport:
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


class ReviewBenchEstimate(Result):
    """A dry run of the reviewer's benchmark: requests, tokens and estimated cost, nothing
    sent."""

    render_as: ClassVar[str] = "bench_estimate"

    model: str
    cases: int
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
