"""The paper document from text: .txt and .md files, pasted text, synthetic pages, text
repair, titles, and the references cut of short papers."""

from __future__ import annotations

from pathlib import Path

import pdfs
import pytest
from paths import DATA

from assistants.config import load_settings
from assistants.paper.analyze import analyze_paper
from assistants.paper.clean import clean_text
from assistants.paper.pdf import load_paper
from assistants.paper.text import paper_from_text


def _settings():  # type: ignore[no-untyped-def]
    return load_settings(cache_enabled=False, ledger_enabled=False)


def test_markdown_and_text_inputs(tmp_path: Path) -> None:
    md = tmp_path / "paper.md"
    md.write_text(
        "# A Markdown Paper\n\n## Abstract\nWe do things.\n\n## 1 Method\nThe method.\n\n"
        "```\n# not a heading\n```\n\n## References\n[1] A. B. Title. 2020.\n[2] C. D. X. 2021.\n",
        encoding="utf-8",
    )
    paper = load_paper(md)
    assert paper.kind == "markdown" and paper.sections_from == "markdown"
    assert [s.title for s in paper.sections] == [
        "A Markdown Paper",
        "Abstract",
        "1 Method",
        "References",
    ]
    assert paper.reference_count == 2
    assert "The method." in paper.body_text() and "[1] A. B." not in paper.body_text()

    long_text = "\n\n".join(f"Paragraph {i}. " + pdfs.filler(i, 80) for i in range(40))
    txt = tmp_path / "paper.txt"
    txt.write_text(long_text, encoding="utf-8")
    paper = load_paper(str(txt))
    assert paper.kind == "text" and paper.synthetic_pages
    assert paper.page_count > 3
    assert "Paragraph 39." in paper.pages[-1].text

    raw = load_paper("Some pasted text\nwith two lines about widgets.")
    assert raw.source == "<text>" and raw.page_count == 1


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


def test_sample_markdown_paper() -> None:
    sample = DATA / "paper" / "widgets.md"
    paper = load_paper(sample)
    assert paper.title == "Sparse Widgets for Dense Retrieval"
    assert [s.title for s in paper.sections if s.level == 2][:3] == [
        "Abstract",
        "1 Introduction",
        "2 Related Work",
    ]
    assert paper.reference_count == 3
    assert "Karpukhin" not in paper.body_text() and "0.720" in paper.body_text()


def test_clean_text() -> None:
    assert clean_text("e\ufb03cient \ufb01eld") == "efficient field"
    assert clean_text("a hyphen-\nation rule") == "a hyphenation\nrule"
    assert clean_text("state-of-the-\nart model") == "state-of-the-art model"
    assert clean_text("Method -\nthe dash") == "Method -\nthe dash"
    assert clean_text("End of line-\nBeginning") == "End of line-\nBeginning"
    assert clean_text("bad\ud800 \x00ctrl\ufffd soft\u00adhyphen") == "bad ctrl softhyphen"
    assert clean_text("a\n\n\n\nb   c") == "a\n\nb c"


def test_prose_is_not_taken_for_the_title(tmp_path: Path) -> None:
    path = pdfs.build_simple(tmp_path / "untitled.pdf")  # page 1 starts with wrapped prose
    paper = load_paper(path)
    assert paper.title is None
    analysis = analyze_paper(paper, settings=_settings(), dry_run=True)
    assert analysis.to_markdown().startswith("# untitled.pdf")  # the file name instead


def test_references_in_the_front_half_are_not_cut() -> None:
    pages = ["Title\nReferences\nWe discuss references to earlier work. " * 3] + [
        f"{i} Section\nSome text on page {i}." for i in range(1, 8)
    ]
    paper = paper_from_text("\f".join(pages))
    assert paper.references is None
    assert paper.body_text(tagged=False).count("We discuss references") == 3


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
