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
