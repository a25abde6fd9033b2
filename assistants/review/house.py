"""House rules: instructions by path and the project's review guide.

``[tool.assistants.review.paths]`` maps gitignore-style globs (matched like include/exclude,
against repository-relative paths) to instructions (:class:`PathRules`). Each rule has a
number (its place in the table); a file's FILE marker names the rules that match it
(``rules=1,3``) and each request lists, once, the rules its files use: a rule reaches only the
requests holding a file it matches, its text is sent once per request however many files use
it, and a block's text does not depend on which other files share its request (so packing and
the response cache stay as deterministic as without rules).

The project's guide is ``REVIEW.md`` at the repository root, else ``AGENTS.md`` (REVIEW.md wins
when both exist: it is written for reviews, AGENTS.md for agents in general). It goes into the
system prompt between markers, its secrets redacted and its line breakers escaped, and it
counts against the request budget (so the dry run's tokens include it). A guide longer than
``review.project_instructions_tokens`` is cut at a line boundary, with one warning saying so.
In the diff modes both come from the diff's base (REF, HEAD for staged changes), like the rest
of the review rules (:mod:`assistants.review.rules`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import git
from ..errors import ConfigError
from .units import visible

if TYPE_CHECKING:
    from ..llm.tokens import TokenCache

__all__ = ["GUIDE_FILES", "Guide", "PathRule", "PathRules", "load_guide", "read_guide"]

log = logging.getLogger("assistants")

GUIDE_FILES = ("REVIEW.md", "AGENTS.md")
"""The project's review guide at the repository root: the first one present is read."""


@dataclass(frozen=True)
class PathRule:
    number: int
    glob: str
    text: str

    def context(self) -> dict[str, Any]:
        lines = visible(self.text.strip()).split("\n")
        return {"number": self.number, "glob": self.glob, "text": "\n    ".join(lines)}


class PathRules:
    """The ``review.paths`` table, numbered in table order; :meth:`match` says which rules a
    repository-relative path gets."""

    def __init__(self, table: Mapping[str, str]) -> None:
        import pathspec

        self.rules = [
            PathRule(n, glob, text)
            for n, (glob, text) in enumerate(table.items(), 1)
            if text.strip()
        ]
        self._specs: list[tuple[int, Any]] = []
        for rule in self.rules:
            try:
                spec = pathspec.GitIgnoreSpec.from_lines([rule.glob])
            except (ValueError, TypeError) as exc:
                problem = str(exc)
            else:  # a comment, a negation, a bare "/" ...: a rule that would never apply
                if any(p.include for p in spec.patterns):
                    self._specs.append((rule.number, spec))
                    continue
                problem = "it matches no path"
            raise ConfigError(
                f"review.paths: {rule.glob!r} is not a usable glob ({problem})",
                hint='use gitignore-style globs, e.g. "migrations/**"',
            )

    def __bool__(self) -> bool:
        return bool(self.rules)

    def match(self, path: str) -> tuple[int, ...]:
        return tuple(n for n, spec in self._specs if spec.match_file(path))

    def used(self, numbers: set[int]) -> list[dict[str, Any]]:
        """The rules with these numbers, in order, as the request template shows them."""
        return [r.context() for r in self.rules if r.number in numbers]

    def header(self) -> str:
        """Every rule as a request would list it (what the budget keeps room for)."""
        return "\n".join(
            f"[{r['number']}] {r['glob']}: {r['text']}"
            for r in self.used({r.number for r in self.rules})
        )


@dataclass(frozen=True)
class Guide:
    """The project's guide as sent: ``where`` names it (``REVIEW.md``, ``main:REVIEW.md``)."""

    where: str
    text: str
    tokens: int
    truncated: bool = False

    def context(self) -> dict[str, Any]:
        marker = hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return {"where": self.where, "text": self.text, "marker": marker}


def read_guide(root: Path, base: str | None = None, name: str = "") -> tuple[str, str] | None:
    """(where, raw text) of the guide at ``root`` (a repository's top): the working tree's,
    or with ``base`` the version in that tree-ish (``name`` names it in messages)."""
    if base is not None:
        present = set(git.tree_files(root, base, list(GUIDE_FILES)))
        for file in GUIDE_FILES:
            if file in present:
                data = git.show(root, base, file)
                return f"{name or base}:{file}", data.decode("utf-8", "replace")
        return None
    for file in GUIDE_FILES:
        path = root / file
        if path.is_symlink():
            log.warning("warning: %s is a symbolic link: not read (never sent)", path)
            continue
        if path.is_file():
            try:
                return file, path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    return None


def load_guide(
    root: Path,
    counter: TokenCache,
    max_tokens: int,
    *,
    base: str | None = None,
    name: str = "",
) -> Guide | None:
    """The guide as it is sent (see the module docstring), or None when there is none (or
    it is empty)."""
    from .secrets import redact

    found = read_guide(root, base, name)
    if found is None:
        return None
    where, raw = found
    text = visible(redact(raw.strip(), where.rpartition(":")[2]).text)
    if not text:
        return None
    lines = text.split("\n")
    rows = [n + 1 for n in counter.row_counts(lines)]
    total = sum(rows)
    if total <= max_tokens:
        return Guide(where, text, counter.count(text))
    kept, used = [], 0
    for line, tokens in zip(lines, rows, strict=True):
        if used + tokens > max_tokens:
            break
        kept.append(line)
        used += tokens
    cut = "\n".join(kept).rstrip()
    log.warning(
        "warning: %s has about %s tokens, over review.project_instructions_tokens (%s): "
        "only its first %s lines are sent (raise the setting, shorten the file, or "
        "--no-project-instructions)",
        where,
        f"{total:,}",
        f"{max_tokens:,}",
        len(kept),
    )
    return Guide(where, cut, counter.count(cut), truncated=True)
