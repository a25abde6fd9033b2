"""Everyday uses of the DeepSeek API on the shared layer: a one-call chat with a system prompt,
streaming, visible reasoning, multi-turn conversations, a model chosen by task type.

Retries, the key from ``.env``, usage monitoring and result caching come from
:class:`~assistants.llm.LLM`, so every function here has them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ..config import Settings
from .client import LLM
from .reply import Message, Reply
from .selector import profile_for_task
from .usage import Usage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["ChatResult", "Conversation", "chat", "stream_chat"]

TaskType = Literal["chat", "paper", "review", "math"]


class ChatResult(BaseModel):
    """A chat reply: the answer, the visible reasoning (thinking mode), usage and cost."""

    content: str
    reasoning: str | None = None
    model: str
    finish_reason: str | None = None
    cached: bool = False
    usage: Usage = Field(default_factory=Usage)

    def __str__(self) -> str:
        return self.content

    def to_markdown(self) -> str:
        parts = []
        if self.reasoning:
            quoted = "\n".join(f"> {line}" for line in self.reasoning.strip().splitlines())
            parts.append(f"**Reasoning**\n\n{quoted}\n")
        parts.append(self.content)
        parts.append(f"\n<sub>{self.model} · {self.usage.summary()}</sub>")
        return "\n".join(parts)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    @classmethod
    def from_reply(cls, reply: Reply) -> ChatResult:
        return cls(
            content=reply.content,
            reasoning=reply.reasoning,
            model=reply.model,
            finish_reason=reply.finish_reason,
            cached=reply.cached,
            usage=reply.usage,
        )


def _llm(
    task: TaskType | None,
    profile: str | None,
    thinking: bool | None,
    settings: Settings | None,
    model: BaseChatModel | None,
) -> LLM:
    chosen = profile or profile_for_task(task or "chat")
    return LLM(chosen, task="chat", settings=settings, model=model, thinking=thinking)


def _messages(prompt: str, system: str | None, history: list[Message] | None = None) -> list:
    messages: list[Message] = [("system", system)] if system else []
    return [*messages, *(history or []), ("user", prompt)]


def chat(
    prompt: str,
    *,
    system: str | None = None,
    task: TaskType | None = None,
    profile: str | None = None,
    thinking: bool | None = None,
    json_mode: bool = False,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
) -> ChatResult:
    """Ask once. ``task`` picks the profile a task type uses (``math`` → reasoner, thinking
    on); ``profile`` names one directly; ``thinking`` overrides the mode."""
    llm = _llm(task, profile, thinking, settings, model)
    reply = llm.complete(_messages(prompt, system), json_mode=json_mode)
    return ChatResult.from_reply(reply)


def stream_chat(
    prompt: str,
    *,
    system: str | None = None,
    task: TaskType | None = None,
    profile: str | None = None,
    thinking: bool | None = None,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    reasoning: bool = False,
) -> Iterator[str]:
    """Yield the reply as it arrives. With ``reasoning=True`` the thinking text is yielded
    first, each piece as it streams (use :func:`chat` to get them separated)."""
    llm = _llm(task, profile, thinking, settings, model)
    pieces: queue.Queue[Any] = queue.Queue()
    done = object()
    abandoned = threading.Event()

    def put(text: str) -> None:
        if abandoned.is_set():  # the consumer stopped reading: end the request
            raise _Abandoned
        pieces.put(text)

    def work() -> None:
        try:
            llm.complete(
                _messages(prompt, system),
                on_content=put,
                on_reasoning=put if reasoning else None,
            )
        except _Abandoned:
            pass
        except BaseException as exc:  # handed to the consumer below
            pieces.put(exc)
        finally:
            pieces.put(done)

    worker = threading.Thread(target=work, name="assistants-stream", daemon=True)
    worker.start()
    try:
        while (item := pieces.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:  # also when the generator is closed early (break, or garbage collected)
        abandoned.set()
    worker.join()


class _Abandoned(Exception):
    """Raised in the request's callback when the caller stopped iterating ``stream_chat``."""


class Conversation:
    """A multi-turn chat. Only the answers' content is sent back (DeepSeek ignores earlier
    reasoning), so the shared history stays a stable prefix for the API's context cache."""

    def __init__(
        self,
        system: str | None = None,
        *,
        task: TaskType | None = None,
        profile: str | None = None,
        thinking: bool | None = None,
        settings: Settings | None = None,
        model: BaseChatModel | None = None,
    ) -> None:
        self.system = system
        self.llm = _llm(task, profile, thinking, settings, model)
        self.history: list[Message] = []

    @property
    def usage(self) -> Usage:
        return self.llm.usage

    def ask(
        self,
        prompt: str,
        *,
        on_content: Any = None,
        on_reasoning: Any = None,
        on_retry: Any = None,
    ) -> ChatResult:
        """One turn. The callbacks stream the reply; ``on_retry`` lets a reply that broke off
        after some text was streamed be retried (it is called first; see ``LLM.acomplete``)."""
        reply = self.llm.complete(
            _messages(prompt, self.system, self.history),
            on_content=on_content,
            on_reasoning=on_reasoning,
            on_retry=on_retry,
        )
        self.history += [("user", prompt), ("assistant", reply.content)]
        return ChatResult.from_reply(reply)

    def reset(self) -> None:
        self.history.clear()
