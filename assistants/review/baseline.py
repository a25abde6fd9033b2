"""Baselines: the findings a team has accepted, so a re-run reports only new ones.

A baseline file is JSON, versioned and diff-friendly: one entry per finding (path, category,
fingerprint, and the title for the people reading it), sorted by path, category and
fingerprint, no line numbers and no timestamps, so it changes only when findings change.
Findings match by :attr:`~assistants.review.models.Finding.fingerprint` alone (path, category
and the anchored code; see :mod:`assistants.review.anchor`): a finding whose code moved or
whose title the model reworded is still recognised. Checking a baseline is a filter over a
finished :class:`~assistants.review.models.Review`: it sends nothing.

Example file::

    {
      "version": 1,
      "tool": "assistants-review",
      "findings": [
        {"path": "app.py", "category": "security", "fingerprint": "3f2a...", "title": "..."}
      ]
    }
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from .models import Category, Finding, Review
from .suppress import suppress

__all__ = ["BASELINE_VERSION", "Baseline", "BaselineEntry", "load_baseline"]

BASELINE_VERSION: Literal[1] = 1
TOOL = "assistants-review"


class BaselineEntry(BaseModel):
    """One accepted finding. ``title`` is for people; matching uses ``fingerprint`` only."""

    model_config = ConfigDict(extra="ignore")

    path: str
    category: Category
    fingerprint: str = Field(pattern=r"^[0-9a-f]{16}$")
    title: str = ""

    @classmethod
    def of(cls, finding: Finding) -> BaselineEntry:
        return cls(
            path=finding.path,
            category=finding.category,
            fingerprint=finding.fingerprint,
            title=finding.title,
        )


class Baseline(BaseModel):
    """A set of accepted findings (:meth:`apply` holds them back from a review)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = BASELINE_VERSION
    tool: str = TOOL
    findings: list[BaselineEntry] = Field(default_factory=list)

    @classmethod
    def of(cls, entries: Iterable[BaselineEntry]) -> Baseline:
        """A baseline of ``entries``: one per fingerprint (the first title kept), sorted."""
        unique: dict[str, BaselineEntry] = {}
        for e in entries:
            unique.setdefault(e.fingerprint, e)
        order = sorted(unique.values(), key=lambda e: (e.path, e.category, e.fingerprint))
        return cls(findings=order)

    @classmethod
    def from_review(cls, review: Review) -> Baseline:
        """Every finding of ``review`` that is not held back by an inline comment: the
        reported ones and those its baseline already held back."""
        held = [s for s in review.suppressed if s.suppression == "baseline"]
        return cls.of(BaselineEntry.of(f) for f in [*review.findings, *held])

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(e.fingerprint for e in self.findings)

    def apply(self, review: Review) -> Review:
        """A copy of ``review`` whose findings in this baseline are moved to ``suppressed``
        (kind ``baseline``); the gate then sees only the new findings."""
        known = self.fingerprints
        new = [f for f in review.findings if f.fingerprint not in known]
        held = [suppress(f, "baseline") for f in review.findings if f.fingerprint in known]
        return review.model_copy(
            update={"findings": new, "suppressed": [*review.suppressed, *held]}
        )

    def updated(self, review: Review) -> Baseline:
        """This baseline refreshed with ``review``: in a review of whole files, the entries of
        each file reviewed without failure are replaced by its current findings (fixed ones
        drop out); entries of files not reviewed or failed stay. A diff review sees only part
        of each file, so it adds its findings and drops nothing. Known titles are kept."""
        current = Baseline.from_review(review)
        if review.mode == "path":
            failed = {f.path for f in review.failed}
            reviewed = {f.path for f in review.files} - failed
            kept = [e for e in self.findings if e.path not in reviewed]
        else:
            kept = list(self.findings)
        titles = {e.fingerprint: e for e in self.findings}
        fresh = [titles.get(e.fingerprint, e) for e in current.findings]
        return Baseline.of([*kept, *fresh])

    def to_json(self) -> str:
        """The file's text: two-space indent, keys in a fixed order, a final newline."""
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> None:
        """Write the file (atomically: a reader never sees half of it)."""
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".baseline-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError(
                f"cannot write the baseline {target} ({exc.strerror or exc})"
            ) from None


def load_baseline(path: str | Path, *, missing_ok: bool = False) -> Baseline:
    """Read a baseline file. A missing file is an empty baseline when ``missing_ok`` (it is
    about to be written), else an :class:`~assistants.errors.InputError`, as is a file that is
    not a baseline or comes from a newer version."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return Baseline()
        raise InputError(
            f"baseline {source} does not exist",
            hint="write one with `assistants review baseline PATH -o FILE` or --update-baseline",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the baseline {source} ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"baseline {source} is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("tool", TOOL) != TOOL:
        raise InputError(f"{source} is not an assistants review baseline")
    version = data.get("version")
    if isinstance(version, int) and version > BASELINE_VERSION:
        raise InputError(
            f"baseline {source} has version {version}; this assistants reads version "
            f"{BASELINE_VERSION}",
            hint="upgrade assistants",
        )
    try:
        return Baseline.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"baseline {source} is not valid: {where}: {first['msg']}") from None
