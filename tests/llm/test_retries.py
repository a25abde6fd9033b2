"""Retries and time limits: backoff, Retry-After, retryable finishes, streams that break,
keep-alives."""

from __future__ import annotations

import pytest
from deepseek_server import DeepSeekServer, Reply

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM


@pytest.mark.parametrize("status", [429, 503])
def test_retry_then_success(server, status) -> None:
    server.fail_next(status, times=2)
    server.enqueue(Reply("finally"))
    reply = LLM("chat", settings=load_settings(max_retries=3)).complete([("user", "hi")])
    assert reply.content == "finally"
    assert reply.attempts == 3
    assert [r.status for r in server.chat_requests] == [status, status, 200]


def test_retries_exhausted_is_typed(server) -> None:
    server.fail_next(500, times=5)
    with pytest.raises(errors.ServerError) as info:
        LLM("chat", settings=load_settings(max_retries=2)).complete([("user", "hi")])
    assert info.value.attempts == 3
    assert len(server.chat_requests) == 3


def test_retry_after_is_honoured(server) -> None:
    model = LLM("chat")
    assert model._backoff(1, retry_after=0.15) >= 0.15
    server.fail_next(429, times=1, retry_after=0.1)
    server.enqueue(Reply("ok"))
    model.complete([("user", "hi")])
    first, second = server.chat_requests
    assert second.time - first.time >= 0.1


def test_retry_after_longer_than_retry_max_wait_fails_at_once(server: DeepSeekServer) -> None:
    server.fail_next(429, times=3, retry_after=3600)  # retry_max_wait is 0.2 in tests
    with pytest.raises(errors.RateLimitError, match="asks to wait 3600 s") as info:
        LLM("chat").complete([("user", "q")])
    assert "ASSISTANTS_RETRY_MAX_WAIT" in (info.value.hint or "")
    assert len(server.chat_requests) == 1


def test_insufficient_system_resource_is_retried(server) -> None:
    server.enqueue(Reply("", finish_reason="insufficient_system_resource"), Reply("done"))
    reply = LLM("chat").complete([("user", "hi")])
    assert reply.content == "done"
    assert reply.attempts == 2


def test_insufficient_resource_after_shown_text_is_not_retried(server: DeepSeekServer) -> None:
    server.enqueue(Reply("partial", finish_reason="insufficient_system_resource"), Reply("more"))
    shown: list[str] = []
    with pytest.raises(errors.ServerError, match="insufficient_system_resource"):
        LLM("chat").complete([("user", "q")], on_content=shown.append)
    assert "".join(shown) == "partial"
    assert server.pending == 1  # not retried
    shown.clear()
    server.reset()
    server.enqueue(Reply("again", finish_reason="insufficient_system_resource"), Reply("more"))
    reply = LLM("chat").complete([("user", "q")], on_content=shown.append, on_retry=shown.clear)
    assert reply.content == "more" and "".join(shown) == "more"


def test_http_200_with_a_malformed_body_is_retried(server: DeepSeekServer) -> None:
    server.enqueue(Reply(raw_body="{not json"), Reply("fine"))
    assert LLM("chat").complete([("user", "q")]).content == "fine"


def test_stream_broken_after_text_was_shown_is_not_retried(server: DeepSeekServer) -> None:
    server.enqueue(Reply("abcdefghij" * 10, chunk_size=5, drop_mid_stream=True), Reply("again"))
    shown: list[str] = []
    with pytest.raises(errors.APIConnectionError, match="broke off midway"):
        LLM("chat").complete([("user", "q")], on_content=shown.append)
    assert "again" not in "".join(shown)  # nothing shown twice, no second answer appended
    assert len(server.chat_requests) == 1


def test_stream_broken_is_retried_with_on_retry_or_when_nothing_was_shown(server) -> None:
    server.enqueue(Reply("abcdefghij" * 10, chunk_size=5, drop_mid_stream=True), Reply("again"))
    shown: list[str] = []
    restarts: list[bool] = []

    def restart() -> None:
        restarts.append(True)
        shown.clear()

    reply = LLM("chat").complete([("user", "q")], on_content=shown.append, on_retry=restart)
    assert reply.content == "again" and "".join(shown) == "again" and restarts == [True]
    # thinking mode streams without callbacks: nothing shown, so the retry is free
    server.enqueue(Reply("x" * 100, reasoning="r" * 100, drop_mid_stream=True), Reply("ok2"))
    assert LLM("reasoner").complete([("user", "q2")]).content == "ok2"


def test_timeout(server) -> None:
    server.enqueue(Reply("late", delay=2.0), Reply("late again", delay=2.0))
    with pytest.raises(errors.APITimeoutError) as info:
        LLM("chat", settings=load_settings(timeout=0.3, max_retries=1)).complete([("user", "hi")])
    assert info.value.attempts == 2
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize("profile", ["chat", "reasoner"])
def test_keepalives_alone_do_not_hold_the_call_forever(server, monkeypatch, profile) -> None:
    monkeypatch.setenv("ASSISTANTS_TIMEOUT", "0.5")
    monkeypatch.setenv("ASSISTANTS_PROFILES__REASONER__TIMEOUT", "0.5")
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply("late", delay=5, keepalives=25))
    with pytest.raises(errors.APITimeoutError):
        LLM(profile).complete([("user", "q")])
