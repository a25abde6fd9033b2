"""Tests of the DeepSeek-protocol test server, through the real openai SDK, http.client and
langchain-deepseek."""

from __future__ import annotations

import http.client
import json
import math
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from deepseek_server import DeepSeekServer, Reply, count_tokens, prompt_text
from paths import ROOT

MODEL = "deepseek-flash"
USER: Any = [{"role": "user", "content": "hi"}]
NO_THINKING: Any = {"thinking": {"type": "disabled"}}


@pytest.fixture
def srv() -> Iterator[DeepSeekServer]:
    with DeepSeekServer() as server:
        yield server


@pytest.fixture
def client(srv: DeepSeekServer) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=srv.url, api_key="sk-test", max_retries=0, timeout=10)
    yield c
    c.close()


def raw_request(
    srv: DeepSeekServer,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = "sk-test",
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def extra(obj: Any) -> dict[str, Any]:
    """The non-OpenAI fields of an SDK object (reasoning_content lives there)."""
    return dict(obj.model_extra or {})


def error_of(payload: bytes) -> dict[str, Any]:
    err = json.loads(payload)["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["param"] is None
    return err


# ----------------------------------------------------------------------------- happy paths


def test_non_stream_default_reply_with_thinking(srv: DeepSeekServer, client: openai.OpenAI):
    r = client.chat.completions.create(model=MODEL, messages=USER)
    assert r.object == "chat.completion"
    assert r.id and r.created and r.model == MODEL and r.system_fingerprint
    msg = r.choices[0].message
    assert msg.content == "ok"
    reasoning = extra(msg)["reasoning_content"]  # thinking is on when `thinking` is absent
    assert isinstance(reasoning, str) and reasoning
    assert r.choices[0].finish_reason == "stop"
    usage = r.model_dump()["usage"]
    prompt_tokens = math.ceil(len("userhi") / 4)
    assert usage["prompt_tokens"] == prompt_tokens
    assert usage["prompt_cache_hit_tokens"] + usage["prompt_cache_miss_tokens"] == prompt_tokens
    assert usage["completion_tokens_details"]["reasoning_tokens"] == count_tokens(reasoning)
    assert usage["completion_tokens"] == count_tokens(reasoning) + count_tokens("ok")
    assert usage["total_tokens"] == prompt_tokens + usage["completion_tokens"]


def test_thinking_disabled_has_no_reasoning(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(Reply("answer", reasoning="ignored when thinking is off"))
    r = client.chat.completions.create(model=MODEL, messages=USER, extra_body=NO_THINKING)
    assert r.choices[0].message.content == "answer"
    assert "reasoning_content" not in extra(r.choices[0].message)
    assert r.usage is not None and r.usage.completion_tokens == count_tokens("answer")


def test_scripted_replies_fifo_then_responder_then_default(
    srv: DeepSeekServer, client: openai.OpenAI
):
    srv.enqueue(Reply("first", reasoning=""), "second")
    srv.responder = lambda body: Reply(f"echo:{body['messages'][-1]['content']}")
    got = [client.chat.completions.create(model=MODEL, messages=user(q)) for q in ("a", "b", "c")]
    assert [g.choices[0].message.content for g in got] == ["first", "second", "echo:c"]
    assert extra(got[0].choices[0].message)["reasoning_content"] == ""
    srv.responder = lambda body: None
    r = client.chat.completions.create(model=MODEL, messages=USER)
    assert r.choices[0].message.content == "ok"
    assert srv.pending == 0


def test_scripted_empty_content_stays_empty(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(Reply(""))
    r = client.chat.completions.create(model=MODEL, messages=USER, extra_body=NO_THINKING)
    assert r.choices[0].message.content == ""


def test_callable_content_and_reasoning(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(
        Reply(
            content=lambda body: body["messages"][0]["content"].upper(),
            reasoning=lambda body: "r:" + body["model"],
        )
    )
    r = client.chat.completions.create(model=MODEL, messages=user("up"))
    assert r.choices[0].message.content == "UP"
    assert extra(r.choices[0].message)["reasoning_content"] == "r:" + MODEL


def test_v1_path_models_and_balance(srv: DeepSeekServer, client: openai.OpenAI):
    v1 = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)
    assert v1.chat.completions.create(model=MODEL, messages=USER).choices[0].message.content
    assert [m.id for m in client.models.list()] == [MODEL]
    assert [m.id for m in v1.models.list()] == [MODEL]
    status, _, payload = raw_request(srv, "GET", "/user/balance")
    assert status == 200 and json.loads(payload)["is_available"] is True
    status, _, payload = raw_request(srv, "GET", "/user/balance", key="sk-broke-1234")
    assert status == 200 and json.loads(payload)["is_available"] is False
    assert [r.path for r in srv.chat_requests] == ["/v1/chat/completions"]
    v1.close()


# --------------------------------------------------------------------------------- streaming


def test_stream_reasoning_deltas_then_content_then_usage(
    srv: DeepSeekServer, client: openai.OpenAI
):
    content, reasoning = "The answer is 42, obviously.", "Six times seven is forty-two."
    srv.enqueue(Reply(content, reasoning=reasoning, chunk_size=5))
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.system_fingerprint and c.model == MODEL for c in chunks)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    maybe = [extra(d).get("reasoning_content") for d in deltas]
    r_deltas: list[str] = [r for r in maybe if r is not None]
    assert r_deltas[0] == ""
    assert "".join(r_deltas) == reasoning
    assert max(len(r) for r in r_deltas) == 5
    # every reasoning delta comes before the first content delta
    first_content = next(i for i, d in enumerate(deltas) if d.content)
    last_reasoning = max(i for i, d in enumerate(deltas) if extra(d).get("reasoning_content"))
    assert last_reasoning < first_content
    assert "".join(d.content or "" for d in deltas) == content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == count_tokens(reasoning) + count_tokens(content)
    assert all(c.usage is None for c in chunks[:-1])
    assert srv.chat_requests[0].stream is True
    assert srv.chat_requests[0].usage == last.usage.model_dump(exclude_none=True)


def test_stream_without_include_usage_or_thinking(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(Reply("plain text answer"))
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=USER, stream=True, extra_body=NO_THINKING
        )
    )
    assert all(c.usage is None and c.choices for c in chunks)
    assert all("reasoning_content" not in extra(c.choices[0].delta) for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "plain text answer"


def test_keepalives_are_sent_and_tolerated_by_the_sdk(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(Reply("streamed", keepalives=3), Reply("whole", keepalives=3))
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "streamed"
    r = client.chat.completions.create(model=MODEL, messages=USER)
    assert r.choices[0].message.content == "whole"
    # on the wire: SSE comments before the first chunk, empty lines before the JSON body
    srv.enqueue(Reply("x", keepalives=2), Reply("y", keepalives=2))
    body = {"model": MODEL, "messages": USER}
    status, headers, payload = raw_request(srv, "POST", "/chat/completions", {**body, "stream": 1})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert payload.startswith(b": keep-alive\n\n: keep-alive\n\ndata: {")
    assert payload.endswith(b"data: [DONE]\n\n")
    status, _, payload = raw_request(srv, "POST", "/chat/completions", body)
    assert status == 200 and payload.startswith(b"\n\n{")
    assert json.loads(payload)["choices"][0]["message"]["content"] == "y"


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("status", "exc", "message"),
    [
        (402, openai.APIStatusError, "Insufficient Balance"),
        (429, openai.RateLimitError, "Rate Limit Reached"),
        (500, openai.InternalServerError, "Server error"),
        (503, openai.InternalServerError, "Server overloaded"),
    ],
)
def test_fail_next(
    srv: DeepSeekServer,
    client: openai.OpenAI,
    status: int,
    exc: type[openai.APIStatusError],
    message: str,
):
    srv.enqueue(Reply("after the failures"))
    srv.fail_next(status, times=2, retry_after=3)
    for _ in range(2):
        with pytest.raises(exc) as info:
            client.chat.completions.create(model=MODEL, messages=USER)
        assert info.value.status_code == status
        assert message in info.value.message
        assert info.value.response.headers["retry-after"] == "3"
        assert error_of(info.value.response.content)["message"].startswith(message)
    # the scripted reply was not consumed by the failures
    r = client.chat.completions.create(model=MODEL, messages=USER)
    assert r.choices[0].message.content == "after the failures"
    assert [r.status for r in srv.chat_requests] == [status, status, 200]


def test_fail_next_custom_message_and_no_retry_after(srv: DeepSeekServer, client: openai.OpenAI):
    srv.fail_next(429, message="slow down")
    with pytest.raises(openai.RateLimitError, match="slow down") as info:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert "retry-after" not in info.value.response.headers
    with pytest.raises(ValueError):
        srv.fail_next(200)


def test_scripted_error_reply_with_retry_after(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(Reply(status=503, retry_after=0.5), Reply(status=500, error_message="boom"))
    with pytest.raises(openai.InternalServerError, match="Server overloaded") as info:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert info.value.response.headers["retry-after"] == "0.5"
    with pytest.raises(openai.InternalServerError, match="boom"):
        client.chat.completions.create(model=MODEL, messages=USER)
    assert srv.pending == 0


def test_auth_missing_header_is_401(srv: DeepSeekServer):
    status, _, payload = raw_request(
        srv, "POST", "/chat/completions", {"model": MODEL, "messages": USER}, key=None
    )
    assert status == 401
    err = error_of(payload)
    assert err["message"].startswith("Authentication Fails")
    assert err["type"] == "authentication_error"
    assert srv.requests[0].authorized is False
    status, _, _ = raw_request(srv, "GET", "/models", key=None)
    assert status == 401


def test_auth_bad_and_broke_keys(srv: DeepSeekServer):
    bad = openai.OpenAI(base_url=srv.url, api_key="sk-bad-key-abcd", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        bad.chat.completions.create(model=MODEL, messages=USER)
    assert "Authentication Fails, Your api key: ****abcd is invalid" in info.value.message
    broke = openai.OpenAI(base_url=srv.url, api_key="sk-broke-0000", max_retries=0)
    with pytest.raises(openai.APIStatusError, match="Insufficient Balance") as info2:
        broke.chat.completions.create(model=MODEL, messages=USER)
    assert info2.value.status_code == 402
    assert [r.authorized for r in srv.chat_requests] == [False, True]
    bad.close()
    broke.close()


def test_valid_keys_restricts_keys():
    with DeepSeekServer(valid_keys={"sk-good"}) as server:
        ok = openai.OpenAI(base_url=server.url, api_key="sk-good", max_retries=0)
        assert ok.chat.completions.create(model=MODEL, messages=USER).choices
        other = openai.OpenAI(base_url=server.url, api_key="sk-test", max_retries=0)
        with pytest.raises(openai.AuthenticationError, match=r"\*\*\*\*test is invalid"):
            other.chat.completions.create(model=MODEL, messages=USER)
        ok.close()
        other.close()


@pytest.mark.parametrize("model", ["deepseek-chat", "deepseek-reasoner", "deepseek-coder", "gpt-4"])
def test_retired_and_unknown_models_are_400(client: openai.OpenAI, model: str):
    with pytest.raises(openai.BadRequestError, match="Model Not Exist") as info:
        client.chat.completions.create(model=model, messages=USER)
    assert error_of(info.value.response.content)["type"] == "invalid_request_error"


def test_extra_models_are_served():
    with DeepSeekServer(models=("deepseek-flash", "local-model")) as server:
        c = openai.OpenAI(base_url=server.url, api_key="sk-test", max_retries=0)
        r = c.chat.completions.create(model="local-model", messages=USER)
        assert r.model == "local-model"
        c.close()


def test_json_schema_is_rejected(srv: DeepSeekServer, client: openai.OpenAI):
    schema: Any = {"name": "x", "schema": {"type": "object"}}
    with pytest.raises(openai.BadRequestError, match="response_format type is unavailable now"):
        client.chat.completions.create(
            model=MODEL,
            messages=user("reply in json"),
            response_format={"type": "json_schema", "json_schema": schema},
        )


def test_json_object_needs_the_word_json(srv: DeepSeekServer, client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError, match="must contain the word 'json'"):
        client.chat.completions.create(
            model=MODEL, messages=USER, response_format={"type": "json_object"}
        )
    r = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "Answer as JSON."}]},
            {"role": "user", "content": "hi"},
        ],
        response_format={"type": "json_object"},
    )
    assert r.choices[0].message.content == "{}"  # the default answer in JSON mode
    assert srv.chat_requests[0].status == 400 and srv.chat_requests[1].status == 200


