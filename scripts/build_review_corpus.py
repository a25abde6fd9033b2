"""Build the reviewer's benchmark corpus: real code from pinned packages, seeded bugs, clean diffs.

Usage::

    python scripts/build_review_corpus.py            # writes assistants/data/review-corpus/
    python scripts/build_review_corpus.py --out DIR  # somewhere else (the test compares)
    python scripts/build_review_corpus.py --downloads DIR  # keep the fetched packages there

What it does, deterministically (the same pinned packages give the same bytes):

1. Fetches pinned, permissively licensed packages with the registries' ordinary clients:
   Python wheels with ``pip download --no-deps --only-binary :all:`` and JavaScript packages
   with ``npm pack``; each file is checked against its pinned SHA-256.
2. Reads the chosen source files; records project, version, registry and licence per file,
   and copies each package's licence text.
3. Finds mutation sites (Python: :mod:`ast` node positions; JavaScript: positions in a small
   lexer's code tokens, strings and comments left alone) for the operators below, and picks
   some of each with a seeded :class:`random.Random`. Each pick becomes a unified diff and the
   (new-side) line it broke.
4. Adds clean diffs that change no behaviour (a local renamed, a statement reformatted, a
   comment added): every finding on them is a false positive. Reformatting and comments are
   checked to leave the Python AST unchanged.

Operators: off-by-one, flipped-comparison, and-or-swap, removed-none-check, swapped-arguments,
missing-await, string-built-sql, resource-not-closed, swallowed-exception. JavaScript has no
string-built-sql and no resource-not-closed sites: the pinned JS packages run no SQL of their own
(pg sends the caller's text) and hold no resources in ``with``-like blocks.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "assistants" / "data" / "review-corpus"
SEED = 20261127
FORMAT = 1
QUOTA = {"python": 15, "javascript": 10}  # seeded diffs per operator and language
CLEAN = {
    "python": {"rename-local": 10, "reformat": 10, "comment-only": 10},
    "javascript": {"rename-local": 7, "reformat": 7, "comment-only": 6},
}


@dataclass(frozen=True)
class Package:
    registry: str  # pypi | npm
    name: str
    version: str
    sha256: str
    license: str
    license_file: str  # inside the archive
    files: tuple[str, ...]  # inside the archive

    @property
    def spec(self) -> str:
        return (
            f"{self.name}=={self.version}"
            if self.registry == "pypi"
            else f"{self.name}@{self.version}"
        )


PACKAGES = (
    Package("pypi", "itsdangerous", "2.2.0",
            "c6242fc49e35958c8b15141343aa660db5fc54d4f13a1db01a3f5891b98700ef", "BSD-3-Clause",
            "itsdangerous-2.2.0.dist-info/LICENSE.txt",
            ("itsdangerous/encoding.py", "itsdangerous/serializer.py", "itsdangerous/signer.py",
             "itsdangerous/timed.py", "itsdangerous/url_safe.py")),
    Package("pypi", "click", "8.1.7",
            "ae74fb96c20a0277a1d615f1e4d73c8414f5a98db8b799a7931d1582f3390c28", "BSD-3-Clause",
            "click-8.1.7.dist-info/LICENSE.rst",
            ("click/formatting.py", "click/parser.py", "click/termui.py", "click/utils.py",
             "click/_compat.py", "click/_termui_impl.py")),
    Package("pypi", "cachetools", "5.3.3",
            "0abad1021d3f8325b2fc1d2e9c8b9c9d57b04c3932657a72465447332c24d945", "MIT",
            "cachetools-5.3.3.dist-info/LICENSE", ("cachetools/__init__.py", "cachetools/func.py")),
    Package("pypi", "aiosqlite", "0.20.0",
            "36a1deaca0cac40ebe32aac9977a6e2bbc7f5189f23f4a54d5908986729e5bd6", "MIT",
            "aiosqlite-0.20.0.dist-info/LICENSE",
            ("aiosqlite/core.py", "aiosqlite/cursor.py", "aiosqlite/context.py")),
    Package("pypi", "sqlite-utils", "3.37",
            "4fb0dc9e61b1f9226a14eb1f072e984cf3cb69058dc2838887600a0771e9624f", "Apache-2.0",
            "sqlite_utils-3.37.dist-info/LICENSE", ("sqlite_utils/db.py", "sqlite_utils/utils.py")),
    Package("pypi", "datasette", "0.64.8",
            "b31afc90e0493fd2199284e4e2ad4774edc95d80a623d28114cc82db48741461", "Apache-2.0",
            "datasette-0.64.8.dist-info/LICENSE",
            ("datasette/utils/internal_db.py", "datasette/database.py", "datasette/cli.py",
             "datasette/inspect.py", "datasette/publish/heroku.py", "datasette/app.py")),
    Package("pypi", "python-dotenv", "1.0.1",
            "f7b63ef50f1b690dddf550d03497b66d609393b40b564ed0d674909a68ebf16a", "BSD-3-Clause",
            "python_dotenv-1.0.1.dist-info/LICENSE", ("dotenv/main.py", "dotenv/cli.py")),
    Package("npm", "express", "4.19.2",
            "1b18c90e7e9fc4cb3e4dfe6b5f11c21b85509162e88ca5c6b63b9c6b5ca085bf", "MIT",
            "package/LICENSE",
            ("package/lib/application.js", "package/lib/request.js", "package/lib/response.js",
             "package/lib/router/index.js", "package/lib/router/route.js",
             "package/lib/router/layer.js", "package/lib/utils.js", "package/lib/view.js")),
    Package("npm", "koa", "2.15.3",
            "23b9a334640c93f61306e1941dc87b6001b0273230482fb9138243de870727f1", "MIT",
            "package/LICENSE",
            ("package/lib/application.js", "package/lib/context.js", "package/lib/request.js",
             "package/lib/response.js")),
    Package("npm", "pg", "8.11.5",
            "8b9c8e002e837b499eac23089485671b794508cbe2a98096544c905108b073ee", "MIT",
            "package/LICENSE",
            ("package/lib/client.js", "package/lib/connection-parameters.js",
             "package/lib/query.js", "package/lib/utils.js", "package/lib/crypto/sasl.js",
             "package/lib/crypto/utils-webcrypto.js", "package/lib/native/client.js",
             "package/lib/native/query.js")),
    Package("npm", "semver", "7.6.2",
            "def1e6490ac0c7810b0b815fe6542f3213d44c95b068059dcac2f81e2c2237a4", "ISC",
            "package/LICENSE",
            ("package/classes/range.js", "package/classes/semver.js",
             "package/classes/comparator.js", "package/functions/coerce.js",
             "package/functions/diff.js", "package/ranges/subset.js",
             "package/ranges/min-version.js", "package/ranges/outside.js")),
)  # fmt: skip


class FetchError(RuntimeError):
    """A pinned package could not be fetched or did not match its pin."""


# -- fetching -----------------------------------------------------------------------------
def _artifact(folder: Path, pkg: Package) -> Path | None:
    for path in sorted(folder.glob("*")):
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == pkg.sha256:
            return path
    return None


def fetch(pkg: Package, folder: Path, timeout: float = 300) -> Path:
    """The pinned archive of ``pkg`` in ``folder`` (downloaded when not already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    found = _artifact(folder, pkg)
    if found is not None:
        return found
    if pkg.registry == "pypi":
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--retries",
            "1",
            "--timeout",
            "30",
            "-q",
            "-d",
            str(folder),
            pkg.spec,
        ]
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise FetchError("npm is not installed (needed for the JavaScript packages)")
        command = [
            npm,
            "pack",
            pkg.spec,
            "--pack-destination",
            str(folder),
            "--prefer-offline",
            "--fetch-retries",
            "1",
            "--silent",
        ]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FetchError(f"{pkg.spec}: {exc}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise FetchError(f"{pkg.spec}: {last}")
    found = _artifact(folder, pkg)
    if found is None:
        raise FetchError(f"{pkg.spec}: nothing fetched matches the pinned sha256 {pkg.sha256}")
    return found


def read_archive(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            for name in names:
                out[name] = zf.read(name).decode("utf-8")
    else:
        with tarfile.open(path, "r:gz") as tf:
            for name in names:
                member = tf.extractfile(name)
                if member is None:
                    raise FetchError(f"{path.name}: {name} is not a file")
                out[name] = member.read().decode("utf-8")
    return out


# -- shared: one mutation ---------------------------------------------------------------
@dataclass
class Site:
    file: str  # corpus file id
    operator: str
    line: int  # new-side line the mutation broke (or changed)
    new_text: str
    description: str
    order: tuple[int, int] = (0, 0)  # line, column in the original (for a stable sort)
    check: str = ""  # "parses" / "same-ast": checked when picked (parsing every site is slow)


@dataclass
class Source:
    id: str
    project: str
    version: str
    registry: str
    license: str
    path: str
    language: str
    text: str
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines(keepends=True)


def _replace(src: Source, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
    """``src.text`` with the span (1-based lines, 0-based character columns) replaced."""
    lines = src.lines
    before = "".join(lines[: start[0] - 1]) + lines[start[0] - 1][: start[1]]
    after = lines[end[0] - 1][end[1] :] + "".join(lines[end[0] :])
    return before + new + after


def _replace_lines(src: Source, first: int, last: int, new_lines: list[str]) -> str:
    return "".join(src.lines[: first - 1]) + "".join(new_lines) + "".join(src.lines[last:])


# -- Python sites -------------------------------------------------------------------------
def _char_col(src: Source, line: int, byte_col: int) -> int:
    return len(src.lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _span(src: Source, node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    n: ast.expr = node  # type: ignore[assignment]
    end_line, end_col = n.end_lineno or n.lineno, n.end_col_offset or 0
    return (n.lineno, _char_col(src, n.lineno, n.col_offset)), (
        end_line,
        _char_col(src, end_line, end_col),
    )


def _text(src: Source, node: ast.AST) -> str:
    (l1, c1), (l2, c2) = _span(src, node)
    if l1 == l2:
        return src.lines[l1 - 1][c1:c2]
    return src.lines[l1 - 1][c1:] + "".join(src.lines[l1 : l2 - 1]) + src.lines[l2 - 1][:c2]


def _one_line(node: ast.AST) -> bool:
    return getattr(node, "lineno", 0) == getattr(node, "end_lineno", -1)


def _between(src: Source, left: ast.AST, right: ast.AST) -> tuple[int, int, str] | None:
    """Line, start column and text between two nodes on one line."""
    (_, _), (l1, c1) = _span(src, left)
    (l2, c2), _ = _span(src, right)
    if l1 != l2:
        return None
    return l1, c1, src.lines[l1 - 1][c1:c2]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


SYMMETRIC = {
    "max",
    "min",
    "print",
    "set",
    "frozenset",
    "tuple",
    "list",
    "dict",
    "zip",
    "abs",
    "hash",
    "id",
    "len",
    "sorted",
    "add",
    "update",
    "echo",
    "warn",
    "debug",
    "info",
    "warning",
    "error",
    "append",
    "extend",
    "write",
    "secho",
}
RESOURCE_CALLS = {
    "open",
    "connect",
    "urlopen",
    "fdopen",
    "NamedTemporaryFile",
    "TemporaryFile",
    "ZipFile",
    "TarFile",
    "socket",
    "Popen",
    "open_file",
    "_wrap_io_open",
    "TemporaryDirectory",
}
FLIP = {
    "<": ">",
    ">": "<",
    "<=": ">=",
    ">=": "<=",
    "==": "!=",
    "!=": "==",
    "is not": "is",
    "is": "is not",
    "not in": "in",
    "in": "not in",
}
BOUNDARY = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
OP_TEXT = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


def _name_of(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_none_test(node: ast.expr, op: type[ast.cmpop]) -> ast.expr | None:
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], op)
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value is None
    ):
        return node.left
    return None


def _bump(src: Source, node: ast.expr, delta: int) -> str:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return str(node.value + delta)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) is int
    ):
        value = -node.operand.value + delta
        return str(value) if value else "0"
    text = _text(src, node)
    if isinstance(node, ast.BinOp | ast.IfExp | ast.BoolOp | ast.Compare):
        text = f"({text})"
    return f"{text} {'+' if delta > 0 else '-'} {abs(delta)}"


def python_sites(src: Source) -> Iterator[Site]:
    tree = ast.parse(src.text)
    for node in ast.walk(tree):
        pos = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))

        def site(op: str, line: int, new: str, what: str) -> Site:
            return Site(src.id, op, line, new, what, pos, "parses")  # noqa: B023

        if isinstance(node, ast.Compare) and len(node.ops) == 1 and _one_line(node):
            gap = _between(src, node.left, node.comparators[0])
            op = OP_TEXT.get(type(node.ops[0]))
            if gap and op:
                line, col, between = gap
                m = re.fullmatch(rf"(\s*){re.escape(op)}(\s*)", between)
                if m:
                    a, b = (line, col + len(m.group(1))), (line, col + len(m.group(1)) + len(op))
                    yield site(
                        "flipped-comparison",
                        line,
                        _replace(src, a, b, FLIP[op]),
                        f"`{op}` became `{FLIP[op]}`",
                    )
                    if op in BOUNDARY:
                        yield site(
                            "off-by-one",
                            line,
                            _replace(src, a, b, BOUNDARY[op]),
                            f"`{op}` became `{BOUNDARY[op]}`",
                        )
        if isinstance(node, ast.BoolOp) and len(node.values) == 2 and _one_line(node):
            gap = _between(src, node.values[0], node.values[1])
            word = "and" if isinstance(node.op, ast.And) else "or"
            other = "or" if word == "and" else "and"
            if gap:
                line, col, between = gap
                m = re.fullmatch(rf"(\)?\s+){word}(\s+\(?)", between)
                if m:
                    a = (line, col + len(m.group(1)))
                    yield site(
                        "and-or-swap",
                        line,
                        _replace(src, a, (line, a[1] + len(word)), other),
                        f"`{word}` became `{other}`",
                    )
            for i, value in enumerate(node.values):
                checked = _is_none_test(value, ast.IsNot if word == "and" else ast.Is)
                if checked is not None:
                    rest = node.values[1 - i]
                    start, end = _span(src, node)
                    yield site(
                        "removed-none-check",
                        start[0],
                        _replace(src, start, end, _text(src, rest)),
                        f"the `{_text(src, value)}` check was dropped",
                    )
        if isinstance(node, ast.IfExp) and _one_line(node):
            for op, keep in ((ast.IsNot, node.body), (ast.Is, node.orelse)):
                checked = _is_none_test(node.test, op)
                if checked is not None and _text(src, checked) in _text(src, keep):
                    start, end = _span(src, node)
                    yield site(
                        "removed-none-check",
                        start[0],
                        _replace(src, start, end, _text(src, keep)),
                        f"the `{_text(src, node.test)}` check was dropped",
                    )
        if isinstance(node, ast.Call) and _one_line(node):
            name = _name_of(node.func)
            if name == "range" and 1 <= len(node.args) <= 2 and not node.keywords:
                stop = node.args[-1]
                start, end = _span(src, stop)
                yield site(
                    "off-by-one",
                    start[0],
                    _replace(src, start, end, _bump(src, stop, -1)),
                    "the range stops one early",
                )
            args = node.args
            if (
                len(args) >= 2
                and name not in SYMMETRIC
                and name
                and not any(isinstance(a, ast.Starred) for a in args[:2])
                and all(isinstance(a, ast.Name | ast.Attribute | ast.Constant) for a in args[:2])
                and not all(isinstance(a, ast.Constant) for a in args[:2])
                and _text(src, args[0]) != _text(src, args[1])
            ):
                (l1, c1), _ = _span(src, args[0])
                _, (l2, c2) = _span(src, args[1])
                swapped = f"{_text(src, args[1])}, {_text(src, args[0])}"
                if l1 == l2 and re.fullmatch(r",\s*", _between(src, args[0], args[1])[2]):  # type: ignore[index]
                    yield site(
                        "swapped-arguments",
                        l1,
                        _replace(src, (l1, c1), (l2, c2), swapped),
                        f"the first two arguments of `{name}()` were swapped",
                    )
        if isinstance(node, ast.Call) and _name_of(node.func) in {"execute", "executemany"}:
            built = _interpolated(src, node)
            if built is not None:
                start, _ = _span(src, node.args[0])
                _, end = _span(src, node.args[1])
                yield site(
                    "string-built-sql",
                    start[0],
                    _replace(src, start, end, built),
                    "the SQL parameters were interpolated into the query text",
                )
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            sl = node.slice
            bound = sl.upper if sl.upper is not None else sl.lower
            if bound is not None and sl.step is None and _one_line(node):
                start, end = _span(src, bound)
                yield site(
                    "off-by-one",
                    start[0],
                    _replace(src, start, end, _bump(src, bound, 1)),
                    "a slice bound moved by one",
                )
        if isinstance(node, ast.Await):
            start, _ = _span(src, node)
            value_start, _ = _span(src, node.value)
            if start[0] == value_start[0]:
                yield site(
                    "missing-await",
                    start[0],
                    _replace(src, start, value_start, ""),
                    "an `await` was dropped",
                )
        if isinstance(node, ast.With) and len(node.items) == 1:
            item = node.items[0]
            call = item.context_expr
            if (
                isinstance(item.optional_vars, ast.Name)
                and isinstance(call, ast.Call)
                and _name_of(call.func) in RESOURCE_CALLS
                and node.lineno == node.body[0].lineno - 1
                and len(node.body) <= 12
            ):
                yield from _unwith(src, node, item.optional_vars.id, call, pos)
        if isinstance(node, ast.ExceptHandler) and len(node.body) == 1:
            stmt = node.body[0]
            if isinstance(stmt, ast.Raise) and stmt.lineno > node.lineno:
                indent = _indent(src.lines[stmt.lineno - 1])
                new = _replace_lines(
                    src, stmt.lineno, stmt.end_lineno or stmt.lineno, [f"{indent}pass\n"]
                )
                yield site(
                    "swallowed-exception",
                    stmt.lineno,
                    new,
                    "the handler no longer re-raises: the error is swallowed",
                )


