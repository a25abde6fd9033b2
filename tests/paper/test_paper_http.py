"""The paper analyzer over real HTTP against the DeepSeek-protocol test server."""

from __future__ import annotations

import json
from pathlib import Path

import pdfs
import pytest
from deepseek_server import DeepSeekServer, Reply
from paper_replies import last_message, responder, review_json

from assistants.config import load_settings
from assistants.errors import StructuredOutputError
from assistants.paper.analyze import (
    PaperChat,
    analyze_folder,
    analyze_paper,
    ask_paper,
    plan_chunks,
    review_paper,
)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> pdfs.PaperSpec:
    return pdfs.build_paper(tmp_path_factory.mktemp("pdf") / "paper.pdf")


@pytest.fixture
def srv(server: DeepSeekServer) -> DeepSeekServer:
    server.responder = responder
    return server


def test_single_path_validates_citations(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    analysis = analyze_paper(spec.path, settings=load_settings(cache_enabled=False))
    assert len(srv.chat_requests) == 1
    body = srv.chat_requests[0].body
    assert body["response_format"] == {"type": "json_object"}
    assert body["thinking"] == {"type": "disabled"}  # the chat profile
    assert analysis.path == "single" and analysis.chunks == 0
    assert analysis.contributions[0].pages == [2, 3]
    ghost = analysis.contributions[1]
    assert ghost.pages == [] and ghost.unverified_pages == [0, 31] and ghost.flagged
    assert analysis.usage.requests == 1 and analysis.usage.input_tokens > 0
    assert "Ghost. (unverified: p. 0, 31)" in analysis.to_markdown()


def test_long_paper_takes_the_map_reduce_path(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    settings = load_settings(cache_enabled=False, paper={"token_budget": 1001, "chunk_tokens": 600})
    from assistants.paper.pdf import load_paper

    chunks = plan_chunks(load_paper(spec.path), 600)
    analysis = analyze_paper(spec.path, settings=settings)
    assert analysis.path == "map-reduce"
    assert analysis.chunks == len(chunks) >= 2
    assert len(srv.chat_requests) == len(chunks) + 1  # map per chunk, then one reduce
    assert analysis.usage.requests == len(chunks) + 1
    map_bodies = [r.body for r in srv.chat_requests if "Take notes" in last_message(r.body)]
    assert len(map_bodies) == len(chunks)
    for body in map_bodies:  # each part is page tagged and never holds the references
        part = body["messages"][1]["content"]
        assert "[page " in part and "[3] A. Author3" not in part
    assert analysis.summary.text == "Combined summary."
    result = analysis.key_results[0]
    assert result.pages == [1] and result.unverified_pages == [999]


def test_follow_up_reuses_the_paper_prefix(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    settings = load_settings(cache_enabled=False)
    chat = PaperChat(spec.path, settings=settings)
    first = chat.ask("What does the tokenizer do?")
    second = chat.ask("And how is it trained?")
    assert first.pages == [4] and second.answerable
    one, two = srv.chat_requests
    messages = two.body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "user", "assistant", "user"]
    assert messages[:3] == one.body["messages"]  # the whole first request is the prefix
    assert json.loads(messages[3]["content"])["answer"] == "A tokenizer."  # content only
    assert set(messages[3]) == {"role", "content"}
    # the server's cache accounting: the first request is served from the prefix cache
    first_prompt = one.usage["prompt_tokens"]
    hit = two.usage["prompt_cache_hit_tokens"]
    assert hit >= first_prompt - first_prompt % 64 - 64
    assert second.usage.cache_hit_tokens == hit
    assert chat.usage.requests == 2


def test_separate_questions_share_the_paper_prefix(
    srv: DeepSeekServer, spec: pdfs.PaperSpec
) -> None:
    settings = load_settings(cache_enabled=False)
    ask_paper(spec.path, "Which datasets?", settings=settings)
    ask_paper(spec.path, "Which baselines?", settings=settings)
    one, two = srv.chat_requests
    paper_chars = sum(len(m["role"]) + len(m["content"]) for m in one.body["messages"][:2])
    assert two.usage["prompt_cache_hit_tokens"] >= (paper_chars // 4) - 64 - 63
    assert one.usage["prompt_cache_hit_tokens"] == 0


def test_review_out_of_range_is_repaired(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.enqueue(Reply(review_json(soundness=7, overall=11)), Reply(review_json()))
    review = review_paper(spec.path, settings=load_settings(cache_enabled=False))
    assert len(srv.chat_requests) == 2
    repair = srv.chat_requests[1].body["messages"]
    assert repair[-2]["role"] == "assistant" and '"soundness": 7' in repair[-2]["content"]
    assert "soundness" in repair[-1]["content"] and "overall" in repair[-1]["content"]
    assert review.soundness == 3 and review.overall == 6 and review.decision == "accept"
    assert review.weaknesses[0].pages == [6] and review.weaknesses[0].unverified_pages == [77]
    assert review.usage.requests == 2


def test_review_out_of_range_twice_fails(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.enqueue(Reply(review_json(confidence=0)), Reply(review_json(confidence=9)))
    with pytest.raises(StructuredOutputError) as info:
        review_paper(spec.path, settings=load_settings(cache_enabled=False))
    assert "confidence" in (info.value.details or "")


def test_review_ensemble_aggregates(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.responder = None
    srv.enqueue(
        Reply(review_json(overall=4, soundness=2, decision="reject")),
        Reply(review_json(overall=6, soundness=3)),
        Reply(review_json(overall=8, soundness=4)),
        Reply(review_json(overall=5, summary="Meta summary.", decision="reject")),
    )
    review = review_paper(spec.path, ensemble=3, settings=load_settings(cache_enabled=False))
    assert len(srv.chat_requests) == 4
    reviewers = sorted(last_message(r.body).split(" of 3")[0][-10:] for r in srv.chat_requests[:3])
    assert reviewers == ["reviewer 1", "reviewer 2", "reviewer 3"]  # concurrent, any order
    assert "independent reviews" in last_message(srv.chat_requests[3].body)
    assert review.ensemble == 3 and len(review.reviews) == 3
    assert review.overall == 6 and review.soundness == 3  # means of the three reviews
    assert review.decision == "accept"  # majority (2 of 3), not the meta-review's
    assert review.summary == "Meta summary."
    assert "2 of 3 reviewers accept" in review.to_markdown()


def test_folder_batch_lists_failures(
    srv: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "good.pdf").write_bytes(spec.path.read_bytes())
    (folder / "notes.md").write_text("# Notes\n\n## Method\nWe test widgets.\n", "utf-8")
    pdfs.build_encrypted(folder / "locked.pdf")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    (folder / "ignore.png").write_bytes(b"\x89PNG")
    batch = analyze_folder(folder, settings=load_settings(cache_enabled=False))
    assert [i.source for i in batch.items] == ["broken.pdf", "good.pdf", "locked.pdf", "notes.md"]
    assert [i.ok for i in batch.items] == [False, True, False, True]
    assert len(srv.chat_requests) == 2
    locked = batch.items[2]
    assert "encrypted" in (locked.error or "") and "--password" in (locked.hint or "")
    assert batch.usage.requests == 2
    index = batch.write(tmp_path / "reports")
    text = index.read_text("utf-8")
    assert "2 analysed, 2 failed" in text and "locked.pdf: " in text
    assert (tmp_path / "reports" / "good.md").read_text("utf-8").startswith("# Sparse Widgets")
    assert (tmp_path / "reports" / "notes.md").is_file()


def test_a_failed_map_part_is_reported_not_fatal(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    settings = load_settings(
        cache_enabled=False, concurrency=1, paper={"token_budget": 1001, "chunk_tokens": 600}
    )
    srv.fail_next(400, message="bad part")  # not retried: that part fails
    analysis = analyze_paper(spec.path, settings=settings)
    assert analysis.path == "map-reduce"
    failed = [w for w in analysis.warnings if w.startswith("part 1 of")]
    assert len(failed) == 1 and "bad part" in failed[0]
    reduce_notes = srv.chat_requests[-1].body["messages"][1]["content"]
    assert "Part 1 notes." not in reduce_notes and "Part 2 notes." in reduce_notes


def test_analysis_and_review_share_the_paper_prefix(
    srv: DeepSeekServer, spec: pdfs.PaperSpec
) -> None:
    """The schema goes after the paper, so an analysis and a review of the same paper send
    the same system + paper prefix and the second is served from the API's prefix cache."""
    settings = load_settings(cache_enabled=False)
    analyze_paper(spec.path, settings=settings)
    review_paper(spec.path, settings=settings)
    first, second = srv.chat_requests
    assert first.body["messages"][:2] == second.body["messages"][:2]
    paper_chars = len(first.body["messages"][1]["content"])
    hit = second.usage["prompt_cache_hit_tokens"]
    assert hit * 4 >= paper_chars * 0.9  # the server counts 4 characters a token
