"""Audit of the paper analyzer: edge cases found by using it as a demanding user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pdfs
import pytest
from click.testing import CliRunner, Result
from deepseek_server import DeepSeekServer, Reply
from fakes import ScriptedChatModel
from paper_replies import responder, review_json

from assistants.cli import cli
from assistants.config import load_settings
from assistants.paper.analyze import (
    analyze_folder,
    analyze_paper,
    ask_paper,
    plan_chunks,
    review_paper,
)
from assistants.paper.pdf import load_paper
from assistants.paper.text import paper_from_text


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> pdfs.PaperSpec:
    return pdfs.build_paper(tmp_path_factory.mktemp("pdf") / "paper.pdf")


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["paper", *args], input=input, catch_exceptions=False)


def _settings():  # type: ignore[no-untyped-def]
    return load_settings(cache_enabled=False, ledger_enabled=False)


# -- CLI: --output checked before anything is sent ---------------------------------------------


def test_single_file_output_to_a_folder_is_an_input_error_before_any_request(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    server.responder = responder
    result = run("analyze", str(spec.path), "-o", str(tmp_path))
    assert result.exit_code == 4, result.output
    assert "is a folder" in result.stderr
    assert server.chat_requests == []


def test_folder_output_onto_a_file_is_an_input_error_before_any_request(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    server.responder = responder
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(spec.path.read_bytes())
    target = tmp_path / "report.md"
    target.write_text("keep me", "utf-8")
    result = run("analyze", str(folder), "-o", str(target))
    assert result.exit_code == 4, result.output
    assert "not a folder" in result.stderr
    assert server.chat_requests == []
    assert target.read_text("utf-8") == "keep me"
    for args in (
        ("analyze", str(folder), "-o", str(target / "reports")),
        ("analyze", str(folder / "a.pdf"), "-o", str(target / "a.md")),
        ("ask", str(folder / "a.pdf"), "Why?", "-o", str(target / "a.md")),
        ("review", str(folder / "a.pdf"), "-o", str(target / "sub" / "a.md")),
    ):
        result = run(*args)
        assert result.exit_code == 4, result.output
        assert f"{target} is not a writable folder" in result.stderr
    assert server.chat_requests == []


def test_rerun_on_a_folder_does_not_analyse_its_own_reports(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.responder = responder
    (tmp_path / "a.pdf").write_bytes(spec.path.read_bytes())
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second run finds ./paper-reports from the first
        result = run("analyze", ".", "--format", "markdown", "--no-cache")
        assert result.exit_code == 0, result.output
        assert "1 analysed, 0 failed" in result.stdout
    assert len(server.chat_requests) == 2
    batch = analyze_folder(tmp_path, settings=_settings(), exclude=[tmp_path / "paper-reports"])
    assert [item.source for item in batch.items] == ["a.pdf"]
    result = run("analyze", ".", "-o", ".", "--no-cache")  # reports next to the papers: works
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.txt").is_file()


def test_batch_failure_names_the_file_once(tmp_path: Path) -> None:
    (tmp_path / "b.pdf").write_bytes(b"not a pdf")
    batch = analyze_folder(tmp_path, settings=_settings(), model=ScriptedChatModel(replies=[]))
    (item,) = batch.failures
    assert item.error == "not a PDF (no %PDF- header)"
    assert "- b.pdf: not a PDF" in batch.to_markdown()


# -- PDFs --------------------------------------------------------------------------------------


def _owner_only(path: Path) -> Path:
    """Encrypted with an empty user password (publisher PDFs that only restrict printing)."""
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.set_encryption(
        owner_password="owner", user_password="", encryption_method=EncryptionMethod.AES_128
    )
    pdf.add_page()
    pdf.multi_cell(0, 6, "Owner restricted page. " + pdfs.filler(1, 60))
    pdf.output(str(path))
    return path


def test_a_password_does_not_break_a_pdf_that_opens_without_one(tmp_path: Path) -> None:
    path = _owner_only(tmp_path / "owner.pdf")
    assert "Owner restricted page." in load_paper(path).text
    # a password given for other files of a batch (or ASSISTANTS_PDF_PASSWORD) is not fatal
    assert "Owner restricted page." in load_paper(path, password="for-another-file").text
    locked = pdfs.build_encrypted(tmp_path / "locked.pdf")
    with pytest.raises(Exception, match="wrong password"):
        load_paper(locked, password="nope")
    assert "Secret page 1." in load_paper(locked, password="s3cret").text


# -- citations the way models write them ------------------------------------------------------


def test_pages_written_as_strings_ranges_or_a_number_are_read(spec: pdfs.PaperSpec) -> None:
    reply = {
        "title": "T",
        "summary": {"text": "S.", "pages": "3-5"},
        "contributions": [
            {"text": "a", "pages": ["p. 4", "pp. 6–7", 2.0]},
            {"text": "b", "pages": 4},
            {"text": "c", "pages": None},
            {"text": "d", "pages": ["Section 3", "0", -2, "999"]},
        ],
    }
    model = ScriptedChatModel(replies=[json.dumps(reply)])
    analysis = analyze_paper(spec.path, settings=_settings(), model=model)
    assert len(model.calls) == 1  # no repair round
    assert analysis.summary.pages == [3, 4, 5]
    a, b, c, d = analysis.contributions
    assert a.pages == [2, 4, 6, 7] and not a.flagged
    assert b.pages == [4]
    assert c.pages == [] and c.flagged
    assert d.pages == [] and d.unverified_pages == [0, -2, 999] and d.flagged


def test_answer_pages_as_a_string(spec: pdfs.PaperSpec) -> None:
    reply = {"answerable": True, "answer": "A tokenizer.", "pages": "p. 4"}
    model = ScriptedChatModel(replies=[json.dumps(reply)])
    answer = ask_paper(spec.path, "What?", settings=_settings(), model=model)
    assert answer.pages == [4] and len(model.calls) == 1


# -- long papers -------------------------------------------------------------------------------


def test_a_page_bigger_than_a_chunk_is_split() -> None:
    big = "1 Introduction\n" + "\n".join(pdfs.filler(i, 60) for i in range(300))
    paper = paper_from_text(big + "\f2 Method\n" + pdfs.filler(3, 50))
    chunks = plan_chunks(paper, 1000)
    assert len(chunks) > 5
    assert all(chunk.tokens <= 1000 for chunk in chunks)
    pieces = [piece for chunk in chunks for piece in chunk.pieces]
    body = "".join(paper.pages[p - 1].text[a:b] for p, a, b in pieces)
    assert body == "".join(page.text for page in paper.pages)
    assert chunks[0].text(paper).startswith("[page 1]\n1 Introduction")
    assert all(c.text(paper).startswith("[page 1]") for c in chunks[:-1])


def test_dry_runs_count_the_paper_apart_from_the_prompt(spec: pdfs.PaperSpec) -> None:
    review = review_paper(spec.path, settings=_settings(), ensemble=2, dry_run=True)
    assert review.estimate is not None
    assert 0 < review.estimate.paper_tokens < review.estimate.input_tokens
    answer = ask_paper(spec.path, "Why?", settings=_settings(), dry_run=True)
    assert answer.estimate is not None
    assert 0 < answer.estimate.paper_tokens < answer.estimate.input_tokens


# -- headings ----------------------------------------------------------------------------------


def test_a_references_heading_mid_paper_does_not_hide_later_sections() -> None:
    filler = pdfs.filler
    pages = [
        "A Survey of Widgets\nAbstract\n" + filler(1, 80),
        "1 Introduction\n" + filler(2, 80),
        "2 Sources\n" + filler(3, 80) + "\nReferences\n" + filler(4, 80),
        "3 Taxonomy\n" + filler(5, 80),
        "4 Discussion\n" + filler(6, 80),
        "5 Conclusion\n" + filler(7, 80),
        "References\n" + "\n".join(f"[{i}] C. Person. Item {i}. 2019." for i in range(1, 9)),
    ]
    paper = paper_from_text("\f".join(pages))
    titles = [s.title for s in paper.sections]
    assert titles == [
        "Abstract",
        "1 Introduction",
        "2 Sources",
        "References",
        "3 Taxonomy",
        "4 Discussion",
        "5 Conclusion",
        "References",
    ]
    assert paper.references_page == 7 and paper.reference_count == 8


def test_chinese_references_heading() -> None:
    text = (
        "# 稀疏小部件\n\n## 摘要\n\n我们研究了小部件。\n\n## 参考文献\n\n"
        "[1] 张三. 研究. 2020.\n[2] 李四. 研究. 2021.\n"
    )
    paper = paper_from_text(text, kind="markdown")
    assert paper.references is not None and paper.reference_count == 2
    assert "张三" not in paper.body_text()
    plain = paper_from_text(text.replace("#", "").replace("\n\n", "\n"))  # no markdown
    assert plain.references is not None and plain.reference_count == 2


def test_prose_is_not_taken_for_the_title(tmp_path: Path) -> None:
    path = pdfs.build_simple(tmp_path / "untitled.pdf")  # page 1 starts with wrapped prose
    paper = load_paper(path)
    assert paper.title is None
    analysis = analyze_paper(paper, settings=_settings(), dry_run=True)
    assert analysis.to_markdown().startswith("# untitled.pdf")  # the file name instead


def test_a_safety_limit_is_not_called_corruption() -> None:
    from pypdf import errors as pdf_errors

    from assistants.paper.pdf import _classify

    try:
        try:
            raise pdf_errors.LimitReachedError("Maximum XRef stream entry limit reached")
        except pdf_errors.LimitReachedError as inner:
            raise pdf_errors.PdfReadError(f"Trailer cannot be read: {inner}") from inner
    except pdf_errors.PdfReadError as exc:
        message, hint = _classify(exc, pdf_errors, encrypted=False)
    assert message.startswith("the PDF exceeds a safety limit")
    assert "corrupt" not in message and hint and "hostile" in hint


def test_ensemble_keeps_the_reviews_when_the_meta_review_fails(
    server: DeepSeekServer, spec: pdfs.PaperSpec
) -> None:
    server.enqueue(
        Reply(review_json(overall=4, decision="reject", summary="Weak.")),
        Reply(review_json(overall=7, summary="Typical.")),
        Reply(review_json(overall=8, summary="Strong.")),
        Reply(status=400, error_message="meta refused"),  # the meta-review: not retried
    )
    settings = load_settings(cache_enabled=False, ledger_enabled=False, concurrency=1)
    review = review_paper(spec.path, settings=settings, ensemble=3)
    assert len(review.reviews) == 3 and review.overall == 6.33
    assert review.decision == "accept"  # 2 of 3
    assert review.summary == "Typical."  # the review closest to the mean
    assert any("meta-review failed" in w and "meta refused" in w for w in review.warnings)


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


def test_folder_dry_run_totals_the_plans(spec: pdfs.PaperSpec, tmp_path: Path) -> None:
    for name in ("a.pdf", "b.pdf"):
        (tmp_path / name).write_bytes(spec.path.read_bytes())
    batch = analyze_folder(tmp_path, settings=_settings(), dry_run=True)
    plans = [a.estimate for a in batch.analyses]
    assert all(plans) and len(plans) == 2
    index = batch.to_markdown()
    assert "dry run: nothing was sent · 2 planned, 0 failed · 2 request(s)" in index
    tokens = sum(e.input_tokens for e in plans if e)
    assert f"{tokens:,} input tokens" in index and "analysed" not in index


def test_utf16_text_file_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(
        "Widgets Revisited\n\n1 Introduction\nSparse widgets: über-fast.\n".encode("utf-16")
    )
    paper = load_paper(path)
    assert "über-fast" in paper.text and paper.title == "Widgets Revisited"
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(Exception, match="looks binary"):
        load_paper(tmp_path / "blob.txt")


def test_chat_json_is_one_object_per_line(server: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    server.responder = responder
    result = run("chat", str(spec.path), "-f", "json", "--no-cache", input="One?\n\nTwo?\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == ["One?", "Two?"]


def test_references_of_a_short_text_paper_are_cut() -> None:
    """Two synthetic pages: the references start on page 1 but in the back half of the text."""
    filler = pdfs.filler
    body = "".join(
        f"\n\n## {name}\n\n" + filler(i, words)
        for i, (name, words) in enumerate(
            [("Abstract", 60), ("1 Introduction", 140), ("2 Method", 140), ("3 Conclusion", 40)]
        )
    )
    refs = "\n".join(f"[{i}] A. Author. Reference title {i}. In Proc. 2020." for i in range(1, 30))
    paper = paper_from_text(f"# A Title{body}\n\n## References\n\n{refs}", kind="markdown")
    assert paper.page_count == 2 and paper.references_page == 1
    assert paper.reference_count == 29
    assert "Reference title 3." not in paper.body_text()


def test_ask_and_review_show_the_papers_warnings(server: DeepSeekServer, tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for number in range(4):
        pdf.add_page()
        if number % 2 == 0:  # pages 2 and 4 are blank (scans without a text layer)
            pdf.multi_cell(0, 6, f"Page {number + 1} text. " + pdfs.filler(number, 60))
    pdf.output(str(tmp_path / "half.pdf"))
    server.responder = responder
    for args in (("ask", "What?"), ("review",), ("chat",)):
        result = run(args[0], str(tmp_path / "half.pdf"), *args[1:], "--no-cache", input="Q?\n")
        assert result.exit_code == 0, result.output
        assert "warning: 2 of 4 pages have no text" in result.stderr


def test_a_folder_of_long_papers_keeps_to_the_concurrency_limit(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    import threading
    import time

    lock = threading.Lock()
    in_flight = [0, 0]  # now, most

    def reply(body: dict[str, Any]) -> Reply:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        time.sleep(0.05)  # let the other requests arrive
        with lock:
            in_flight[0] -= 1
        return responder(body)

    server.responder = reply
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        (tmp_path / name).write_bytes(spec.path.read_bytes())
    settings = load_settings(
        cache_enabled=False,
        ledger_enabled=False,
        concurrency=2,
        paper={"token_budget": 1001, "chunk_tokens": 600},
    )
    batch = analyze_folder(tmp_path, settings=settings)
    assert [a.path for a in batch.analyses] == ["map-reduce"] * 3
    assert len(server.chat_requests) > 6
    assert in_flight[1] <= 2  # not 2 papers x 2 map requests
