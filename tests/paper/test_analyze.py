"""Analysing one paper: the request layout (scripted chat model) and over HTTP against the
DeepSeek-protocol test server: the single path, map → reduce for long papers, failures of a
part or of the reduce step, dry runs, and the prefix shared with other requests."""

from __future__ import annotations

import json
from typing import Any

import pdfs
from deepseek_server import DeepSeekServer, Reply
from fakes import ScriptedChatModel
from paper_replies import last_message, responder

from assistants.config import load_settings
from assistants.paper.analyze import analyze_paper
from assistants.paper.chunks import plan_chunks
from assistants.paper.models import PaperAnalysis
from assistants.paper.pdf import load_paper
from assistants.paper.review import review_paper
from assistants.paper.text import paper_from_text


def _claim(text: str, pages: list[int]) -> dict[str, object]:
    return {"text": text, "pages": pages}


ANALYSIS = {
    "title": "Sparse Widgets",
    "summary": _claim("Widgets are sparse.", [1, 2]),
    "contributions": [_claim("A widget.", [4]), _claim("Invented.", [42])],
    "innovations": [_claim("No citation.", [])],
    "method": [_claim("Tokenize.", [4])],
    "key_results": [_claim("12.5 percent recall gain.", [1])],
    "limitations": [],
    "open_questions": [_claim("Scale?", [8, 8])],
}


def test_analysis_request_layout_and_checked_citations(spec: pdfs.PaperSpec) -> None:
    model = ScriptedChatModel(replies=[json.dumps(ANALYSIS)])
    settings = load_settings(cache_enabled=False, ledger_enabled=False)
    analysis = analyze_paper(spec.path, settings=settings, model=model)
    assert len(model.calls) == 1
    messages = model.calls[0]["messages"]
    assert [m.type for m in messages] == ["system", "human", "human"]
    assert "[page N]" in messages[0].content and "JSON" in messages[0].content
    paper_text = messages[1].content
    assert "[page 1]" in paper_text and "Marker page 8." in paper_text
    assert "[4] A. Author4" not in paper_text  # the references are cut
    assert "Appendix text survives" in paper_text
    assert "Analyse the paper above" in messages[2].content
    assert analysis.path == "single"
    assert analysis.summary.pages == [1, 2]
    invented = analysis.contributions[1]
    assert invented.pages == [] and invented.unverified_pages == [42] and invented.flagged
    assert analysis.innovations[0].flagged  # no page at all
    assert analysis.open_questions[0].pages == [8]
    assert len(analysis.flagged) == 2
    assert analysis.references_excluded and analysis.reference_count == 12
    md = analysis.to_markdown()
    assert "Widgets are sparse. (p. 1, 2)" in md
    assert "Invented. (unverified: p. 42)" in md
    assert "(no page cited)" in md
    again = PaperAnalysis.model_validate_json(analysis.model_dump_json())
    assert again == analysis


def test_language_reaches_the_prompt(spec: pdfs.PaperSpec) -> None:
    model = ScriptedChatModel(replies=[json.dumps(ANALYSIS)])
    settings = load_settings(cache_enabled=False, ledger_enabled=False)
    analyze_paper(spec.path, settings=settings, model=model, lang="zh")
    assert "Chinese" in model.calls[0]["messages"][0].content


def test_dry_run_sends_nothing(spec: pdfs.PaperSpec) -> None:
    model = ScriptedChatModel(replies=[])
    settings = load_settings(paper={"token_budget": 1001, "chunk_tokens": 600})
    analysis = analyze_paper(spec.path, settings=settings, model=model, dry_run=True)
    assert model.calls == []
    assert analysis.dry_run and analysis.estimate is not None
    assert analysis.estimate.path == "map-reduce"
    assert analysis.estimate.requests == analysis.chunks + 1
    assert analysis.estimate.input_tokens > analysis.paper_tokens > 1001
    assert "dry run: nothing was sent" in analysis.to_text()


def test_text_input_is_analysed_with_synthetic_pages() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + pdfs.filler(i, 120) for i in range(12))
    paper = paper_from_text(text)
    reply = dict(ANALYSIS, contributions=[_claim("x", [paper.page_count + 1])])
    model = ScriptedChatModel(replies=[json.dumps(reply)])
    settings = load_settings(cache_enabled=False, ledger_enabled=False)
    analysis = analyze_paper(text, settings=settings, model=model)
    assert analysis.source == "<text>"
    assert analysis.contributions[0].unverified_pages == [paper.page_count + 1]


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


def test_map_reduce_keeps_the_notes_when_the_reduce_fails(
    server: DeepSeekServer, spec: pdfs.PaperSpec
) -> None:
    def reply(body: dict[str, Any]) -> Reply:
        if "Above are notes" in str(body["messages"][-1]["content"]):
            return Reply(status=400, error_message="reduce refused")
        return responder(body)

    server.responder = reply
    settings = load_settings(
        cache_enabled=False, ledger_enabled=False, paper={"token_budget": 1001, "chunk_tokens": 600}
    )
    analysis = analyze_paper(spec.path, settings=settings)
    assert analysis.path == "map-reduce" and analysis.chunks >= 2
    assert analysis.summary.text.startswith("Part 1 notes. Part 2 notes.")
    results = [claim.text for claim in analysis.key_results]
    assert results[:2] == ["Result from part 1.", "Result from part 2."]
    assert analysis.key_results[0].unverified_pages == [999]  # still checked
    assert any("reduce step failed" in w and "reduce refused" in w for w in analysis.warnings)
    assert analysis.usage.requests == analysis.chunks


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
