"""SARIF 2.1.0 output, checked against the official schema."""

from __future__ import annotations

import pytest
from review_samples import sample_review
from sarif_schema import validate_sarif

from assistants.review.models import Review
from assistants.review.sarif import to_sarif_dict


@pytest.fixture
def sample() -> Review:
    return sample_review()


def test_sarif_is_valid_against_the_official_schema(sample: Review) -> None:
    doc = to_sarif_dict(sample)
    validate_sarif(doc)
    run = doc["runs"][0]
    first = run["results"][0]
    assert first["level"] == "error" and first["ruleId"] == "review/security"
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "src/a%20b.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 3, "endLine": 4}
    assert first["partialFingerprints"] == {"assistantsFinding/v2": "abc123"}
    assert run["results"][1]["level"] == "note"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    assert run["invocations"][0]["executionSuccessful"] is False
    # the anchored finding's suggestion is a fix replacing exactly its lines
    (fix,) = first["fixes"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "src/a%20b.py", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 3, "endLine": 4},
            "insertedContent": {"text": "cur.execute('SELECT ?', (x,))"},
        }
    ]
    assert "fixes" not in run["results"][1]  # unanchored: no machine-applicable fix
    # an invalid document is caught: the check itself can fail
    import jsonschema

    doc["runs"][0]["results"][0]["level"] = "severe"
    with pytest.raises(jsonschema.ValidationError):
        validate_sarif(doc)
