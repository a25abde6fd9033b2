"""Tables and figures: captions with their pages, table bodies from pypdf's layout text
(columns kept) on generated PDFs with real fpdf2 tables and two-column pages, the table text
sent with the paper, and key results that name their table (checked)."""

from __future__ import annotations

import json
import re
from typing import Any

import pdfs
import pytest
from deepseek_server import DeepSeekServer, Reply
from paper_replies import claim, complete, last_message

from assistants.config import load_settings
from assistants.paper.analyze import analyze_paper
from assistants.paper.captions import canonical_number, find_captions, table_region
from assistants.paper.pdf import _extract, load_paper
from assistants.paper.request import paper_message
from assistants.paper.tables import Table, check_table, tables_text
from assistants.paper.text import paper_from_text
from assistants.paper.worker import Limits


@pytest.fixture(scope="module")
def tables_spec(tmp_path_factory: pytest.TempPathFactory) -> pdfs.TablesSpec:
    return pdfs.build_tables_paper(tmp_path_factory.mktemp("pdf") / "tables.pdf")


@pytest.fixture(scope="module")
def loaded(tables_spec: pdfs.TablesSpec):  # type: ignore[no-untyped-def]
    return load_paper(tables_spec.path)


def _rows(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


def test_captions_and_pages_match_the_pdf(tables_spec: pdfs.TablesSpec, loaded: Any) -> None:
    found = [(t.number, t.caption, t.page) for t in loaded.tables]
    assert found == [(t.number, t.caption, t.page) for t in tables_spec.tables]
    assert [(f.number, f.caption, f.page) for f in loaded.figures] == tables_spec.figures
    # "Table 3 shows ..." wrapped to a line start on page 2 is prose, not a caption
    assert all(t.page != 2 for t in loaded.tables)
    assert "- Table 3. Ablations of the widget size. (p. 4)" in loaded.to_markdown()


def test_table_bodies_keep_their_columns(tables_spec: pdfs.TablesSpec, loaded: Any) -> None:
    for expected, table in zip(tables_spec.tables, loaded.tables, strict=True):
        assert _rows(table.text) == [list(row) for row in expected.rows], table.label


def test_two_column_page_keeps_the_table_to_its_column(loaded: Any) -> None:
    ablation = next(t for t in loaded.tables if t.number == "3")
    assert ablation.page == 4
    assert "prose" not in ablation.text and "widgets" not in ablation.text
    # the full-width table under two columns keeps all its columns, and the next table apart
    sizes = next(t for t in loaded.tables if t.number == "IV")
    assert "Score" in sizes.text and "Seed" not in sizes.text


def test_layout_extraction_runs_only_on_pages_with_a_table_caption(
    tables_spec: pdfs.TablesSpec, spec: pdfs.PaperSpec
) -> None:
    raw = _extract(
        path=str(tables_spec.path),
        data=None,
        name="tables.pdf",
        password=None,
        limits=Limits(),
        page_timeout=60,
        file_timeout=120,
    )
    assert sorted(raw["layouts"]) == [2, 3, 4]  # 0-based: the pages with Table 2, 3, IV/5
    plain = load_paper(spec.path)  # a paper without tables or figures: nothing found
    assert plain.tables == [] and plain.figures == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Table 3: Accuracy.", [("table", "3", "Table 3: Accuracy.")]),
        ("Figure 2. A plot.", [("figure", "2", "Figure 2. A plot.")]),
        ("Fig. 4 Results of the sweep", [("figure", "4", "Fig. 4 Results of the sweep")]),
        ("TABLE III\nCOMPARISON OF SIZES", [("table", "III", "TABLE III COMPARISON OF SIZES")]),
        (
            "Table A1: Extra.\nmore words of it\nMethod  Acc",
            [("table", "A1", "Table A1: Extra. more words of it")],
        ),
        ("Table 3 shows the ablations.", []),
        ("As shown in Table 3: nothing.", []),
        ("Table 3\nWords", []),
        ("Table 2: first.\nTable 2: again.", [("table", "2", "Table 2: first.")]),
    ],
)
def test_caption_forms(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(c.kind, c.number, c.text) for c in find_captions(text)] == expected


