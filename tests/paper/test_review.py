"""The conference-style review: score ranges, repair of out-of-range replies, ensembles
and their meta-review, and dry-run estimates."""

from __future__ import annotations

import pdfs
import pytest
from deepseek_server import DeepSeekServer, Reply
from paper_replies import last_message, review_json

from assistants.config import load_settings
from assistants.errors import StructuredOutputError
from assistants.paper.chat import ask_paper
from assistants.paper.models import Claim, PaperReview
from assistants.paper.review import review_paper


def _settings():  # type: ignore[no-untyped-def]
    return load_settings(cache_enabled=False, ledger_enabled=False)


def test_review_scores_are_range_checked() -> None:
    with pytest.raises(ValueError):
        PaperReview(source="x", soundness=5)
    review = PaperReview(source="x", soundness=2.5, overall=7.33, strengths=[Claim(text="a")])
    assert "2.50 / 4" in review.to_markdown()
    assert PaperReview.model_validate_json(review.model_dump_json()) == review


def test_review_out_of_range_is_repaired(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.enqueue(Reply(review_json(soundness=7, overall=11)), Reply(review_json()))
    review = review_paper(spec.path, settings=load_settings(cache_enabled=False))
    assert len(srv.chat_requests) == 2
    repair = srv.chat_requests[1].body["messages"]
    assert repair[-2]["role"] == "assistant" and '"soundness": 7' in repair[-2]["content"]
    assert "soundness" in repair[-1]["content"] and "overall" in repair[-1]["content"]
    assert review.soundness == 3 and review.overall == 6 and review.decision == "accept"
    assert review.weaknesses[0].pages == [6] and review.weaknesses[0].unverified_pages == [77]
    assert review.usage.requests == 2


def test_review_out_of_range_twice_fails(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.enqueue(Reply(review_json(confidence=0)), Reply(review_json(confidence=9)))
    with pytest.raises(StructuredOutputError) as info:
        review_paper(spec.path, settings=load_settings(cache_enabled=False))
    assert "confidence" in (info.value.details or "")


def test_review_ensemble_aggregates(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.responder = None
    srv.enqueue(
        Reply(review_json(overall=4, soundness=2, decision="reject")),
        Reply(review_json(overall=6, soundness=3)),
        Reply(review_json(overall=8, soundness=4)),
        Reply(review_json(overall=5, summary="Meta summary.", decision="reject")),
    )
    review = review_paper(spec.path, ensemble=3, settings=load_settings(cache_enabled=False))
    assert len(srv.chat_requests) == 4
    reviewers = sorted(last_message(r.body).split(" of 3")[0][-10:] for r in srv.chat_requests[:3])
    assert reviewers == ["reviewer 1", "reviewer 2", "reviewer 3"]  # concurrent, any order
    assert "independent reviews" in last_message(srv.chat_requests[3].body)
    assert review.ensemble == 3 and len(review.reviews) == 3
    assert review.overall == 6 and review.soundness == 3  # means of the three reviews
    assert review.decision == "accept"  # majority (2 of 3), not the meta-review's
    assert review.summary == "Meta summary."
    assert "2 of 3 reviewers accept" in review.to_markdown()


def test_ensemble_keeps_the_reviews_when_the_meta_review_fails(
    server: DeepSeekServer, spec: pdfs.PaperSpec
) -> None:
    server.enqueue(
        Reply(review_json(overall=4, decision="reject", summary="Weak.")),
        Reply(review_json(overall=7, summary="Typical.")),
        Reply(review_json(overall=8, summary="Strong.")),
        Reply(status=400, error_message="meta refused"),  # the meta-review: not retried
    )
    settings = load_settings(cache_enabled=False, ledger_enabled=False, concurrency=1)
    review = review_paper(spec.path, settings=settings, ensemble=3)
    assert len(review.reviews) == 3 and review.overall == 6.33
    assert review.decision == "accept"  # 2 of 3
    assert review.summary == "Typical."  # the review closest to the mean
    assert any("meta-review failed" in w and "meta refused" in w for w in review.warnings)


def test_dry_runs_count_the_paper_apart_from_the_prompt(spec: pdfs.PaperSpec) -> None:
    review = review_paper(spec.path, settings=_settings(), ensemble=2, dry_run=True)
    assert review.estimate is not None
    assert 0 < review.estimate.paper_tokens < review.estimate.input_tokens
    answer = ask_paper(spec.path, "Why?", settings=_settings(), dry_run=True)
    assert answer.estimate is not None
    assert 0 < answer.estimate.paper_tokens < answer.estimate.input_tokens
