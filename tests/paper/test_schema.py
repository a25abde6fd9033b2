"""What the model must say about a paper is required: ``{}``, an object of unknown keys or a
reply missing a list does not validate (the llm layer then asks for a repair), while the
lenient readings that are real repairs still work."""

from __future__ import annotations

import json

import pytest
from deepseek_server import example_value
from pydantic import BaseModel, ValidationError

from assistants.paper.schema import _AnalysisOut, _AnswerOut, _NotesOut, _ReviewOut

SCHEMAS = [_AnalysisOut, _NotesOut, _AnswerOut, _ReviewOut]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
@pytest.mark.parametrize(
    "reply", ["{}", '{"title": "1.1", "description": "x"}', '{"file": "x.py"}', '{"notes": []}']
)
def test_off_schema_replies_do_not_validate(schema: type[BaseModel], reply: str) -> None:
    with pytest.raises(ValidationError):
        schema.model_validate_json(reply)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
def test_every_required_key_is_required(schema: type[BaseModel]) -> None:
    smallest = example_value(schema.model_json_schema())
    schema.model_validate(smallest)  # the test server's default answer validates
    for key in smallest:
        with pytest.raises(ValidationError):
            schema.model_validate({k: v for k, v in smallest.items() if k != key})


def test_lists_must_be_said_but_pages_may_be_null() -> None:
    base = example_value(_NotesOut.model_json_schema())
    assert set(base) == {
        "summary", "contributions", "innovations", "method", "key_results", "limitations",
        "open_questions",
    }  # fmt: skip
    notes = _NotesOut.model_validate({**base, "summary": {"text": "S.", "pages": None}})
    assert notes.summary.pages == []
    with pytest.raises(ValidationError):
        _NotesOut.model_validate({**base, "summary": {"text": "S."}})  # pages not said
    answer = _AnswerOut.model_validate_json(
        json.dumps({"answerable": False, "answer": "Not said.", "pages": [], "extra": 1})
    )
    assert answer.pages == [] and not answer.answerable  # unknown keys beside: ignored
