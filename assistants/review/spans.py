"""Code spans: where a definition starts and ends, where a large file can be cut.

:func:`enclosing_span` finds the innermost function or class around a line (Python via
:mod:`ast`, other languages via a regex on definition lines), capped in size, so a diff hunk is
shown with its context; :func:`cut_points` lists the lines where a file larger than the
request budget can be split (top-level definitions first); :func:`merge_ranges` joins
overlapping line ranges. Lines are numbered as git numbers them (:func:`split_lines`).
"""

from __future__ import annotations

import ast
import re

__all__ = [
    "FALLBACK_CONTEXT",
    "MAX_CONTEXT_LINES",
    "cut_points",
    "enclosing_span",
    "merge_ranges",
    "split_lines",
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


def split_lines(text: str) -> list[str]:
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
    lines = split_lines(text)
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
    lines = split_lines(text)
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
