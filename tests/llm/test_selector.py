"""The model selector: profiles, overrides, retired DeepSeek names, fields per endpoint."""

from __future__ import annotations

import logging

import pytest
from deepseek_server import Reply

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM, select_model


def test_profiles_defaults() -> None:
    settings = load_settings()
    chat, coder, reasoner = (select_model(p, settings) for p in ("chat", "coder", "reasoner"))
    assert {chat.model, coder.model, reasoner.model} == {"deepseek-flash"}
    assert (chat.thinking, coder.thinking, reasoner.thinking) == (False, False, True)
    assert reasoner.request_fields() == {
        "thinking": {"type": "enabled"},
        "reasoning_effort": "high",
    }
    assert chat.request_fields() == {"thinking": {"type": "disabled"}}
    assert select_model("coder", settings, thinking=True).thinking is True


def test_profile_overrides_from_env(monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_PROFILES__REASONER__REASONING_EFFORT", "max")
    monkeypatch.setenv("ASSISTANTS_PROFILES__REASONER__MAX_TOKENS", "1000")
    spec = select_model("reasoner", load_settings())
    assert spec.thinking is True  # untouched fields keep the profile's default
    assert spec.reasoning_effort == "max" and spec.max_tokens == 1000


@pytest.mark.parametrize(
    ("legacy", "thinking"),
    [("deepseek-chat", False), ("deepseek-coder", False), ("deepseek-reasoner", True)],
)
def test_legacy_names_translated_only_for_deepseek(monkeypatch, legacy, thinking) -> None:
    monkeypatch.setenv("ASSISTANTS_PROFILES__CHAT__MODEL", legacy)
    spec = select_model("chat", load_settings())
    assert spec.model == "deepseek-flash" and spec.thinking is thinking
    assert len(spec.notices) == 1 and legacy in spec.notices[0]
    monkeypatch.setenv("ASSISTANTS_BASE_URL", "http://127.0.0.1:11434/v1")
    other = select_model("chat", load_settings())
    assert other.model == legacy and other.notices == ()
    assert other.request_fields() == {}  # no DeepSeek-only fields for other endpoints


def test_unknown_profile_lists_valid_ones() -> None:
    with pytest.raises(errors.ConfigError) as info:
        select_model("poet", load_settings())
    assert "chat, coder, reasoner" in (info.value.hint or "")


def test_legacy_name_translated_for_deepseek(server, monkeypatch, caplog) -> None:
    monkeypatch.setenv("ASSISTANTS_MODEL", "deepseek-reasoner")
    server.enqueue(Reply("42", reasoning="thinking"))
    with caplog.at_level(logging.WARNING, logger="assistants"):
        model = LLM("chat")
        reply = model.complete([("user", "q")])
    assert reply.content == "42"
    body = server.chat_requests[0].body
    assert body["model"] == "deepseek-flash"
    assert body["thinking"] == {"type": "enabled"}


def test_other_endpoints_get_names_and_fields_untouched(server, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_API_FLAVOR", "openai")
    monkeypatch.setenv("ASSISTANTS_MODEL", "deepseek-chat")
    with pytest.raises(errors.BadRequestError, match="Model Not Exist"):
        LLM("chat").complete([("user", "q")])
    body = server.chat_requests[0].body
    assert body["model"] == "deepseek-chat"
    assert "thinking" not in body and "reasoning_effort" not in body
