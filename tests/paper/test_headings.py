"""Headings and references found in page text: numbered, roman and named headings,
references sections (also mid-paper and in Chinese) and their entries counted."""

from __future__ import annotations

import pdfs

from assistants.paper.headings import count_references, detect_headings
from assistants.paper.text import paper_from_text


def test_detect_headings_needs_a_sequence() -> None:
    pages = [
        "1 Introduction\ntext\n3 We show results that hold\n2 Method\n"
        "2.1 Setup\n2.3 Skipped Number\n3 Results\nReferences\n4. A. Author. Title. 2020.",
        "Appendix A Extra Proofs\nA.1 Lemma One\nmore",
    ]
    found = [(h.title, h.level, h.page) for h in detect_headings(pages)]
    assert found == [
        ("1 Introduction", 1, 1),
        ("2 Method", 1, 1),
        ("2.1 Setup", 2, 1),
        ("3 Results", 1, 1),
        ("References", 1, 1),
        ("Appendix A Extra Proofs", 1, 2),
        ("A.1 Lemma One", 2, 2),
    ]


def test_detect_roman_numbered_headings() -> None:
    pages = [
        "I. INTRODUCTION\ntext\nII. A NEW WIDGET FRAMEWORK\nIV. Not Next\n"
        "III. EXPERIMENTS\nIV. CONCLUSION\nREFERENCES\n[1] A. B. C. 2020."
    ]
    found = [h.title for h in detect_headings(pages)]
    assert found == [
        "I. INTRODUCTION",
        "II. A NEW WIDGET FRAMEWORK",
        "III. EXPERIMENTS",
        "IV. CONCLUSION",
        "REFERENCES",
    ]


def test_count_references_styles() -> None:
    assert count_references("References\n[1] A\n[2] B\n[3] C") == 3
    assert count_references("References\n1. Smith, J. X.\n2. Doe, K. Y.\n3. Roe. Z.") == 3
    author_year = (
        "References\nSmith, J. (2020). A paper.\nIn Proceedings.\nDoe, K. and Roe, L. 2019. B."
    )
    assert count_references(author_year) == 2
    one_per_line = "References\nGNOME The GNOME desktop,\nhttp://www.gnome.org\nKDE The KDE one\n17"
    assert count_references(one_per_line) == 2


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
