"""A paper larger than the model's context window: `paper ask` and `paper chat` send the pages
most relevant to the question (BM25), the request fits, and the answer says what was sent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run
from deepseek_server import DeepSeekServer, Reply, count_tokens, prompt_text
from local_server import local_server

from assistants.paper.chat import PaperChat, ask_paper
from assistants.paper.passages import page_pieces, scores, select_pages

TOPICS = ["gardening", "astronomy", "cooking", "sailing", "painting", "chess", "weaving"]


def _page(number: int) -> str:
    topic = TOPICS[number % len(TOPICS)]
    text = " ".join(
        f"Paragraph {k} of page {number} discusses {topic} practice and its many traditions."
        for k in range(14)
    )
    if number == 23:
        text += " The widget tokenizer splits every identifier into byte pairs before encoding."
    return text


def _paper_file(tmp_path: Path) -> Path:
    path = tmp_path / "long.txt"
    path.write_text("\f".join(_page(n) for n in range(1, 41)), "utf-8")
    return path


def _pages_in(body: dict[str, Any]) -> list[int]:
    return [int(n) for n in re.findall(r"^\[page (\d+)\]$", prompt_text(body["messages"]), re.M)]


def _answer(body: dict[str, Any]) -> Reply:
    pages = _pages_in(body)
    return Reply(json.dumps({"answerable": True, "answer": "Byte pairs.", "pages": pages[:1]}))


def test_bm25_ranks_the_page_that_answers_first() -> None:
    tagged = "\n\n".join(f"[page {n}]\n{_page(n)}" for n in range(1, 41))
    pieces = page_pieces(tagged)
    assert [n for n, _ in pieces] == list(range(1, 41))
    ranked = scores(pieces, "Which tokenizer is used, and how does it split identifiers?")
    assert max(range(40), key=lambda i: ranked[i]) == 22  # page 23
    chosen = select_pages(tagged, "tokenizer byte pairs", 2 * count_tokens(_page(23)))
    assert 23 in [n for n, _ in chosen]
    assert select_pages(tagged, "tokenizer", 5) == []  # not even one page fits


def test_ask_on_a_paper_larger_than_the_window_selects_passages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _paper_file(tmp_path)
    with local_server(monkeypatch, context_window=8192) as srv:
        srv.responder = _answer
        answer = ask_paper(path, "Which tokenizer splits identifiers into byte pairs?")
        (request,) = srv.chat_requests
        body = request.body or {}
        assert request.status == 200
        assert count_tokens(prompt_text(body["messages"])) + body["max_tokens"] <= 8192
    sent = _pages_in(body)
    assert 23 in sent and 0 < len(sent) < 40
    assert answer.passages and answer.pages_sent == sent
    assert answer.pages == [sent[0]]
    assert any("context window" in w for w in answer.warnings)
    assert "only pages" in answer.to_markdown() and "only pages" in answer.to_text()
    assert "Passages of the paper" in body["messages"][1]["content"]


def test_chat_follow_ups_select_passages_for_each_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _paper_file(tmp_path)
    with local_server(monkeypatch, context_window=8192) as srv:
        srv.responder = _answer
        chat = PaperChat(path)
        first = chat.ask("Which tokenizer splits identifiers?")
        second = chat.ask("What does the paper say about chess traditions?")
        assert all(r.status == 200 for r in srv.chat_requests)
    assert 23 in first.pages_sent and second.passages
    assert set(second.pages_sent) != set(first.pages_sent)


def test_a_paper_that_fits_is_sent_whole(srv: DeepSeekServer, spec: Any) -> None:
    answer = ask_paper(spec.path, "What is the tokenizer?")
    assert not answer.passages and answer.pages_sent == []
    assert "only pages" not in answer.to_markdown()


def test_paper_ask_cli_over_a_small_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _paper_file(tmp_path)
    with local_server(monkeypatch, context_window=8192) as srv:
        srv.responder = _answer
        result = run("paper", "ask", str(path), "Which tokenizer splits identifiers?")
        assert result.exit_code == 0, result.output
        assert len(srv.chat_requests) == 1
    assert "only pages" in result.stdout
