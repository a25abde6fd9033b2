"""Metadata of a paper for the library: year, authors from the first page, citation labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdfs import build_paper

from assistants.paper.library.models import LibraryPaper
from assistants.paper.library.records import (
    author_label,
    find_year,
    first_page_authors,
    record_from_paper,
    unique_suffixes,
    with_labels,
)
from assistants.paper.pdf import load_paper
from assistants.paper.text import Paper
from assistants.paper.text import build_paper as assemble


def text_paper(first_page: str, **metadata: str) -> Paper:
    return assemble(source="x.pdf", kind="pdf", pages=[first_page, "More text."], metadata=metadata)


@pytest.mark.parametrize(
    ("first_page", "metadata", "year"),
    [
        ("A Title\narXiv:2401.01234\nBody", {}, 2024),
        ("A Title\narXiv:hep-th/9901001\nBody", {}, 1999),
        ("A Title\nProceedings of NeurIPS 2021\nBody", {}, 2021),
        ("A Title\nWe use 4096 dimensions.\nBody", {"creationdate": "D:20180101120000Z"}, 2018),
        ("A Title\nNo year here.", {}, None),
    ],
)
def test_find_year(first_page: str, metadata: dict[str, str], year: int | None) -> None:
    assert find_year(text_paper(first_page, **metadata)) == year


def test_authors_from_the_line_under_the_title() -> None:
    paper = text_paper(
        "Sparse Widgets for Retrieval\nAda Lovelace1, Alan Turing2 and Grace Hopper\n"
    )
    assert first_page_authors(paper) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    prose = text_paper("Sparse Widgets\nwe study widgets in depth, and more\n")
    assert first_page_authors(prose) == []


def test_record_of_a_real_pdf(tmp_path: Path) -> None:
    spec = build_paper(tmp_path / "p.pdf")
    record = record_from_paper(load_paper(spec.path), "p.pdf")
    assert record.title == spec.title
    assert record.authors == ["Ada Lovelace", "Alan Turing"]
    assert (record.year, record.arxiv_id, record.doi) == (
        2024,
        "2401.01234",
        "10.5555/widgets.2024.17",
    )


def test_labels() -> None:
    assert author_label(["Ada Lovelace"]) == "Lovelace"
    assert author_label(["Ada Lovelace", "Turing, Alan"]) == "Lovelace and Turing"
    assert author_label(["A B", "C D", "E F"]) == "B et al."
    assert author_label([]) is None
    records = [
        LibraryPaper(source="b.pdf", authors=["Ada Lovelace"], year=2024),
        LibraryPaper(source="a.pdf", authors=["Ada Lovelace"], year=2024),
        LibraryPaper(source="c.pdf", title="Widgets at Scale Again", year=None),
    ]
    labels = {r.source: r.label for r in with_labels(records)}
    assert labels == {
        "a.pdf": "Lovelace 2024a",
        "b.pdf": "Lovelace 2024b",
        "c.pdf": "Widgets at Scale … n.d.",
    }


def test_unique_suffixes_never_collide() -> None:
    assert unique_suffixes(["x2024", "x2024", "x2024a", "y"]) == ["x2024b", "x2024c", "x2024a", "y"]
