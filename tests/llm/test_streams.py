"""Complete streams only: a stream without [DONE] or without a finish_reason is retried, and
when the retries run out it is a typed error, never a result."""

from __future__ import annotations

import json

import pytest
from cli_runner import one_line_error, run
from deepseek_server import DeepSeekServer, Reply

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM

CUTS = [
    pytest.param({"omit_done": True}, "without \\[DONE\\]", id="no-done"),
    pytest.param({"omit_finish_reason": True}, "without a finish_reason", id="no-finish"),
]


@pytest.mark.parametrize(("fault", "message"), CUTS)
@pytest.mark.parametrize("profile", ["chat", "reasoner"])
def test_an_incomplete_stream_is_retried(server: DeepSeekServer, fault, message, profile) -> None:
    server.enqueue(Reply("the first half", **fault), Reply("the whole answer"))
    shown: list[str] = []
    reply = LLM(profile).complete([("user", "q")], on_content=shown.append, on_retry=shown.clear)
    assert reply.content == "the whole answer" and "".join(shown) == "the whole answer"
    assert reply.attempts == 2 and reply.finish_reason == "stop"
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize(("fault", "message"), CUTS)
def test_an_incomplete_stream_without_text_shown_is_retried_silently(server, fault, message):
    server.enqueue(Reply("cut", **fault), Reply("done"))
    assert LLM("reasoner").complete([("user", "q")]).content == "done"


@pytest.mark.parametrize(("fault", "message"), CUTS)
def test_retries_run_out_is_a_typed_error(server: DeepSeekServer, fault, message) -> None:
    server.responder = lambda body: Reply("never complete", **fault)
    with pytest.raises(errors.IncompleteStreamError, match=message) as info:
        LLM("reasoner", settings=load_settings(max_retries=2)).complete([("user", "q")])
    assert info.value.exit_code == 5
    assert len(server.chat_requests) == 3


def test_incomplete_after_shown_text_is_announced_not_repeated(server: DeepSeekServer) -> None:
    server.enqueue(Reply("partial", omit_finish_reason=True), Reply("more"))
    shown: list[str] = []
    with pytest.raises(errors.IncompleteStreamError, match="broke off midway"):
        LLM("chat").complete([("user", "q")], on_content=shown.append)
    assert "".join(shown) == "partial" and server.pending == 1


def test_cli_chat_gets_the_complete_answer_or_a_one_line_error(server, monkeypatch) -> None:
    server.enqueue(Reply("half", omit_done=True), Reply("complete"))
    result = run("chat", "--think", "--json", "hello")  # streams; nothing shown before the end
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["content"] == "complete"
    # streamed to the terminal: a retry would repeat the text, so it is one error line
    server.enqueue(Reply("half", omit_finish_reason=True), Reply("complete"))
    result = run("chat", "again")
    assert result.exit_code == 5
    assert "broke off midway" in one_line_error(result)
    server.reset()
    server.responder = lambda body: Reply("half", omit_finish_reason=True)
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "1")
    result = run("chat", "--think", "--json", "once more")
    assert result.exit_code == 5 and result.stdout == ""  # never a result
    assert "without a finish_reason" in one_line_error(result)
    assert len(server.chat_requests) == 2
