"""Failures mapped to the exception tree: HTTP statuses, bodies that are not completions,
replies that cannot be used, keys never repeated."""

from __future__ import annotations

import pytest
from deepseek_server import TEST_KEY, DeepSeekServer, Reply

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM


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
        LLM("chat", settings=load_settings(max_retries=4)).complete([("user", "hi")])
    assert len(server.chat_requests) == 1
    assert info.value.status == status
    assert "\n" not in info.value.message
    assert key[-4:] not in info.value.message


def test_bad_request_is_not_retried(server) -> None:
    with pytest.raises(errors.BadRequestError, match="json"):
        # JSON mode without the word "json" in the prompt: the API answers 400.
        LLM("chat").complete([("user", "give me an object")], json_mode=True)
    assert len(server.chat_requests) == 1


def test_connection_refused(monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DEEPSEEK_API_KEY", TEST_KEY)
    with pytest.raises(errors.APIConnectionError):
        LLM("chat", settings=load_settings(max_retries=1)).complete([("user", "q")])


@pytest.mark.parametrize("status", [400, 500])
def test_key_echoed_by_the_endpoint_is_never_repeated(server, monkeypatch, status) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply(status=status, error_message=f"bad key {TEST_KEY} here"))
    with pytest.raises(errors.APIError) as info:
        LLM("chat").complete([("user", "q")])
    assert TEST_KEY not in str(info.value) and TEST_KEY not in repr(info.value.args)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "body, content_type",
    [("{not json", "application/json"), ("<html>502 Bad Gateway</html>", "text/html")],
)
def test_http_200_with_a_malformed_body_is_typed(server, stream, body, content_type) -> None:
    for _ in range(5):
        server.enqueue(Reply(raw_body=body, raw_content_type=content_type))
    callback = (lambda _t: None) if stream else None
    with pytest.raises(errors.ServerError, match="not a chat completion"):
        LLM("chat").complete([("user", "q")], on_content=callback)


@pytest.mark.parametrize(
    "body, detail",
    [
        (
            '{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []}',
            "no choices",
        ),
        ('{"error": {"message": "quota exceeded"}}', "reports an error: quota exceeded"),
        ("{}", "choices"),
    ],
)
def test_http_200_without_a_completion_is_typed(server, monkeypatch, body, detail) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.enqueue(Reply(raw_body=body))
    with pytest.raises(errors.ServerError, match="not a chat completion") as info:
        LLM("chat").complete([("user", "q")])
    assert detail in str(info.value)


def test_truncated_reply(server) -> None:
    server.enqueue(Reply("a long answer " * 50), Reply("a long answer " * 50))
    with pytest.raises(errors.TruncatedResponseError) as info:
        LLM("chat").complete([("user", "hi")], max_tokens=10)
    assert info.value.raw  # the partial text is kept
    reply = LLM("chat", settings=load_settings(cache_enabled=False)).complete(
        [("user", "hi")], max_tokens=10, allow_truncated=True
    )
    assert reply.truncated and reply.finish_reason == "length"


def test_empty_reply_is_an_error(server) -> None:
    server.enqueue(Reply(""))
    with pytest.raises(errors.EmptyResponseError):
        LLM("chat").complete([("user", "hi")])


def test_content_filter(server) -> None:
    server.enqueue(Reply("", finish_reason="content_filter"))
    with pytest.raises(errors.ContentFilteredError):
        LLM("chat").complete([("user", "hi")])


def test_reasoning_without_an_answer_says_so(server: DeepSeekServer) -> None:
    server.enqueue(Reply("", reasoning="thinking hard " * 20))
    with pytest.raises(errors.EmptyResponseError, match=r"reasoned .* but gave no answer") as info:
        LLM("reasoner").complete([("user", "q")])
    assert (info.value.reasoning or "").startswith("thinking hard")
