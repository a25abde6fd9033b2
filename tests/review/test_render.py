"""Renderers of a review: JSON round trip, GitHub annotations, markdown and terminal text."""

from __future__ import annotations

import json

import pytest
from review_samples import sample_review

from assistants.review.models import Review
from assistants.review.render import render, to_github, to_markdown, to_text


@pytest.fixture
def sample() -> Review:
    return sample_review()


def test_json_round_trip_is_stable(sample: Review) -> None:
    text = render(sample, "json")
    again = Review.model_validate_json(text)
    assert again == sample and render(again, "json") == text
    data = json.loads(text)
    assert data["counts"] == {"critical": 1, "high": 0, "medium": 0, "low": 1}
    assert data["coverage"]["files_failed"] == 1


def test_github_annotations_escape_properties(sample: Review) -> None:
    lines = to_github(sample).splitlines()
    assert lines[0].startswith(
        "::error file=src/a b.py,line=3,endLine=4,"
        "title=[critical/security] SQL injection%2C via f-string%3A bad::User input%0Areaches"
    )
    assert lines[1].startswith("::notice file=src/c.py,line=1,")
    assert lines[2] == "::warning file=src/d.py,title=not reviewed::server error"


def test_markdown_and_text(sample: Review, monkeypatch: pytest.MonkeyPatch) -> None:
    md = to_markdown(sample)
    assert "## `src/a b.py`" in md and "**CRITICAL**" in md and "(unverified line)" in md
    assert "| `yarn.lock` | lock file |" in md and "| `src/d.py` | server error |" in md
    assert sample._repr_markdown_() == md
    coloured = to_text(sample, color=True)
    assert "\x1b[" in coloured and "src/a b.py:3-4" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    plain = to_text(sample)
    assert "\x1b[" not in plain and "CRITICAL" in plain and "skipped yarn.lock" in plain


def test_every_format_from_the_review_and_the_renderer(sample: Review) -> None:
    for fmt in ("text", "markdown", "json", "sarif", "github"):
        assert sample.render(fmt) == render(sample, fmt)
    assert json.loads(sample.render("sarif"))["version"] == "2.1.0"
    assert sample.render("markdown") == to_markdown(sample)


def test_money_is_shown_with_four_decimals(sample: Review) -> None:
    from assistants.llm.usage import Usage

    costly = sample.model_copy(update={"usage": Usage(requests=1, cost_usd=0.01234)})
    assert costly.to_markdown().count("$0.0123") == 1


def test_a_dry_run_says_what_would_be_redacted(sample: Review) -> None:
    sent = sample.model_copy(update={"secrets_redacted": 2, "secret_kinds": {"aws-key": 2}})
    dry = sent.model_copy(update={"dry_run": True})
    assert "2 secret(s) redacted before sending: aws-key x2" in to_text(sent, color=False)
    assert "secrets redacted before sending: aws-key ×2" in to_markdown(sent)
    text, markdown = to_text(dry, color=False), to_markdown(dry)
    assert "2 secret(s) would be redacted before sending: aws-key x2" in text
    assert "secrets would be redacted before sending: aws-key ×2" in markdown
    assert " redacted before sending" not in text.replace("would be redacted", "")
    assert " redacted before sending" not in markdown.replace("would be redacted", "")
