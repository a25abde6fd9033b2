"""Git diffs for review: the changed files, their new-side text and the lines to show.

:func:`load_diff` runs ``git diff`` (the index with ``staged=True``, else the working tree
against ``ref``, or ``A..B`` / ``A...B`` between commits), parses it with :mod:`unidiff` and
returns, per file, the new-side text, the added line numbers and the context ranges: each hunk
widened to its enclosing function or class (Python via :mod:`ast`, other languages via a regex
on definition lines), capped in size. Hunks that only delete lines are dropped and counted.
The same structure helpers split large files on top-level definitions (:func:`cut_points`).
"""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .files import (
    SkippedPath,
    check_content,
    check_name,
    detect_language,
    git_root,
    printable,
)

__all__ = [
    "DiffFile",
    "DiffSelection",
    "cut_points",
    "enclosing_span",
    "load_diff",
    "merge_ranges",
]

MAX_CONTEXT_LINES = 150  # an enclosing definition longer than this is not shown whole
FALLBACK_CONTEXT = 8  # lines either side of a change when the definition is too long

_DEFINITION = re.compile(
    r"^(?P<indent>\s*)(?:@\w+\s+)?(?:export\s+)?(?:default\s+)?(?:pub(?:\([^)]*\))?\s+)?"
    r"(?:(?:public|private|protected|internal|static|final|abstract|async|override|virtual|"
    r"inline|const|unsafe|extern|sealed|open|data|suspend|partial|readonly)\s+)*"
    r"(?:def|class|func|fn|function\*?|interface|struct|enum|impl|trait|module|object|"
    r"record|namespace|sub|proc|macro_rules!)\b"
    r"|^(?P<indent2>\s*)(?:export\s+)?(?:const|let|var)\s+\w+\s*=\s*(?:async\s*)?"
    r"(?:function\b|\([^)]*\)\s*=>|\w+\s*=>)"
    r"|^(?P<indent3>\s*)(?:[\w:<>\[\],*&]+\s+)+\**[\w:~]+\s*\([^;]*\)\s*(?:const\s*)?"
    r"(?:\{\s*)?$"
)
_CLOSER = re.compile(r"^\s*(?:[}\])]+[;,)]*|end\b.*)\s*$")
_PREAMBLE = re.compile(r"^\s*(?:#|//|/\*|\*|@|\[\w)")


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


@dataclass
class DiffSelection:
    root: Path
    description: str  # e.g. "staged changes", "changes since main"
    files: list[DiffFile] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)
    deletion_only_hunks: int = 0


def _git(root: Path, *args: str, check: bool = True) -> bytes:
    proc = subprocess.run(
        ["git", "-C", str(root), "-c", "core.quotepath=off", *args],
        capture_output=True,
        check=False,
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"git {args[0]} failed: {message[0] if message else proc.returncode}",
            hint="check the ref (e.g. --diff main, --diff HEAD~1) and that this is a git repo",
        )
    return proc.stdout


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
    root = git_root(start) if start.exists() else None
    if root is None:
        raise InputError(
            f"{repo}: not inside a git repository",
            hint="diff modes (--staged, --diff REF) need git; review a path instead",
        )
    args = ["diff", "--no-color", "--no-ext-diff", "--find-renames", f"-U{context_lines}"]
    new_side: str | None  # None = working tree, "" = index, else a commit
    if staged:
        args.append("--cached")
        description = "staged changes"
        new_side = ""
        if ref:
            args.append(ref)
    elif ref and ".." in ref:
        left, _, right = ref.partition("...") if "..." in ref else ref.partition("..")
        args.append(ref)
        new_side = right or "HEAD"
        description = f"changes {left or 'HEAD'}..{new_side}"
    else:
        ref = ref or "HEAD"
        description = f"changes since {ref}"
        if ref == "HEAD" and not _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False):
            ref = _empty_tree(root)
            description = "changes (no commit yet)"
        args.append(ref)
        new_side = None
    if staged and not _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False):
        args.append(_empty_tree(root))  # first commit: everything staged is new
    raw = _git(root, *args, "--").decode("utf-8", "surrogateescape")
    return _parse(root, raw, description, new_side, max_bytes)


def _empty_tree(root: Path) -> str:
    return _git(root, "hash-object", "-t", "tree", "/dev/null").decode().strip()


