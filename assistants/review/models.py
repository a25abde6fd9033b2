"""What the code reviewer works with: the model's answer and the typed result.

:class:`ModelReview` / :class:`ModelFinding` validate what the model returns. Strict about
what it must say: ``findings`` is required (``[]`` must be said), so ``{}`` or an object of
unknown keys is not a review and goes through the repair round; lenient only in real repairs
(known severity/category synonyms are mapped, line 0 is line 1, an invalid finding beside valid
ones is dropped and counted). :class:`Review` is the result
of :func:`assistants.review.run.review_path` and :func:`~assistants.review.run.review_diff`:
findings, the files reviewed, skipped and failed, the findings suppressed (inline
``assistants: ignore`` comments, or a baseline file), usage, and for a dry run the
:class:`ReviewEstimate`. Its fail-on gate (:meth:`Review.gate`) is computed from validated
findings only: nothing inside the reviewed code can change it. JSON schema:
``Review.model_json_schema()``; it is stable within a ``schema_version``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Literal, get_args

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

__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "SEVERITY_RANK",
    "Category",
    "Coverage",
    "FailOn",
    "FailedFile",
    "FileChange",
    "Finding",
    "ModelDescription",
    "ModelFileChange",
    "ModelFinding",
    "ModelReview",
    "ModelSynthesis",
    "PlannedRequest",
    "PullRequestDescription",
    "Review",
    "ReviewEstimate",
    "ReviewedFile",
    "Severity",
    "SkippedFile",
    "SuppressedFinding",
    "Suppression",
]

Category = Literal["bug", "security", "performance", "maintainability", "style"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
CATEGORIES: tuple[Category, ...] = get_args(Category)
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4, "never": 99}
SCHEMA_VERSION = 2  # 2: fingerprints without the title; suppressed findings


# -- what the model must return -----------------------------------------------------------
class ModelFinding(BaseModel):
    """One finding as the model reports it (validated; unknown keys ignored). Required: what
    makes it a finding and places it (file, line_start, severity, category, title). Left out,
    the rest reads as what its absence means: ``line_end`` one line, ``quote`` anchor by the
    line number, ``explanation`` none beyond the title, ``suggestion`` no fix — so a real
    finding is never dropped for a missing detail."""

    model_config = ConfigDict(extra="ignore")

    # what each field holds is said once, in prompts/review/system.j2 (the schema the model
    # reads carries no field descriptions that would repeat it in every request)
    file: str  # the path exactly as in the FILE marker
    line_start: int = Field(ge=1)  # first line of the problem, as numbered
    line_end: int | None = Field(default=None, ge=1)  # last line (>= line_start)
    quote: str = ""  # exact text of line line_start, no number prefix
    severity: Severity
    category: Category
    title: str = Field(min_length=1, max_length=300)
    explanation: str = ""
    suggestion: str | None = None  # replacement code only, or null

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

    findings: list[ModelFinding]  # an empty list when nothing is found
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


Suppression = Literal["inline", "baseline"]


class SuppressedFinding(Finding):
    """A finding not reported: ``inline`` (an ``assistants: ignore`` comment on its line or
    the line above) or ``baseline`` (its fingerprint is in the baseline file)."""

    suppression: Suppression


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
    suppressed: list[SuppressedFinding] = Field(
        default_factory=list,
        description="findings not reported: inline `assistants: ignore` comments or a baseline",
    )
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def suppressed_counts(self) -> dict[str, int]:
        """How many findings each kind of suppression held back (``inline``, ``baseline``)."""
        found = Counter(f.suppression for f in self.suppressed)
        return {kind: found.get(kind, 0) for kind in get_args(Suppression)}

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
        """The report as ``text``, ``markdown``, ``json``, ``sarif``, ``github``, ``gitlab``
        (GitLab Code Quality) or ``rdjson`` (reviewdog)."""
        if fmt == "sarif":
            from .sarif import to_sarif

            return to_sarif(self)
        if fmt in ("gitlab", "rdjson"):
            from . import formats

            return formats.to_gitlab(self) if fmt == "gitlab" else formats.to_rdjson(self)
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


# -- pull-request descriptions (assistants.review.describe) -------------------------------
def _one_line(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        value = " ".join(value.split())
        return value if len(value) <= limit else value[: limit - 1] + "…"
    return value


class ModelFileChange(BaseModel):
    """One row of the walkthrough as the model writes it."""

    model_config = ConfigDict(extra="ignore")

    file: str = Field(description="the path exactly as in the FILE marker")
    change: str = Field(min_length=1, description="what changed in this file, one sentence")


class ModelSynthesis(BaseModel):
    """A description without the walkthrough: what combining the parts of a large change
    returns. Every key is required (an empty list must be said)."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, description="imperative, at most 72 characters")
    summary: str = Field(min_length=1, description="what the change does and why, 2-5 sentences")
    risks: list[str] = Field(description="areas where the change could break something")
    tests: list[str] = Field(description="what a reviewer should test or check")

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        return _one_line(value, 120)


class ModelDescription(ModelSynthesis):
    """The JSON object the model answers with for (a part of) a change."""

    walkthrough: list[ModelFileChange] = Field(description="one row per file block")


class FileChange(BaseModel):
    """A walkthrough row: ``added``/``removed`` lines are counted from the diff itself;
    ``change`` is None when the model did not describe the file."""

    path: str
    change: str | None = None
    added: int = 0
    removed: int = 0


class PullRequestDescription(BaseModel):
    """A pull-request description written from a diff
    (:func:`assistants.review.describe.describe_diff`): title, summary, walkthrough (every
    changed file sent, in path order), risk areas and what to test. ``parts`` is the number
    of requests the diff was packed into (more than one: their answers were combined by one
    more request). A dry run has ``plan`` and no text."""

    schema_version: int = SCHEMA_VERSION
    mode: Literal["staged", "diff"]
    target: str = Field(description="which changes")
    model: str
    dry_run: bool = False
    title: str = ""
    summary: str = ""
    walkthrough: list[FileChange] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    parts: int = 0
    skipped: list[SkippedFile] = Field(default_factory=list)
    secrets_redacted: int = 0
    unknown_files: int = Field(default=0, description="walkthrough rows naming no sent file")
    usage: Usage = Field(default_factory=Usage)
    plan: ReviewEstimate | None = None

    def render(self, fmt: str = "markdown") -> str:
        """The description as ``markdown`` or ``json``."""
        if fmt == "json":
            return self.model_dump_json(indent=2) + "\n"
        return self.to_markdown()

    def to_markdown(self) -> str:
        from .render import description_markdown

        return description_markdown(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()
