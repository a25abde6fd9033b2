"""The shared llm layer over real HTTP: openai SDK + langchain-deepseek + our DeepSeek server."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest
from deepseek_server import TEST_KEY, Reply
from pydantic import BaseModel, Field

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM, core, load_prices

OFF_PEAK = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday, 12:00 UTC
PEAK = datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc)  # a Wednesday, 07:30 UTC


def llm(profile: str = "chat", **overrides: object) -> LLM:
    return LLM(profile, settings=load_settings(**overrides))


def test_non_stream_completion_and_request_fields(server) -> None:
    server.enqueue(Reply("hello there"))
    reply = llm("chat").complete([("system", "be brief"), ("user", "hi")])
    assert reply.content == "hello there"
    assert reply.reasoning is None
    body = server.chat_requests[0].body
    assert body["model"] == "deepseek-flash"
    assert body["thinking"] == {"type": "disabled"}
    assert "reasoning_effort" not in body
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body.get("stream") in (None, False)


def test_stream_keeps_reasoning_and_calls_back(server) -> None:
    server.enqueue(Reply("The answer is 4.", reasoning="2 plus 2 is 4.", keepalives=3))
    seen_reasoning: list[str] = []
    seen_content: list[str] = []
    reply = llm("reasoner").complete(
        [("user", "2+2?")], on_reasoning=seen_reasoning.append, on_content=seen_content.append
    )
    assert reply.reasoning == "2 plus 2 is 4."
    assert reply.content == "The answer is 4."
    assert "".join(seen_reasoning) == reply.reasoning
    assert "".join(seen_content) == reply.content
    assert len(seen_content) > 1  # it really streamed
    request = server.chat_requests[0]
    assert request.stream is True
    assert request.body["thinking"] == {"type": "enabled"}
    assert request.body["reasoning_effort"] == "high"
    assert (
        reply.usage.reasoning_tokens
        == request.usage["completion_tokens_details"]["reasoning_tokens"]
    )


@pytest.mark.parametrize("when", [OFF_PEAK, PEAK], ids=["off-peak", "peak"])
def test_usage_and_cost_with_cache_hits(server, monkeypatch, when) -> None:
    monkeypatch.setattr(core, "_now", lambda: when)
    shared = "Static instructions. " * 200
    model = llm("chat", cache_enabled=False)
    first = model.complete([("system", shared), ("user", "first question")])
    reply = model.complete([("system", shared), ("user", "second question")])
    usage = server.chat_requests[1].usage
    assert usage["prompt_cache_hit_tokens"] > 0
    assert reply.usage.cache_hit_tokens == usage["prompt_cache_hit_tokens"]
    assert reply.usage.cache_miss_tokens == usage["prompt_cache_miss_tokens"]
    assert reply.usage.output_tokens == usage["completion_tokens"]
    prices = load_prices().models["deepseek-flash"]
    factor = 2.0 if when is PEAK else 1.0
    expected = (
        (
            usage["prompt_cache_hit_tokens"] * prices.cache_hit
            + usage["prompt_cache_miss_tokens"] * prices.cache_miss
            + usage["completion_tokens"] * prices.output
        )
        * factor
        / 1_000_000
    )
    assert reply.usage.cost_usd == pytest.approx(expected, rel=1e-9)
    assert model.usage.requests == 2
    assert model.usage.cost_usd == pytest.approx(first.usage.cost_usd + reply.usage.cost_usd)
    assert first.usage.cache_hit_tokens == 0


@pytest.mark.parametrize("status", [429, 503])
def test_retry_then_success(server, status) -> None:
    server.fail_next(status, times=2)
    server.enqueue(Reply("finally"))
    reply = llm("chat", max_retries=3).complete([("user", "hi")])
    assert reply.content == "finally"
    assert reply.attempts == 3
    assert [r.status for r in server.chat_requests] == [status, status, 200]


def test_retries_exhausted_is_typed(server) -> None:
    server.fail_next(500, times=5)
    with pytest.raises(errors.ServerError) as info:
        llm("chat", max_retries=2).complete([("user", "hi")])
    assert info.value.attempts == 3
    assert len(server.chat_requests) == 3


def test_retry_after_is_honoured(server) -> None:
    model = llm("chat")
    assert model._backoff(1, retry_after=0.15) >= 0.15
    server.fail_next(429, times=1, retry_after=0.1)
    server.enqueue(Reply("ok"))
    model.complete([("user", "hi")])
    first, second = server.chat_requests
    assert second.time - first.time >= 0.1


def test_insufficient_system_resource_is_retried(server) -> None:
    server.enqueue(Reply("", finish_reason="insufficient_system_resource"), Reply("done"))
    reply = llm("chat").complete([("user", "hi")])
    assert reply.content == "done"
    assert reply.attempts == 2


@pytest.mark.parametrize(
    ("key", "error", "status"),
    [
        ("sk-bad-key-0000000000000000", errors.AuthenticationError, 401),
        ("sk-broke-0000000000000000000", errors.InsufficientBalanceError, 402),
    ],
)
def test_fail_fast_on_401_and_402(server, monkeypatch, key, error, status) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", key)
    with pytest.raises(error) as info:
        llm("chat", max_retries=4).complete([("user", "hi")])
    assert len(server.chat_requests) == 1
    assert info.value.status == status
    assert "\n" not in info.value.message
    assert key[-4:] not in info.value.message


def test_cli_one_line_error_on_401(server, monkeypatch) -> None:
    from click.testing import CliRunner

    from assistants.cli import cli

    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-bad-key-0000000000000000")
    result = CliRunner().invoke(cli, ["chat", "hi"])
    assert result.exit_code == errors.AuthenticationError.exit_code == 5
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: the API rejected the key (HTTP 401)"
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    assert "Traceback" not in result.output


def test_bad_request_is_not_retried(server) -> None:
    with pytest.raises(errors.BadRequestError, match="json"):
        # JSON mode without the word "json" in the prompt: the API answers 400.
        llm("chat").complete([("user", "give me an object")], json_mode=True)
    assert len(server.chat_requests) == 1


def test_timeout(server) -> None:
    server.enqueue(Reply("late", delay=2.0), Reply("late again", delay=2.0))
    with pytest.raises(errors.APITimeoutError) as info:
        llm("chat", timeout=0.3, max_retries=1).complete([("user", "hi")])
    assert info.value.attempts == 2
    assert len(server.chat_requests) == 2


def test_truncated_reply(server) -> None:
    server.enqueue(Reply("a long answer " * 50), Reply("a long answer " * 50))
    with pytest.raises(errors.TruncatedResponseError) as info:
        llm("chat").complete([("user", "hi")], max_tokens=10)
    assert info.value.raw  # the partial text is kept
    reply = llm("chat", cache_enabled=False).complete(
        [("user", "hi")], max_tokens=10, allow_truncated=True
    )
    assert reply.truncated and reply.finish_reason == "length"


def test_empty_reply_is_an_error(server) -> None:
    server.enqueue(Reply(""))
    with pytest.raises(errors.EmptyResponseError):
        llm("chat").complete([("user", "hi")])


def test_content_filter(server) -> None:
    server.enqueue(Reply("", finish_reason="content_filter"))
    with pytest.raises(errors.ContentFilteredError):
        llm("chat").complete([("user", "hi")])


class Verdict(BaseModel):
    label: str
    score: int = Field(ge=1, le=5)


@pytest.mark.parametrize("profile", ["chat", "reasoner"], ids=["thinking-off", "thinking-on"])
def test_json_mode_repair_round(server, profile) -> None:
    server.enqueue(Reply('{"label": "good", "score": 9}'), Reply('{"label": "good", "score": 4}'))
    value, reply = llm(profile).structured([("user", "Rate this.")], Verdict)
    assert value == Verdict(label="good", score=4)
    first, second = server.chat_requests
    assert first.body["response_format"] == {"type": "json_object"}
    assert "score" in second.body["messages"][-1]["content"]  # the validation error was shown
    assert reply.usage.requests == 2


def test_json_mode_gives_up_with_raw_reply(server) -> None:
    server.enqueue(Reply("not json at all"), Reply('{"label": 3}'))
    with pytest.raises(errors.StructuredOutputError) as info:
        llm("chat").structured([("user", "Rate this.")], Verdict)
    assert info.value.raw == '{"label": 3}'
    assert len(server.chat_requests) == 2


def test_identical_call_is_served_from_cache(server) -> None:
    server.enqueue(Reply("cached answer"))
    first = llm("chat").complete([("user", "same question")])
    second = llm("chat").complete([("user", "same question")])
    assert second.content == first.content == "cached answer"
    assert second.cached and second.usage.cached_requests == 1 and second.usage.cost_usd == 0
    assert len(server.chat_requests) == 1
    # --no-cache goes to the API again
    server.enqueue(Reply("fresh"))
    assert llm("chat", cache_enabled=False).complete([("user", "same question")]).content == (
        "fresh"
    )
    assert len(server.chat_requests) == 2


def test_key_never_written(server, data_dir: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue(Reply("one"), Reply('{"label": "x", "score": 2}'))
    model = llm("chat")
    model.complete([("user", "hello")])
    model.structured([("user", "json please")], Verdict)
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("cache") for p in files)
    assert any(p.name.startswith("usage") for p in files)
    for path in files:
        assert TEST_KEY.encode() not in path.read_bytes(), path
    assert TEST_KEY not in caplog.text


def test_legacy_name_translated_for_deepseek(server, monkeypatch, caplog) -> None:
    monkeypatch.setenv("ASSISTANTS_MODEL", "deepseek-reasoner")
    server.enqueue(Reply("42", reasoning="thinking"))
    with caplog.at_level(logging.WARNING, logger="assistants"):
        model = llm("chat")
        reply = model.complete([("user", "q")])
    assert reply.content == "42"
    body = server.chat_requests[0].body
    assert body["model"] == "deepseek-flash"
    assert body["thinking"] == {"type": "enabled"}


def test_other_endpoints_get_names_and_fields_untouched(server, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_API_FLAVOR", "openai")
    monkeypatch.setenv("ASSISTANTS_MODEL", "deepseek-chat")
    with pytest.raises(errors.BadRequestError, match="Model Not Exist"):
        llm("chat").complete([("user", "q")])
    body = server.chat_requests[0].body
    assert body["model"] == "deepseek-chat"
    assert "thinking" not in body and "reasoning_effort" not in body


def test_connection_refused(monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DEEPSEEK_API_KEY", TEST_KEY)
    with pytest.raises(errors.APIConnectionError):
        llm("chat", max_retries=1).complete([("user", "q")])


def test_missing_key_for_deepseek(monkeypatch) -> None:
    with pytest.raises(errors.MissingAPIKeyError) as info:
        llm("chat").complete([("user", "q")])
    assert "ASSISTANTS_BASE_URL" in (info.value.hint or "")
    estimate = llm("chat").estimate([("user", "q" * 400)], output_tokens=100)
    assert estimate.input_tokens > 0 and estimate.cost_usd > 0


def test_async_concurrency_and_partial_failure(server) -> None:
    import asyncio

    server.responder = lambda body: (
        Reply(status=400, error_message="bad")
        if "poison" in body["messages"][-1]["content"]
        else Reply("fine")
    )
    model = llm("chat", concurrency=3)

    async def ask(text: str):
        return await model.acomplete([("user", text)])

    items = [f"item {i}" for i in range(8)] + ["poison"]
    seen: list[tuple[int, int]] = []
    results = asyncio.run(model.amap(ask, items, progress=lambda d, t: seen.append((d, t))))
    assert [r.content for r in results[:8]] == ["fine"] * 8
    assert isinstance(results[8], errors.BadRequestError)
    assert seen[-1] == (9, 9)


def test_one_client_per_profile_and_settings(server) -> None:
    async def clients() -> tuple[object, object, object, object]:
        return (
            llm("chat")._chat_model(),
            llm("chat")._chat_model(),
            llm("reasoner")._chat_model(),
            llm("chat", timeout=5)._chat_model(),
        )

    first, second, reasoner, other_timeout = core.run_sync(clients())
    assert first is second
    assert reasoner is not first and other_timeout is not first
