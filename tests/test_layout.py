"""The layout rules of the house (DESIGN.md §2), checked on the source with ``ast``.

Every module of ``assistants/`` is read; its imports (module level, under ``TYPE_CHECKING``,
and inside functions; relative and absolute; ``from . import x`` resolved to the module ``x``
when there is one) make the module import graph. The rules:

(a) no import cycle between modules. Module-level imports (``TYPE_CHECKING`` ones included)
    form the graph; an import inside a function body is lazy, and a lazy import may close a
    cycle only when it goes into a module named ``render``, ``sarif`` or ``formats`` (a result's
    ``to_markdown()`` / ``_repr_markdown_`` rendering itself). Every other lazy import counts.
(b) nothing outside ``assistants/cli`` imports ``assistants.cli`` (``assistants/__main__.py``,
    the ``python -m assistants`` entry point, is the one exception).
(c) no module over 600 lines.
(d) every package ``__init__`` has a docstring.
(e) a ``models.py`` imports nothing else of its own package.
(f) a ``render.py`` (or ``formats.py``) imports nothing of its own package but ``models``.

The checker runs on planted packages too, so each rule is shown to fail when broken.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from paths import ROOT

PACKAGE = ROOT / "assistants"
MAX_LINES = 600
LAZY_CYCLE_TARGETS = {"render", "sarif", "formats"}
RENDERERS = {"render", "formats"}
ENTRY_POINTS = {"__main__"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    lazy: bool
    line: int


@dataclass
class Layout:
    modules: dict[str, Path]
    edges: list[Edge]
    cycles: list[list[str]] = field(default_factory=list)
    cli_imports: list[str] = field(default_factory=list)
    long_modules: list[str] = field(default_factory=list)
    undocumented_packages: list[str] = field(default_factory=list)
    models_imports: list[str] = field(default_factory=list)
    render_imports: list[str] = field(default_factory=list)


# -- reading the modules -----------------------------------------------------------------------


def find_modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for the package at ``root`` (``__init__`` is the package)."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: dict[str, Path]) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.modules = modules
        self.depth = 0  # > 0 inside a function body
        self.edges: list[Edge] = []

    def _add(self, target: str | None, line: int) -> None:
        if target is not None and target != self.module:
            self.edges.append(Edge(self.module, target, self.depth > 0, line))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(_known(alias.name, self.modules), node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base_parts = self.package.split(".")
            if node.level > 1:
                base_parts = base_parts[: -(node.level - 1)]
            base = ".".join([*base_parts, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(
                submodule if submodule in self.modules else _known(base, self.modules),
                node.lineno,
            )


def import_edges(modules: dict[str, Path]) -> list[Edge]:
    edges: list[Edge] = []
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py", modules)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        edges += visitor.edges
    return edges


# -- the rules ---------------------------------------------------------------------------------


def _last(module: str) -> str:
    return module.rpartition(".")[2]


def find_cycles(modules: list[str], edges: list[Edge]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), as a sorted list,
    under rule (a): lazy edges into render / sarif do not count."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        if edge.lazy and _last(edge.target) in LAZY_CYCLE_TARGETS:
            continue
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the module count
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def check_layout(root: Path) -> Layout:
    """Read the package at ``root`` and list every broken rule."""
    modules = find_modules(root)
    edges = import_edges(modules)
    top = root.name
    cli = f"{top}.cli"
    layout = Layout(modules=modules, edges=edges, cycles=find_cycles(list(modules), edges))
    for edge in edges:
        where = f"{edge.source}:{edge.line} imports {edge.target}"
        inside_cli = edge.source == cli or edge.source.startswith(f"{cli}.")
        entry = edge.source in {f"{top}.{name}" for name in ENTRY_POINTS}
        if (edge.target == cli or edge.target.startswith(f"{cli}.")) and not (inside_cli or entry):
            layout.cli_imports.append(where)
        own = edge.source.rpartition(".")[0]
        in_own = edge.target == own or edge.target.startswith(f"{own}.")
        renders_itself = edge.lazy and _last(edge.target) in LAZY_CYCLE_TARGETS
        if _last(edge.source) == "models" and in_own and not renders_itself:
            layout.models_imports.append(where)
        if _last(edge.source) in RENDERERS and in_own and edge.target != f"{own}.models":
            layout.render_imports.append(where)
    for found in (layout.cli_imports, layout.models_imports, layout.render_imports):
        found[:] = dict.fromkeys(found)  # one line per import statement, in order
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_LINES:
            layout.long_modules.append(f"{name} ({lines} lines)")
        if path.name == "__init__.py" and not ast.get_docstring(ast.parse(text)):
            layout.undocumented_packages.append(name)
    return layout


# -- the real tree -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Layout:
    return check_layout(PACKAGE)


def test_the_real_graph_is_read(real: Layout) -> None:
    assert {"assistants.llm.client", "assistants.cli.base", "assistants.errors"} <= set(
        real.modules
    )
    edges = {(e.source, e.target, e.lazy) for e in real.edges}
    assert ("assistants.llm.client", "assistants.llm.failures", False) in edges
    assert ("assistants.llm.client", "assistants.errors", False) in edges  # from .. import errors
    assert ("assistants.cli.base", "assistants.llm.chat", True) in edges  # inside the command
    assert ("assistants.__main__", "assistants.cli", False) in edges


def test_the_shared_core_follows_every_rule(real: Layout) -> None:
    core = ("assistants.llm", "assistants.config", "assistants.errors", "assistants.prompts")

    def ours(text: str) -> bool:
        return any(text == c or text.startswith((f"{c}.", f"{c}:", f"{c} ")) for c in core)

    assert not [c for c in real.cycles if any(ours(m) for m in c)]
    for found in (real.cli_imports, real.long_modules, real.undocumented_packages):
        assert not [item for item in found if ours(item)]


# rule -> the Layout list of what breaks it
RULES = {
    "no import cycles": "cycles",
    "nothing outside the cli imports it": "cli_imports",
    "no module over 600 lines": "long_modules",
    "every package has a docstring": "undocumented_packages",
    "models import nothing of their package": "models_imports",
    "render imports only models": "render_imports",
}


@pytest.mark.parametrize("broken", RULES.values(), ids=list(RULES))
def test_the_real_tree_follows_the_rule(real: Layout, broken: str) -> None:
    assert getattr(real, broken) == []


# -- planted packages: each rule fails when broken -----------------------------------------------


def plant(tmp_path: Path, files: dict[str, str]) -> Path:
    """A package ``pkg`` with a documented ``__init__`` unless ``files`` gives one."""
    root = tmp_path / "pkg"
    files = {"__init__.py": '"""A planted package."""\n', **files}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_a_clean_package_passes(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "models.py": "from pydantic import BaseModel\nimport json\n",
            "render.py": "from .models import X\n",
            "run.py": "from . import models, render\nfrom .models import X\n",
            "cli/__init__.py": '"""The CLI."""\nfrom ..run import go\n',
            "__main__.py": "from .cli import main\n",
        },
    )
    layout = check_layout(root)
    assert layout.cycles == layout.cli_imports == layout.models_imports == []
    assert layout.render_imports == layout.long_modules == layout.undocumented_packages == []


def test_from_dot_import_resolves_to_the_module(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "a.py": "from . import b, NAME\nfrom .sub import c\nimport pkg.sub.c\n",
            "b.py": "",
            "sub/__init__.py": '"""Sub."""\nfrom .. import b\nfrom ..b import thing\n',
            "sub/c.py": "def f():\n    from ..b import thing\n",
        },
    )
    edges = {(e.source, e.target, e.lazy) for e in check_layout(root).edges}
    assert edges == {
        ("pkg.a", "pkg.b", False),
        ("pkg.a", "pkg", False),  # NAME is not a module: the package's __init__
        ("pkg.a", "pkg.sub.c", False),
        ("pkg.sub", "pkg.b", False),
        ("pkg.sub.c", "pkg.b", True),
    }


# what is planted -> (its files, the Layout list that reports it, what that list says)
PLANTED_BREAKS: dict[str, tuple[dict[str, str], str, list[Any]]] = {
    "a module level cycle": (
        {"a.py": "from . import b\n", "b.py": "from .a import x\n"},
        "cycles",
        [["pkg.a", "pkg.b"]],
    ),
    "a cycle under TYPE_CHECKING": (
        {
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
            "b.py": "import pkg.a\n",
        },
        "cycles",
        [["pkg.a", "pkg.b"]],
    ),
    "a cycle closed by a lazy import": (
        {
            "a.py": "from .b import x\n",
            "b.py": "class R:\n    def f(self):\n        from . import a\n",
        },
        "cycles",
        [["pkg.a", "pkg.b"]],
    ),
    "a back edge into the cli": (
        {
            "cli/__init__.py": '"""The CLI."""\n',
            "cli/_common.py": "from . import x\n",
            "core.py": "import pkg.cli\n\ndef f():\n    from .cli._common import emit\n",
        },
        "cli_imports",
        ["pkg.core:1 imports pkg.cli", "pkg.core:4 imports pkg.cli._common"],
    ),
    "a long module": (
        {"ok.py": "x = 1\n" * MAX_LINES, "long.py": "x = 1\n" * 601},
        "long_modules",
        ["pkg.long (601 lines)"],
    ),
    "a package without a docstring": (
        {"__init__.py": "# no docstring\n", "sub/__init__.py": '"""Sub."""\n'},
        "undocumented_packages",
        ["pkg"],
    ),
    "models importing its package": (
        {
            "util.py": "",
            "sub/__init__.py": '"""Sub."""\n',
            "sub/models.py": "from ..util import f\nfrom . import X\n"
            "def to_markdown():\n    from .render import r\n",
            "models.py": "def f():\n    from .util import g\n",
            "render.py": "",
            "sub/render.py": "",
        },
        "models_imports",
        ["pkg.models:2 imports pkg.util", "pkg.sub.models:2 imports pkg.sub"],
    ),
    "render importing more than models": (
        {
            "models.py": "",
            "run.py": "",
            "render.py": "from .models import M\nfrom .run import go\n",
        },
        "render_imports",
        ["pkg.render:2 imports pkg.run"],
    ),
}


@pytest.mark.parametrize(
    ("files", "broken", "expected"), PLANTED_BREAKS.values(), ids=list(PLANTED_BREAKS)
)
def test_a_planted_break_fails(
    tmp_path: Path, files: dict[str, str], broken: str, expected: list[Any]
) -> None:
    assert getattr(check_layout(plant(tmp_path, files)), broken) == expected


def test_a_result_may_import_render_lazily(tmp_path: Path) -> None:
    files = {
        "result.py": "class R:\n    def to_markdown(self):\n        from .render import md\n",
        "render.py": "from .result import R\n",
        "sarif.py": "from .result import R\n",
        "other.py": "def f():\n    from .sarif import g\n",
    }
    assert check_layout(plant(tmp_path, files)).cycles == []
    files["result.py"] = "from .render import md\n"  # at module level: a real cycle
    assert check_layout(plant(tmp_path, files)).cycles == [["pkg.render", "pkg.result"]]
