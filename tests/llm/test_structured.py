"""Structured output: JSON mode, pydantic validation, one repair round, the raw reply on failure."""

from __future__ import annotations

import pytest
from deepseek_server import Reply
from pydantic import BaseModel, Field

from assistants import errors
from assistants.llm import LLM


class Verdict(BaseModel):
    label: str
    score: int = Field(ge=1, le=5)


@pytest.mark.parametrize("profile", ["chat", "reasoner"], ids=["thinking-off", "thinking-on"])
def test_json_mode_repair_round(server, profile) -> None:
    server.enqueue(Reply('{"label": "good", "score": 9}'), Reply('{"label": "good", "score": 4}'))
    value, reply = LLM(profile).structured([("user", "Rate this.")], Verdict)
    assert value == Verdict(label="good", score=4)
    first, second = server.chat_requests
    assert first.body["response_format"] == {"type": "json_object"}
    assert "score" in second.body["messages"][-1]["content"]  # the validation error was shown
    assert reply.usage.requests == 2


def test_json_mode_gives_up_with_raw_reply(server) -> None:
    server.enqueue(Reply("not json at all"), Reply('{"label": 3}'))
    with pytest.raises(errors.StructuredOutputError) as info:
        LLM("chat").structured([("user", "Rate this.")], Verdict)
    assert info.value.raw == '{"label": 3}'
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize("first", ["", "not json", '{"label": "good"}'])
def test_only_the_validated_answer_is_cached_under_the_first_request(server, first) -> None:
    server.enqueue(Reply(first), Reply('{"label": "good", "score": 4}'))
    value, reply = LLM("chat").structured([("user", "Rate this.")], Verdict)
    assert len(server.chat_requests) == 2 and reply.usage.requests == 2
    server.reset()
    again, cached = LLM("chat").structured([("user", "Rate this.")], Verdict)
    assert server.chat_requests == []  # neither the first request nor the repair is paid again
    assert again == value and cached.cached and cached.usage.cached_requests == 1


def test_a_reply_that_failed_validation_is_never_cached(server) -> None:
    server.enqueue(Reply('{"label": 3}'), Reply('{"label": 4}'))
    with pytest.raises(errors.StructuredOutputError):
        LLM("chat").structured([("user", "Rate this.")], Verdict)
    server.reset()
    server.enqueue(Reply('{"label": "fine", "score": 2}'))
    value, _ = LLM("chat").structured([("user", "Rate this.")], Verdict)
    assert value.score == 2 and len(server.chat_requests) == 1


def test_a_cached_entry_that_does_not_validate_is_a_miss(server) -> None:
    llm = LLM("chat")
    # what an older version cached: the same request's reply, which does not validate
    sent = [("system", llm.schema_instructions(Verdict)), ("user", "Rate this.")]
    server.enqueue(Reply('{"label": "x"}'))
    llm.complete(sent, json_mode=True)
    assert llm.complete(sent, json_mode=True).cached  # the same key: it is in the cache
    server.enqueue(Reply('{"label": "x", "score": 1}'))
    value, reply = llm.structured([("user", "Rate this.")], Verdict)
    assert value.score == 1 and not reply.cached and len(server.chat_requests) == 2
