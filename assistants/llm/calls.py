"""One attempt of a request: the non-stream call, or the stream read with its completeness check.

A stream is complete when the server said ``data: [DONE]`` and some chunk carried a
``finish_reason``; otherwise it raises :class:`~assistants.errors.IncompleteStreamError`
(retryable) instead of passing a partial or empty answer on. ``[DONE]`` is consumed by the
openai SDK, so :func:`watch_streams` wraps the SSE decoder of our own client to note it in the
:class:`Attempt` of the running request (a context variable). What arrived is kept in the
:class:`Attempt` even when the attempt fails, so a paid part is never lost.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import errors
from .reply import Callback, Message

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["Attempt", "call_model", "watch_streams"]


@dataclass
class Attempt:
    """What one attempt received (filled as it arrives)."""

    content_parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] | None = None
    finish: str | None = None
    usage_meta: dict[str, Any] | None = None
    chunks: int = 0
    sse: bool = False  # the stream went through our watched decoder
    done: bool = False  # ... and it ended with data: [DONE]

    @property
    def content(self) -> str:
        return "".join(self.content_parts)

    @property
    def reasoning(self) -> str | None:
        return "".join(self.reasoning_parts) if self.reasoning_parts is not None else None


_ATTEMPT: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "assistants_attempt", default=None
)


class _WatchingDecoder:
    """The SDK's SSE decoder, noting ``[DONE]`` in the running :class:`Attempt`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[Any]:
        return self._inner.iter_bytes(iterator)

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[Any]:
        attempt = _ATTEMPT.get()
        if attempt is not None:
            attempt.sse = True
        async for event in self._inner.aiter_bytes(iterator):
            if attempt is not None and str(event.data).startswith("[DONE]"):
                attempt.done = True
            yield event


def watch_streams(client: Any) -> Any:
    """Make ``client`` (a ``ChatDeepSeek``) report ``[DONE]``; a client whose SDK has no SSE
    decoder hook is returned as it is (then only the ``finish_reason`` is checked)."""
    root = getattr(client, "root_async_client", None)
    make = getattr(root, "_make_sse_decoder", None)
    if root is not None and callable(make):
        root._make_sse_decoder = lambda: _WatchingDecoder(make())
    return client


async def call_model(
    model: BaseChatModel,
    msgs: list[Message],
    params: dict[str, Any],
    attempt: Attempt,
    *,
    stream: bool,
    timeout: float,
    strict: bool,
    on_reasoning: Callback | None,
    on_content: Callback | None,
) -> None:
    """One request into ``attempt``. ``timeout`` is our own limit as well as the HTTP
    client's: keep-alives (blank lines, SSE comments) reset the client's read timeout, so an
    endpoint that only keeps the line open would otherwise hold the call forever; for a stream
    it is the longest wait for the next chunk. ``strict``: a stream needs a ``finish_reason``
    (our own client; an injected fake may not send one)."""
    if not stream:
        message = await asyncio.wait_for(model.ainvoke(msgs, **params), timeout)
        attempt.reasoning_parts = None
        reasoning = message.additional_kwargs.get("reasoning_content")
        if reasoning is not None:
            attempt.reasoning_parts = [reasoning]
        attempt.content_parts = [text(message.content)]
        attempt.finish = message.response_metadata.get("finish_reason")
        attempt.usage_meta = getattr(message, "usage_metadata", None)
        return
    token = _ATTEMPT.set(attempt)
    try:
        await _read_stream(model, msgs, params, attempt, timeout, on_reasoning, on_content)
    finally:
        _ATTEMPT.reset(token)
    if attempt.sse and not attempt.done:
        raise errors.IncompleteStreamError("the reply stream ended without [DONE]")
    if (strict or attempt.sse) and attempt.finish is None:
        raise errors.IncompleteStreamError("the reply stream ended without a finish_reason")


async def _read_stream(
    model: BaseChatModel,
    msgs: list[Message],
    params: dict[str, Any],
    attempt: Attempt,
    timeout: float,
    on_reasoning: Callback | None,
    on_content: Callback | None,
) -> None:
    chunks = model.astream(msgs, **params)
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(anext(chunks), timeout)
            except StopAsyncIteration:
                break
            attempt.chunks += 1
            delta_reasoning = chunk.additional_kwargs.get("reasoning_content")
            if delta_reasoning is not None:  # the first delta may be ""
                if attempt.reasoning_parts is None:
                    attempt.reasoning_parts = []
                attempt.reasoning_parts.append(delta_reasoning)
                if on_reasoning and delta_reasoning:
                    on_reasoning(delta_reasoning)
            piece = text(chunk.content)
            if piece:
                attempt.content_parts.append(piece)
                if on_content:
                    on_content(piece)
            attempt.finish = chunk.response_metadata.get("finish_reason") or attempt.finish
            if getattr(chunk, "usage_metadata", None):
                attempt.usage_meta = dict(chunk.usage_metadata)  # type: ignore[arg-type]
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


def text(content: Any) -> str:
    """The text of a message's content (a string, or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(
            block.get("text", "") if isinstance(block, dict) else str(block) for block in content
        )
    return str(content or "")
