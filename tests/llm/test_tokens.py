"""Offline token counts with the DeepSeek tokenizer."""

from __future__ import annotations

from assistants.llm.tokens import count_message_tokens, count_tokens


def test_token_counts_are_deepseek_tokens() -> None:
    assert count_tokens("") == 0
    assert 1 <= count_tokens("hello") <= 2
    text = "def add(a, b):\n    return a + b\n" * 50
    assert 300 < count_tokens(text) < 1000
    assert count_message_tokens([("system", "x"), ("user", "y")]) > count_tokens("xy")
