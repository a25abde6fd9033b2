"""The reviewer's benchmark corpus: real files, seeded-bug diffs and clean diffs.

The corpus ships in ``assistants/data/review-corpus/`` (built by
``scripts/build_review_corpus.py`` from pinned packages; sources and licences in its
ATTRIBUTION.md): ``files.jsonl`` holds the original files with their project, version and
licence, ``cases.jsonl`` one diff per line — ``seeded`` (a mutation operator, the line it broke)
or ``clean`` (a change that alters no behaviour). :func:`load_corpus` reads and filters it;
:func:`apply_diff` turns an original file and a case's diff into the changed file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from ...errors import InputError

__all__ = ["Case", "Corpus", "CorpusFile", "apply_diff", "corpus_dir", "load_corpus"]

T = TypeVar("T")


@dataclass(frozen=True)
class CorpusFile:
    """An original file and where it came from."""

    id: str
    path: str
    language: str
    project: str
    version: str
    registry: str
    license: str
    text: str


@dataclass(frozen=True)
class Case:
    """One diff of the benchmark: ``seeded`` (``operator`` broke ``line``, new-side numbering)
    or ``clean`` (``operator`` names the kind of harmless change)."""

    id: str
    kind: Literal["seeded", "clean"]
    operator: str
    language: str
    file: str
    line: int
    description: str
    diff: str


@dataclass(frozen=True)
class Corpus:
    files: dict[str, CorpusFile]
    cases: list[Case]
    digest: str  # sha256 of cases.jsonl: which corpus a report measured

    @property
    def operators(self) -> list[str]:
        return sorted({c.operator for c in self.cases if c.kind == "seeded"})


def corpus_dir() -> Path:
    """The shipped corpus folder."""
    return Path(str(resources.files("assistants") / "data" / "review-corpus"))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the corpus ({exc.strerror or exc})") from None
    rows = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{n}: not a JSON object")
            rows.append(row)
    return rows


def _records(path: Path, kind: type[T]) -> list[T]:
    out = []
    for n, row in enumerate(_read_jsonl(path), 1):
        try:
            out.append(kind(**row))
        except TypeError:
            names = ", ".join(f.name for f in fields(kind))  # type: ignore[arg-type]
            raise InputError(
                f"{path}:{n}: not a corpus record", hint=f"each line needs: {names}"
            ) from None
    return out


def load_corpus(
    folder: str | Path | None = None,
    *,
    operators: Sequence[str] = (),
    language: str | None = None,
    limit: int | None = None,
) -> Corpus:
    """The corpus in ``folder`` (default: the shipped one), filtered.

    ``operators`` keeps the seeded diffs of those operators (the clean diffs stay, so false
    positives are still measured); ``language`` keeps one language. ``limit`` takes that many
    cases spread over languages and operators (round-robin over the groups, in corpus order),
    so a short run still sees every kind. Unknown operators or languages are an
    :class:`~assistants.errors.InputError` naming the known ones.
    """
    root = Path(folder) if folder is not None else corpus_dir()
    files = {f.id: f for f in _records(root / "files.jsonl", CorpusFile)}
    cases = _records(root / "cases.jsonl", Case)
    digest = hashlib.sha256((root / "cases.jsonl").read_bytes()).hexdigest()
    known_ops = sorted({c.operator for c in cases if c.kind == "seeded"})
    unknown = sorted(set(operators) - set(known_ops))
    if unknown:
        raise InputError(
            f"unknown operator(s): {', '.join(unknown)}", hint=f"known: {', '.join(known_ops)}"
        )
    languages = sorted({c.language for c in cases})
    if language is not None and language not in languages:
        raise InputError(f"unknown language: {language}", hint=f"known: {', '.join(languages)}")
    kept = [
        c
        for c in cases
        if (language is None or c.language == language)
        and (not operators or c.kind == "clean" or c.operator in operators)
    ]
    if limit is not None:
        kept = _spread(kept)[:limit]
    missing = sorted({c.file for c in kept} - set(files))
    if missing:
        raise InputError(f"corpus {root}: cases name files it does not hold: {missing[0]}")
    return Corpus(files=files, cases=kept, digest=digest)


def _spread(cases: list[Case]) -> list[Case]:
    """Cases round-robin over their (operator, language) groups (clean kinds count as
    operators), so the two languages alternate."""
    groups: dict[tuple[str, str], list[Case]] = {}
    for c in cases:
        groups.setdefault((c.operator, c.language), []).append(c)
    out: list[Case] = []
    depth = 0
    while len(out) < len(cases):
        for key in sorted(groups):
            if depth < len(groups[key]):
                out.append(groups[key][depth])
        depth += 1
    return out


def apply_diff(text: str, diff: str) -> str:
    """``text`` with the unified ``diff`` (of one file) applied; an
    :class:`~assistants.errors.InputError` when a hunk does not match."""
    from unidiff import PatchSet

    lines = text.splitlines(keepends=True)
    patch = PatchSet(diff)
    if len(patch) != 1:
        raise InputError(f"a corpus diff must change one file, not {len(patch)}")
    out: list[str] = []
    pos = 0  # next original line (0-based) not yet copied
    for hunk in patch[0]:
        start = hunk.source_start - 1 if hunk.source_length else hunk.source_start
        out.extend(lines[pos:start])
        pos = start
        for ln in hunk:
            if ln.is_context or ln.is_removed:
                if pos >= len(lines) or lines[pos].rstrip("\n") != ln.value.rstrip("\n"):
                    raise InputError(f"{patch[0].path}: the diff does not apply at line {pos + 1}")
                if ln.is_context:
                    out.append(lines[pos])
                pos += 1
            elif ln.is_added:
                out.append(ln.value)
    out.extend(lines[pos:])
    return "".join(out)
