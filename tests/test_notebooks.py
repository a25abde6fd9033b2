"""The notebooks run top to bottom, headless, in a real IPython kernel against the DeepSeek test
server (with plausible answers: tests/plausible_replies.py), and are committed without outputs.

The kernel is started from a kernelspec written into a temporary folder (this interpreter,
``-m ipykernel_launcher``), so nothing needs to be installed beyond ``pip install -e '.[test]'``.
It inherits the environment the ``server`` fixture sets (``ASSISTANTS_BASE_URL``, a dummy
``DEEPSEEK_API_KEY``, ``ASSISTANTS_API_FLAVOR=deepseek``) and the isolated
``ASSISTANTS_DATA_DIR``; it runs in a temporary working folder.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import nbclient  # the [test] extra: nbclient, nbformat, ipykernel
import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {
    "getting_started.ipynb",
    "code_reviewer.ipynb",
    "paper_analyzer.ipynb",
    "math_solver.ipynb",
}
KERNEL_NAME = "assistants-test-python3"
CELL_TIMEOUT = 180

# Per notebook: texts that must appear in the outputs (a sign each step did what it says).
EXPECTED_OUTPUT: dict[str, list[str]] = {
    "getting_started.ipynb": [
        "key found: True",
        "math    -> profile reasoner  deepseek-flash  thinking on",
        "review  -> profile coder     deepseek-flash  thinking off",
        "thinking=True",  # the coder profile overridden in code
        "note: deepseek-reasoner was retired",
        "REASONING: ",
        "Is 1001 a prime number?",  # the (test server's) reasoning quotes the question
        "messages in the history",
        "first call cached: False | second call cached: True",
        "same answer: True",
        "pieces]",
    ],
    "code_reviewer.ipynb": [
        "key found: True",
        "request(s),",
        "orders.py:6  high     security     SQL",
        "('work/review_demo/poetry.lock', 'lock')",
        "secrets redacted before sending: 1",
        "SARIF 2.1.0 with",
        "exit code with --fail-on high: 1",
        "exit code with --fail-on never: 0",
        "same findings: True",
    ],
    "paper_analyzer.ipynb": [
        "key found: True",
        "Sparse Widgets for Dense Retrieval | 4 pages | 3 references",
        "2 Method",
        "(single)",
        "pages: [",
        "Q: And what does it cost in recall on TREC-COVID?",
        "decision: accept",
        "3 papers | 5 passages | 3 PDF(s) read",
        "re-index: 0 PDF(s) read",
        "verified citations: ['(Hopper and Dijkstra 2023, p. 1)']",
        "query latency drops from 30 ms to 9 ms",
        "@misc{hopper2023graph,",
    ],
    "math_solver.ipynb": [
        "key found: True",
        r"answer: \frac{5}{6} | plain: 5/6",
        "answer: 1000",
        "matches_reference | matches the reference: True",
        "mismatch | matches the reference: False",
        "samples agree",
        "samples agree (vote share 100%)",
        "vote(s) from samples [",
        "5 requests",
    ],
}


def load(name: str) -> Any:
    return nbformat.read(NOTEBOOKS_DIR / name, as_version=4)


def test_every_notebook_is_there() -> None:
    assert set(NOTEBOOKS) >= EXPECTED
    assert set(EXPECTED_OUTPUT) == EXPECTED


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    book = load(name)
    nbformat.validate(book)
    assert book.metadata.get("kernelspec", {}).get("name") == "python3"
    for index, cell in enumerate(book.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{name} cell {index} has outputs: strip them"
        assert cell.execution_count is None, f"{name} cell {index} has an execution count"


@pytest.mark.parametrize(
    "module",
    [
        "assistants.review.models",
        "assistants.paper.models",
        "assistants.paper.schema",
        "assistants.paper.library.models",
        "assistants.math.models",
        "assistants.llm.chat",
    ],
)
def test_plausible_replies_validate(module: str) -> None:
    """The test server's generic answer validates against every result model of a task."""
    import importlib

    from plausible_replies import example_value
    from pydantic import BaseModel

    tasks = importlib.import_module(module)
    models = [
        obj
        for obj in vars(tasks).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == tasks.__name__
    ]
    assert models
    for model in models:
        model.model_validate(example_value(model.model_json_schema()))


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A kernelspec for this interpreter, so no installed kernel is needed."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (assistants tests)",
                "language": "python",
            }
        )
    )
    return [str(root)]


def outputs_text(book: Any) -> str:
    """Everything the cells printed or displayed, as text."""
    parts: list[str] = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":  # a print may arrive in several messages
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                for kind in ("text/plain", "text/markdown"):
                    if kind in out.data:
                        parts.append(f"\n{out.data[kind]}\n")
            elif out.output_type == "error":  # pragma: no cover - the client raises first
                parts.append("\n".join(out.traceback))
        parts.append("\n")
    return "".join(parts)


def run_notebook(name: str, cwd: Path, kernel_dirs: list[str]) -> Any:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    book = load(name)
    km = AsyncKernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs)
    )
    client = nbclient.NotebookClient(
        book,
        km=km,
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return book


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_headless(
    name: str,
    server: Any,
    tmp_path: Path,
    kernel_dirs: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from plausible_replies import plausible_reply

    server.responder = plausible_reply
    # the kernel's own files (profile, connection file) stay out of the home folder
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    work = tmp_path / "cwd"
    work.mkdir()
    book = run_notebook(name, work, kernel_dirs)  # raises CellExecutionError on any error

    for index, cell in enumerate(book.cells):
        if cell.cell_type == "code":
            assert cell.execution_count is not None, f"cell {index} did not run"
            assert not [o for o in cell.outputs if o.output_type == "error"]
    text = outputs_text(book)
    if dump := os.environ.get("NOTEBOOK_DUMP_DIR"):  # for looking at a run by eye
        Path(dump).mkdir(parents=True, exist_ok=True)
        nbformat.write(book, Path(dump) / name)
    for expected in EXPECTED_OUTPUT[name]:
        assert expected in text, f"{name}: {expected!r} not in the outputs:\n{text[-3000:]}"
    if name == "code_reviewer.ipynb":  # the reports it wrote are real files
        from sarif_schema import validate_sarif

        validate_sarif(json.loads((work / "work" / "review.sarif").read_text()))
        assert "SQL" in (work / "work" / "review.md").read_text()
    if name == "paper_analyzer.ipynb":
        assert (work / "work" / "demo_paper.pdf").read_bytes().startswith(b"%PDF-")
    executed = tmp_path / f"executed-{name}"  # the stripping helper undoes a run
    nbformat.write(book, executed)
    assert strip_outputs(executed) and not strip_outputs(executed)
    assert nbformat.read(executed, as_version=4).cells == load(name).cells
    chats = server.chat_requests
    assert chats, "the notebook made no request to the server"
    assert all(r.status == 200 for r in chats), [(r.path, r.status) for r in chats]
    assert all(r.body and r.body.get("model") == "deepseek-flash" for r in chats)


def strip_outputs(path: Path) -> bool:
    """Clear a notebook's outputs and execution counts in place; True if it changed."""
    book = nbformat.read(path, as_version=4)
    changed = False
    for cell in book.cells:
        if "execution" in cell.metadata:  # nbclient's timings
            del cell.metadata["execution"]
            changed = True
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count, changed = [], None, True
    if changed:
        nbformat.write(book, path)
    return changed


if __name__ == "__main__":  # python tests/test_notebooks.py: strip every notebook's outputs
    for notebook in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        if strip_outputs(notebook):
            print(f"stripped {notebook.relative_to(NOTEBOOKS_DIR.parent)}")
