"""Cited pages: read the way models write them, checked against the paper's pages, printed
labels repaired, the rest kept as unverified."""

from __future__ import annotations

import json

import pdfs
from fakes import ScriptedChatModel

from assistants.config import load_settings
from assistants.paper.analyze import analyze_paper
from assistants.paper.chat import ask_paper
from assistants.paper.request import check_pages
from assistants.paper.schema import CLAIM_LISTS
from assistants.paper.text import build_paper


def _settings():  # type: ignore[no-untyped-def]
    return load_settings(cache_enabled=False, ledger_enabled=False)


def test_check_pages_repairs_labels_and_flags_the_rest() -> None:
    paper = build_paper(
        source="journal.pdf",
        kind="pdf",
        pages=["one " * 10, "two " * 10, "three " * 10],
        labels=["127", "128", "129"],
    )
    assert check_pages([2, 128, 500, 3, 3], paper) == ([2, 3], [500])
    assert check_pages([], paper) == ([], [])


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
        **{name: [] for name in CLAIM_LISTS if name != "contributions"},
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
