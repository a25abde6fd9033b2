"""The code reviewer: :func:`review_path` and :func:`review_diff` return a typed :class:`Review`.

Pipeline: select files (:mod:`assistants.review.files` / :mod:`assistants.review.diff`) →
redact secrets (:mod:`assistants.review.secrets`) → cut into numbered units (files larger
than the budget are split on definition boundaries) → pack units into requests under
``ReviewSettings.request_token_budget`` → run the requests concurrently through
:class:`assistants.llm.LLM` (JSON mode, validated by :class:`ModelReview`) → check every
finding's anchor against the text that was sent (the quote is matched; the line is corrected
or the finding marked unanchored; in diff mode, findings off the changed lines and their
context are rejected) → merge duplicates → :class:`Review`.

Requests are deterministic (sorted files, no timestamps, content-derived block markers), so
the response cache makes an unchanged re-run free. The exit code is computed from validated
findings only (:meth:`Review.exit_code`): nothing inside the reviewed code can change it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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

from ..errors import AssistantsError, ConfigError, InputError, PartialFailureError
from ..llm.usage import Usage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings
    from ..llm import LLM

__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "FailedFile",
    "Finding",
    "ModelFinding",
    "ModelReview",
    "Plan",
    "PlannedRequest",
    "Review",
    "ReviewedFile",
    "SkippedFile",
    "review_diff",
    "review_path",
]

Severity = Literal["critical", "high", "medium", "low"]
FailOn = Literal["critical", "high", "medium", "low", "never"]
Category = Literal["bug", "security", "performance", "maintainability", "style"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
CATEGORIES: tuple[Category, ...] = ("bug", "security", "performance", "maintainability", "style")
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4, "never": 99}
SCHEMA_VERSION = 1


# -- what the model must return -----------------------------------------------------------
class ModelFinding(BaseModel):
    """One finding as the model reports it (validated; unknown keys ignored)."""

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
    """The JSON object the model answers with. A finding that does not validate is dropped
    and counted (``invalid``) when others in the same reply do; when none does, the reply
    fails validation (and the LLM layer asks the model to repair it once)."""

    model_config = ConfigDict(extra="ignore")

    findings: list[ModelFinding] = Field(default_factory=list)
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


class Plan(BaseModel):
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
    plan: Plan | None = None

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

    def gate_tripped(self, fail_on: FailOn | str = "high") -> bool:
        """True when a finding is at or above ``fail_on`` (``never``: never)."""
        threshold = SEVERITY_RANK[fail_on]
        return any(SEVERITY_RANK[f.severity] >= threshold for f in self.findings)

    def exit_code(self, fail_on: FailOn | str = "high") -> int:
        """1 if the gate tripped, else 7 if some files failed (partial), else 0."""
        if self.gate_tripped(fail_on):
            return 1
        if self.failed:
            return PartialFailureError.exit_code
        return 0

    def to_markdown(self) -> str:
        from .render import to_markdown

        return to_markdown(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


# -- building requests --------------------------------------------------------------------
@dataclass
class _Doc:
    """A file as sent (redacted), for anchoring."""

    path: str
    language: str
    lines: list[str]
    allowed: list[tuple[int, int]] | None = None  # diff mode: changes + context


@dataclass
class _Unit:
    path: str
    language: str
    start: int
    end: int
    body: str
    tokens: int
    part: int = 1
    parts: int = 1

    @property
    def label(self) -> str:
        return self.path if self.parts == 1 else f"{self.path}:{self.start}-{self.end}"

    def context(self) -> dict[str, Any]:
        return {
            "marker": hashlib.sha256(f"{self.path}\0{self.body}".encode()).hexdigest()[:12],
            "path_json": json.dumps(self.path, ensure_ascii=False),
            "language": self.language,
            "start": self.start,
            "end": self.end,
            "part": self.part,
            "parts": self.parts,
            "body": self.body,
        }


@dataclass
class _Request:
    units: list[_Unit]
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return sorted({u.path for u in self.units})


def _numbered(lines: Sequence[str], start: int, end: int) -> list[str]:
    return [f"{n:>5} | {lines[n - 1]}" for n in range(start, end + 1)]


def _diff_lines(doc: _Doc, added: set[int], removed: dict[int, list[str]]) -> list[list[str]]:
    """One list of rendered lines per shown range (a hunk header, then the lines)."""
    assert doc.allowed is not None
    out = []
    for a, b in doc.allowed:
        rows = [f"@@ lines {a}-{b} @@"]
        for n in range(a, b + 1):
            rows.extend(f"      -| {old}" for old in removed.get(n, ()))
            mark = "+" if n in added else " "
            rows.append(f"{n:>5}{mark}| {doc.lines[n - 1]}")
        if b == len(doc.lines):
            rows.extend(f"      -| {old}" for old in removed.get(b + 1, ()))
        out.append(rows)
    return out


def _split_by_tokens(
    rows: list[str], first_line: int, count: Callable[[str], int], budget: int
) -> list[tuple[int, int, str, int]]:
    """Hard split of numbered rows (one per line) into chunks under ``budget``."""
    chunks: list[tuple[int, int, str, int]] = []
    cur: list[str] = []
    cur_tokens = 0
    start = first_line
    for i, row in enumerate(rows):
        t = count(row) + 1
        if cur and cur_tokens + t > budget:
            chunks.append((start, first_line + i - 1, "\n".join(cur), cur_tokens))
            cur, cur_tokens, start = [], 0, first_line + i
        cur.append(row)
        cur_tokens += t
    if cur:
        chunks.append((start, first_line + len(rows) - 1, "\n".join(cur), cur_tokens))
    return chunks


def _file_units(doc: _Doc, count: Callable[[str], int], budget: int) -> list[_Unit]:
    """A whole file as one unit, or split on definition boundaries when over ``budget``."""
    from .diff import cut_points

    total = len(doc.lines)
    body = "\n".join(_numbered(doc.lines, 1, total))
    tokens = count(body)
    if tokens <= budget:
        return [_Unit(doc.path, doc.language, 1, total, body, tokens)]
    text = "\n".join(doc.lines)
    row_tokens = [count(r) + 1 for r in _numbered(doc.lines, 1, total)]

    def seg_tokens(a: int, b: int) -> int:
        return sum(row_tokens[a - 1 : b])

    def segments(a: int, b: int, depth: int) -> list[tuple[int, int]]:
        points = [p for p in cut_points(text, doc.language, a, b) if a <= p <= b]
        bounds = [*points, b + 1]
        segs = [(bounds[i], bounds[i + 1] - 1) for i in range(len(points))]
        out: list[tuple[int, int]] = []
        for s, e in segs:
            if seg_tokens(s, e) > budget and depth < 3 and (s, e) != (a, b):
                out.extend(segments(s, e, depth + 1))
            else:
                out.append((s, e))
        return out

    pieces: list[tuple[int, int]] = []
    for s, e in segments(1, total, 0):  # greedy packing of consecutive segments
        if pieces and seg_tokens(pieces[-1][0], e) <= budget:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    chunks: list[tuple[int, int, str, int]] = []
    for s, e in pieces:
        rows = _numbered(doc.lines, s, e)
        if seg_tokens(s, e) > budget:  # one definition bigger than the budget: cut by lines
            chunks.extend(_split_by_tokens(rows, s, count, budget))
        else:
            chunks.append((s, e, "\n".join(rows), seg_tokens(s, e)))
    return [
        _Unit(doc.path, doc.language, s, e, b, t, i + 1, len(chunks))
        for i, (s, e, b, t) in enumerate(chunks)
    ]


def _diff_units(
    doc: _Doc,
    added: set[int],
    removed: dict[int, list[str]],
    count: Callable[[str], int],
    budget: int,
) -> list[_Unit]:
    hunks = _diff_lines(doc, added, removed)
    assert doc.allowed is not None
    spans = list(doc.allowed)
    whole = "\n".join("\n".join(h) for h in hunks)
    tokens = count(whole)
    if tokens <= budget:
        return [_Unit(doc.path, doc.language, spans[0][0], spans[-1][1], whole, tokens)]
    chunks: list[tuple[int, int, str, int]] = []
    for (a, b), rows in zip(spans, hunks, strict=True):
        body = "\n".join(rows)
        t = count(body)
        if chunks and chunks[-1][3] + t <= budget:
            s0, _, b0, t0 = chunks[-1]
            chunks[-1] = (s0, b, f"{b0}\n{body}", t0 + t)
        elif t <= budget:
            chunks.append((a, b, body, t))
        else:
            for s, e, part, pt in _split_by_tokens(rows[1:], a, count, budget):
                chunks.append((s, e, f"@@ lines {s}-{e} @@\n{part}", pt))
    return [
        _Unit(doc.path, doc.language, s, e, body, t, i + 1, len(chunks))
        for i, (s, e, body, t) in enumerate(chunks)
    ]


def _is_anchor(unit: _Unit) -> bool:
    """About one file in four may start a request, chosen by a hash of its path."""
    return unit.part == 1 and hashlib.sha256(unit.path.encode()).digest()[0] % 4 == 0


def _pack(units: list[_Unit], budget: int) -> list[_Request]:
    """Consecutive units (sorted by path) into requests under ``budget`` tokens.

    A request also ends before an anchor file (:func:`_is_anchor`) once it holds 30% of the
    budget, so boundaries mostly depend on nearby files: editing one file changes one or two
    requests and the rest stay byte-identical (served by the response cache), where plain
    greedy packing would shift every later boundary.
    """
    requests: list[_Request] = []
    used = 0
    for unit in units:
        cost = unit.tokens + 40  # markers
        fits = used + cost <= budget
        if requests and fits and not (_is_anchor(unit) and used >= budget * 3 // 10):
            requests[-1].units.append(unit)
            used += cost
        else:
            requests.append(_Request([unit]))
            used = cost
    return requests


# -- anchoring ----------------------------------------------------------------------------
_PREFIX = re.compile(r"^\s*\d+\s*[+ -]?\|\s?")
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _quote_line(quote: str) -> str:
    for line in quote.splitlines():
        cleaned = _norm(_PREFIX.sub("", line))
        if cleaned:
            return cleaned
    return ""


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def _locate(lines: list[str], quote: str, start: int, model_line: int) -> int | None:
    """The line (1-based) holding ``quote``: ``start`` when it does, else the nearest exact
    match, else the nearest line containing it (quotes of 4+ characters); None if nowhere."""

    def hit(line: str, exact: bool) -> bool:
        return line == quote or (not exact and len(quote) >= 4 and quote in line)

    if 0 < start <= len(lines) and hit(lines[start - 1], False):
        return start
    for exact in (True, False):
        candidates = [i + 1 for i, line in enumerate(lines) if hit(line, exact)]
        if candidates:
            return min(candidates, key=lambda n: (abs(n - model_line), n))
    return None


def _resolve_path(raw: str, known: dict[str, _Doc]) -> str | None:
    """The file a model's path names: as given, without ``./``, ``a/``, ``b/`` or a ``:line``
    suffix, with ``\\`` separators, absolute, or as a unique tail of a known path."""
    path = raw.strip().strip("'\"`")
    for spelling in (path, re.sub(r":\d+(?:-\d+)?$", "", path)):
        for form in (spelling, spelling.replace("\\", "/")):
            for prefix in ("./", "a/", "b/"):
                if form.startswith(prefix) and form[len(prefix) :] in known:
                    form = form[len(prefix) :]
            if form in known:
                return form
            inside = [k for k in known if form.endswith("/" + k)]  # absolute, or a prefix
            if inside:
                return max(inside, key=len)
            tails = [k for k in known if k.endswith("/" + form)]
            if len(tails) == 1:
                return tails[0]
    return None


def _anchor(found: ModelFinding, doc: _Doc) -> Finding:
    """Check the quote against the file: keep, correct to the nearest match, or unanchor."""
    total = max(len(doc.lines), 1)
    start = min(found.line_start, total)
    end = min(max(found.line_end or start, start), total)
    quote = _quote_line(found.quote)
    anchored = False
    if quote:
        # compare with whitespace runs collapsed; then with no whitespace at all (the model
        # re-spaced the line); then without a leading diff mark ("+    x = 1")
        squashed = _squash(quote)
        tiers = [(_norm, quote), (_squash, squashed)]
        if len(squashed) > 1 and squashed[0] in "+-":
            tiers.append((_squash, squashed[1:]))
        for form, text in tiers:
            best = _locate([form(line) for line in doc.lines], text, start, found.line_start)
            if best is not None:
                shift = best - start
                start, end = best, min(max(end + shift, best), total)
                anchored = True
                break
    model_line = found.line_start if start != found.line_start else None
    line_text = doc.lines[start - 1] if doc.lines else ""
    fingerprint = hashlib.sha256(
        "\0".join([doc.path, found.category, _norm(found.title).lower(), _norm(line_text)]).encode()
    ).hexdigest()[:16]
    return Finding(
        path=doc.path,
        line_start=start,
        line_end=end,
        severity=found.severity,
        category=found.category,
        title=_norm(found.title),
        explanation=found.explanation.strip(),
        suggestion=found.suggestion or None,
        quote=found.quote.strip("\n"),
        anchored=anchored,
        model_line=model_line,
        fingerprint=fingerprint,
    )


_REDACTED = re.compile(r"\[REDACTED:([a-z-]+)\]")


def _inside(line: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= line <= b for a, b in ranges)


def _dedupe(findings: list[Finding]) -> tuple[list[Finding], int]:
    """Merge findings on overlapping lines that share a title, or a category and start line;
    the highest severity wins."""
    kept: list[Finding] = []
    merged = 0
    order = sorted(findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.path, f.line_start))
    for f in order:
        twin = next(
            (
                k
                for k in kept
                if k.path == f.path
                and k.line_start <= f.line_end
                and f.line_start <= k.line_end
                and (
                    _norm(k.title).lower() == _norm(f.title).lower()
                    or (k.category == f.category and k.line_start == f.line_start)
                )
            ),
            None,
        )
        if twin is None:
            kept.append(f)
        else:
            merged += 1
    kept.sort(key=lambda f: (f.path, f.line_start, -SEVERITY_RANK[f.severity], f.title))
    return kept, merged


# -- the run ------------------------------------------------------------------------------
@dataclass
class _Job:
    mode: Literal["path", "staged", "diff"]
    target: str
    root: Path
    docs: dict[str, _Doc]
    extra: dict[str, tuple[set[int], dict[int, list[str]]]]
    files: list[ReviewedFile]
    skipped: list[SkippedFile]
    secrets: Counter[str]
    deletion_only_hunks: int = 0


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from ..config import load_settings

    return load_settings()


def _system_prompt(settings: Settings, mode: str, instructions: str | None) -> str:
    from ..prompts import language_name, render

    return render(
        "review/system.j2",
        prompts_dir=settings.prompts_dir,
        language=language_name(settings.lang),
        mode="diff" if mode != "path" else "path",
        instructions=(instructions or "").strip(),
    )


def _instructions(settings: Settings, instructions: str | None) -> str | None:
    parts = [p.strip() for p in (settings.review.instructions, instructions) if p and p.strip()]
    return "\n\n".join(parts) or None


def _execute(
    job: _Job,
    *,
    settings: Settings,
    model: BaseChatModel | None,
    dry_run: bool,
    think: bool | None,
    instructions: str | None,
    concurrency: int | None,
    progress: Callable[[int, int], None] | None,
) -> Review:
    if not job.docs:  # nothing to send: stay cheap (no client, no tokenizer)
        from ..llm.selector import select_model

        spec = select_model("coder", settings, thinking=think)
        return Review(
            mode=job.mode,
            target=job.target,
            root=str(job.root),
            model=spec.model,
            dry_run=dry_run,
            skipped=job.skipped,
            deletion_only_hunks=job.deletion_only_hunks,
            plan=Plan(model=spec.model, concurrency=1, token_budget=0) if dry_run else None,
        )
    from ..llm import LLM, run_sync
    from ..llm.tokens import count_tokens
    from ..prompts import render

    llm = LLM(profile="coder", task="review", settings=settings, model=model, thinking=think)
    limit = concurrency or settings.review.concurrency or llm.concurrency
    system = _system_prompt(settings, job.mode, _instructions(settings, instructions))
    # the LLM layer appends the JSON-schema instructions to the system message (JSON mode)
    schema_note = render(
        "llm/json_schema.j2",
        prompts_dir=settings.prompts_dir,
        schema=json.dumps(ModelReview.model_json_schema(), ensure_ascii=False),
    )
    static = count_tokens(f"{system}\n\n{schema_note}")
    budget = max(1000, settings.review.request_token_budget - static - 200)
    units, parts = _budget_units(job.docs, job.extra, budget)
    for reviewed in job.files:
        reviewed.parts = parts[reviewed.path]
    requests = _pack(units, budget)
    for req in requests:
        user = render(
            "review/request.j2",
            prompts_dir=settings.prompts_dir,
            mode="diff" if job.mode != "path" else "path",
            units=[u.context() for u in req.units],
        )
        req.messages = [("system", system), ("user", user)]

    review = Review(
        mode=job.mode,
        target=job.target,
        root=str(job.root),
        model=llm.model_name,
        dry_run=dry_run,
        files=job.files,
        skipped=job.skipped,
        secrets_redacted=sum(job.secrets.values()),
        secret_kinds=dict(sorted(job.secrets.items())),
        deletion_only_hunks=job.deletion_only_hunks,
    )
    if dry_run:
        planned = []
        for req in requests:
            sent = [("system", f"{system}\n\n{schema_note}"), req.messages[1]]
            input_tokens = llm.estimate(sent, output_tokens=0).input_tokens
            est = llm.estimate(sent, output_tokens=_expected_output(input_tokens))
            planned.append(
                PlannedRequest(
                    files=[u.label for u in req.units],
                    input_tokens=est.input_tokens,
                    output_tokens=est.output_tokens,
                    cost_usd=round(est.cost_usd, 6),
                )
            )
        review.plan = Plan(
            model=llm.model_name, concurrency=limit, token_budget=budget, requests=planned
        )
        return review
    if not requests:
        return review
    replies = run_sync(_run_all(llm, requests, limit, progress))
    return _collect(review, job, requests, replies, llm)


def _expected_output(input_tokens: int) -> int:
    return max(300, min(4000, input_tokens // 8))


async def _run_all(
    llm: LLM,
    requests: list[_Request],
    limit: int,
    progress: Callable[[int, int], None] | None,
) -> list[Any]:
    async def one(req: _Request) -> Any:
        return await llm.astructured(req.messages, ModelReview)

    return await llm.amap(one, requests, concurrency=limit, progress=progress)


def _collect(
    review: Review, job: _Job, requests: list[_Request], replies: list[Any], llm: LLM
) -> Review:
    errors = [r for r in replies if isinstance(r, BaseException)]
    if errors and len(errors) == len(replies):
        raise errors[0]  # nothing worked: the error itself is the answer (key, network, ...)
    for exc in errors:
        if isinstance(exc, ConfigError):
            raise exc
    rejected: Counter[str] = Counter()
    findings: list[Finding] = []
    failed: dict[str, FailedFile] = {}
    for req, reply in zip(requests, replies, strict=True):
        if isinstance(reply, BaseException):
            reason = reply.message if isinstance(reply, AssistantsError) else str(reply)
            for path in req.paths:
                failed.setdefault(
                    path, FailedFile(path=path, reason=reason, error=type(reply).__name__)
                )
            continue
        answer: ModelReview = reply[0]
        if answer.invalid:
            rejected["invalid"] += answer.invalid
        in_request = {p: job.docs[p] for p in req.paths}
        for found in answer.findings:
            resolved = _resolve_path(found.file, in_request)
            if resolved is None:
                rejected["unknown-file"] += 1
                continue
            doc = in_request[resolved]
            finding = _anchor(found, doc)
            if doc.allowed is not None and not _inside(finding.line_start, doc.allowed):
                rejected["outside-diff"] += 1
                continue
            findings.append(finding)
    merged, duplicates = _dedupe(findings)
    if duplicates:
        rejected["duplicates-merged"] = duplicates
    review.findings = merged
    review.failed = sorted(failed.values(), key=lambda f: f.path)
    review.rejected = dict(sorted(rejected.items()))
    review.usage = llm.usage
    return review


def _skip_detail(reason: str, detail: str) -> str:
    from .files import SKIP_REASONS

    text = SKIP_REASONS.get(reason, reason)
    return f"{text} ({detail})" if detail else text


# -- public API ---------------------------------------------------------------------------
def _budget_units(
    docs: dict[str, _Doc],
    extra: dict[str, tuple[set[int], dict[int, list[str]]]],
    budget: int,
) -> tuple[list[_Unit], dict[str, int]]:
    """Every file cut into units of at most ``budget`` tokens (sorted by path)."""
    from ..llm.tokens import count_tokens

    units: list[_Unit] = []
    parts: dict[str, int] = {}
    for path in sorted(docs):
        doc = docs[path]
        if doc.allowed is None:
            cut = _file_units(doc, count_tokens, budget)
        else:
            added, removed = extra[path]
            cut = _diff_units(doc, added, removed, count_tokens, budget)
        parts[path] = len(cut)
        units.extend(cut)
    return units, parts


def review_path(
    paths: str | Path | Sequence[str | Path] = ".",
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    dry_run: bool = False,
    think: bool | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    instructions: str | None = None,
    concurrency: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Review:
    """Review whole files under ``paths`` (files or folders; git-aware).

    ``dry_run`` builds the requests and returns a :class:`Review` with a :class:`Plan`
    (requests, files per request, input tokens, estimated cost) without calling anything or
    needing a key. ``model`` injects a LangChain chat model (tests). ``progress(done, total)``
    is called as requests finish. Raises :class:`~assistants.errors.InputError` for a missing
    path and the API's error when every request failed; when only some fail, their files are
    listed in :attr:`Review.failed` (``exit_code()`` is then 7 unless the gate trips).
    """
    from .files import select_files
    from .secrets import redact

    settings = _settings(settings)
    if isinstance(paths, str | Path):
        paths = [paths]
    selection = select_files(
        list(paths),
        include=[*settings.review.include, *include],
        exclude=[*settings.review.exclude, *exclude],
        max_bytes=settings.review.max_file_bytes,
    )
    secrets: Counter[str] = Counter()
    docs: dict[str, _Doc] = {}
    for src in selection.files:
        red = redact(src.text, src.path)
        secrets.update(red.kinds)
        docs[src.path] = _Doc(src.path, src.language, red.text.split("\n"))
        if docs[src.path].lines and docs[src.path].lines[-1] == "":
            docs[src.path].lines.pop()
    job = _Job(
        mode="path",
        target=" ".join(str(p) for p in paths),
        root=selection.root,
        docs=docs,
        extra={},
        files=[
            ReviewedFile(path=p, language=d.language, lines=len(d.lines))
            for p, d in sorted(docs.items())
        ],
        skipped=[
            SkippedFile(path=s.path, reason=s.reason, detail=_skip_detail(s.reason, s.detail))
            for s in selection.skipped
        ],
        secrets=secrets,
    )
    return _execute(
        job,
        settings=settings,
        model=model,
        dry_run=dry_run,
        think=think,
        instructions=instructions,
        concurrency=concurrency,
        progress=progress,
    )


def review_diff(
    ref: str | None = None,
    *,
    staged: bool = False,
    repo: str | Path = ".",
    paths: Sequence[str | Path] = (),
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    dry_run: bool = False,
    think: bool | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    instructions: str | None = None,
    concurrency: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Review:
    """Review only what changed: the staged changes (``staged=True``), or the working tree
    against ``ref`` (default ``HEAD``; ``A..B`` and ``A...B`` compare commits).

    Each hunk is sent with new-side line numbers and its enclosing function or class as
    context; hunks that only delete lines are dropped (counted in ``deletion_only_hunks``).
    Findings outside the changed lines and their context are rejected (counted in
    ``rejected["outside-diff"]``). ``paths`` limits the review to changes under those files
    or folders. Other arguments as in :func:`review_path`.
    """
    import pathspec

    from .diff import load_diff
    from .secrets import redact

    settings = _settings(settings)
    selection = load_diff(ref, staged=staged, repo=repo, max_bytes=settings.review.max_file_bytes)
    inc = [*settings.review.include, *include]
    exc = [*settings.review.exclude, *exclude]
    inc_spec = pathspec.GitIgnoreSpec.from_lines(inc) if inc else None
    exc_spec = pathspec.GitIgnoreSpec.from_lines(exc) if exc else None
    secrets: Counter[str] = Counter()
    docs: dict[str, _Doc] = {}
    extra: dict[str, tuple[set[int], dict[int, list[str]]]] = {}
    changed: dict[str, int] = {}
    limits: list[str] = []
    listed = [f.path for f in selection.files] + [s.path for s in selection.skipped]
    for raw in paths:
        given = Path(raw).expanduser()
        # a link is a path in the repository; what it points to may be anywhere
        target = given.parent.resolve() / given.name if given.is_symlink() else given.resolve()
        try:
            limit = target.relative_to(selection.root).as_posix()
        except ValueError:
            raise InputError(
                f"{raw}: not inside the repository {selection.root}",
                hint="give paths inside the repository being diffed",
            ) from None
        if not target.exists() and not any(
            p == limit or p.startswith(limit + "/") for p in listed
        ):  # a typo, or a ref given as a path (`--staged main`): say so, don't review nothing
            raise InputError(
                f"{raw}: no such file or directory, and no change under it",
                hint="PATHS limit the review to files or folders; a ref goes in --diff REF",
            )
        limits.append(limit)

    def wanted(path: str) -> bool:
        return not limits or any(
            lim in (".", path) or path.startswith(lim.rstrip("/") + "/") for lim in limits
        )

    skipped = [
        SkippedFile(path=s.path, reason=s.reason, detail=_skip_detail(s.reason, s.detail))
        for s in selection.skipped
        if wanted(s.path)
    ]
    for df in selection.files:
        if not wanted(df.path):
            continue
        if inc_spec is not None and not inc_spec.match_file(df.path):
            continue
        if exc_spec is not None and exc_spec.match_file(df.path):
            skipped.append(
                SkippedFile(path=df.path, reason="excluded", detail=_skip_detail("excluded", ""))
            )
            continue
        red = redact(df.text, df.path)
        lines = red.text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        ranges = [(a, min(b, len(lines))) for a, b in df.ranges if a <= len(lines)]
        for a, b in ranges:  # count the redactions in what is sent, not the whole file
            for line in lines[a - 1 : b]:
                secrets.update(_REDACTED.findall(line))
        removed: dict[int, list[str]] = {}
        for n, old in df.removed.items():
            red_old = redact("\n".join(old), df.path)
            secrets.update(red_old.kinds)
            removed[n] = red_old.text.split("\n")
        docs[df.path] = _Doc(df.path, df.language, lines, ranges)
        extra[df.path] = (set(df.added), removed)
        changed[df.path] = len(df.added)
    skipped.sort(key=lambda s: s.path)
    mode: Literal["staged", "diff"] = "staged" if staged else "diff"
    job = _Job(
        mode=mode,
        target=selection.description,
        root=selection.root,
        docs=docs,
        extra=extra,
        files=[
            ReviewedFile(
                path=p,
                language=d.language,
                lines=sum(b - a + 1 for a, b in d.allowed or []),
                changed_lines=changed[p],
            )
            for p, d in sorted(docs.items())
        ],
        skipped=skipped,
        secrets=secrets,
        deletion_only_hunks=selection.deletion_only_hunks,
    )
    return _execute(
        job,
        settings=settings,
        model=model,
        dry_run=dry_run,
        think=think,
        instructions=instructions,
        concurrency=concurrency,
        progress=progress,
    )
