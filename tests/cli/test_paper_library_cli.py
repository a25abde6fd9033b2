"""``assistants paper index / search / ask DIR / compare / cite`` on the generated library."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import one_line_error, run
from deepseek_server import DeepSeekServer
from library_pdfs import NEEDLE, NEEDLE_QUESTION, build_library_paper, paper_spec
from plausible_replies import plausible_reply
from pybtex.database import parse_string


def test_index_then_reindex_reads_nothing(library_dir: Path) -> None:
    build_library_paper(paper_spec(library_dir, 40))
    first = run("paper", "index", str(library_dir), "--format", "json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["added"] == ["040-chess.pdf"] and report["read"] == 1
    assert report["papers"] == 31
    again = run("paper", "index", str(library_dir))
    assert again.exit_code == 0 and "0 PDF(s) read" in again.stdout


def test_index_bibtex_and_cite(library_dir: Path) -> None:
    result = run("paper", "index", str(library_dir), "--format", "bibtex")
    assert result.exit_code == 0, result.output
    entries = parse_string(result.stdout, "bibtex").entries
    assert len(entries) == 30
    assert {"hopper2023sampler", "hopper2023autoencoder"} <= set(entries)
    same = run("paper", "cite", str(library_dir))
    assert same.stdout == result.stdout
    one = run("paper", "cite", str(next(library_dir.glob("017-*.pdf"))))
    assert one.exit_code == 0 and one.stdout.startswith("@misc{")


def test_search(library_dir: Path) -> None:
    result = run("paper", "search", str(library_dir), "zebrafish Okapi", "-n", "2")
    assert result.exit_code == 0, result.output
    assert f"{NEEDLE:03d}-" in result.stdout and "p. 3" in result.stdout


def test_ask_a_folder(library_dir: Path, server: DeepSeekServer) -> None:
    server.responder = plausible_reply
    result = run("paper", "ask", str(library_dir), NEEDLE_QUESTION, "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["answerable"] and answer["citations"][0]["verified"]
    assert answer["citations"][0]["source"].startswith(f"{NEEDLE:03d}-")
    nothing = run("paper", "ask", str(library_dir), "tungsten melting kelvin")
    assert nothing.exit_code == 0 and "does not answer" in nothing.stdout
    assert len(server.chat_requests) == 1


def test_compare_from_a_library_as_csv(library_dir: Path, server: DeepSeekServer) -> None:
    server.responder = plausible_reply
    result = run(
        "paper", "compare", "--library", str(library_dir), "-q", "protein graph", "--top", "2",
        "--format", "csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("source,label,title,problem,problem_pages")
    assert len(result.stdout.splitlines()) == 3


def test_compare_needs_two_papers(library_dir: Path) -> None:
    result = run("paper", "compare", str(next(library_dir.glob("*.pdf"))))
    assert result.exit_code == 4
    assert "at least two papers" in one_line_error(result)
