"""solve_math over real HTTP: the test server speaks the DeepSeek protocol (SSE, reasoning
deltas, usage); everything of ours (LLM layer, extraction, Math-Verify, voting) runs for real."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from call_count import CallCount
from deepseek_server import DeepSeekServer, Reply

from assistants import errors
from assistants.config import load_settings
from assistants.math.models import MathSolution
from assistants.math.solve import asolve_math, solve_math


def _user_text(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def test_reasoning_is_streamed_and_kept(server: DeepSeekServer) -> None:
    reasoning = "Let me think. 1/2 + 1/4 = 2/4 + 1/4 = 3/4. " * 5
    server.enqueue(Reply("The sum is \\boxed{\\frac{3}{4}}.", reasoning=reasoning))
    pieces: list[str] = []
    answer: list[str] = []
    sol = solve_math(
        "What is 1/2 + 1/4?",
        reference="0.75",
        on_reasoning=pieces.append,
        on_content=answer.append,
    )
    assert len(pieces) > 1  # it really streamed, in pieces
    assert "".join(pieces) == reasoning
    assert "".join(answer) == "The sum is \\boxed{\\frac{3}{4}}."
    assert sol.reasoning == reasoning
    assert sol.answer == "\\frac{3}{4}"
    assert sol.answer_plain == "3/4"
    assert sol.status == "matches_reference"
    assert sol.matches_reference is True
    assert sol.confidence == "high"
    assert sol.usage.requests == 1
    assert sol.usage.output_tokens > 0
    assert sol.model == "deepseek-flash"
    request = server.chat_requests[-1]
    assert request.body["stream"] is True
    assert request.body.get("thinking") == {"type": "enabled"}
    assert "What is 1/2 + 1/4?" in _user_text(request.body)
    assert "\\boxed{}" in request.body["messages"][0]["content"]


def test_nested_boxed_answer_and_mismatch(server: DeepSeekServer) -> None:
    server.enqueue(Reply("First \\boxed{1}, no wait: \\boxed{\\frac{\\sqrt{3}}{2}}", reasoning="r"))
    sol = solve_math("What is sin(60 degrees)?", reference="\\frac{1}{2}")
    assert sol.answer == "\\frac{\\sqrt{3}}{2}"
    assert sol.answer_plain == "√3/2"
    assert sol.status == "mismatch"
    assert sol.matches_reference is False


def test_gsm8k_style_reference(server: DeepSeekServer) -> None:
    server.enqueue(Reply("She makes \\boxed{\\$18.00} a day.", reasoning="16-3-4=9, 9*2=18"))
    sol = solve_math("Janet's ducks...", reference="9 * 2 = 18\n#### 18")
    assert sol.reference == "18"
    assert sol.status == "matches_reference"


def test_no_reference_single_sample_is_unverified(server: DeepSeekServer) -> None:
    server.enqueue(Reply("\\boxed{42}", reasoning="r"))
    sol = solve_math("What is 6*7?")
    assert (sol.status, sol.answer, sol.votes, sol.voters) == ("unverified", "42", 1, 1)


def test_truncated_reply_is_classified_and_keeps_partial_reasoning(
    server: DeepSeekServer,
) -> None:
    server.enqueue(Reply("", reasoning="Step 1: consider the integral of", finish_reason="length"))
    sol = solve_math("Compute a hard integral.", reference="1")
    assert sol.status == "truncated"
    assert sol.answer is None
    assert sol.reasoning == "Step 1: consider the integral of"
    assert sol.finish_reason == "length"
    assert any("max_tokens" in note for note in sol.notes)
    assert len(server.chat_requests) == 1  # truncation is not retried as "empty"


def test_empty_answer_is_retried_once(server: DeepSeekServer) -> None:
    server.enqueue(Reply("", reasoning="hmm"), Reply("\\boxed{7}", reasoning="3+4=7"))
    sol = solve_math("What is 3+4?", reference="7")
    assert sol.status == "matches_reference"
    assert sol.samples[0].attempts == 2
    assert sol.usage.requests == 2
    assert len(server.chat_requests) == 2


def test_empty_twice_falls_back_to_reasoning_with_low_confidence(server: DeepSeekServer) -> None:
    server.enqueue(Reply("", reasoning="so \\boxed{7}"), Reply("", reasoning="again \\boxed{7}"))
    sol = solve_math("What is 3+4?")
    assert sol.answer == "7"
    assert sol.answer_source == "reasoning"
    assert sol.confidence == "low"
    assert any("taken from the reasoning" in note for note in sol.notes)
    assert len(server.chat_requests) == 2


def test_empty_twice_without_any_box_is_no_answer(server: DeepSeekServer) -> None:
    server.enqueue(Reply("", reasoning="no idea"), Reply("", reasoning="still no idea"))
    sol = solve_math("What is 3+4?", reference="7")
    assert sol.status == "no_answer"
    assert sol.answer is None
    assert sol.samples[0].status == "empty"


def test_answer_without_box_is_no_answer(server: DeepSeekServer) -> None:
    server.enqueue(Reply("It is 7, and 8 is close.", reasoning="r"))
    sol = solve_math("What is 3+4?", reference="7")
    assert sol.status == "no_answer"
    assert sol.samples[0].status == "no_answer"


def test_self_consistency_groups_equivalent_answers(server: DeepSeekServer) -> None:
    server.enqueue(
        Reply("\\boxed{1/2}", reasoning="a"),
        Reply("\\boxed{0.5}", reasoning="b"),
        Reply("\\boxed{\\frac{1}{2}}", reasoning="c"),
        Reply("\\boxed{2}", reasoning="d"),
        Reply("I give up.", reasoning="e"),
    )
    sol = solve_math("What is 1 divided by 2?", samples=5)
    top = sol.groups[0]
    assert top.votes == 3
    assert sol.votes == 3
    assert sol.status == "self_consistent"
    assert sol.vote_share == pytest.approx(3 / sol.voters)
    assert sol.agreement == f"3 of {sol.voters}"
    assert sol.answer in {"1/2", "0.5", "\\frac{1}{2}"}


def test_self_consistency_with_reference(server: DeepSeekServer) -> None:
    server.enqueue(
        Reply("\\boxed{2}", reasoning="a"),
        Reply("\\boxed{3}", reasoning="b"),
        Reply("\\boxed{3.0}", reasoning="c"),
    )
    # one request at a time: the replies arrive in the order queued
    settings = load_settings(math={"concurrency": 1})
    sol = solve_math("1+2?", samples=3, reference="3", settings=settings)
    assert sol.status == "matches_reference"
    assert [g.votes for g in sol.groups] == [2, 1]
    assert sol.vote_share == pytest.approx(2 / 3)
    assert [s.answer for s in sol.samples] == ["2", "3", "3.0"]


def test_self_consistency_without_majority_is_unverified(server: DeepSeekServer) -> None:
    server.enqueue(Reply("\\boxed{1}"), Reply("\\boxed{2}"), Reply("\\boxed{3}"))
    sol = solve_math("pick one", samples=3)
    assert sol.status == "unverified"
    assert sol.votes == 1
    assert sol.voters == 3


def test_samples_are_not_served_from_the_response_cache(server: DeepSeekServer) -> None:
    server.responder = lambda body: Reply("\\boxed{5}", reasoning="r")
    solve_math("2+3?", samples=3)
    assert len(server.chat_requests) == 3


def test_single_sample_uses_the_response_cache(server: DeepSeekServer) -> None:
    server.enqueue(Reply("\\boxed{5}", reasoning="r"))
    first = solve_math("2+3?")
    second = solve_math("2+3?")
    assert len(server.chat_requests) == 1
    assert second.answer == first.answer == "5"
    assert second.samples[0].cached is True


def test_early_stop_cancels_the_remaining_samples(server: DeepSeekServer) -> None:
    """Three quick identical answers decide a vote of five: the two slow samples are
    cancelled (their requests were sent but never awaited)."""
    release = threading.Event()
    calls = CallCount()

    def respond(body: dict[str, Any]) -> Reply:
        if calls.next() <= 3:
            return Reply("\\boxed{12}", reasoning="quick")
        release.wait(20)  # the slow ones hang until the test ends
        return Reply("\\boxed{99}", reasoning="slow")

    server.responder = respond
    try:
        sol = solve_math("3*4?", samples=5)
    finally:
        release.set()
    assert sol.stopped_early is True
    assert (sol.votes, sol.voters) == (3, 3)
    assert sol.vote_share == 1.0
    assert sol.status == "self_consistent"
    assert len(sol.samples) == 3
    assert any("stopped early" in note for note in sol.notes)


def test_one_failed_sample_does_not_lose_the_others(server: DeepSeekServer) -> None:
    settings = load_settings(max_retries=0, math={"concurrency": 1})
    server.enqueue(Reply("\\boxed{4}"), Reply("", status=500), Reply("\\boxed{4}"))
    sol = solve_math("2+2?", samples=3, settings=settings)
    assert sol.answer == "4"
    assert sol.votes == 2
    assert [s.status for s in sol.samples] == ["answered", "failed", "answered"]
    assert any("failed" in note for note in sol.notes)


def test_single_sample_api_error_is_raised(server: DeepSeekServer) -> None:
    server.fail_next(401)
    with pytest.raises(errors.AuthenticationError):
        solve_math("2+2?")


def test_bad_input_is_a_typed_error(server: DeepSeekServer) -> None:
    with pytest.raises(errors.InputError):
        solve_math("   ")
    with pytest.raises(errors.InputError):
        solve_math("2+2?", samples=0)


def test_async_api_runs_solves_concurrently(server: DeepSeekServer) -> None:
    server.responder = lambda body: Reply(
        "\\boxed{" + _user_text(body).split()[-1].rstrip("?") + "}", reasoning="r"
    )

    async def both() -> list[MathSolution]:
        return list(
            await asyncio.gather(
                asolve_math("echo 5?", reference="5"), asolve_math("echo 6?", reference="6")
            )
        )

    results = asyncio.run(both())
    assert [r.status for r in results] == ["matches_reference", "matches_reference"]


def test_all_samples_truncated_is_truncated(server: DeepSeekServer) -> None:
    server.responder = lambda body: Reply("", reasoning="long...", finish_reason="length")
    sol = solve_math("hard", samples=2)
    assert sol.status == "truncated"
    assert sol.votes == 0
    assert [s.status for s in sol.samples] == ["truncated", "truncated"]


def test_keepalives_during_long_thinking(server: DeepSeekServer) -> None:
    server.enqueue(Reply("\\boxed{9}", reasoning="slow thought", delay=0.3, keepalives=3))
    sol = solve_math("3^2?", reference="9")
    assert sol.status == "matches_reference"
    assert sol.reasoning == "slow thought"


def test_reference_check_out_of_time_is_unverified(
    server: DeepSeekServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistants.math import check as mathcheck

    release = threading.Event()

    def stuck(gold: object, target: object) -> bool:
        release.wait(10)
        return True

    monkeypatch.setattr(mathcheck, "_verify", stuck)
    server.enqueue(Reply("\\boxed{1+x}", reasoning="r"))
    try:
        sol = solve_math(
            "x plus 1?", reference="x+1", settings=load_settings(math={"verify_timeout": 0.05})
        )
    finally:
        release.set()
    assert sol.status == "unverified"
    assert sol.matches_reference is None
    assert any("ran out of time" in note for note in sol.notes)


# --------------------------------------------------------------------------- references


def test_empty_reference_is_an_input_error(server: DeepSeekServer) -> None:
    with pytest.raises(errors.InputError, match="reference is empty"):
        solve_math("What is 2+2?", reference="  ")
    assert server.chat_requests == []  # nothing was paid for


def test_unreadable_reference_is_unverified_not_a_mismatch(server: DeepSeekServer) -> None:
    server.enqueue(Reply(r"\boxed{3}"))
    sol = solve_math("What is 1+2?", reference=r"\sqrt{")
    assert sol.status == "unverified"
    assert sol.matches_reference is None
    assert any("could not be read as math" in note for note in sol.notes)
    # the same answer written the same way still matches
    server.enqueue(Reply(r"\boxed{N/A?}"))
    assert solve_math("Which?", reference="N/A?").status == "matches_reference"


# --------------------------------------------------------------------------- retries


def test_a_retried_empty_answer_streams_its_reasoning_apart(server: DeepSeekServer) -> None:
    server.enqueue(Reply("", reasoning="first try."), Reply(r"\boxed{4}", reasoning="second try."))
    pieces: list[str] = []
    sol = solve_math(
        "2+2?", on_reasoning=pieces.append, settings=load_settings(cache_enabled=False)
    )
    assert "".join(pieces) == "first try.\n\nsecond try."
    assert sol.answer == "4"


def test_sample_latency_excludes_the_time_queued(
    server: DeepSeekServer, request_clock: Any
) -> None:
    answers = iter(["\\boxed{1}", "\\boxed{2}", "\\boxed{3}"])  # no early stop

    def respond(body: dict[str, Any]) -> Reply:
        request_clock.tick()
        return Reply(next(answers), reasoning="r")

    server.responder = respond
    sol = solve_math("x?", samples=3, concurrency=1)
    assert request_clock.now == 3
    assert [s.latency_s for s in sol.samples] == [1.0, 1.0, 1.0]
    assert sol.latency_s == 3.0  # from its first request to its answer


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(errors.InputError, match="concurrency"):
        solve_math("2+2?", concurrency=-1)
