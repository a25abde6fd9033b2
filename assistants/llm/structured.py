"""Structured output: a pydantic model asked for in JSON mode, validated, repaired once.

The JSON Schema generated from the model goes into the request (``llm/json_schema.j2``); the
reply is validated with pydantic; on failure the model is shown its validation error once
(``llm/repair.j2``); after that :class:`~assistants.errors.StructuredOutputError` carries the raw
reply. :meth:`assistants.llm.LLM.astructured` is the entry point; the exchange is here.

Caching (:class:`AnswerCache`): only a reply that validated is cached, and always under the
key of the original request, so a re-run finds the final answer (the repaired one included)
without paying for any round again; a reply that failed validation is never cached, and a
cached entry that does not validate (an older version's) is a miss.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from .. import errors
from ..prompts import render
from .reply import Message, Reply
from .usage import Usage

__all__ = ["AnswerCache", "ask_structured", "attach_schema", "schema_instructions"]

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def prompt_schema(node: Any, names: bool = False) -> Any:
    """A JSON Schema as the model reads it: without ``title`` keywords (pydantic derives them
    from the property names the model already sees) and without the descriptions of object
    schemas (a class's docstring, written for developers; field descriptions stay). Sent
    compact, this is about half the characters of ``model_json_schema()`` and validates the
    same replies. ``names``: ``node`` maps names to schemas (``properties``, ``$defs``)."""
    if isinstance(node, list):
        return [prompt_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: prompt_schema(value) for key, value in node.items()}
    drop = {"title"} | ({"description"} if "properties" in node else set())
    return {
        key: prompt_schema(value, names=key in ("properties", "$defs"))
        for key, value in node.items()
        if not (key in drop and isinstance(value, str))
    }


def schema_instructions(schema: type[BaseModel], prompts_dir: Path | None) -> str:
    """The JSON-mode instructions a request for ``schema`` carries (:func:`prompt_schema`)."""
    compact = prompt_schema(schema.model_json_schema())
    return render(
        "llm/json_schema.j2",
        prompts_dir=prompts_dir,
        schema=json.dumps(compact, ensure_ascii=False, separators=(",", ":")),
    )


def attach_schema(
    msgs: list[Message], instructions: str, schema_in: Literal["system", "last"]
) -> list[Message]:
    """``msgs`` with ``instructions`` appended to the system message (inserted when there is
    none), or with ``schema_in="last"`` to the last message."""
    msgs = list(msgs)
    if schema_in == "last" and msgs:
        role, text = msgs[-1]
        msgs[-1] = (role, f"{text}\n\n{instructions}")
    elif msgs and msgs[0][0] == "system":
        msgs[0] = ("system", f"{msgs[0][1]}\n\n{instructions}")
    else:
        msgs.insert(0, ("system", instructions))
    return msgs


@dataclass
class AnswerCache:
    """Where validated answers are kept: ``lookup(key)`` → the stored reply or None (no side
    effects but the lease of :mod:`.answers`) and the call's ``slot``; ``hit(reply)`` → the
    reply as served from the cache (usage recorded, callbacks replayed); ``put(slot, reply)``
    stores one; ``release(slot)`` ends the lease of a call that stored nothing. ``key`` is
    the original request's cache key."""

    key: str
    lookup: Callable[[str], Awaitable[tuple[Reply | None, Any]]]
    hit: Callable[[Reply], Reply]
    put: Callable[[Any, Reply], None]
    release: Callable[[Any], None]


def _validate(schema: type[M], reply: Reply) -> M:
    if not reply.content.strip():
        raise ValueError("the reply was empty; a JSON object is required")
    return schema.model_validate_json(_json_text(reply.content))


async def ask_structured(
    acomplete: Callable[..., Awaitable[Reply]],
    msgs: list[Message],
    schema: type[M],
    *,
    prompts_dir: Path | None,
    max_tokens: int | None = None,
    on_reasoning: Any = None,
    cache: AnswerCache | None = None,
) -> tuple[M, Reply]:
    """Ask with ``acomplete`` (JSON mode) until the reply validates as ``schema``: the first
    answer, then one repair round. The returned reply carries the usage of both. With
    ``cache``, a validated answer stored for this request is returned without a request, and
    the answer that validates is stored (nothing else is)."""
    slot = None
    if cache is not None:
        stored, slot = await cache.lookup(cache.key)
        if stored is not None:
            try:
                value = _validate(schema, stored)
            except (ValidationError, ValueError):
                pass  # not an answer (written before validation was strict): a miss
            else:
                return value, cache.hit(stored)
    try:
        return await _ask(
            acomplete, msgs, schema, prompts_dir, max_tokens, on_reasoning, cache, slot
        )
    finally:
        if cache is not None:
            cache.release(slot)


async def _ask(
    acomplete: Callable[..., Awaitable[Reply]],
    msgs: list[Message],
    schema: type[M],
    prompts_dir: Path | None,
    max_tokens: int | None,
    on_reasoning: Any,
    cache: AnswerCache | None,
    slot: Any,
) -> tuple[M, Reply]:
    total = Usage()
    attempts = 0
    problem = ""
    reply: Reply | None = None
    for round_ in range(2):
        reply = await acomplete(
            msgs,
            json_mode=True,
            max_tokens=max_tokens,
            on_reasoning=on_reasoning,
            allow_empty=True,
            use_cache=False,
        )
        total = total + reply.usage
        attempts += reply.attempts
        try:
            value = _validate(schema, reply)
        except (ValidationError, ValueError) as exc:
            problem = _describe_validation(exc)
            if round_ == 0:
                msgs = [
                    *msgs,
                    ("assistant", reply.content or "(empty)"),
                    ("user", render("llm/repair.j2", prompts_dir=prompts_dir, problem=problem)),
                ]
            continue
        if cache is not None and reply.finish_reason == "stop":
            cache.put(slot, reply)
        merged = reply.model_copy(update={"usage": total, "attempts": attempts})
        return value, merged
    assert reply is not None
    raise errors.StructuredOutputError(
        "the model's JSON reply did not validate, even after a repair round: "
        f"{problem.splitlines()[0] if problem else 'invalid JSON'}",
        raw=reply.content,
        reasoning=reply.reasoning,
        details=problem,
    )


def _json_text(content: str) -> str:
    match = _FENCE.match(content)
    return match.group(1) if match else content


def _describe_validation(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        lines = []
        for err in exc.errors()[:20]:
            where = ".".join(str(p) for p in err["loc"]) or "(root)"
            lines.append(f"- {where}: {err['msg']}")
        return "\n".join(lines)
    return f"- {exc}"
