"""The client over real HTTP (openai SDK + langchain-deepseek + our DeepSeek server): request
fields, streaming, estimates without a key, bounded concurrency, one client per profile."""

from __future__ import annotations

import pytest
from deepseek_server import Reply

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM, run_sync


def test_non_stream_completion_and_request_fields(server) -> None:
    server.enqueue(Reply("hello there"))
    reply = LLM("chat").complete([("system", "be brief"), ("user", "hi")])
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
    reply = LLM("reasoner").complete(
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


def test_missing_key_for_deepseek(monkeypatch) -> None:
    with pytest.raises(errors.MissingAPIKeyError) as info:
        LLM("chat").complete([("user", "q")])
    assert "ASSISTANTS_BASE_URL" in (info.value.hint or "")
    estimate = LLM("chat").estimate([("user", "q" * 400)], output_tokens=100)
    assert estimate.input_tokens > 0 and estimate.cost_usd > 0


def test_async_concurrency_and_partial_failure(server) -> None:
    import asyncio

    server.responder = lambda body: (
        Reply(status=400, error_message="bad")
        if "poison" in body["messages"][-1]["content"]
        else Reply("fine")
    )
    model = LLM("chat", settings=load_settings(concurrency=3))

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
            LLM("chat")._chat_model(),
            LLM("chat")._chat_model(),
            LLM("reasoner")._chat_model(),
            LLM("chat", settings=load_settings(timeout=5))._chat_model(),
        )

    first, second, reasoner, other_timeout = run_sync(clients())
    assert first is second
    assert reasoner is not first and other_timeout is not first
