"""scripts/build_review_corpus.py: the shipped corpus is rebuilt byte for byte from the pinned
packages (fetched with pip and npm; skipped, with the reason, when they cannot be fetched),
and its mutation operators do what they say."""

from __future__ import annotations

import ast
import importlib.util
import os
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_review_corpus.py"
SHIPPED = ROOT / "assistants" / "data" / "review-corpus"


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_review_corpus", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_review_corpus"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _downloads() -> Path:
    """The pinned archives are kept between runs (checked by SHA-256 before use)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "assistants-review-corpus"


@pytest.mark.slow  # the first run fetches eleven packages (about 40 s); later ones reuse them
def test_the_shipped_corpus_is_rebuilt_byte_for_byte(builder: ModuleType, tmp_path: Path) -> None:
    try:
        for pkg in builder.PACKAGES:
            builder.fetch(pkg, _downloads(), timeout=240)
    except builder.FetchError as exc:
        pytest.skip(f"the pinned packages cannot be fetched here: {exc}")
    out = tmp_path / "corpus"
    assert builder.main(["--out", str(out), "--downloads", str(_downloads())]) == 0
    shipped = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*") if p.is_file())
    rebuilt = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert rebuilt == shipped
    for rel in shipped:
        assert (out / rel).read_bytes() == (SHIPPED / rel).read_bytes(), rel


def _source(builder: ModuleType, text: str, language: str = "python") -> object:
    path = "m.py" if language == "python" else "m.js"
    return builder.Source(path, "p", "1", "pypi", "MIT", path, language, text)


PY = """import sqlite3


async def load(db, name, items, conn):
    if name is not None and name.strip():
        rows = await db.fetch(name)
    for i in range(len(items)):
        print(items[i:3])
    try:
        conn.execute("select * from t where name = ?", [name])
    except ValueError:
        raise KeyError(name)
    with open(name) as fh:
        data = fh.read()
    return divmod(rows, data) if rows else None
"""


def test_python_operators_each_make_a_real_change(builder: ModuleType) -> None:
    src = _source(builder, PY)
    sites = list(builder.python_sites(src))
    by_op: dict[str, list[object]] = {}
    for s in sites:
        by_op.setdefault(s.operator, []).append(s)
    assert set(by_op) == {
        "off-by-one", "flipped-comparison", "and-or-swap", "removed-none-check",
        "swapped-arguments", "missing-await", "string-built-sql", "resource-not-closed",
        "swallowed-exception",
    }  # fmt: skip
    changed = {s.operator: builder.unified(src, s.new_text) for s in sites}
    assert (
        "+        conn.execute(f\"select * from t where name = '{name}'\")"
        in changed["string-built-sql"]
    )
    assert "+    fh = open(name)\n+    data = fh.read()" in changed["resource-not-closed"]
    assert "+        rows = db.fetch(name)" in changed["missing-await"]
    assert "+        pass" in changed["swallowed-exception"]
    assert "+    if name.strip():" in changed["removed-none-check"]
    assert "+    return divmod(data, rows) if rows else None" in changed["swapped-arguments"]
    for s in sites:
        ast.parse(s.new_text)  # every mutation still parses
        assert s.new_text.splitlines()[s.line - 1] != PY.splitlines()[s.line - 1], s


def test_clean_python_changes_keep_the_program(builder: ModuleType) -> None:
    text = "def f(a, b):\n    total = a + b\n    out = max(total, 0, key=abs)\n    return out\n"
    src = _source(builder, text)
    clean = builder.python_clean(src, random.Random(1))
    assert clean["rename-local"] and clean["reformat"] and clean["comment-only"]
    for site in clean["reformat"] + clean["comment-only"]:
        assert ast.dump(ast.parse(site.new_text)) == ast.dump(ast.parse(text))
    renamed = clean["rename-local"][0].new_text
    assert "total" not in renamed or "out" not in renamed


def test_javascript_sites_skip_strings_comments_and_regexes(builder: ModuleType) -> None:
    text = (
        "var re = /a && b/; // x < y && z\n"
        "var s = 'i < n && m';\n"
        "if (a && a.b) { return f(x, y) }\n"
    )
    sites = list(builder.javascript_sites(_source(builder, text, "javascript")))
    assert sites and {s.line for s in sites} == {3}
    ops = {s.operator for s in sites}
    assert {"and-or-swap", "removed-none-check", "swapped-arguments"} <= ops