def test_numbers_compare_across_forms() -> None:
    assert canonical_number("III") == canonical_number("Table 3") == "3"
    assert canonical_number("IV") == "4" and canonical_number("a1") == "A1"
    tables = [Table(number="II", caption="TABLE II", page=3), Table(number="5", caption="", page=6)]
    assert check_table("Table 2", tables)[0] is tables[0]
    assert check_table(" 5 ", tables)[0] is tables[1]
    assert check_table("9", tables) == (None, "9")
    assert check_table(None, tables) == (None, None)


def test_text_papers_find_markdown_tables() -> None:
    paper = paper_from_text(
        "Intro text.\n\nTable 1: Scores.\n\n| Model | Score |\n|---|---|\n"
        "| A | 1.0 |\n| B | 2.0 |\n\nMore prose follows here."
    )
    assert [t.number for t in paper.tables] == ["1"]
    assert "| A | 1.0 |" in paper.tables[0].text and "prose" not in paper.tables[0].text
    assert table_region("no caption here", "1") == ""


def test_tables_are_sent_with_the_paper_within_the_budget(loaded: Any) -> None:
    settings = load_settings()
    message = paper_message(loaded, settings)
    assert "[Table 2, page 3] Table 2: Accuracy" in message
    assert re.search(r"Sparse widgets\s{2,}78\.9\s{2,}45\.1", message)
    assert "[Figure 4, page 4] Fig. 4: Recall" in message
    assert message.index("[Table 2, page 3]") > message.index("[page 5]")  # after the text
    small = tables_text(loaded.tables, loaded.figures, 60)
    assert "over the table budget" in small and "78.9" not in small
    assert tables_text(loaded.tables, loaded.figures, 0) == ""
    only = tables_text(loaded.tables, loaded.figures, 5000, pages={4})
    assert "[Table 3, page 4]" in only and "Table 2" not in only
    none = settings.model_copy(
        update={"paper": settings.paper.model_copy(update={"table_tokens": 0})}
    )
    assert "[Table 2" not in paper_message(loaded, none)


def test_key_results_name_their_table(srv: DeepSeekServer, tables_spec: pdfs.PaperSpec) -> None:
    def reply(body: dict[str, Any]) -> Reply:
        assert "Analyse the paper above" in last_message(body)
        assert '"table"' in last_message(body)  # the schema offers the field
        assert "[Table 2, page 3]" in str(body["messages"][1]["content"])
        result = complete(
            title="Tables of Widgets",
            summary=claim("Widgets.", [1]),
            key_results=[
                {"text": "78.9 on GSM8K.", "pages": [], "table": "2"},
                {"text": "Score 70.5.", "pages": [5], "table": "Table IV"},
                {"text": "Made up.", "pages": [3], "table": 9},
                {"text": "No table.", "pages": [2]},
            ],
        )
        return Reply(json.dumps(result))

    srv.responder = reply
    analysis = analyze_paper(tables_spec.path, settings=load_settings(cache_enabled=False))
    results = analysis.key_results
    assert [(r.table, r.pages, r.unverified_table) for r in results] == [
        ("2", [3], None),  # the table's page is cited with it
        ("IV", [5], None),
        (None, [3], "9"),
        (None, [2], None),
    ]
    assert [r.flagged for r in results] == [False, False, True, False]
    markdown = analysis.to_markdown()
    assert "78.9 on GSM8K. (Table 2, p. 3)" in markdown
    assert "Made up. (p. 3; unverified: 9 (no such table))" in markdown
    again = type(analysis).model_validate_json(analysis.model_dump_json())
    assert again.key_results[0].table == "2"
