"""Comparing papers side by side over real HTTP: every cell cites checked pages; markdown,
JSON and CSV; one request per paper that shares the paper's prefix with ask/analyze."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from deepseek_server import DeepSeekServer, Reply
from library_pdfs import build_library_paper, paper_spec

from assistants import Comparison, compare_papers, errors
from assistants.config import load_settings
from assistants.paper.pdf import load_paper
from assistants.paper.request import paper_prefix


def row(body: dict[str, Any]) -> Reply:
    paper = str(body["messages"][1]["content"])
    topic = paper.split("We study ")[1].split(" ")[0]
    cell = lambda text, pages: {"text": text, "pages": pages}  # noqa: E731
    return Reply(
        json.dumps(
            {
                "problem": cell(f"{topic} analysis", [1]),
                "method": cell("a model", ["p. 2"]),
                "data": cell(f"the {topic} benchmark", [2]),
                "results": cell("recall improves by 3.2 points", [3, 99]),
                "limitations": cell("not stated", []),
            }
        )
    )


@pytest.fixture
def two(tmp_path: Path) -> list[Path]:
    return [build_library_paper(paper_spec(tmp_path, i)).path for i in (1, 2)]


def test_compare_two_papers(two: list[Path], server: DeepSeekServer) -> None:
    server.responder = row
    result = compare_papers(two)
    assert len(server.chat_requests) == 2
    assert [r.source for r in result.rows] == [str(p) for p in two]
    first = result.rows[0]
    assert first.problem.text == "protein analysis" and first.problem.pages == [1]
    assert first.method.pages == [2]
    assert first.results.pages == [3] and first.results.unverified_pages == [99]
    assert (str(two[0]), "results") in result.flagged
    assert (str(two[0]), "limitations") in result.flagged  # no page: never shown as cited
    # the request starts with the prefix every request about the paper sends (prefix cache)
    settings = load_settings()
    prefix = paper_prefix(load_paper(two[0]), settings, "en")
    body = next(r.body for r in server.chat_requests if "protein" in json.dumps(r.body))
    assert [m["content"] for m in body["messages"][:2]] == [text for _, text in prefix]

    markdown = result.to_markdown()
    assert "| **Main results** | recall improves by 3.2 points (p. 3; unverified: p. 99) |" in (
        markdown
    )
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert rows[1]["data"] == "the speech benchmark (p. 2)" and rows[1]["data_pages"] == "2"
    assert Comparison.model_validate_json(result.model_dump_json()) == result
    assert "Problem: protein analysis (p. 1)" in result.to_text()


def test_dry_run_and_bad_input(two: list[Path], server: DeepSeekServer) -> None:
    plan = compare_papers(two, dry_run=True)
    assert plan.estimate is not None and plan.estimate.requests == 2
    assert server.chat_requests == []
    with pytest.raises(errors.InputError, match="at least two"):
        compare_papers(two[:1])


def test_compare_papers_picked_from_a_library(library_dir: Path, server: DeepSeekServer) -> None:
    from assistants import Library

    server.responder = row
    result = Library(library_dir).compare("protein graph analysis", top=2)
    assert {r.source for r in result.rows} == {"000-graph.pdf", "001-protein.pdf"}
    assert all(r.label for r in result.rows)
