"""Paper task logic without sockets: page checks, chunk planning, results and rendering, and
the request layout through the scripted chat model (the model boundary)."""

from __future__ import annotations

import json
from pathlib import Path

import pdfs
import pytest
from fakes import ScriptedChatModel

from assistants.config import load_settings
from assistants.paper.analyze import (
    Claim,
    PaperAnalysis,
    PaperReview,
    analyze_paper,
    ask_paper,
    check_pages,
    plan_chunks,
)
from assistants.paper.pdf import load_paper
from assistants.paper.text import build_paper, paper_from_text


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> pdfs.PaperSpec:
    return pdfs.build_paper(tmp_path_factory.mktemp("pdf") / "paper.pdf")


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


def test_check_pages_repairs_labels_and_flags_the_rest() -> None:
    paper = build_paper(
        source="journal.pdf",
        kind="pdf",
        pages=["one " * 10, "two " * 10, "three " * 10],
        labels=["127", "128", "129"],
    )
    assert check_pages([2, 128, 500, 3, 3], paper) == ([2, 3], [500])
    assert check_pages([], paper) == ([], [])


def test_plan_chunks_cover_the_body_once(spec: pdfs.PaperSpec) -> None:
    paper = load_paper(spec.path)
    chunks = plan_chunks(paper, 600)
    assert len(chunks) >= 2
    assert all(chunk.tokens <= 600 for chunk in chunks)
    pieces = [piece for chunk in chunks for piece in chunk.pieces]
    pages = {page for page, _, _ in pieces}
    assert spec.references_page not in pages  # references cut
    assert spec.appendix_page in pages  # appendix kept
    body = "".join(paper.pages[p - 1].text[a:b] for p, a, b in pieces)
    assert body.replace("\n", "") == paper.body_text(tagged=False).replace("\n", "")
    # cuts happen at top-level section starts: no chunk begins mid-section except by size
    assert chunks[1].sections[0] in {name for name, _, _ in spec.sections}
    text = chunks[0].text(paper)
    assert text.startswith("[page 1]\n")
    everything = plan_chunks(paper, 600, cut_references=False)
    assert spec.references_page in {p for c in everything for p, _, _ in c.pieces}


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


def test_unanswerable_question(spec: pdfs.PaperSpec) -> None:
    reply = {"answerable": False, "answer": "The paper does not report GPU hours.", "pages": [3]}
    model = ScriptedChatModel(replies=[json.dumps(reply)])
    settings = load_settings(cache_enabled=False, ledger_enabled=False)
    answer = ask_paper(spec.path, "How many GPU hours?", settings=settings, model=model)
    assert not answer.answerable and answer.pages == []
    assert "does not answer" in answer.to_markdown()
    assert "How many GPU hours?" in model.calls[0]["messages"][-1].content


def test_text_input_is_analysed_with_synthetic_pages() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + pdfs.filler(i, 120) for i in range(12))
    paper = paper_from_text(text)
    reply = dict(ANALYSIS, contributions=[_claim("x", [paper.page_count + 1])])
    model = ScriptedChatModel(replies=[json.dumps(reply)])
    settings = load_settings(cache_enabled=False, ledger_enabled=False)
    analysis = analyze_paper(text, settings=settings, model=model)
    assert analysis.source == "<text>"
    assert analysis.contributions[0].unverified_pages == [paper.page_count + 1]


def test_review_scores_are_range_checked() -> None:
    with pytest.raises(ValueError):
        PaperReview(source="x", soundness=5)
    review = PaperReview(source="x", soundness=2.5, overall=7.33, strengths=[Claim(text="a")])
    assert "2.50 / 4" in review.to_markdown()
    assert PaperReview.model_validate_json(review.model_dump_json()) == review


def test_batch_index_names(tmp_path: Path) -> None:
    from assistants.paper.render import report_name

    used: set[str] = set()
    assert report_name("a/b paper.pdf", ".md", used) == "a_b_paper.md"
    assert report_name("a/b paper.pdf", ".md", used) == "a_b_paper-2.md"
    assert report_name("index.pdf", ".md", used) == "index-2.md"
