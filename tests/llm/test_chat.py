"""Everyday chat on the shared layer: stream_chat ends its request when the caller stops reading."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from assistants.config import load_settings


class _GatedModel(BaseChatModel):
    """Streams chunk after chunk; after the first, waits until the test opens the gate."""

    gate: Any
    produced: list[int]

    @property
    def _llm_type(self) -> str:
        return "gated-fake"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for i in range(50):
            if i == 1:
                self.gate.wait(10)
            self.produced.append(i)
            yield ChatGenerationChunk(message=AIMessageChunk(content=f"{i} "))


def test_abandoned_stream_chat_ends_the_request() -> None:
    from assistants import stream_chat

    gate = threading.Event()
    model = _GatedModel(gate=gate, produced=[])
    pieces = stream_chat("count", model=model, settings=load_settings(cache_enabled=False))
    assert next(pieces) == "0 "
    pieces.close()  # the caller stops reading (break, or the generator is dropped)
    gate.set()
    for worker in threading.enumerate():
        if worker.name == "assistants-stream":
            worker.join(10)
    assert len(model.produced) < 50
