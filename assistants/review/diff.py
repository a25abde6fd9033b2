"""Git diffs for review: the changed files, their new-side text and the lines to show.

:func:`load_diff` runs ``git diff`` (the index with ``staged=True``, else the working tree
against ``ref``, or ``A..B`` / ``A...B`` between commits), parses it with :mod:`unidiff` and
returns, per file, the new-side text, the added line numbers and the context ranges: each hunk
widened to its enclosing function or class (:func:`assistants.review.spans.enclosing_span`),
capped in size. Hunks that only delete lines are dropped and counted. :func:`limit_to` keeps
the changes under some paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import git
from ..errors import InputError
from .files import SkippedPath, check_content, check_name, detect_language, printable
from .spans import enclosing_span, merge_ranges, split_lines

__all__ = ["DiffFile", "DiffSelection", "limit_to", "load_diff"]


@dataclass
class DiffFile:
    """One changed file: new-side text (raw), changed lines and the ranges to show."""

    path: str
    language: str
    text: str
    added: list[int]  # new-side line numbers of added lines
    ranges: list[tuple[int, int]]  # new-side line ranges shown (changes + context), merged
    removed: dict[int, list[str]] = field(default_factory=dict)  # before new line n: "-" lines
    old_path: str | None = None
    hunks: list[tuple[int, int]] = field(default_factory=list)  # new-side lines of each hunk


@dataclass
class DiffSelection:
    root: Path
    description: str  # e.g. "staged changes", "changes since main"
    files: list[DiffFile] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)
    deletion_only_hunks: int = 0


def load_diff(
    ref: str | None = None,
    *,
    staged: bool = False,
    repo: str | Path = ".",
    max_bytes: int = 256_000,
    context_lines: int = 3,
) -> DiffSelection:
    """The changes to review: ``staged`` (the index vs HEAD) or the working tree vs ``ref``
    (default ``HEAD``); ``ref`` may also be a commit range ``A..B`` or ``A...B``."""
    start = Path(repo).expanduser().resolve()
    root = git.toplevel(start) if start.exists() else None
    if root is None:
        raise InputError(
            f"{repo}: not inside a git repository",
            hint="diff modes (--staged, --diff REF) need git; review a path instead",
        )
    refs: list[str] = []
    new_side: str | None  # None = working tree, "" = index, else a commit
    if staged:
        description = "staged changes"
        new_side = ""
        if ref:
            refs.append(ref)
        if not git.has_commits(root):
            refs.append(git.empty_tree(root))  # first commit: everything staged is new
    elif ref and ".." in ref:
        left, _, right = ref.partition("...") if "..." in ref else ref.partition("..")
        refs.append(ref)
        new_side = right or "HEAD"
        description = f"changes {left or 'HEAD'}..{new_side}"
    else:
        ref = ref or "HEAD"
        description = f"changes since {ref}"
        if ref == "HEAD" and not git.has_commits(root):
            ref = git.empty_tree(root)
            description = "changes (no commit yet)"
        refs.append(ref)
        new_side = None
    raw = git.diff(root, *refs, cached=staged, context_lines=context_lines)
    return _parse(root, raw, description, new_side, max_bytes)


def limit_to(selection: DiffSelection, paths: Sequence[str | Path]) -> DiffSelection:
    """The changes under ``paths`` (files or folders inside the repository; none: all).

    Raises :class:`~assistants.errors.InputError` for a path outside the repository, and for
    one that neither exists nor has a change under it (a typo, or a ref given as a path:
    ``--staged main``), rather than reviewing nothing."""
    if not paths:
        return selection
    listed = [f.path for f in selection.files] + [s.path for s in selection.skipped]
    limits: list[str] = []
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
        if not target.exists() and not any(p == limit or p.startswith(limit + "/") for p in listed):
            raise InputError(
                f"{raw}: no such file or directory, and no change under it",
                hint="PATHS limit the review to files or folders; a ref goes in --diff REF",
            )
        limits.append(limit)

    def wanted(path: str) -> bool:
        return any(lim in (".", path) or path.startswith(lim.rstrip("/") + "/") for lim in limits)

    return replace(
        selection,
        files=[f for f in selection.files if wanted(f.path)],
        skipped=[s for s in selection.skipped if wanted(s.path)],
    )


def _read_new(root: Path, path: str, new_side: str | None) -> bytes:
    if new_side is None:
        return (root / path).read_bytes()
    return git.show(root, new_side, path)


def _parse(
    root: Path, raw: str, description: str, new_side: str | None, max_bytes: int
) -> DiffSelection:
    from unidiff import PatchSet

    selection = DiffSelection(root=root, description=description)
    if not raw.strip():
        return selection
    patch = PatchSet(raw)
    for pf in patch:
        path = pf.path
        shown = printable(path)
        if pf.is_removed_file:
            selection.skipped.append(SkippedPath(shown, "deleted"))
            continue
        if pf.is_binary_file:
            selection.skipped.append(SkippedPath(shown, "binary"))
            continue
        if pf.is_symlink or pf.is_submodule:  # the "text" is a link target or a commit id
            selection.skipped.append(
                SkippedPath(shown, "symlink" if pf.is_symlink else "submodule")
            )
            continue
        skip = check_name(path)
        if skip is not None:
            selection.skipped.append(skip)
            continue
        added: list[int] = []
        removed: dict[int, list[str]] = {}
        hunk_spans: list[tuple[int, int]] = []
        for hunk in pf:
            hunk_added = [ln.target_line_no for ln in hunk if ln.is_added and ln.target_line_no]
            if not hunk_added:
                selection.deletion_only_hunks += 1
                continue
            added.extend(hunk_added)
            pending: list[str] = []
            for ln in hunk:
                if ln.is_removed:
                    pending.append(printable(ln.value.rstrip("\r\n")))  # old side: any bytes
                elif pending and ln.target_line_no:
                    removed.setdefault(ln.target_line_no, []).extend(pending)
                    pending = []
            if pending:  # removals at the end of the hunk
                end = hunk.target_start + hunk.target_length
                removed.setdefault(end, []).extend(pending)
            hunk_spans.append((hunk.target_start, hunk.target_start + hunk.target_length - 1))
        if not added:
            reason = "deletions-only" if len(pf) else "unchanged"
            selection.skipped.append(SkippedPath(path, reason))
            continue
        try:
            data = _read_new(root, path, new_side)
        except (OSError, InputError) as exc:
            selection.skipped.append(SkippedPath(path, "missing", str(exc)))
            continue
        text, skip = check_content(path, data, max_bytes=max_bytes)
        if skip is not None or text is None:
            selection.skipped.append(skip or SkippedPath(path, "empty"))
            continue
        language = detect_language(path) or "text"
        line_total = len(split_lines(text))
        spans = [enclosing_span(text, language, n) for n in added]
        spans += [(max(1, a), min(line_total, b)) for a, b in hunk_spans]
        # removed lines at the very end of the file point one past the last line
        removed = {min(k, line_total + 1): v for k, v in removed.items()}
        old = pf.source_file[2:] if pf.source_file.startswith("a/") else None
        selection.files.append(
            DiffFile(
                path=path,
                language=language,
                text=text,
                added=sorted(set(added)),
                ranges=merge_ranges(spans),
                removed=removed,
                old_path=old if old and old != path else None,
                hunks=hunk_spans,
            )
        )
    selection.files.sort(key=lambda f: f.path)
    selection.skipped.sort(key=lambda s: s.path)
    return selection
