"""Scripted replies of the paper analyzer's test server: notes, analyses, answers, review forms."""

from __future__ import annotations

import json
from typing import Any

from deepseek_server import Reply

from assistants.paper.schema import CLAIM_LISTS


def claim(text: str, pages: list[int]) -> dict[str, Any]:
    return {"text": text, "pages": pages}


def complete(**given: Any) -> dict[str, Any]:
    """Notes or an analysis as the strict schema wants them: every claim list said (``[]``
    for the ones not given)."""
    return {**{name: [] for name in CLAIM_LISTS}, **given}


def last_message(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def review_json(**scores: Any) -> str:
    form = {
        "summary": "The paper proposes sparse widgets.",
        "strengths": [claim("Clear method.", [4])],
        "weaknesses": [claim("Few baselines.", [6, 77])],
        "questions": ["How does it scale?"],
        "limitations": ["Only five benchmarks."],
        "soundness": 3,
        "presentation": 3,
        "contribution": 2,
        "overall": 6,
        "confidence": 4,
        "decision": "accept",
    }
    form.update(scores)
    return json.dumps(form)


def responder(body: dict[str, Any]) -> Reply:
    last = last_message(body)
    if "Take notes on this part" in last:
        part = int(last.split("This is part ")[1].split(" ")[0])
        paper_part = str(body["messages"][1]["content"])
        page = int(paper_part.split("[page ")[1].split("]")[0])
        return Reply(
            json.dumps(
                complete(
                    summary=claim(f"Part {part} notes.", [page]),
                    key_results=[claim(f"Result from part {part}.", [page, 999])],
                )
            )
        )
    if "Above are notes" in last:
        notes = str(body["messages"][1]["content"])
        assert "Result from part" in notes
        return Reply(
            json.dumps(
                complete(
                    title="Sparse Widgets",
                    summary=claim("Combined summary.", [1, 4]),
                    key_results=[claim("Result from part 1.", [1, 999])],
                )
            )
        )
    if "Analyse the paper above" in last:
        return Reply(
            json.dumps(
                complete(
                    title="Sparse Widgets",
                    summary=claim("One paragraph.", [1]),
                    contributions=[claim("Widgets.", [2, 3]), claim("Ghost.", [0, 31])],
                    key_results=[claim("12.5 percent recall gain.", [1])],
                )
            )
        )
    if "Question about the paper above" in last:
        return Reply(json.dumps({"answerable": True, "answer": "A tokenizer.", "pages": [4]}))
    return Reply(review_json())
