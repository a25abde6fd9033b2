"""Baselines: the findings a team has accepted, so a re-run reports only new ones.

A baseline file is JSON, versioned and diff-friendly: one entry per finding (path, category,
fingerprint, and the title for the people reading it), sorted by path, category and
fingerprint, no line numbers and no timestamps, so it changes only when findings change.
Findings match by :attr:`~assistants.review.models.Finding.fingerprint` alone (path, category
and the anchored code; see :mod:`assistants.review.anchor`): a finding whose code moved or
whose title the model reworded is still recognised. Checking a baseline is a filter over a
finished :class:`~assistants.review.models.Review`: it sends nothing.

A change cannot widen its own baseline (DESIGN §8): in the diff modes a baseline file inside
the repository is read as the diff's base (REF; HEAD for staged changes) has it
(:func:`baseline_for`), like the review rules. A file the base does not have holds nothing
back; a file outside the repository (a CI artifact) is read as it is.

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
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from .models import Category, Finding, Review
from .suppress import suppress

__all__ = ["BASELINE_VERSION", "Baseline", "BaselineEntry", "baseline_for", "load_baseline"]

log = logging.getLogger("assistants")

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
    return _parse(text, str(source))


def baseline_for(
    path: str | Path,
    *,
    ref: str | None = None,
    staged: bool = False,
    from_base: bool = True,
    missing_ok: bool = False,
) -> Baseline:
    """The baseline a review holds back. For a review of whole files (``ref`` None and not
    ``staged``) or with ``from_base=False`` (``--config-from worktree``): the file as it is
    (:func:`load_baseline`). In the diff modes, a file inside the repository is read as the
    diff's base has it, with a notice when the working tree's differs; one the base does not
    have holds nothing back (a change cannot add its own baseline)."""
    source = Path(path).expanduser()
    if not (from_base and (ref or staged)):
        return load_baseline(source, missing_ok=missing_ok)
    from .. import git
    from .rules import base_ref

    top = git.toplevel(Path.cwd())
    try:
        rel = source.resolve().relative_to(top).as_posix() if top else None
    except ValueError:
        rel = None
    if top is None or rel is None:  # not part of the change
        return load_baseline(source, missing_ok=missing_ok)
    base, name = base_ref(ref, staged=staged, root=top)
    if not git.tree_files(top, base, [rel]):
        if source.exists():
            log.warning(
                "notice: baseline %s is not in %s, so it holds nothing back (a change cannot "
                "add its own baseline); --config-from worktree to use it",
                source,
                name,
            )
        return Baseline()
    text = git.show(top, base, rel).decode("utf-8", "replace")
    theirs = _parse(text, f"{name}:{rel}")
    if source.exists() and load_baseline(source) != theirs:
        log.warning(
            "notice: baseline %s comes from %s (the change edits it); --config-from worktree "
            "to use the working tree's",
            source,
            name,
        )
    return theirs


def _parse(text: str, source: str) -> Baseline:
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