@pytest.mark.parametrize(
    "tool_choice", ["required", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_forced_tool_choice_rejected_in_thinking_mode(client: openai.OpenAI, tool_choice: Any):
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object"}},
        }
    ]
    kwargs: dict[str, Any] = {"model": MODEL, "messages": USER, "tools": tools}
    with pytest.raises(openai.BadRequestError, match="Thinking mode does not support"):
        client.chat.completions.create(**kwargs, tool_choice=tool_choice)
    with pytest.raises(openai.BadRequestError, match="Thinking mode does not support"):
        client.chat.completions.create(
            **kwargs, tool_choice=tool_choice, extra_body={"thinking": {"type": "enabled"}}
        )
    ok = client.chat.completions.create(**kwargs, tool_choice=tool_choice, extra_body=NO_THINKING)
    assert ok.choices[0].message.content == "ok"
    assert client.chat.completions.create(**kwargs, tool_choice="auto").choices


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ({"model": MODEL}, {}),
        ({"model": MODEL, "messages": []}, {}),
        ({"model": MODEL, "messages": USER, "max_tokens": 0}, {}),
        ({"model": MODEL, "messages": USER, "max_tokens": -5}, {}),
        ({"model": MODEL, "messages": USER, "reasoning_effort": "low"}, {}),
        ({"model": MODEL, "messages": USER, "logprobs": True}, {}),
        ({"model": MODEL, "messages": USER, "thinking": {"type": "sometimes"}}, {}),
    ],
)
def test_bad_parameters_are_422(srv: DeepSeekServer, body: dict[str, Any], extra: dict[str, Any]):
    status, _, payload = raw_request(srv, "POST", "/chat/completions", {**body, **extra})
    assert status == 422
    assert error_of(payload)["message"]
    assert srv.chat_requests[0].status == 422


