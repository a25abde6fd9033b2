"""Anchoring: every finding checked against the text that was sent before it is reported.

The model's path is resolved to a file of the request (:func:`resolve_path`); its quote is
looked up in that file: the line is kept when it holds the quote, moved to the nearest line
that does, or the finding is marked unanchored (:func:`anchor`). In diff mode a finding off the
changed lines and their context is rejected (:func:`inside`). Duplicates are merged, the
highest severity winning (:func:`dedupe`). :func:`place` does all of it for one reply.

A finding's identity across runs (:attr:`Finding.fingerprint`, :func:`fingerprint`) is its
path, its category and the whitespace-normalised text of the code it is anchored to: not the
line number (code moves) and not the model's title (a re-run rewords it). The code is the
anchored line (the line the quote names), not the whole range: models vary where a range ends
between runs. Identical code lines in one file with findings of the same category would share
a fingerprint, so :func:`number_occurrences` gives the second and later of them (in line order)
their own: ``sha256(base + "#2")`` and so on. A third copy of a baselined line is therefore
reported, and which copy counts as the new one is decided by line order, not by history.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable

from .models import SEVERITY_RANK, Finding, ModelFinding
from .units import Doc

__all__ = [
    "anchor",
    "dedupe",
    "fingerprint",
    "inside",
    "number_occurrences",
    "place",
    "resolve_path",
]

_PREFIX = re.compile(r"^\s*\d+\s*[+ -]?\|\s?|^\s*\d+[+ ]?\t|^-\t")  # "12\t", "12+\t", "-\t"
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


def resolve_path(raw: str, known: Collection[str]) -> str | None:
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


def anchor(found: ModelFinding, doc: Doc) -> Finding:
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
    # unanchored: the line under the model's number is a guess, the code it quoted is not
    code = _code(doc.lines, start, end) if anchored or not quote else quote
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
        fingerprint=fingerprint(doc.path, found.category, code),
    )


def _code(lines: list[str], start: int, end: int) -> str:
    """The anchored code: the first non-blank line of ``start..end`` (normalised)."""
    for line in lines[start - 1 : end]:
        if line.strip():
            return _norm(line)
    return ""


def fingerprint(path: str, category: str, code: str) -> str:
    """A finding's identity across runs: path, category and code with whitespace runs
    collapsed (16 hex digits of SHA-256). Line numbers and titles are left out on purpose."""
    return hashlib.sha256("\0".join([path, category, _norm(code)]).encode()).hexdigest()[:16]


def number_occurrences(findings: list[Finding]) -> None:
    """Make fingerprints unique within one review: the n-th finding (n >= 2, in path and line
    order) sharing a fingerprint gets ``sha256(fingerprint + "#n")`` instead."""
    seen: Counter[str] = Counter()
    for f in sorted(findings, key=lambda f: (f.path, f.line_start, f.line_end)):
        seen[f.fingerprint] += 1
        if seen[f.fingerprint] > 1:
            n = seen[f.fingerprint]
            f.fingerprint = hashlib.sha256(f"{f.fingerprint}#{n}".encode()).hexdigest()[:16]


def inside(line: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= line <= b for a, b in ranges)


def dedupe(findings: list[Finding]) -> tuple[list[Finding], int]:
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


def place(
    found: Iterable[ModelFinding], docs: dict[str, Doc], rejected: Counter[str]
) -> list[Finding]:
    """The findings of one reply, anchored in ``docs`` (the files of its request); those
    naming no file of the request, or off the lines shown in diff mode, are counted in
    ``rejected`` instead."""
    out: list[Finding] = []
    for item in found:
        resolved = resolve_path(item.file, docs)
        if resolved is None:
            rejected["unknown-file"] += 1
            continue
        doc = docs[resolved]
        finding = anchor(item, doc)
        if doc.allowed is not None and not inside(finding.line_start, doc.allowed):
            rejected["outside-diff"] += 1
            continue
        out.append(finding)
    return out
