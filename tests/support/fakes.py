"""A scripted LangChain chat model for unit tests (the model boundary, no sockets)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class ScriptedReply:
    """What the fake answers: content, optional reasoning, finish reason, token usage."""

    def __init__(
        self,
        content: str = "",
        *,
        reasoning: str | None = None,
        finish_reason: str = "stop",
        input_tokens: int = 10,
        cache_read: int = 0,
        output_tokens: int = 5,
        reasoning_tokens: int = 0,
        error: Exception | None = None,
    ) -> None:
        self.content = content
        self.reasoning = reasoning
        self.finish_reason = finish_reason
        self.usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "input_token_details": {"cache_read": cache_read},
            "output_token_details": {"reasoning": reasoning_tokens},
        }
        self.error = error


Script = ScriptedReply | str | Callable[[list[BaseMessage]], "ScriptedReply | str"]


class ScriptedChatModel(BaseChatModel):
    """Answers from ``replies`` in order (the last one repeats when ``repeat_last``).

    Every call's messages and keyword arguments are kept in ``calls``.
    """

    replies: list[Any]
    repeat_last: bool = False
    calls: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ScriptedReply:
        self.calls.append({"messages": messages, "kwargs": kwargs})
        if not self.replies:
            raise AssertionError("ScriptedChatModel ran out of replies")
        item = self.replies[0] if (self.repeat_last and len(self.replies) == 1) else None
        if item is None:
            item = self.replies.pop(0)
        if callable(item) and not isinstance(item, ScriptedReply):
            item = item(messages)
        reply = item if isinstance(item, ScriptedReply) else ScriptedReply(str(item))
        if reply.error is not None:
            raise reply.error
        return reply

    def _message(self, reply: ScriptedReply, cls: type = AIMessage) -> Any:
        extra = {"reasoning_content": reply.reasoning} if reply.reasoning is not None else {}
        return cls(
            content=reply.content,
            additional_kwargs=extra,
            response_metadata={"finish_reason": reply.finish_reason},
            usage_metadata=reply.usage,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._next(messages, kwargs)
        return ChatResult(generations=[ChatGeneration(message=self._message(reply))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._next(messages, kwargs)
        if reply.reasoning is not None:
            yield ChatGenerationChunk(
                message=AIMessageChunk(content="", additional_kwargs={"reasoning_content": ""})
            )
            for i in range(0, len(reply.reasoning), 7):
                piece = reply.reasoning[i : i + 7]
                yield ChatGenerationChunk(
                    message=AIMessageChunk(
                        content="", additional_kwargs={"reasoning_content": piece}
                    )
                )
        for i in range(0, len(reply.content), 7):
            yield ChatGenerationChunk(message=AIMessageChunk(content=reply.content[i : i + 7]))
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                response_metadata={"finish_reason": reply.finish_reason},
                usage_metadata=reply.usage,  # type: ignore[arg-type]
            )
        )