def test_valid_parameters_pass(client: openai.OpenAI):
    for effort in ("high", "max"):
        assert client.chat.completions.create(
            model=MODEL,
            messages=USER,
            reasoning_effort=effort,
        ).choices
    r = client.chat.completions.create(
        model=MODEL, messages=USER, logprobs=True, extra_body=NO_THINKING
    )
    assert r.choices[0].message.content == "ok"


def test_invalid_json_body_and_unknown_path(srv: DeepSeekServer):
    status, _, payload = raw_request(srv, "POST", "/chat/completions", raw=b"{not json")
    assert status == 400 and error_of(payload)["message"]
    assert srv.requests[0].raw_body == b"{not json" and srv.requests[0].body is None
    status, _, payload = raw_request(srv, "POST", "/completions", {"model": MODEL})
    assert status == 404


# --------------------------------------------------------------------------- max_tokens, usage


def test_max_tokens_truncates_with_length(srv: DeepSeekServer, client: openai.OpenAI):
    long = "word " * 100  # 125 tokens
    srv.enqueue(Reply(long), Reply(long, finish_reason="content_filter"), Reply(long))
    r = client.chat.completions.create(
        model=MODEL, messages=USER, max_tokens=10, extra_body=NO_THINKING
    )
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content == long[:40]
    assert r.usage is not None and r.usage.completion_tokens == 10
    r = client.chat.completions.create(
        model=MODEL, messages=USER, max_tokens=10, extra_body=NO_THINKING
    )
    assert r.choices[0].finish_reason == "content_filter"
    # thinking counts against max_tokens: a long reasoning leaves no room for the answer
    srv.enqueue(Reply("answer", reasoning="r" * 400))
    r = client.chat.completions.create(model=MODEL, messages=USER, max_tokens=200)
    assert r.choices[0].finish_reason == "stop"
    r = client.chat.completions.create(model=MODEL, messages=USER, max_tokens=50)
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content == ""
    assert len(extra(r.choices[0].message)["reasoning_content"]) == 200


