"""Context windows: asked of a local server once (llama.cpp's /props, vLLM's /v1/models) and
kept on disk; never asked of DeepSeek; max_tokens clamped so requests fit; the server's own
"too long" 400 becomes a ContextWindowError whose hint names the window and the setting."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from deepseek_server import TEST_KEY, DeepSeekServer, count_tokens, prompt_text
from local_server import local_server

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM
from assistants.llm.window import (
    CACHE_FILE,
    context_overflow,
    fit_max_tokens,
    forget_windows,
    input_budget,
    probe_window,
)

# code-like text: our tokenizer counts at least as many tokens as the server's len/4
CODE = "".join(f"value_{i} = compute({i}, 'some padding text')\n" for i in range(400))


def _gets(srv: DeepSeekServer) -> list[str]:
    return [r.path for r in srv.requests if r.method != "POST" or not r.is_chat]


def _fits(srv: DeepSeekServer, window: int) -> None:
    for request in srv.chat_requests:
        body = request.body or {}
        prompt = count_tokens(prompt_text(body["messages"]))
        assert request.status == 200
        assert prompt + body["max_tokens"] <= window


def test_llama_cpp_props_are_read_once_and_requests_fit(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    with local_server(monkeypatch, context_window=8192, report_window=("props",)) as srv:
        llm = LLM("chat")
        reply = llm.complete([("user", f"Summarise this code:\n{CODE}")])
        assert reply.content == "ok"
        assert llm.context_window() == 8192
        _fits(srv, 8192)  # max_tokens (8192 by default) was clamped to the room left
        assert srv.chat_requests[0].body["max_tokens"] < 8192
        LLM("chat").complete([("user", f"And this:\n{CODE[:-40]}")])
        assert _gets(srv) == ["/v1/models", "/props"]  # asked once per process
        _fits(srv, 8192)

        forget_windows()  # a new process: the window is read from the data dir
        assert LLM("chat").context_window() == 8192
        assert _gets(srv) == ["/v1/models", "/props"]
        url = srv.url
    saved = json.loads((data_dir / CACHE_FILE).read_text())
    ((ident, entry),) = saved.items()
    assert ident == f"{url}/v1 deepseek-flash" and entry["tokens"] == 8192
    assert TEST_KEY not in (data_dir / CACHE_FILE).read_text()


def test_vllm_max_model_len_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    with local_server(monkeypatch, v1=False, context_window=4096, report_window=("models",)) as srv:
        assert LLM("chat").context_window() == 4096
        assert _gets(srv) == ["/models"]
        assert srv.requests[0].headers["authorization"] == "Bearer ***"  # the endpoint's key


def test_a_server_that_reports_nothing_is_unknown_and_unclamped(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    with local_server(monkeypatch) as srv:
        llm = LLM("chat")
        llm.complete([("user", "hello")])
        assert llm.context_window() is None
        assert (srv.chat_requests[0].body or {})["max_tokens"] == 8192  # the profile's, as asked
        assert _gets(srv) == ["/v1/models", "/props", "/api/show"]
        llm.complete([("user", "hello again")])
        assert len(_gets(srv)) == 3  # not asked again in this process
    assert not (data_dir / CACHE_FILE).exists()  # unknown is not written down


def test_an_unreachable_server_is_unknown_not_an_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert probe_window(f"http://127.0.0.1:{port}/v1", "m") is None


def test_deepseek_is_never_asked(server: DeepSeekServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert LLM("chat").context_window() == 1_000_000
    LLM("chat").complete([("user", "hello")])
    assert [r.path for r in server.requests if not r.is_chat] == []
    # the official host with another flavor: known without asking (no network in tests)
    settings = load_settings(base_url="https://api.deepseek.com", api_flavor="openai")
    assert LLM("coder", settings=settings).context_window() == 1_000_000


def test_the_setting_wins_and_a_prompt_too_long_fails_before_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASSISTANTS_PROFILES__CHAT__CONTEXT_WINDOW", "2048")
    with local_server(monkeypatch, context_window=8192) as srv:
        llm = LLM("chat")
        assert llm.context_window() == 2048
        with pytest.raises(errors.ContextWindowError) as info:
            llm.complete([("user", CODE)])
        assert srv.requests == []  # neither asked nor sent
    assert info.value.window == 2048 and info.value.exit_code == 5
    assert "profiles.chat.context_window" in (info.value.hint or "")


def test_the_servers_400_names_the_window_and_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with local_server(monkeypatch, context_window=8192, report_window=()) as srv:
        llm = LLM("coder")
        with pytest.raises(errors.ContextWindowError) as info:
            llm.complete([("user", CODE * 3)])
        assert len(srv.chat_requests) == 1  # a 400 is not retried
        assert llm.context_window(probe=False) == 8192  # what the server said is kept
    err = info.value
    assert err.window == 8192 and err.status == 400 and err.exit_code == 5
    assert "exceeds the available context size" in err.message
    assert "context window is 8,192 tokens" in (err.hint or "")
    assert "profiles.coder.context_window" in (err.hint or "")


@pytest.mark.parametrize(
    ("message", "body", "window"),
    [
        (
            "This model's maximum context length is 32768 tokens. However, you requested 40000 "
            "tokens (39000 in the messages, 1000 in the completion).",
            None,
            32768,
        ),
        ("This model's maximum context length is 128,000 tokens.", None, 128000),
        (
            "request (9000 tokens) exceeds the available context size (8192 tokens), try "
            "increasing it",
            None,
            8192,
        ),
        (
            "the request exceeds the available context size, try increasing it",
            {"n_ctx": 4096, "type": "exceed_context_size_error"},
            4096,
        ),
        ("the request exceeds the available context size, try increasing it", None, None),
        ("context_length_exceeded", None, None),
        ("Requested tokens (3000) exceed context window of 2048", None, 2048),
    ],
)
def test_overflow_wordings(message: str, body: object, window: int | None) -> None:
    err = context_overflow(message, body, status=400, attempts=1)
    assert err is not None and err.window == window


def test_other_400s_are_not_overflows() -> None:
    assert context_overflow("Model Not Exist", None, status=400, attempts=1) is None
    assert context_overflow("Invalid max_tokens value", {}, status=400, attempts=1) is None


def test_fitting_and_budgets() -> None:
    short = [("user", "hello")]
    assert fit_max_tokens(8192, short, 4000, profile="chat") == 4000
    long = [("user", CODE)]
    clamped = fit_max_tokens(16_000, long, 16_000, profile="chat")
    assert 0 < clamped < 16_000
    with pytest.raises(errors.ContextWindowError):
        fit_max_tokens(1000, long, 500, profile="chat")
    assert input_budget(None, 24_000) == 24_000
    assert input_budget(8192, 24_000) == int(8192 * 0.6)
    assert input_budget(1_000_000, 24_000) == 24_000
