"""``assistants paper ask/analyze/review`` with an arXiv id or a URL instead of a path, over
real HTTP: our web server (tests/support/paper_web.py) serves the PDF and the Atom feed, the
DeepSeek-protocol test server answers; a download that fails is one line on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pdfs
import pytest
from cli_runner import one_line_error, run
from deepseek_server import DeepSeekServer
from paper_web import PaperWeb, atom_feed


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch, spec: pdfs.PaperSpec) -> Iterator[PaperWeb]:
    with PaperWeb() as site:
        site.pdf("/pdf/2501.12948", spec.path.read_bytes())
        site.atom(
            "/api/query",
            atom_feed(
                "2501.12948",
                title="Widgets by Reinforcement",
                authors=["Ada Lovelace"],
                published="2025-01-22",
                summary="An abstract.",
            ),
        )
        monkeypatch.setenv("ASSISTANTS_ARXIV_URL", site.url)
        monkeypatch.setenv("ASSISTANTS_ARXIV_API_URL", f"{site.url}/api/query")
        monkeypatch.setenv("ASSISTANTS_PAPER__DOWNLOAD_TIMEOUT", "5")
        yield site


def test_ask_by_arxiv_id_and_url(srv: DeepSeekServer, web: PaperWeb) -> None:
    result = run("paper", "ask", "arxiv:2501.12948", "What?", "--format", "json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["source"] == "arxiv:2501.12948"
    assert answer["title"] == "Widgets by Reinforcement (with a line break)"
    assert answer["answer"] == "A tokenizer." and answer["pages"] == [4]
    # the abs URL (not folded by a Path into "http:/") names the cached PDF: no new download
    again = run("paper", "review", f"{web.url}/abs/2501.12948", "--format", "json", "--no-cache")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["source"] == f"{web.url}/abs/2501.12948"
    assert web.requests_to("/pdf/") == ["/pdf/2501.12948"]


def test_a_failed_download_is_one_line(server: DeepSeekServer, web: PaperWeb) -> None:
    result = run("paper", "analyze", "arxiv:2599.99999")
    assert result.exit_code == 4
    error = one_line_error(result)
    assert f"HTTP 404 from {web.url}/pdf/2599.99999" in error
    assert server.chat_requests == []
    bad = run("paper", "ask", "ftp://example.org/x.pdf", "What?")
    assert bad.exit_code == 4 and "only http and https" in one_line_error(bad)


def test_cite_by_arxiv_id_uses_the_arxiv_metadata(web: PaperWeb) -> None:
    result = run("paper", "cite", "arxiv:2501.12948")
    assert result.exit_code == 0, result.stderr
    entry = result.stdout
    assert entry.startswith("@misc{lovelace2025widgets,")
    assert "eprint = {2501.12948}" in entry and "archivePrefix = {arXiv}" in entry
    assert "Ada Lovelace" in entry and "year = {2025}" in entry