def _interpolated(src: Source, call: ast.Call) -> str | None:
    """The f-string that builds the SQL of ``execute(SQL, params)`` from its parameters (``?``
    with a list or tuple, ``:name`` with a dict), or None when the call is not of that form."""
    if len(call.args) != 2 or not isinstance(call.args[0], ast.Constant):
        return None
    sql, params = call.args[0].value, call.args[1]
    if not isinstance(sql, str) or "'" in sql or '"' in sql:
        return None
    simple = (ast.Name, ast.Attribute)
    sql = sql.replace("{", "{{").replace("}", "}}")
    if isinstance(params, ast.List | ast.Tuple):
        if not params.elts or sql.count("?") != len(params.elts):
            return None
        if not all(isinstance(e, simple) for e in params.elts):
            return None
        pieces = sql.split("?")
        built = pieces[0]
        for elt, piece in zip(params.elts, pieces[1:], strict=True):
            built += "'{" + _text(src, elt) + "}'" + piece
    elif isinstance(params, ast.Dict) and params.keys:
        built = sql
        for key, value in zip(params.keys, params.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return None
            if not isinstance(value, simple):
                return None
            marker = re.compile(rf":{re.escape(key.value)}\b")
            if not marker.search(built):
                return None
            built = marker.sub(lambda _m, v=value: "'{" + _text(src, v) + "}'", built)  # type: ignore[misc]
        if re.search(r":[A-Za-z_]", built):
            return None
    else:
        return None
    quote = '"""' if "\n" in built else '"'
    return f"f{quote}{built}{quote}"


def _unwith(
    src: Source, node: ast.With, var: str, call: ast.Call, pos: tuple[int, int]
) -> Iterator[Site]:
    head = src.lines[node.lineno - 1]
    outer = _indent(head)
    last = node.end_lineno or node.lineno
    body = src.lines[node.lineno : last]
    inner = _indent(body[0])
    if len(inner) <= len(outer):
        return
    for stmt in ast.walk(node):
        if isinstance(stmt, ast.Constant | ast.JoinedStr) and not _one_line(stmt):
            return  # dedenting would change a multi-line string
    if any(line.strip() and not line.startswith(inner) for line in body):
        return
    if not _one_line(call):
        return
    cut = len(inner) - len(outer)
    new_body = [line[cut:] if line.strip() else line for line in body]
    new = _replace_lines(
        src, node.lineno, last, [f"{outer}{var} = {_text(src, call)}\n", *new_body]
    )
    yield Site(
        src.id,
        "resource-not-closed",
        node.lineno,
        new,
        f"`{var}` is opened without `with` and never closed",
        pos,
        "parses",
    )


# -- Python clean diffs -------------------------------------------------------------------
CANDIDATE_NAMES = (
    "result",
    "value",
    "item",
    "current",
    "entry",
    "outcome",
    "found",
    "parts",
    "pending",
    "chosen",
    "piece",
    "target",
)


def python_clean(src: Source, rng: random.Random) -> dict[str, list[Site]]:
    tree = ast.parse(src.text)
    out: dict[str, list[Site]] = {"rename-local": [], "reformat": [], "comment-only": []}
    free = _free_names(src.text)
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        inner = list(ast.walk(fn))[1:]
        pos = (fn.lineno, fn.col_offset)
        if not any(
            isinstance(
                n,
                ast.FunctionDef
                | ast.AsyncFunctionDef
                | ast.Lambda
                | ast.ClassDef
                | ast.JoinedStr
                | ast.Global
                | ast.Nonlocal,
            )
            for n in inner
        ):
            params = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
            names = [n for n in inner if isinstance(n, ast.Name)]
            stored = sorted({n.id for n in names if isinstance(n.ctx, ast.Store)} - params)
            for name in stored:
                uses = [n for n in names if n.id == name]
                if len(uses) < 2 or name == "_" or name.startswith("__"):
                    continue
                if not free:
                    continue
                new_name = free[rng.randrange(len(free))]
                new = src.text
                for use in sorted(uses, key=lambda n: (n.lineno, n.col_offset), reverse=True):
                    start, end = _span(src, use)
                    new = _replace(Source(**{**_fields(src), "text": new}), start, end, new_name)
                first = min(u.lineno for u in uses)
                out["rename-local"].append(
                    Site(
                        src.id,
                        "rename-local",
                        first,
                        new,
                        f"local `{name}` renamed to `{new_name}`",
                        pos,
                        "parses",
                    )
                )
        for stmt in fn.body:
            line = src.lines[stmt.lineno - 1]
            if (
                isinstance(stmt, ast.Assign | ast.Return | ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and _one_line(stmt)
                and len(stmt.value.args) + len(stmt.value.keywords) >= 2
                and "#" not in line
                and not any(isinstance(a, ast.Starred) for a in stmt.value.args)
            ):
                call = stmt.value
                indent = _indent(line)
                parts = [_text(src, a) for a in call.args]
                parts += [
                    f"{k.arg}={_text(src, k.value)}" if k.arg else f"**{_text(src, k.value)}"
                    for k in call.keywords
                ]
                start, _ = _span(src, call)
                head = line[: start[1]] + _text(src, call.func) + "(\n"
                if not line.rstrip("\n").endswith(_text(src, call)):
                    continue
                lines = [head] + [f"{indent}    {p},\n" for p in parts] + [f"{indent})\n"]
                new = _replace_lines(src, stmt.lineno, stmt.lineno, lines)
                out["reformat"].append(
                    Site(
                        src.id,
                        "reformat",
                        stmt.lineno,
                        new,
                        "a call split one argument a line",
                        pos,
                        "same-ast",
                    )
                )
            if isinstance(stmt, ast.Assign | ast.Return) and stmt is not fn.body[0]:
                indent = _indent(line)
                if isinstance(stmt, ast.Return):
                    comment = "# Return the result."
                elif isinstance(stmt.targets[0], ast.Name):
                    comment = f"# Compute {stmt.targets[0].id}."
                else:
                    continue
                new = _replace_lines(src, stmt.lineno, stmt.lineno - 1, [f"{indent}{comment}\n"])
                out["comment-only"].append(
                    Site(
                        src.id, "comment-only", stmt.lineno, new, "a comment added", pos, "same-ast"
                    )
                )
    return out


def _free_names(text: str) -> list[str]:
    """The candidate names a file does not use anywhere (a rename to one changes nothing)."""
    words = set(re.findall(r"[A-Za-z_$][\w$]*", text))
    return [c for c in CANDIDATE_NAMES if c not in words]


def _fields(src: Source) -> dict[str, str]:
    return {
        k: getattr(src, k)
        for k in ("id", "project", "version", "registry", "license", "path", "language")
    }


def _same_ast(a: str, b: str) -> bool:
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


# -- JavaScript ---------------------------------------------------------------------------
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {""}
_KEYWORDS_BEFORE_REGEX = {"return", "typeof", "case", "do", "else", "in", "of", "void", "throw"}


def js_code_mask(text: str) -> list[bool]:
    """Per character: True for code, False inside strings, template literals, comments and
    regular expression literals (a small lexer; enough for the pinned packages)."""
    mask = [True] * len(text)
    i, n = 0, len(text)
    last = ""  # last significant code character (or keyword) before i
    while i < n:
        ch = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif ch in "'\"`":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            j += 1
        elif ch == "/" and (last in _REGEX_AFTER or last in _KEYWORDS_BEFORE_REGEX):
            j, in_class = i + 1, False
            while j < n and text[j] != "\n":
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "[":
                    in_class = True
                elif text[j] == "]":
                    in_class = False
                elif text[j] == "/" and not in_class:
                    break
                j += 1
            j += 1
            while j < n and text[j].isalpha():
                j += 1
        else:
            if not ch.isspace():
                if ch.isalnum() or ch in "_$":
                    m = re.compile(r"[\w$]+").match(text, i)
                    assert m is not None
                    last = m.group(0)
                    i = m.end()
                    continue
                last = ch
            i += 1
            continue
        for k in range(i, min(j, n)):
            mask[k] = False
        last = "x"  # a literal is a value
        i = j
    return mask


JS_PATTERNS: tuple[tuple[str, str, Callable[[re.Match[str]], str], str], ...] = (
    ("off-by-one", r"\.length - 1\b", lambda m: ".length", "`.length - 1` became `.length`"),
    ("off-by-one", r"(?<=[\s(])(<|<=|>|>=)(?=\s)",
     lambda m: BOUNDARY[m.group(1)], "a comparison's boundary moved by one"),
    ("off-by-one", r"\.slice\((\d+)", lambda m: f".slice({int(m.group(1)) + 1}",
     "a slice start moved by one"),
    ("flipped-comparison", r"(?<=\s)(===|!==|==|!=|<=|>=|<|>)(?=\s)",
     lambda m: {"===": "!==", "!==": "===", **FLIP}[m.group(1)], "a comparison was flipped"),
    ("and-or-swap", r"(?<=\s)(&&|\|\|)(?=\s)",
     lambda m: "||" if m.group(1) == "&&" else "&&", "`&&` and `||` were swapped"),
    ("removed-none-check", r"\b[\w$.]+ !==? (?:null|undefined) && ",
     lambda m: "", "a null check was dropped"),
    ("removed-none-check", r"\b([\w$]+) && (?=\1\.)", lambda m: "", "a null check was dropped"),
    ("swapped-arguments",
     r"(?<![\w$.])(?!(?:function|if|while|for|switch|catch|require|max|min|log)\()"
     r"([\w$.]+)\(([\w$.]+), ([\w$.]+)\)(?!\s*(?:\{|=>))",
     lambda m: f"{m.group(1)}({m.group(3)}, {m.group(2)})",
     "the first two arguments of a call were swapped"),
    ("missing-await", r"\bawait ", lambda m: "", "an `await` was dropped"),
    ("swallowed-exception", r"\bif \((err|e|error)\) return ([\w$.]+)\(\1(?=[,)])",
     lambda m: f"if ({m.group(1)}) return {m.group(2)}(", "the error is no longer passed on"),
)  # fmt: skip


def javascript_sites(src: Source) -> Iterator[Site]:
    mask = js_code_mask(src.text)
    offset = 0
    for number, line in enumerate(src.lines, 1):
        for op, pattern, make, what in JS_PATTERNS:
            for m in re.finditer(pattern, line):
                if not all(mask[offset + k] for k in range(m.start(), m.end())):
                    continue
                if (
                    op in ("flipped-comparison", "off-by-one")
                    and "=>" in line[m.start() - 1 : m.end() + 1]
                ):
                    continue
                if op == "swapped-arguments" and m.group(2) == m.group(3):
                    continue
                if op == "and-or-swap" and len(re.findall(r"&&|\|\|", line)) != 1:
                    continue
                new_line = line[: m.start()] + make(m) + line[m.end() :]
                new = _replace_lines(src, number, number, [new_line])
                yield Site(src.id, op, number, new, what, (number, m.start()))
        catch = re.search(r"\bcatch \((\w+)\) \{\s*$", line)
        if catch and number < len(src.lines):
            following = src.lines[number]
            if re.fullmatch(rf"\s*throw {catch.group(1)};?\s*", following):
                indent = _indent(following)
                new = _replace_lines(src, number + 1, number + 1, [f"{indent}// ignore\n"])
                yield Site(
                    src.id,
                    "swallowed-exception",
                    number + 1,
                    new,
                    "the catch block no longer re-throws",
                    (number + 1, 0),
                )
        offset += len(line)


def javascript_clean(src: Source, rng: random.Random) -> dict[str, list[Site]]:
    out: dict[str, list[Site]] = {"rename-local": [], "reformat": [], "comment-only": []}
    mask = js_code_mask(src.text)
    starts = [0]
    for line in src.lines:
        starts.append(starts[-1] + len(line))
    code_words: dict[str, list[int]] = {}
    for m in re.finditer(r"(?<![\w$.])[A-Za-z_$][\w$]*\b", src.text):
        if mask[m.start()]:
            code_words.setdefault(m.group(0), []).append(m.start())
    free = _free_names(src.text)
    for m in re.finditer(r"\b(?:var|let|const) ([A-Za-z_$][\w$]*) = ", src.text):
        name = m.group(1)
        places = code_words.get(name, [])
        decl = m.start(1)
        if len(places) < 2 or len(places) > 15 or not mask[decl]:
            continue
        if len(re.findall(rf"\b(?:var|let|const) {re.escape(name)}\b", src.text)) != 1:
            continue
        if not all(0 <= p - decl < 4000 for p in places):
            continue
        text = src.text
        if any(
            re.match(r"\s*:", text[p + len(name) :])
            or (re.search(r"[{,]\s*$", text[:p]) and re.match(r"\s*[},]", text[p + len(name) :]))
            for p in places
        ):
            continue  # an object key or shorthand property: renaming would change the object
        if not free:
            continue
        new_name = free[rng.randrange(len(free))]
        for p in sorted(places, reverse=True):
            text = text[:p] + new_name + text[p + len(name) :]
        line = src.text.count("\n", 0, decl) + 1
        out["rename-local"].append(
            Site(
                src.id,
                "rename-local",
                line,
                text,
                f"local `{name}` renamed to `{new_name}`",
                (line, 0),
            )
        )
    for number, line in enumerate(src.lines, 1):
        base = starts[number - 1]
        singles = [
            m
            for m in re.finditer(r"'([^'\"\\\n]*)'", line)
            if not mask[base + m.start()] and (m.start() == 0 or mask[base + m.start() - 1])
        ]
        if singles and "//" not in line and "/" not in line.replace("//", ""):
            new_line = line
            for m in reversed(singles):
                new_line = new_line[: m.start()] + f'"{m.group(1)}"' + new_line[m.end() :]
            new = _replace_lines(src, number, number, [new_line])
            out["reformat"].append(
                Site(
                    src.id,
                    "reformat",
                    number,
                    new,
                    "single quotes became double quotes",
                    (number, 0),
                )
            )
        stripped = line.strip()
        indent = _indent(line)
        if stripped.startswith("return ") and mask[base + len(indent)] and number > 1:
            new = _replace_lines(src, number, number - 1, [f"{indent}// Return the result.\n"])
            out["comment-only"].append(
                Site(src.id, "comment-only", number, new, "a comment added", (number, 0))
            )
    return out


# -- the corpus ---------------------------------------------------------------------------
def unified(src: Source, new_text: str) -> str:
    return "".join(
        difflib.unified_diff(
            src.lines, new_text.splitlines(keepends=True), f"a/{src.path}", f"b/{src.path}", n=3
        )
    )


def load_sources(downloads: Path) -> tuple[list[Source], dict[str, str]]:
    sources: list[Source] = []
    licences: dict[str, str] = {}
    for pkg in PACKAGES:
        archive = fetch(pkg, downloads)
        texts = read_archive(archive, (pkg.license_file, *pkg.files))
        licences[f"{pkg.name}-{pkg.version}"] = texts[pkg.license_file]
        for name in pkg.files:
            rel = name.removeprefix("package/")
            language = "python" if rel.endswith(".py") else "javascript"
            text = texts[name]
            if "\r" in text or not text.endswith("\n"):
                raise FetchError(f"{pkg.spec}: {name} has CR line ends or no final newline")
            sources.append(
                Source(
                    f"{pkg.name}/{rel}",
                    pkg.name,
                    pkg.version,
                    pkg.registry,
                    pkg.license,
                    f"{pkg.name}/{rel}",
                    language,
                    text,
                )
            )
    return sources, licences


def _pick(
    sites: list[Site], count: int, rng: random.Random, sources: dict[str, Source]
) -> list[Site]:
    """``count`` valid sites, spread over files: a seeded shuffle, then at most one per file
    and line, files taken round-robin."""
    order = sorted(sites, key=lambda s: (s.file, s.order, s.description))
    rng.shuffle(order)
    seen: set[tuple[str, int]] = set()
    by_file: dict[str, list[Site]] = {}
    for s in order:
        if (s.file, s.line) not in seen:
            seen.add((s.file, s.line))
            by_file.setdefault(s.file, []).append(s)
    picked: list[Site] = []
    while len(picked) < count and any(by_file.values()):
        for file in sorted(by_file):
            while by_file[file] and len(picked) < count:
                s = by_file[file].pop(0)
                if _valid(s, sources[s.file]):
                    picked.append(s)
                    break
    return picked


def _valid(site: Site, src: Source) -> bool:
    if site.check == "parses":
        return _parses(site.new_text)
    if site.check == "same-ast":
        return _same_ast(src.text, site.new_text)
    return True


def build(
    downloads: Path,
) -> tuple[list[dict[str, object]], list[dict[str, object]], dict[str, str]]:
    sources, licences = load_sources(downloads)
    by_id = {s.id: s for s in sources}
    seeded: dict[tuple[str, str], list[Site]] = {}
    clean: dict[tuple[str, str], list[Site]] = {}
    for src in sources:
        rng = random.Random(f"{SEED}:{src.id}")
        finder = python_sites if src.language == "python" else javascript_sites
        for s in finder(src):
            seeded.setdefault((src.language, s.operator), []).append(s)
        cleaner = python_clean if src.language == "python" else javascript_clean
        for kind, found in cleaner(src, rng).items():
            clean.setdefault((src.language, kind), []).extend(found)
    cases: list[dict[str, object]] = []
    for (language, op), sites in sorted(seeded.items()):
        rng = random.Random(f"{SEED}:{language}:{op}")
        for n, s in enumerate(_pick(sites, QUOTA[language], rng, by_id), 1):
            cases.append(_case(f"{language[:2]}-{op}-{n:02d}", "seeded", s, by_id[s.file]))
    for (language, kind), sites in sorted(clean.items()):
        rng = random.Random(f"{SEED}:{language}:{kind}")
        for n, s in enumerate(_pick(sites, CLEAN[language][kind], rng, by_id), 1):
            cases.append(_case(f"{language[:2]}-clean-{kind}-{n:02d}", "clean", s, by_id[s.file]))
    used = {c["file"] for c in cases}
    files = [
        {
            "id": s.id,
            "path": s.path,
            "language": s.language,
            "project": s.project,
            "version": s.version,
            "registry": s.registry,
            "license": s.license,
            "text": s.text,
        }
        for s in sources
        if s.id in used
    ]
    return files, cases, licences


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def _case(case_id: str, kind: str, s: Site, src: Source) -> dict[str, object]:
    return {
        "id": case_id,
        "kind": kind,
        "operator": s.operator,
        "language": src.language,
        "file": src.id,
        "line": s.line,
        "description": s.description,
        "diff": unified(src, s.new_text),
    }


def write(out: Path, downloads: Path) -> None:
    files, cases, licences = build(downloads)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "files.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for row in files:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    with (out / "cases.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for row in cases:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    lic_dir = out / "LICENSES"
    lic_dir.mkdir(exist_ok=True)
    for name, text in sorted(licences.items()):
        (lic_dir / f"{name}.txt").write_text(text, encoding="utf-8", newline="\n")
    (out / "ATTRIBUTION.md").write_text(_attribution(files, cases), encoding="utf-8", newline="\n")


def _attribution(files: list[dict[str, object]], cases: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    buf.write("# The reviewer's benchmark corpus: sources and licences\n\n")
    buf.write(
        "Built by `scripts/build_review_corpus.py` (format "
        f"{FORMAT}, seed {SEED}) from the pinned packages below, unchanged in files.jsonl; "
        "the diffs in cases.jsonl are mutations of them made for this benchmark. Each package's "
        "licence text is in LICENSES/.\n\n"
    )
    buf.write("| project | version | registry | licence | files |\n|---|---|---|---|---|\n")
    for pkg in PACKAGES:
        used = sorted(str(f["path"]) for f in files if f["project"] == pkg.name)
        if used:
            buf.write(
                f"| {pkg.name} | {pkg.version} | {pkg.registry} | {pkg.license} | "
                f"{', '.join(used)} |\n"
            )
    seeded = sum(1 for c in cases if c["kind"] == "seeded")
    buf.write(f"\n{seeded} seeded diffs, {len(cases) - seeded} clean diffs.\n")
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--downloads",
        type=Path,
        default=None,
        help="folder for the fetched packages (default: a temporary one)",
    )
    args = parser.parse_args(argv)
    try:
        if args.downloads is not None:
            write(args.out, args.downloads)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                write(args.out, Path(tmp))
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
