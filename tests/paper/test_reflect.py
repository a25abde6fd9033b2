"""Reviewer reflection (review --reflect N) over real HTTP against the DeepSeek-protocol test
server: the rounds, the early stop on "I am done", the prefix shared byte for byte, a failed
round, the dry-run count and the CLI option."""

from __future__ import annotations

import json

import pdfs
from cli_runner import run
from deepseek_server import DeepSeekServer, Reply
from paper_replies import last_message, review_json

from assistants.config import load_settings
from assistants.paper.review import review_paper


def _settings():  # type: ignore[no-untyped-def]
    return load_settings(cache_enabled=False, ledger_enabled=False)


def _reflection(done: bool, **scores: object) -> Reply:
    form = json.loads(review_json(**scores))
    return Reply(json.dumps({**form, "done": done}))


def test_reflection_revises_and_stops_when_done(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.responder = None
    srv.enqueue(
        Reply(review_json(overall=4, decision="reject", summary="First draft.")),
        _reflection(False, overall=6, summary="Revised once."),
        _reflection(True, overall=6, summary="Final."),
    )
    review = review_paper(spec.path, reflect=4, settings=_settings())
    requests = srv.chat_requests
    assert len(requests) == 3  # stopped at "I am done" before round 4
    assert srv.pending == 0
    assert (review.summary, review.overall, review.decision) == ("Final.", 6, "accept")
    assert review.reflect == 4
    rounds = [(r.reviewer, r.round, r.done, r.form.overall) for r in review.reflections]
    assert rounds == [(1, 0, False, 4), (1, 1, False, 6), (1, 2, True, 6)]
    assert review.reviews[0].summary == "Final."
    assert review.usage.requests == 3
    # each round reads the review it revises
    assert "First draft." in last_message(requests[1].body)
    assert "Reflection round 1 of 4" in last_message(requests[1].body)
    assert "Revised once." in last_message(requests[2].body)
    assert '"done"' in last_message(requests[2].body)  # the schema asks for the done field
    markdown = review.to_markdown()
    assert "## Reflection" in markdown and "2 of 4 rounds; done" in markdown
    assert "overall 4 (reject) → 6 (accept) → 6 (accept)" in markdown


def test_reflection_requests_share_the_paper_prefix_byte_for_byte(
    srv: DeepSeekServer, spec: pdfs.PaperSpec
) -> None:
    srv.responder = None
    srv.enqueue(Reply(review_json()), _reflection(False, overall=7), _reflection(False, overall=5))
    review = review_paper(spec.path, reflect=2, settings=_settings())
    assert [r.round for r in review.reflections] == [0, 1, 2] and review.overall == 5
    bodies = [r.raw_body for r in srv.chat_requests]
    assert len(bodies) == 3
    shared = next(i for i, column in enumerate(zip(*bodies, strict=False)) if len(set(column)) > 1)
    # the paper (its last page included) lies wholly inside the shared prefix
    last_page = bodies[0].find(b"Appendix text survives")
    assert 0 < last_page < shared
    messages = [r.body["messages"] for r in srv.chat_requests]
    assert all(m[:2] == messages[0][:2] for m in messages)
    assert all(len(m) == 3 for m in messages)  # no growing history: prefix + one message
    # the test server's prefix cache saw the hits
    assert all(r.usage and r.usage["prompt_cache_hit_tokens"] > 0 for r in srv.chat_requests[1:])


def test_a_failed_round_keeps_the_review_before(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.responder = None
    srv.enqueue(
        Reply(review_json(overall=5)),
        _reflection(False, overall=7),
        Reply('{"summary": "no scores"}'),
        Reply('{"still": "wrong"}'),
    )
    review = review_paper(spec.path, reflect=3, settings=_settings())
    assert review.overall == 7
    assert [r.round for r in review.reflections] == [0, 1]
    assert any("reflection round 2 failed" in w and "round 1's" in w for w in review.warnings)
    assert len(srv.chat_requests) == 4  # the failed round and its repair; no round 3


def test_ensemble_reflects_each_reviewer(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    def reply(body: dict) -> Reply:  # type: ignore[type-arg]
        last = last_message(body)
        if "Reflection round" in last:
            reviewer = 1 if "reviewer 1 of 2" in last else 2
            return _reflection(True, overall=4 + reviewer)
        if "area chair" in last:
            return Reply(review_json(summary="Meta."))
        return Reply(review_json(overall=3))

    srv.responder = reply
    review = review_paper(spec.path, ensemble=2, reflect=2, settings=_settings())
    assert len(srv.chat_requests) == 5  # 2 reviews + 2 reflections (done at once) + meta
    assert sorted(form.overall for form in review.reviews) == [5, 6]
    assert review.overall == 5.5
    assert [(r.reviewer, r.round) for r in review.reflections] == [(1, 0), (1, 1), (2, 0), (2, 1)]


def test_dry_run_counts_the_rounds(server: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    one = review_paper(spec.path, dry_run=True, settings=_settings())
    three = review_paper(spec.path, reflect=2, dry_run=True, settings=_settings())
    ensemble = review_paper(spec.path, ensemble=2, reflect=2, dry_run=True, settings=_settings())
    assert (one.estimate.requests, three.estimate.requests) == (1, 3)  # type: ignore[union-attr]
    assert ensemble.estimate.requests == 2 * 3 + 1  # type: ignore[union-attr]
    assert three.estimate.input_tokens > 2.5 * one.estimate.input_tokens  # type: ignore[union-attr]
    assert three.reflect == 2
    assert server.chat_requests == []


def test_cli_reflect_option(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.responder = None
    srv.enqueue(Reply(review_json(overall=4)), _reflection(True, overall=6))
    result = run("paper", "review", str(spec.path), "--reflect", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["overall"] == 6 and data["reflect"] == 2
    assert [r["round"] for r in data["reflections"]] == [0, 1]
    bad = run("paper", "review", str(spec.path), "--reflect", "11")
    assert bad.exit_code == 2
