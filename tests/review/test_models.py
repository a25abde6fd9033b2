"""What the model may answer (lenient validation) and the review's fail-on gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import ScriptedChatModel
from pydantic import ValidationError
from repos import write
from review_samples import APP_SHELL, review_settings, shell_finding

from assistants.review.models import Finding, ModelReview, Review
from assistants.review.run import review_path


def test_model_finding_quirks_do_not_fail_the_request(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP_SHELL)
    model = ScriptedChatModel(
        replies=[
            json.dumps(
                {
                    "findings": [
                        shell_finding(
                            line_start=0, quote="", title="whole file", category="design"
                        ),
                        shell_finding(severity="warning", category="correctness", title="t" * 400),
                        shell_finding(severity="info", line_start=1, quote="import subprocess"),
                        shell_finding(severity="catastrophic", title="unknown severity"),
                        shell_finding(title=""),
                    ]
                }
            )
        ]
    )
    review = review_path(tmp_path / "app.py", settings=review_settings(), model=model)
    assert len(model.calls) == 1 and not review.failed  # no repair round, nothing failed
    got = {(f.line_start, f.severity, f.category) for f in review.findings}
    assert got == {(1, "high", "maintainability"), (5, "medium", "bug"), (1, "low", "security")}
    assert max(len(f.title) for f in review.findings) == 300
    assert review.rejected == {"invalid": 2}


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("critical", 0), ("high", 1), ("medium", 1), ("low", 1), ("never", 0)],
)
def test_exit_code_per_fail_on(fail_on: str, code: int) -> None:
    review = Review(
        mode="path",
        target=".",
        root=".",
        model="m",
        findings=[
            Finding(
                path="a.py", line_start=1, line_end=1, severity="high", category="bug", title="t"
            )
        ],
    )
    assert review.exit_code(fail_on) == code


def test_gate_trips_at_or_above_fail_on() -> None:
    def found(severity: str) -> Finding:
        return Finding(
            path="a.py", line_start=1, line_end=1, severity=severity, category="bug", title="t"
        )  # type: ignore[arg-type]

    review = Review(mode="path", target=".", root=".", model="m",
                    findings=[found("medium"), found("low")])  # fmt: skip
    assert [f.severity for f in review.at_or_above("medium")] == ["medium"]
    assert review.gate("low") and review.gate("medium")
    assert not review.gate("high") and not review.gate("never")
    assert review.at_or_above("never") == []


@pytest.mark.parametrize(
    "reply",
    [
        "{}",
        '{"title": "1.1", "description": "Looks off."}',
        '{"file": "signer.py"}',
        '{"summary": "fine", "issues": []}',
        '{"findings": null}',
        '{"findings": [{"file": "a.py"}]}',
    ],
)
def test_a_reply_without_findings_is_not_a_review(reply: str) -> None:
    with pytest.raises(ValidationError):
        ModelReview.model_validate_json(reply)


def test_an_empty_findings_list_said_is_a_review() -> None:
    assert ModelReview.model_validate_json('{"findings": [], "note": "clean"}').findings == []
