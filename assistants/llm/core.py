"""The one path every model call takes: :class:`LLM`.

It owns, once for the whole code base: the client (langchain-deepseek's ``ChatDeepSeek``, or
an injected LangChain chat model), the request fields for the endpoint, retries with backoff
(honouring Retry-After) for 429 / 5xx / timeouts / connection errors /
``finish_reason=insufficient_system_resource``, fail-fast on 400/401/402/422, the persistent
response cache, the usage ledger and cost, streaming of reasoning and content, detection of
truncated / filtered / empty replies, and structured output (JSON mode + pydantic validation +
one repair round).

Everything is implemented once, asynchronously; the synchronous methods run the coroutine on a
private event loop (in a worker thread when the caller already has one, as in Jupyter).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import random
import re
import threading
import time
import traceback
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from .. import errors
from ..config import Settings, load_settings
from .selector import ModelSpec, select_model
from .store import ResponseCache, UsageLedger, request_key
from .tokens import count_message_tokens, count_tokens
from .usage import PriceTable, Usage, load_prices

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["LLM", "Message", "Progress", "Reply", "RequestEstimate", "run_sync"]

log = logging.getLogger("assistants")

Message = tuple[str, str]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Callback = Callable[[str], None]
Progress = Callable[[int, int], None]
"""The one progress-callback type: ``progress(done, total)``."""

RETRYABLE_FINISH = {"insufficient_system_resource"}
_notified: set[str] = set()
_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)
_CLIENTS_LOCK = threading.Lock()


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


def _now() -> datetime:
    """The clock used for peak pricing (a seam for tests)."""
    return datetime.now(timezone.utc)


class _Runner:
    """One long-lived event loop in a daemon thread for the synchronous API, so sync calls
    share one HTTP connection pool (an async client is bound to the loop that made it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="assistants-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def in_runner(self) -> bool:
        return threading.current_thread() is self._thread


_runner = _Runner()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code (also inside Jupyter's loop)."""
    if _runner.in_runner():  # called from a callback on the runner itself: no deadlock
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, coro).result()
    future = asyncio.run_coroutine_threadsafe(coro, _runner.loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def _normalize(messages: Iterable[Any]) -> list[Message]:
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


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def _json_text(content: str) -> str:
    match = _FENCE.match(content)
    return match.group(1) if match else content


class LLM:
    """A profile's model with retries, cache, usage and cost. Cheap to create.

    ``model`` injects a LangChain chat model (tests use a fake); otherwise a ``ChatDeepSeek``
    is built on first use from the settings (a missing key is reported only then, so dry runs
    need no key). ``thinking`` overrides the profile's mode. ``task`` labels ledger rows.
    """

    def __init__(
        self,
        profile: str = "chat",
        *,
        task: str | None = None,
        settings: Settings | None = None,
        model: BaseChatModel | None = None,
        thinking: bool | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.spec: ModelSpec = select_model(profile, self.settings, thinking=thinking)
        self.task = task or profile
        self._injected = model
        self._lock = threading.Lock()
        self.usage = Usage()
        self.prices: PriceTable = load_prices(self.settings.price_file)
        self.cache = (
            ResponseCache(self.settings.resolved_cache_path())
            if self.settings.cache_enabled
            else None
        )
        self.ledger = (
            UsageLedger(self.settings.resolved_ledger_path())
            if self.settings.ledger_enabled
            else None
        )
        for notice in self.spec.notices:
            _warn_once(notice)
        if self.spec.deepseek_fields and self.prices.price_for(self.spec.model) is None:
            _warn_once(
                f"note: the price table has no price for {self.spec.model}; its cost is "
                "counted as $0 (add it in a file named by ASSISTANTS_PRICE_FILE)"
            )

    # -- public properties -----------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self.spec.model

    @property
    def concurrency(self) -> int:
        return self.settings.concurrency

    # -- client ----------------------------------------------------------------------------
    def _chat_model(self) -> BaseChatModel:
        if self._injected is not None:
            return self._injected
        key = self._api_key()
        identity = (self.spec, hashlib.sha256(key.encode()).hexdigest())
        loop = asyncio.get_running_loop()
        with _CLIENTS_LOCK:
            # One client per profile and settings, shared by every LLM object; an async HTTP
            # client belongs to the loop that created it, so one per loop as well.
            per_loop = _CLIENTS.setdefault(loop, {})
            client = per_loop.get(identity)
            if client is None:
                client = per_loop[identity] = self._build_client(key)
            return client

    def _api_key(self) -> str:
        if self.settings.has_key():
            assert self.settings.api_key is not None
            return self.settings.api_key.get_secret_value().strip()
        if self.spec.deepseek_fields:
            raise errors.MissingAPIKeyError("no API key: DEEPSEEK_API_KEY is not set")
        return "no-key-required"  # local OpenAI-compatible servers usually need no key

    def _build_client(self, key: str) -> BaseChatModel:
        from langchain_deepseek import ChatDeepSeek

        extra = self.spec.request_fields()
        return ChatDeepSeek(
            model=self.spec.model,
            base_url=self.spec.base_url,
            api_key=key,  # type: ignore[arg-type]
            timeout=self.spec.timeout,
            max_retries=0,  # retries are ours (below), so they are counted and typed
            max_tokens=self.spec.max_tokens,
            temperature=self.spec.temperature,
            stream_usage=True,
            extra_body=extra or None,
        )

    # -- estimates -------------------------------------------------------------------------
    def estimate(self, messages: Iterable[Any], output_tokens: int = 800) -> RequestEstimate:
        """Tokens and cost of a request, offline. Needs no key."""
        tokens = count_message_tokens(_normalize(messages))
        cost = self.prices.cost(
            self.spec.model,
            cache_hit=0,
            cache_miss=tokens,
            output=output_tokens,
            when=_now(),
        )
        return RequestEstimate(
            model=self.spec.model,
            input_tokens=tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
        )

    # -- completion ------------------------------------------------------------------------
    def complete(self, messages: Iterable[Any], **kwargs: Any) -> Reply:
        """Synchronous :meth:`acomplete`."""
        return run_sync(self.acomplete(messages, **kwargs))

    async def acomplete(
        self,
        messages: Iterable[Any],
        *,
        json_mode: bool = False,
        max_tokens: int | None = None,
        on_reasoning: Callback | None = None,
        on_content: Callback | None = None,
        allow_truncated: bool = False,
        allow_empty: bool = False,
        use_cache: bool = True,
        on_retry: Callable[[], None] | None = None,
    ) -> Reply:
        """One request (with retries). Streams when a callback is given or thinking is on.

        A stream that breaks after some of its text went to ``on_reasoning`` / ``on_content``
        is retried only when ``on_retry`` is given (it is called first, so a display can start
        over); otherwise the error is raised, so no text is ever shown twice.

        Raises :class:`~assistants.errors.TruncatedResponseError` on ``finish_reason=length``
        and :class:`~assistants.errors.EmptyResponseError` on empty content unless allowed;
        :class:`~assistants.errors.ContentFilteredError` always.
        """
        msgs = _normalize(messages)
        params: dict[str, Any] = {}
        if json_mode:
            # Sent in the body as-is: as a keyword, LangChain would switch to the SDK's
            # parse() helpers, which raise on truncation and lose DeepSeek's fields.
            params["extra_body"] = {
                **self.spec.request_fields(),
                "response_format": {"type": "json_object"},
            }
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        key = request_key(
            {
                "base_url": self.spec.base_url,
                "model": self.spec.model,
                "fields": self.spec.request_fields(),
                "max_tokens": max_tokens or self.spec.max_tokens,
                "temperature": self.spec.temperature,
                "messages": msgs,
                "params": params,
                "injected": type(self._injected).__name__ if self._injected else None,
            }
        )
        cache = self.cache if use_cache else None
        if cache is not None:
            cached = self._cache_get(cache, key, on_reasoning, on_content)
            if cached is not None:
                return cached

        stream = bool(on_reasoning or on_content) or self.spec.thinking
        shown = False  # has this attempt given text to a callback?

        def showing(callback: Callback | None) -> Callback | None:
            if callback is None:
                return None

            def deliver(text: str) -> None:
                nonlocal shown
                shown = True
                callback(text)

            return deliver

        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            shown = False
            try:
                content, reasoning, finish, usage_meta = await self._call(
                    msgs, params, stream, showing(on_reasoning), showing(on_content)
                )
            except Exception as exc:
                mapped, retry_after = _map_exception(exc, attempts)
                if mapped is None:
                    raise
                if not isinstance(mapped, RETRYABLE) or attempts > self.settings.max_retries:
                    raise self._scrub(mapped) from None
                if shown and on_retry is None:
                    # A retry would show its text after the part already shown.
                    raise self._scrub(
                        _reworded(
                            mapped,
                            f"the reply broke off midway ({_what_broke(mapped)}); not retried, "
                            "as part of it was already shown",
                            hint="run the request again",
                        )
                    ) from None
                wait = self._backoff(attempts, None)
                if retry_after is not None and retry_after > self.settings.retry_max_wait:
                    raise self._scrub(
                        _reworded(
                            mapped,
                            f"{mapped.message}; the API asks to wait {retry_after:g} s, "
                            f"longer than retry_max_wait ({self.settings.retry_max_wait:g} s)",
                            hint="try again later, or raise ASSISTANTS_RETRY_MAX_WAIT to wait "
                            "for it",
                        )
                    ) from None
                if retry_after is not None:
                    wait = max(wait, retry_after)
                if shown and on_retry is not None:
                    on_retry()
                await asyncio.sleep(wait)
                continue
            if finish in RETRYABLE_FINISH and attempts <= self.settings.max_retries:
                if shown and on_retry is None:
                    break  # as above: no second text after the first; _check raises
                if shown and on_retry is not None:
                    on_retry()
                await asyncio.sleep(self._backoff(attempts, None))
                continue
            break

        latency = time.monotonic() - started
        usage = self._usage(usage_meta)
        self._record(usage, latency, attempts, cached=False)
        reply = Reply(
            content=content,
            reasoning=reasoning,
            finish_reason=finish,
            model=self.spec.model,
            usage=usage,
            attempts=attempts,
            latency_s=round(latency, 4),
        )
        self._check(reply, allow_truncated=allow_truncated, allow_empty=allow_empty)
        if cache is not None and finish == "stop" and content.strip():
            try:
                cache.put(key, self.spec.model, reply.model_dump(mode="json"))
            except errors.AssistantsError as exc:  # the cache must never cost a result
                _warn_once(f"response cache not written ({exc})")
        return reply

    async def _call(
        self,
        msgs: list[Message],
        params: dict[str, Any],
        stream: bool,
        on_reasoning: Callback | None,
        on_content: Callback | None,
    ) -> tuple[str, str | None, str | None, dict[str, Any] | None]:
        model = self._chat_model()
        # Our own limit as well as the HTTP client's: keep-alives (blank lines, SSE comments)
        # reset the client's read timeout, so an endpoint that only keeps the line open would
        # otherwise hold the call forever. Streams: the longest wait for the next chunk.
        limit = self.spec.timeout
        if not stream:
            message = await asyncio.wait_for(model.ainvoke(msgs, **params), limit)
            reasoning = message.additional_kwargs.get("reasoning_content")
            return (
                _text(message.content),
                reasoning,
                message.response_metadata.get("finish_reason"),
                getattr(message, "usage_metadata", None),
            )
        content_parts: list[str] = []
        reasoning_parts: list[str] | None = None
        finish: str | None = None
        usage_meta: dict[str, Any] | None = None
        chunks = model.astream(msgs, **params)
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(chunks), limit)
                except StopAsyncIteration:
                    break
                delta_reasoning = chunk.additional_kwargs.get("reasoning_content")
                if delta_reasoning is not None:  # the first delta may be ""
                    reasoning_parts = reasoning_parts if reasoning_parts is not None else []
                    reasoning_parts.append(delta_reasoning)
                    if on_reasoning and delta_reasoning:
                        on_reasoning(delta_reasoning)
                text = _text(chunk.content)
                if text:
                    content_parts.append(text)
                    if on_content:
                        on_content(text)
                finish = chunk.response_metadata.get("finish_reason") or finish
                if getattr(chunk, "usage_metadata", None):
                    usage_meta = dict(chunk.usage_metadata)  # type: ignore[arg-type]
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
        reasoning = "".join(reasoning_parts) if reasoning_parts is not None else None
        return "".join(content_parts), reasoning, finish, usage_meta

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        wait = self.settings.retry_backoff * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.settings.retry_max_wait)

    def _scrub(self, error: errors.AssistantsError) -> errors.AssistantsError:
        """Never repeat the key, even when the endpoint echoes it in an error message."""
        key = self.settings.api_key.get_secret_value().strip() if self.settings.api_key else ""
        if len(key) >= 8 and key in error.message:
            error.message = error.message.replace(key, "***")
            error.args = (error.message,)
        return error

    def _usage(self, meta: dict[str, Any] | None) -> Usage:
        if not meta:
            return Usage(requests=1)
        input_tokens = int(meta.get("input_tokens") or 0)
        hit = int((meta.get("input_token_details") or {}).get("cache_read") or 0)
        output = int(meta.get("output_tokens") or 0)
        reasoning = int((meta.get("output_token_details") or {}).get("reasoning") or 0)
        miss = max(input_tokens - hit, 0)
        cost = self.prices.cost(
            self.spec.model,
            cache_hit=hit,
            cache_miss=miss,
            output=output,
            when=_now(),
        )
        return Usage(
            requests=1,
            cache_hit_tokens=hit,
            cache_miss_tokens=miss,
            output_tokens=output,
            reasoning_tokens=reasoning,
            cost_usd=cost,
        )

    def _record(self, usage: Usage, latency: float, attempts: int, *, cached: bool) -> None:
        with self._lock:
            self.usage = self.usage + usage
        if self.ledger is None:
            return
        try:
            self.ledger.record(
                task=self.task,
                profile=self.spec.profile,
                model=self.spec.model,
                cache_hit_tokens=usage.cache_hit_tokens,
                cache_miss_tokens=usage.cache_miss_tokens,
                output_tokens=usage.output_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                latency_s=round(latency, 4),
                cost_usd=usage.cost_usd,
                peak=int(self.prices.is_peak(_now())),
                cached=int(cached),
                attempts=attempts,
            )
        except Exception as exc:  # the ledger must never cost the user a result
            _warn_once(f"usage ledger not written ({exc})")

    def _cache_get(
        self,
        cache: ResponseCache,
        key: str,
        on_reasoning: Callback | None,
        on_content: Callback | None,
    ) -> Reply | None:
        """The cached reply, or None on a miss or an unreadable cache (with a warning)."""
        try:
            hit = cache.get(key)
        except errors.AssistantsError as exc:
            _warn_once(f"response cache not read ({exc})")
            return None
        except ValueError:  # an entry that is not JSON: a miss
            return None
        if hit is None:
            return None
        try:
            reply = Reply.model_validate(hit)
        except ValidationError:  # written by another version: a miss
            return None
        return self._from_cache(reply, on_reasoning, on_content)

    def _from_cache(
        self, reply: Reply, on_reasoning: Callback | None, on_content: Callback | None
    ) -> Reply:
        reply = reply.model_copy(
            update={"cached": True, "attempts": 0, "usage": Usage(cached_requests=1)}
        )
        if on_reasoning and reply.reasoning:
            on_reasoning(reply.reasoning)
        if on_content and reply.content:
            on_content(reply.content)
        self._record(reply.usage, 0.0, 0, cached=True)
        return reply

    @staticmethod
    def _check(reply: Reply, *, allow_truncated: bool, allow_empty: bool) -> None:
        if reply.finish_reason == "content_filter":
            raise errors.ContentFilteredError(
                "the reply was withheld by the content filter",
                raw=reply.content,
                reasoning=reply.reasoning,
            )
        if reply.finish_reason == "length" and not allow_truncated:
            raise errors.TruncatedResponseError(
                f"the reply was cut off at max_tokens ({reply.usage.output_tokens} tokens)",
                raw=reply.content,
                reasoning=reply.reasoning,
            )
        if reply.finish_reason in RETRYABLE_FINISH:
            raise errors.ServerError(
                "the API had no resources for this request (insufficient_system_resource)",
                attempts=reply.attempts,
            )
        if not reply.content.strip() and not allow_empty and reply.finish_reason != "length":
            thought = (reply.reasoning or "").strip()
            raise errors.EmptyResponseError(
                f"the model reasoned ({len(thought):,} characters) but gave no answer"
                if thought
                else "the model returned an empty reply",
                reasoning=reply.reasoning,
            )

    # -- structured output -----------------------------------------------------------------
    def schema_instructions(self, schema: type[BaseModel]) -> str:
        """The JSON-mode instructions :meth:`astructured` adds to a request for ``schema``."""
        from ..prompts import render

        return render(
            "llm/json_schema.j2",
            prompts_dir=self.settings.prompts_dir,
            schema=json.dumps(schema.model_json_schema(), ensure_ascii=False),
        )

    def structured_prompt_tokens(self, system: str, schema: type[BaseModel]) -> int:
        """Tokens of a structured request's fixed part: ``system`` plus the schema
        instructions :meth:`astructured` appends to it."""
        return count_tokens(f"{system}\n\n{self.schema_instructions(schema)}")

    def structured(
        self, messages: Iterable[Any], schema: type[M], **kwargs: Any
    ) -> tuple[M, Reply]:
        """Synchronous :meth:`astructured`."""
        return run_sync(self.astructured(messages, schema, **kwargs))

    async def astructured(
        self,
        messages: Iterable[Any],
        schema: type[M],
        *,
        max_tokens: int | None = None,
        on_reasoning: Callback | None = None,
        schema_in: Literal["system", "last"] = "system",
    ) -> tuple[M, Reply]:
        """Ask for ``schema`` as JSON (JSON mode), validate it with pydantic, and on failure
        show the model its validation error once. Raises
        :class:`~assistants.errors.StructuredOutputError` (with the raw reply) after that.

        The JSON Schema (generated from ``schema``) is appended to the system message, or with
        ``schema_in="last"`` to the last message: use that when requests with different
        schemas share a long prefix (one paper, many questions) so the API's prefix cache
        serves all of them."""
        from ..prompts import render

        msgs = _normalize(messages)
        instructions = self.schema_instructions(schema)
        if schema_in == "last" and msgs:
            role, text = msgs[-1]
            msgs[-1] = (role, f"{text}\n\n{instructions}")
        elif msgs and msgs[0][0] == "system":
            msgs[0] = ("system", f"{msgs[0][1]}\n\n{instructions}")
        else:
            msgs.insert(0, ("system", instructions))

        total = Usage()
        attempts = 0
        problem = ""
        reply: Reply | None = None
        for round_ in range(2):
            reply = await self.acomplete(
                msgs,
                json_mode=True,
                max_tokens=max_tokens,
                on_reasoning=on_reasoning,
                allow_empty=True,
                use_cache=True,
            )
            total = total + reply.usage
            attempts += reply.attempts
            try:
                if not reply.content.strip():
                    raise ValueError("the reply was empty; a JSON object is required")
                value = schema.model_validate_json(_json_text(reply.content))
            except (ValidationError, ValueError) as exc:
                problem = _describe_validation(exc)
                if round_ == 0:
                    msgs = [
                        *msgs,
                        ("assistant", reply.content or "(empty)"),
                        (
                            "user",
                            render(
                                "llm/repair.j2",
                                prompts_dir=self.settings.prompts_dir,
                                problem=problem,
                            ),
                        ),
                    ]
                continue
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

    # -- concurrency helper ----------------------------------------------------------------
    async def amap(
        self,
        func: Callable[[T], Awaitable[Any]],
        items: Sequence[T],
        *,
        concurrency: int | None = None,
        progress: Progress | None = None,
    ) -> list[Any]:
        """Run ``func`` over ``items`` with bounded concurrency; results in order, where a
        failed item's result is its exception (``AssistantsError``) so one failure loses
        nothing else. Unexpected exceptions propagate."""
        limit = asyncio.Semaphore(concurrency or self.concurrency)
        done = 0
        total = len(items)
        if progress:
            progress(0, total)

        async def one(item: T) -> Any:
            nonlocal done
            async with limit:
                try:
                    return await func(item)
                except errors.AssistantsError as exc:
                    return exc
                finally:
                    done += 1
                    if progress:
                        progress(done, total)

        return list(await asyncio.gather(*(one(item) for item in items)))


def _warn_once(message: str) -> None:
    if message not in _notified:
        _notified.add(message)
        log.warning(message)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(
            block.get("text", "") if isinstance(block, dict) else str(block) for block in content
        )
    return str(content or "")


def _describe_validation(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        lines = []
        for err in exc.errors()[:20]:
            where = ".".join(str(p) for p in err["loc"]) or "(root)"
            lines.append(f"- {where}: {err['msg']}")
        return "\n".join(lines)
    return f"- {exc}"


def _api_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", "") or exc).splitlines()[0]


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# What the SDK and LangChain raise for a 200 answer whose body is not a completion.
_MALFORMED = ("Unexpected response type", "No generation chunks were returned")


def _malformed_reply(exc: BaseException) -> bool:
    if isinstance(exc, json.JSONDecodeError):
        return True
    if isinstance(exc, ValueError) and str(exc).startswith(_MALFORMED):
        return True
    if not isinstance(exc, (KeyError, TypeError, IndexError, ValueError)):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    if any(frame.name == "_create_chat_result" for frame in frames):
        return True  # LangChain could not read the completion's fields
    # an empty "choices" list: LangChain indexes the first generation of nothing
    last = frames[-1] if frames else None
    return (
        isinstance(exc, IndexError)
        and last is not None
        and "langchain_core" in last.filename
        and last.name in {"ainvoke", "invoke"}
    )


def _what_broke(error: errors.AssistantsError) -> str:
    if isinstance(error, errors.APIConnectionError):
        return "the connection was lost"
    if isinstance(error, errors.APITimeoutError):
        return "nothing more arrived within the time limit"
    return error.message


def _reworded(error: errors.AssistantsError, message: str, *, hint: str) -> errors.AssistantsError:
    """``error`` with another message and hint (same class, status and attempts)."""
    if isinstance(error, errors.APIError):
        return type(error)(message, hint=hint, status=error.status, attempts=error.attempts)
    return type(error)(message, hint=hint)


def _map_exception(
    exc: BaseException, attempts: int
) -> tuple[errors.AssistantsError | None, float | None]:
    """(our error, retry-after) for a client exception; retryable ones come back as
    RateLimitError / ServerError / APITimeoutError / APIConnectionError. ``None`` for an
    exception that is not the API's (a bug: let it propagate)."""
    if isinstance(exc, errors.AssistantsError):
        return exc, None
    import openai

    n = attempts
    if isinstance(exc, openai.LengthFinishReasonError):
        return errors.TruncatedResponseError("the reply was cut off at max_tokens"), None
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return errors.ContentFilteredError("the reply was withheld by the content filter"), None
    if isinstance(exc, (openai.APITimeoutError, asyncio.TimeoutError, TimeoutError)):
        return errors.APITimeoutError(
            f"no answer within the time limit (after {n} attempt(s))", attempts=n
        ), None
    if isinstance(exc, openai.APIConnectionError):
        return errors.APIConnectionError(
            f"cannot reach the API (after {n} attempt(s)): {exc.__cause__ or exc}", attempts=n
        ), None
    if _malformed_reply(exc):
        # HTTP 200 with a body that is not a completion (a proxy's HTML page, broken JSON,
        # no choices, an "error" object where the completion should be).
        detail = " ".join(str(exc).split())[:160]
        if isinstance(exc, IndexError):
            detail = "it has no choices"
        elif exc.args and isinstance(exc.args[0], dict) and exc.args[0].get("message"):
            detail = f"it reports an error: {exc.args[0]['message']}"
        return errors.ServerError(
            f"the API's reply was not a chat completion (after {n} attempt(s)): {detail}",
            hint="check that ASSISTANTS_BASE_URL is an OpenAI-compatible endpoint "
            "(local servers usually end in /v1); try again later",
            attempts=n,
        ), None
    if not isinstance(exc, openai.APIStatusError):
        return None, None
    status = exc.status_code
    message = _api_message(exc)
    if status == 401:
        # The API echoes part of the key in its message; never repeat it.
        return errors.AuthenticationError(
            "the API rejected the key (HTTP 401)", status=status, attempts=n
        ), None
    if status == 402:
        return errors.InsufficientBalanceError(
            "the account has insufficient balance (HTTP 402)", status=status, attempts=n
        ), None
    if status in (400, 422):
        return errors.BadRequestError(
            f"the API rejected the request (HTTP {status}): {message}", status=status, attempts=n
        ), None
    if status == 429:
        return errors.RateLimitError(
            f"rate limited (HTTP 429) after {n} attempt(s)", status=status, attempts=n
        ), _retry_after(exc)
    if status >= 500:
        return errors.ServerError(
            f"the API failed (HTTP {status}: {message}) after {n} attempt(s)",
            status=status,
            attempts=n,
        ), _retry_after(exc)
    return errors.APIError(f"HTTP {status}: {message}", status=status, attempts=n), None


RETRYABLE = (
    errors.RateLimitError,
    errors.ServerError,
    errors.APITimeoutError,
    errors.APIConnectionError,
)
