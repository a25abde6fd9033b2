"""Report formats with suppressed findings: GitLab Code Quality and reviewdog rdjson checked
against what their consumers read, SARIF suppressions against the official schema, and the
suppressed counts in text, markdown, JSON and GitHub annotations."""

from __future__ import annotations

import json

import jsonschema
import pytest
from report_schemas import validate_gitlab, validate_rdjson
from review_samples import sample_review
from sarif_schema import validate_sarif

from assistants.review.formats import rdjson_result
from assistants.review.models import Finding, Review
from assistants.review.render import to_text
from assistants.review.sarif import to_sarif_dict
from assistants.review.suppress import suppress


def with_suppressed() -> Review:
    """The sample review with one finding held back inline and two by a baseline."""
    review = sample_review()
    held = Finding(
        path="src/e.py",
        line_start=7,
        line_end=7,
        severity="high",
        category="bug",
        title="off by one",
        fingerprint="0123456789abcdef",
    )
    review.suppressed = [
        suppress(held, "inline"),
        suppress(held.model_copy(update={"line_start": 9, "line_end": 9}), "baseline"),
        suppress(held.model_copy(update={"path": "src/f.py"}), "baseline"),
    ]
    return review


def test_gitlab_code_quality_has_what_gitlab_reads() -> None:
    review = with_suppressed()
    issues = json.loads(review.render("gitlab"))
    validate_gitlab(issues)
    assert len(issues) == len(review.findings)  # suppressed findings are not issues
    first = issues[0]
    assert first["location"] == {"path": "src/a b.py", "lines": {"begin": 3, "end": 4}}
    assert first["severity"] == "blocker" and first["check_name"] == "review/security"
    assert first["fingerprint"] == "abc123"
    assert "cur.execute" in first["content"]["body"]
    assert [i["severity"] for i in issues] == ["blocker", "minor"]
    # the check can fail: a missing line, an unknown severity, a repeated fingerprint
    for broken in (
        [{**first, "location": {"path": "a.py"}}],
        [{**first, "severity": "high"}],
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate_gitlab(broken)
    with pytest.raises(AssertionError):
        validate_gitlab([first, first])


def test_rdjson_is_what_reviewdog_parses() -> None:
    review = with_suppressed()
    doc = json.loads(review.render("rdjson"))
    validate_rdjson(doc)
    assert doc["source"] == {"name": "assistants-review"}
    first, second = doc["diagnostics"]
    assert first["severity"] == "ERROR" and second["severity"] == "INFO"
    assert first["code"] == {"value": "review/security"}
    assert first["location"] == {
        "path": "src/a b.py",
        "range": {"start": {"line": 3}, "end": {"line": 4}},
    }
    # an anchored suggestion replaces exactly lines 3-4: up to column 1 of line 5
    assert first["suggestions"] == [
        {
            "range": {"start": {"line": 3, "column": 1}, "end": {"line": 5, "column": 1}},
            "text": "cur.execute('SELECT ?', (x,))\n",
        }
    ]
    assert "suggestions" not in second  # no suggestion, and its lines were not verified
    unverified = sample_review()
    unverified.findings[0].anchored = False
    assert "suggestions" not in rdjson_result(unverified)["diagnostics"][0]
    # reviewdog rejects unknown fields: so does the check
    doc["diagnostics"][0]["fingerprint"] = "abc"
    with pytest.raises(jsonschema.ValidationError):
        validate_rdjson(doc)


def test_sarif_marks_suppressed_results_and_validates() -> None:
    doc = to_sarif_dict(with_suppressed())
    validate_sarif(doc)
    results = doc["runs"][0]["results"]
    kinds = [[s["kind"] for s in r.get("suppressions", [])] for r in results]
    assert kinds == [[], [], ["inSource"], ["external"], ["external"]]
    assert doc["runs"][0]["properties"]["suppressed"] == {"inline": 1, "baseline": 2}
    held = results[2]
    assert held["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    # an unknown suppression kind is caught by the schema
    held["suppressions"][0]["kind"] = "comment"
    with pytest.raises(jsonschema.ValidationError):
        validate_sarif(doc)


@pytest.mark.parametrize("fmt", ["text", "markdown", "github"])
def test_the_counts_are_in_every_human_format(fmt: str) -> None:
    review = with_suppressed()
    text = to_text(review, color=False) if fmt == "text" else review.render(fmt)
    assert "3 suppressed (1 inline, 2 baseline)" in text
    assert "suppressed" not in (
        to_text(sample_review(), color=False) if fmt == "text" else sample_review().render(fmt)
    )


def test_markdown_lists_what_was_suppressed() -> None:
    text = with_suppressed().render("markdown")
    assert "| `src/e.py` | 7 | bug | off by one | inline |" in text
    assert "| `src/f.py` | 7 | bug | off by one | baseline |" in text


def test_json_carries_the_suppressed_findings_and_counts() -> None:
    review = with_suppressed()
    data = json.loads(review.render("json"))
    assert data["schema_version"] == 2
    assert data["suppressed_counts"] == {"inline": 1, "baseline": 2}
    assert [s["suppression"] for s in data["suppressed"]] == ["inline", "baseline", "baseline"]
    schema = Review.model_json_schema(mode="serialization")
    assert {"suppressed", "suppressed_counts"} <= set(schema["properties"])
    jsonschema.validate(data, schema)
    again = Review.model_validate_json(review.render("json"))
    assert again.suppressed == review.suppressed