def _read_new(root: Path, path: str, new_side: str | None) -> bytes:
    if new_side is None:
        return (root / path).read_bytes()
    return _git(root, "show", f"{new_side}:{path}")


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
        line_total = len(_split(text))
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
            )
        )
    selection.files.sort(key=lambda f: f.path)
    selection.skipped.sort(key=lambda s: s.path)
    return selection


def _split(text: str) -> list[str]:
    """The lines of ``text`` as git numbers them: split on "\\n" only (``str.splitlines`` also
    splits on form feeds, U+2028 and other characters that are not line breaks to git)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def merge_ranges(spans: list[tuple[int, int]], gap: int = 1) -> list[tuple[int, int]]:
    """Merge overlapping or adjacent (within ``gap``) line ranges."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _python_definitions(text: str) -> list[tuple[int, int, int]] | None:
    """(start incl. decorators, end, depth) of every def/class, or None on a syntax error."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    out: list[tuple[int, int, int]] = []

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                out.append((start, child.end_lineno or child.lineno, depth))
                visit(child, depth + 1)
            else:
                visit(child, depth)

    visit(tree, 0)
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _regex_block(lines: list[str], start: int) -> int:
    """End line (1-based) of the block whose definition is on line ``start`` (1-based)."""
    base = _indent(lines[start - 1])
    end = start
    for i in range(start, min(len(lines), start + MAX_CONTEXT_LINES * 4)):
        line = lines[i]
        if not line.strip():
            continue
        if _indent(line) <= base:
            if _CLOSER.match(line):
                return i + 1
            return end
        end = i + 1
    return end


def enclosing_span(text: str, language: str, line: int) -> tuple[int, int]:
    """The innermost function or class around ``line`` (1-based), as a line range; a window of
    :data:`FALLBACK_CONTEXT` lines when there is none or it is too long."""
    lines = _split(text)
    total = len(lines)
    window = (max(1, line - FALLBACK_CONTEXT), min(total, line + FALLBACK_CONTEXT))
    if not lines:
        return (1, 1)
    best: tuple[int, int] | None = None
    defs = _python_definitions(text) if language == "python" else None
    if defs is not None:
        for start, end, _depth in defs:
            if start <= line <= end and (best is None or end - start < best[1] - best[0]):
                best = (start, end)
    else:
        line = min(max(line, 1), total)
        target = _indent(lines[line - 1]) if lines[line - 1].strip() else 10**6
        for i in range(line, 0, -1):
            candidate = lines[i - 1]
            if not candidate.strip() or not _DEFINITION.match(candidate):
                continue
            if i == line or _indent(candidate) < target:
                end = _regex_block(lines, i)
                if end >= line:
                    best = (i, end)
                    break
                target = min(target, _indent(candidate))
    if best is None or best[1] - best[0] + 1 > MAX_CONTEXT_LINES:
        return window
    return best


def cut_points(text: str, language: str, start: int = 1, end: int | None = None) -> list[int]:
    """Line numbers inside ``start..end`` where a large file can be split: top-level
    statements (Python, via ast), otherwise unindented definition lines (with the comments and
    decorators just above them). Nested definitions are used when no top-level one falls in
    the range. Always includes ``start``."""
    lines = _split(text)
    end = len(lines) if end is None else end
    points: set[int] = {start}
    if language == "python":
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None
        if tree is not None:
            nodes: list[ast.stmt] = list(tree.body)
            top = [_stmt_start(n) for n in nodes]
            inside = [p for p in top if start < p <= end]
            if not inside:  # a range inside one big statement: use its nested statements
                for node in nodes:
                    if _stmt_start(node) <= start and (node.end_lineno or 0) >= end:
                        inside = [
                            _stmt_start(n)
                            for n in ast.iter_child_nodes(node)
                            if isinstance(n, ast.stmt) and start < _stmt_start(n) <= end
                        ]
            points.update(inside)
            return sorted(points)
    for depth_ok in (lambda ind: ind == 0, lambda ind: True):
        found = []
        for n in range(start + 1, end + 1):
            line = lines[n - 1]
            if line.strip() and depth_ok(_indent(line)) and _DEFINITION.match(line):
                top_n = n
                while top_n - 1 > start and _PREAMBLE.match(lines[top_n - 2]):
                    top_n -= 1
                found.append(top_n)
        if found:
            points.update(found)
            break
    return sorted(points)


def _stmt_start(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])
