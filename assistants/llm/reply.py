"""What goes to the model and what comes back: :data:`Message`, :class:`Reply`,
:class:`RequestEstimate`, the callback types, and the one normalisation of messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from .usage import Usage

__all__ = ["Callback", "Message", "Progress", "Reply", "RequestEstimate", "normalize_messages"]

Message = tuple[str, str]
Callback = Callable[[str], None]
Progress = Callable[[int, int], None]
"""The one progress-callback type: ``progress(done, total)``."""


class Reply(BaseModel):
    """One model reply (or the last of a structured-output exchange, with summed usage)."""

    content: str
    reasoning: str | None = None
    finish_reason: str | None = None
    model: str
    usage: Usage
    cached: bool = False
    attempts: int = 1
    latency_s: float = 0.0

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


class RequestEstimate(BaseModel):
    """What a request would cost, computed offline (``--dry-run``)."""

    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


def normalize_messages(messages: Iterable[Any]) -> list[Message]:
    """``(role, text)`` pairs from pairs or LangChain messages; roles system/user/assistant."""
    out: list[Message] = []
    for message in messages:
        if isinstance(message, tuple):
            role, content = message
        else:  # a LangChain BaseMessage
            role = {"human": "user", "ai": "assistant"}.get(message.type, message.type)
            content = message.content
        if role not in {"system", "user", "assistant"}:
            raise ValueError(f"unsupported message role {role!r}")
        out.append((role, str(content)))
    return out
