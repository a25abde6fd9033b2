"""What the code reviewer works with: the model's answer and the typed result.

:class:`ModelReview` / :class:`ModelFinding` validate what the model returns. Strict about
what it must say: ``findings`` is required (``[]`` must be said), so ``{}`` or an object of
unknown keys is not a review and goes through the repair round; lenient only in real repairs
(known severity/category synonyms are mapped, line 0 is line 1, an invalid finding beside valid
ones is dropped and counted). :class:`Review` is the result
of :func:`assistants.review.run.review_path` and :func:`~assistants.review.run.review_diff`:
findings, the files reviewed, skipped and failed, usage, and for a dry run the
:class:`ReviewEstimate`. Its fail-on gate (:meth:`Review.gate`) is computed from validated
findings only: nothing inside the reviewed code can change it. JSON schema:
``Review.model_json_schema()``; it is stable within a ``schema_version``.

The reviewer's benchmark (:mod:`assistants.review.bench`) reports a :class:`ReviewBenchReport`:
one :class:`CaseRecord` per diff and :class:`Group` totals (recall with its Wilson interval,
false positives per clean diff, precision, severities, usage); a dry run gives a
:class:`ReviewBenchEstimate`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from ..config import FailOn, Severity
from ..errors import EXIT_GATE, EXIT_OK, PartialFailureError
from ..llm.usage import Usage
from ..results import Result

__all__ = [
    "CATEGORIES",
    "HIT_WINDOW",
    "SEVERITIES",
    "SEVERITY_RANK",
    "CaseRecord",
    "Category",
    "Coverage",
    "FailOn",
    "FailedFile",
    "Finding",
    "FindingBrief",
    "Group",
    "ModelFinding",
    "ModelReview",
    "PlannedRequest",
    "Review",
    "ReviewBenchEstimate",
    "ReviewBenchReport",
    "ReviewEstimate",
    "ReviewedFile",
    "RunInfo",
    "Severity",
    "SkippedFile",
    "wilson",
]

Category = Literal["bug", "security", "performance", "maintainability", "style"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
CATEGORIES: tuple[Category, ...] = get_args(Category)
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4, "never": 99}
SCHEMA_VERSION = 1
BENCH_SCHEMA_VERSION = 1
HIT_WINDOW = 2  # a finding this many lines from a seeded line still finds it


# -- what the model must return -----------------------------------------------------------
class ModelFinding(BaseModel):
    """One finding as the model reports it (validated; unknown keys ignored). Required: what
    makes it a finding and places it (file, line_start, severity, category, title). Left out,
    the rest reads as what its absence means: ``line_end`` one line, ``quote`` anchor by the
    line number, ``explanation`` none beyond the title, ``suggestion`` no fix — so a real
    finding is never dropped for a missing detail."""

    model_config = ConfigDict(extra="ignore")

    file: str = Field(description="the path exactly as in the FILE marker")
    line_start: int = Field(ge=1, description="first line of the problem, as numbered")
    line_end: int | None = Field(default=None, ge=1, description="last line (>= line_start)")
    quote: str = Field(default="", description="exact text of line line_start, no number prefix")
    severity: Severity
    category: Category
    title: str = Field(min_length=1, max_length=300)
    explanation: str = ""
    suggestion: str | None = Field(default=None, description="replacement code only, or null")

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        value = value.strip().lower() if isinstance(value, str) else value
        return _SEVERITY_ALIASES.get(value, value)

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> Any:
        value = value.strip().lower().replace("_", "-") if isinstance(value, str) else value
        return _CATEGORY_ALIASES.get(value, value)

    @field_validator("line_start", "line_end", mode="before")
    @classmethod
    def _line(cls, value: Any) -> Any:
        # line 0 ("the whole file") or a negative line: the first line, not a failed request
        if isinstance(value, int | str) and str(value).strip().lstrip("-").isdigit():
            return max(int(value), 1)
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value.strip()) > 300:
            return value.strip()[:299] + "…"
        return value


# words models use instead of ours (an unknown one invalidates only its own finding)
_SEVERITY_ALIASES = {
    "blocker": "critical", "error": "high", "major": "high", "severe": "high",
    "warning": "medium", "moderate": "medium", "minor": "low", "info": "low",
    "informational": "low", "note": "low", "nit": "low", "trivial": "low",
}  # fmt: skip
_CATEGORY_ALIASES = {
    "correctness": "bug", "logic": "bug", "error-handling": "bug", "error handling": "bug",
    "reliability": "bug", "concurrency": "bug", "vulnerability": "security",
    "perf": "performance", "efficiency": "performance", "readability": "maintainability",
    "design": "maintainability", "complexity": "maintainability",
    "documentation": "maintainability", "naming": "style", "formatting": "style",
}  # fmt: skip


class ModelReview(BaseModel):
    """The JSON object the model answers with: ``findings`` is required (an empty list when
    nothing is worth reporting), so a reply without it is not a review. A finding that does
    not validate is dropped and counted (``invalid``) when others in the same reply do; when
    none does, the reply fails validation (and the LLM layer asks the model to repair it
    once)."""

    model_config = ConfigDict(extra="ignore")

    findings: list[ModelFinding] = Field(description="an empty list when nothing is found")
    _invalid: int = PrivateAttr(default=0)

    @model_validator(mode="wrap")
    @classmethod
    def _drop_invalid(cls, data: Any, handler: ModelWrapValidatorHandler[ModelReview]) -> Any:
        dropped = 0
        items = data.get("findings") if isinstance(data, dict) else None
        if isinstance(items, list):
            valid = []
            for item in items:
                try:
                    ModelFinding.model_validate(item)
                except ValidationError:
                    dropped += 1
                else:
                    valid.append(item)
            if valid:  # all invalid: let validation fail, so the model gets to repair it
                data = {**data, "findings": valid}
            else:
                dropped = 0
        review = handler(data)
        review._invalid = dropped
        return review

    @property
    def invalid(self) -> int:
        """Findings dropped because they did not validate."""
        return self._invalid


# -- the result ---------------------------------------------------------------------------
class Finding(BaseModel):
    """A reported finding. ``anchored`` says the quoted line was found in the file;
    ``model_line`` keeps the line the model gave when the anchor was corrected."""

    path: str
    line_start: int
    line_end: int
    severity: Severity
    category: Category
    title: str
    explanation: str = ""
    suggestion: str | None = None
    quote: str = ""
    anchored: bool = True
    model_line: int | None = None
    fingerprint: str = ""


class ReviewedFile(BaseModel):
    path: str
    language: str
    lines: int = Field(description="lines sent (whole file, or changed lines + context)")
    parts: int = 1
    changed_lines: int | None = None


class SkippedFile(BaseModel):
    path: str
    reason: str = Field(description="binary, lock, minified, generated, too-large, env-file, …")
    detail: str = ""


class FailedFile(BaseModel):
    path: str
    reason: str
    error: str = Field(default="", description="the error class")


class PlannedRequest(BaseModel):
    files: list[str] = Field(description="path, or path:start-end for part of a split file")
    input_tokens: int
    output_tokens: int
    cost_usd: float


class ReviewEstimate(BaseModel):
    """A dry run of a review: the requests it would send, their tokens and estimated cost."""

    model: str
    concurrency: int
    token_budget: int
    requests: list[PlannedRequest] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def input_tokens(self) -> int:
        return sum(r.input_tokens for r in self.requests)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float:
        return round(sum(r.cost_usd for r in self.requests), 6)


class Coverage(BaseModel):
    files_selected: int
    files_reviewed: int
    files_skipped: int
    files_failed: int
    lines_reviewed: int


class Review(BaseModel):
    """The result of a review. JSON schema: ``Review.model_json_schema()``; it is stable
    within a ``schema_version``."""

    schema_version: int = SCHEMA_VERSION
    mode: Literal["path", "staged", "diff"]
    target: str = Field(description="the paths, or which changes")
    root: str = Field(description="folder the paths are relative to")
    model: str
    dry_run: bool = False
    findings: list[Finding] = Field(default_factory=list)
    files: list[ReviewedFile] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)
    failed: list[FailedFile] = Field(default_factory=list)
    secrets_redacted: int = 0
    secret_kinds: dict[str, int] = Field(default_factory=dict)
    rejected: dict[str, int] = Field(
        default_factory=dict,
        description="findings not reported: outside-diff, unknown-file, invalid; duplicates-merged",
    )
    deletion_only_hunks: int = 0
    usage: Usage = Field(default_factory=Usage)
    plan: ReviewEstimate | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def coverage(self) -> Coverage:
        failed = {f.path for f in self.failed}
        reviewed = [f for f in self.files if f.path not in failed]
        return Coverage(
            files_selected=len(self.files) + len(self.skipped),
            files_reviewed=0 if self.dry_run else len(reviewed),
            files_skipped=len(self.skipped),
            files_failed=len(failed),
            lines_reviewed=0 if self.dry_run else sum(f.lines for f in reviewed),
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        found = Counter(f.severity for f in self.findings)
        return {s: found.get(s, 0) for s in SEVERITIES}

    def at_or_above(self, fail_on: FailOn | str) -> list[Finding]:
        """The findings at or above ``fail_on`` (none for ``never``)."""
        threshold = SEVERITY_RANK[fail_on]
        return [f for f in self.findings if SEVERITY_RANK[f.severity] >= threshold]

    def gate(self, fail_on: FailOn | str = "high") -> bool:
        """The fail-on gate: True when a finding is at or above ``fail_on``."""
        return bool(self.at_or_above(fail_on))

    def exit_code(self, fail_on: FailOn | str = "high") -> int:
        """1 if the gate trips, else 7 if some files failed (partial), else 0."""
        if self.gate(fail_on):
            return EXIT_GATE
        if self.failed:
            return PartialFailureError.exit_code
        return EXIT_OK

    def render(self, fmt: str = "markdown") -> str:
        """The report as ``text``, ``markdown``, ``json``, ``sarif`` or ``github``."""
        if fmt == "sarif":
            from .sarif import to_sarif

            return to_sarif(self)
        from . import render

        writers: dict[str, Callable[[Review], str]] = {
            "markdown": render.to_markdown,
            "json": render.to_json,
            "github": render.to_github,
        }
        return writers.get(fmt, render.to_text)(self)

    def to_markdown(self) -> str:
        from .render import to_markdown

        return to_markdown(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


# -- the reviewer's benchmark (assistants.review.bench) -------------------------------------


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