def test_finish_reasons_pass_through(srv: DeepSeekServer, client: openai.OpenAI):
    for reason in ("length", "content_filter", "insufficient_system_resource"):
        srv.enqueue(Reply("partial", finish_reason=reason))
        r = client.chat.completions.create(model=MODEL, messages=USER)
        assert r.choices[0].finish_reason == reason


def test_usage_override(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(Reply("x", usage={"prompt_tokens": 1000, "prompt_cache_hit_tokens": 640}))
    r = client.chat.completions.create(model=MODEL, messages=USER, extra_body=NO_THINKING)
    usage = r.model_dump()["usage"]
    assert usage["prompt_tokens"] == 1000 and usage["prompt_cache_hit_tokens"] == 640
    assert usage["total_tokens"] == 1000 + usage["completion_tokens"]


def test_prefix_cache_hit_accounting(srv: DeepSeekServer, client: openai.OpenAI):
    shared = "You are a careful reviewer. " * 100  # 2800 characters
    first: Any = [{"role": "system", "content": shared}, {"role": "user", "content": "file one"}]
    second: Any = [{"role": "system", "content": shared}, {"role": "user", "content": "file two"}]
    u1 = client.chat.completions.create(model=MODEL, messages=first).model_dump()["usage"]
    u2 = client.chat.completions.create(model=MODEL, messages=second).model_dump()["usage"]
    assert u1["prompt_cache_hit_tokens"] == 0
    assert u1["prompt_cache_miss_tokens"] == u1["prompt_tokens"] == count_tokens(prompt_text(first))
    common = len("system" + shared + "user" + "file ")
    expected_hit = (common // 4) // 64 * 64
    assert expected_hit > 0
    assert u2["prompt_cache_hit_tokens"] == expected_hit
    assert u2["prompt_cache_hit_tokens"] + u2["prompt_cache_miss_tokens"] == u2["prompt_tokens"]
    # an identical request hits everything up to the last full 64-token block
    u3 = client.chat.completions.create(model=MODEL, messages=second).model_dump()["usage"]
    assert u3["prompt_cache_hit_tokens"] == u3["prompt_tokens"] // 64 * 64
    # the cache is per model, and reset() forgets it
    srv.reset()
    u4 = client.chat.completions.create(model=MODEL, messages=second).model_dump()["usage"]
    assert u4["prompt_cache_hit_tokens"] == 0


def common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def test_prefix_cache_matches_a_brute_force_reference(srv: DeepSeekServer):
    rng = random.Random(7)
    base = "".join(rng.choice("abcdef ") for _ in range(3000))
    earlier: list[str] = []
    for _ in range(12):
        cut = rng.randrange(0, len(base))
        messages = [{"role": "user", "content": base[:cut] + "Z" + base[cut : cut + 500]}]
        status, _, payload = raw_request(
            srv,
            "POST",
            "/chat/completions",
            {"model": MODEL, "messages": messages, "thinking": {"type": "disabled"}},
        )
        assert status == 200
        usage = json.loads(payload)["usage"]
        prompt = prompt_text(messages)
        lcp = max((common_prefix(prompt, e) for e in earlier), default=0)
        assert usage["prompt_cache_hit_tokens"] == (lcp // 4) // 64 * 64
        assert usage["prompt_cache_hit_tokens"] % 64 == 0
        assert usage["prompt_cache_hit_tokens"] <= usage["prompt_tokens"]
        earlier.append(prompt)


def test_cache_is_per_model():
    with DeepSeekServer(models=("deepseek-flash", "other")) as server:
        messages = [{"role": "user", "content": "x" * 2000}]
        hits = []
        for model in ("deepseek-flash", "other", "other"):
            _, _, payload = raw_request(
                server, "POST", "/chat/completions", {"model": model, "messages": messages}
            )
            hits.append(json.loads(payload)["usage"]["prompt_cache_hit_tokens"])
        assert hits == [0, 0, 448]  # 2004 characters → 7 whole blocks of 64 tokens


def test_chunked_request_body(srv: DeepSeekServer):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    body = json.dumps({"model": MODEL, "messages": USER}).encode()
    conn.request(
        "POST",
        "/chat/completions",
        body=iter([body[:10], body[10:]]),
        headers={"Authorization": "Bearer sk-test", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    resp = conn.getresponse()
    assert resp.status == 200
    assert json.loads(resp.read())["choices"][0]["message"]["content"] == "ok"
    conn.close()
    assert srv.chat_requests[0].raw_body == body


def test_short_prompts_never_hit_the_cache(client: openai.OpenAI):
    for _ in range(2):
        usage = client.chat.completions.create(model=MODEL, messages=USER).model_dump()["usage"]
        assert usage["prompt_cache_hit_tokens"] == 0


# ------------------------------------------------------------ latency, concurrency, faults


def test_latency_and_delay_are_applied(srv: DeepSeekServer):
    impatient = openai.OpenAI(base_url=srv.url, api_key="sk-test", max_retries=0, timeout=0.2)
    srv.latency = 2.0
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(model=MODEL, messages=USER)
    srv.latency = 0.0
    srv.enqueue(Reply("late", delay=2.0), Reply("on time"))
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(model=MODEL, messages=USER)
    r = impatient.chat.completions.create(model=MODEL, messages=USER)
    assert r.choices[0].message.content == "on time"
    impatient.close()


def test_concurrent_requests_are_all_answered(srv: DeepSeekServer):
    srv.latency = 0.2
    srv.responder = lambda body: Reply("echo " + body["messages"][0]["content"])
    n = 20
    barrier = threading.Barrier(n)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        c = openai.OpenAI(base_url=srv.url, api_key="sk-test", max_retries=0, timeout=30)
        try:
            barrier.wait()
            stream = i % 2 == 0
            msgs = user(str(i))
            if stream:
                chunks = c.chat.completions.create(model=MODEL, messages=msgs, stream=True)
                results[i] = "".join(ch.choices[0].delta.content or "" for ch in chunks)
            else:
                r = c.chat.completions.create(model=MODEL, messages=msgs)
                results[i] = r.choices[0].message.content or ""
        except BaseException as exc:
            errors.append(exc)
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert results == {i: f"echo {i}" for i in range(n)}
    assert len(srv.chat_requests) == n
    assert all(r.status == 200 for r in srv.chat_requests)


def test_drop_connection(srv: DeepSeekServer, client: openai.OpenAI):
    srv.enqueue(Reply(drop_connection=True), Reply("back"))
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=USER)
    assert client.chat.completions.create(model=MODEL, messages=USER).choices[
        0
    ].message.content == ("back")
    assert [r.status for r in srv.chat_requests] == [None, 200]


# --------------------------------------------------------------------------------- the log


def test_request_log_redacts_the_key_and_keeps_the_raw_body(
    srv: DeepSeekServer, client: openai.OpenAI
):
    secret = "sk-test-SECRET-1234"
    c = openai.OpenAI(base_url=srv.url, api_key=secret, max_retries=0)
    c.chat.completions.create(model=MODEL, messages=user("quote: naïve 'x'"), temperature=0.5)
    client.models.list()
    log = srv.requests
    assert [(r.method, r.path) for r in log] == [("POST", "/chat/completions"), ("GET", "/models")]
    req = srv.chat_requests[0]
    assert req.headers["Authorization"] == "Bearer ***"
    assert req.headers["authorization"] == "Bearer ***"
    assert "authorization" in req.headers and "Authorization" in req.headers
    assert secret not in json.dumps(req.headers)
    assert req.authorized is True and req.status == 200 and req.stream is False
    assert req.body is not None and req.body["temperature"] == 0.5
    assert json.loads(req.raw_body) == req.body
    assert int(req.headers["content-length"]) == len(req.raw_body)
    assert req.usage is not None and req.usage["prompt_tokens"] > 0
    assert log[0].time <= log[1].time
    assert len(srv.chat_requests) == 1
    srv.enqueue(Reply("pending"))
    srv.fail_next(500)
    srv.reset()
    assert srv.requests == [] and srv.pending == 0
    r = client.chat.completions.create(model=MODEL, messages=USER)
    assert r.choices[0].message.content == "ok"
    c.close()


def test_server_restart_and_stop_are_idempotent():
    server = DeepSeekServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    server.start()
    assert server.start() is server
    url = server.url
    assert url.startswith("http://127.0.0.1:")
    server.stop()
    server.stop()


def test_standalone_prints_url_and_serves():
    script = ROOT / "tests" / "support" / "deepseek_server.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        c = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0, timeout=10)
        assert c.chat.completions.create(model=MODEL, messages=USER).choices[0].message.content == (
            "ok"
        )
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


# ----------------------------------------------------------------------------- langchain


def test_langchain_deepseek_keeps_reasoning_and_cache_hits(srv: DeepSeekServer):
    from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage
    from langchain_deepseek import ChatDeepSeek
    from pydantic import SecretStr

    llm = ChatDeepSeek(
        model="deepseek-flash",
        base_url=srv.url,
        api_key=SecretStr("sk-test"),
        max_retries=0,
        stream_usage=True,
        extra_body={"thinking": {"type": "enabled"}},
    )
    system = SystemMessage("You analyse papers carefully. " * 60)
    srv.enqueue(
        Reply("Summary one.", reasoning="Reading the paper."),
        Reply("Summary two.", reasoning="Reading it again."),
    )
    first = llm.invoke([system, HumanMessage("Summarise section 1")])
    assert first.content == "Summary one."
    assert first.additional_kwargs["reasoning_content"] == "Reading the paper."
    assert first.usage_metadata is not None
    assert first.usage_metadata["input_token_details"].get("cache_read", 0) == 0

    acc: AIMessageChunk | None = None
    for chunk in llm.stream([system, HumanMessage("Summarise section 2")]):
        acc = chunk if acc is None else acc + chunk
    assert acc is not None
    assert acc.content == "Summary two."
    assert acc.additional_kwargs["reasoning_content"] == "Reading it again."
    hit = (srv.chat_requests[-1].usage or {})["prompt_cache_hit_tokens"]
    assert hit > 0
    assert acc.usage_metadata is not None
    assert acc.usage_metadata["input_token_details"]["cache_read"] == hit

    third = llm.invoke([system, HumanMessage("Summarise section 3")])
    hit = (srv.chat_requests[-1].usage or {})["prompt_cache_hit_tokens"]
    assert third.usage_metadata is not None
    assert third.usage_metadata["input_token_details"]["cache_read"] == hit > 0
    body = srv.chat_requests[-1].body
    assert body is not None and body["thinking"] == {"type": "enabled"}


def test_a_failing_responder_answers_500_and_the_server_keeps_serving(
    srv: DeepSeekServer, client: openai.OpenAI
):
    def broken(body: dict[str, Any]) -> Reply:
        raise KeyError("oops")

    srv.responder = broken
    with pytest.raises(openai.InternalServerError, match="test server error"):
        client.chat.completions.create(model=MODEL, messages=USER)
    srv.responder = None
    assert client.chat.completions.create(model=MODEL, messages=USER).choices[0].message.content
