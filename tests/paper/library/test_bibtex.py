"""BibTeX entries: fields from the metadata found, LaTeX escaping, stable unique keys — read
back with a real BibTeX parser (pybtex)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pdfs import build_paper
from pybtex.database import parse_string

from assistants.paper.library.bibtex import (
    bibtex_entries,
    bibtex_entry,
    bibtex_key,
    latex_escape,
    paper_bibtex,
)
from assistants.paper.library.models import LibraryPaper


def parse(text: str) -> dict[str, Any]:
    return dict(parse_string(text, "bibtex").entries)


def test_an_entry_has_every_field_found(tmp_path: Path) -> None:
    spec = build_paper(tmp_path / "widgets.pdf")
    text = paper_bibtex(spec.path)
    ((key, entry),) = parse(text).items()
    assert key == "lovelace2024sparse"
    assert entry.type == "misc"
    assert entry.fields["title"] == "{Sparse Widgets for Dense Retrieval}"
    assert entry.fields["year"] == "2024"
    assert entry.fields["doi"] == "10.5555/widgets.2024.17"
    assert entry.fields["eprint"] == "2401.01234" and entry.fields["archivePrefix"] == "arXiv"
    assert [str(p) for p in entry.persons["author"]] == ["Lovelace, Ada", "Turing, Alan"]


def test_latex_specials_are_escaped() -> None:
    assert latex_escape("50% of R&D_x costs $5 #1 {a} ~b^c \\d") == (
        r"50\% of R\&D\_x costs \$5 \#1 \{a\} \textasciitilde{}b\textasciicircum{}c "
        r"\textbackslash{}d"
    )
    paper = LibraryPaper(source="a.pdf", title="Q&A on {braces} at 100%", authors=["Zoë Ørsted"])
    text = bibtex_entry(paper)
    ((key, entry),) = parse(text).items()
    assert key == "orstedqa"  # no year: author + first title word, in ASCII
    assert entry.fields["title"] == r"{Q\&A on \{braces\} at 100\%}"


def test_keys_are_stable_and_unique() -> None:
    papers = [
        LibraryPaper(source="b.pdf", title="The Widget Study", authors=["Ada Lovelace"], year=2024),
        LibraryPaper(source="a.pdf", title="Widgets Again", authors=["Ada Lovelace"], year=2024),
        LibraryPaper(source="c.pdf", title="Widget Notes", authors=["Lovelace, A."], year=2024),
        LibraryPaper(source="d.pdf"),
    ]
    assert bibtex_key(papers[0]) == "lovelace2024widget"
    text = bibtex_entries(papers)
    keys = list(parse(text))
    assert keys == ["lovelace2024widgets", "lovelace2024widgeta", "lovelace2024widgetb", "d"]
    assert bibtex_entries(list(reversed(papers))) == text  # order of the input does not matter
