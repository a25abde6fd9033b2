"""The one path every model call takes: :class:`LLM`.

It owns, once for the whole code base: the client (langchain-deepseek's ``ChatDeepSeek``, or
an injected LangChain chat model), the request fields for the endpoint, retries with backoff
(honouring Retry-After) for 429 / 5xx / timeouts / connection errors /
``finish_reason=insufficient_system_resource``, fail-fast on 400/401/402/422, the persistent
response cache, the usage ledger and cost, streaming of reasoning and content, and bounded
concurrency (:meth:`LLM.amap`). What a failure means is :mod:`.failures`'s; structured output
is :mod:`.structured`'s; the synchronous methods run the coroutine through :mod:`.bridge`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel

from .. import errors
from ..config import Settings, load_settings
from .answers import Answers, warn_once
from .bridge import run_sync
from .calls import Attempt, call_model, watch_streams
from .failures import (
    RETRYABLE,
    RETRYABLE_FINISH,
    check_reply,
    map_exception,
    overload,
    retry_line,
    retry_reason,
    reworded,
    scrub_key,
    unreachable,
    what_broke,
)
from .limiter import Limiter, overloaded, paused, succeeded
from .reply import Callback, Message, Progress, Reply, RequestEstimate, normalize_messages
from .selector import ModelSpec, select_model
from .store import cache_for, ledger_for, request_key
from .structured import AnswerCache, ask_structured, attach_schema, schema_instructions
from .tokens import count_message_tokens, count_tokens
from .usage import PriceTable, Usage, load_prices, priced_usage
from .window import fit_request, naming_profile, window_for

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["LLM"]

log = logging.getLogger("assistants")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_notified: set[str] = set()
_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)
_CLIENTS_LOCK = threading.Lock()


def _now() -> datetime:
    """The clock used for peak pricing (a seam for tests)."""
    return datetime.now(timezone.utc)


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
            Answers(cache_for(self.settings), wait=self.settings.cache_wait)
            if self.settings.cache_enabled
            else None
        )
        self.ledger = ledger_for(self.settings) if self.settings.ledger_enabled else None
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
        client = ChatDeepSeek(
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
        return watch_streams(client)

    # -- estimates -------------------------------------------------------------------------
    def estimate(self, messages: Iterable[Any], output_tokens: int = 800) -> RequestEstimate:
        """Tokens and cost of a request, offline. Needs no key."""
        tokens = count_message_tokens(normalize_messages(messages))
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
        msgs = normalize_messages(messages)
        params = self._params(json_mode, max_tokens)
        cache = self.cache if use_cache else None

        def send() -> Awaitable[Reply]:
            return self._send(
                msgs,
                params,
                max_tokens,
                on_reasoning,
                on_content,
                on_retry,
                allow_truncated,
                allow_empty,
            )

        if cache is None:
            return await send()
        cached, slot = await cache.lookup(self._request_key(msgs, params, max_tokens))
        if cached is not None:
            return self._from_cache(cached, on_reasoning, on_content)
        try:
            reply = await send()
            if reply.finish_reason == "stop" and reply.content.strip():
                cache.store(slot, self.spec.model, reply)
            return reply
        finally:
            cache.release(slot)  # the call failed: an identical one elsewhere may send it

    async def _send(
        self,
        msgs: list[Message],
        params: dict[str, Any],
        max_tokens: int | None,
        on_reasoning: Callback | None,
        on_content: Callback | None,
        on_retry: Callable[[], None] | None,
        allow_truncated: bool,
        allow_empty: bool,
    ) -> Reply:
        """The request itself, with retries; the reply checked."""
        params = await fit_request(self, msgs, params, max_tokens)  # within the window
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
        paid = Usage()  # attempts answered but retried: paid, so recorded and counted
        while True:
            attempts += 1
            shown = False
            attempt = Attempt()
            attempt_started = time.monotonic()
            try:
                await call_model(
                    self._chat_model(),
                    msgs,
                    params,
                    attempt,
                    stream=stream,
                    timeout=self.spec.timeout,
                    strict=self._injected is None,
                    on_reasoning=showing(on_reasoning),
                    on_content=showing(on_content),
                )
            except Exception as exc:
                mapped, retry_after = map_exception(exc, attempts)
                if mapped is None:
                    raise
                if attempt.chunks:  # part of a reply arrived: it may have been paid
                    paid = paid + self._record_attempt(msgs, attempt, attempt_started, attempts)
                if overload(mapped):
                    overloaded(retry_reason(mapped))
                # Nothing listens where no connection can be made: one retry is enough.
                tries = min(self.settings.max_retries, 1) if unreachable(exc) else None
                if not isinstance(mapped, RETRYABLE) or attempts > (
                    self.settings.max_retries if tries is None else tries
                ):
                    raise self._scrub(mapped) from None
                if shown and on_retry is None:
                    # A retry would show its text after the part already shown.
                    raise self._scrub(
                        reworded(
                            mapped,
                            f"the reply broke off midway ({what_broke(mapped)}); not retried, "
                            "as part of it was already shown",
                            hint="run the request again",
                        )
                    ) from None
                wait = self._backoff(attempts, None)
                if retry_after is not None and retry_after > self.settings.retry_max_wait:
                    raise self._scrub(
                        reworded(
                            mapped,
                            f"{mapped.message}; the API asks to wait {retry_after:g} s, "
                            f"longer than retry_max_wait ({self.settings.retry_max_wait:g} s)",
                            hint="try again later, or raise ASSISTANTS_RETRY_MAX_WAIT to wait "
                            "for it",
                        )
                    ) from None
                if retry_after is not None:
                    wait = max(wait, retry_after)
                await self._retry(wait, attempts, tries, retry_reason(mapped), shown, on_retry)
                continue
            if attempt.finish in RETRYABLE_FINISH and attempts <= self.settings.max_retries:
                if shown and on_retry is None:
                    break  # as above: no second text after the first; _check raises
                paid = paid + self._record_attempt(msgs, attempt, attempt_started, attempts)
                wait = self._backoff(attempts, None)
                await self._retry(wait, attempts, None, str(attempt.finish), shown, on_retry)
                continue
            break

        succeeded()
        # The ledger row first: whatever happens to the reply next, what was paid is recorded.
        usage = self._record_attempt(msgs, attempt, started, attempts)
        latency = time.monotonic() - started
        reply = Reply(
            content=attempt.content,
            reasoning=attempt.reasoning,
            finish_reason=attempt.finish,
            model=self.spec.model,
            usage=paid + usage,
            attempts=attempts,
            latency_s=round(latency, 4),
        )
        check_reply(reply, allow_truncated=allow_truncated, allow_empty=allow_empty)
        return reply

    def context_window(self, *, probe: bool = True) -> int | None:
        """The model's context window in tokens, or None when unknown (see :mod:`.window`);
        ``probe=False`` asks the server nothing."""
        key = self.settings.api_key.get_secret_value().strip() if self.settings.api_key else None
        probe = probe and self._injected is None
        return window_for(self.spec, self.settings, probe=probe, key=key)

    def _params(self, json_mode: bool, max_tokens: int | None) -> dict[str, Any]:
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
        return params

    def _request_key(
        self, msgs: list[Message], params: dict[str, Any], max_tokens: int | None
    ) -> str:
        """The response cache's key of a request (as asked: before any clamp to the window)."""
        return request_key(
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

    async def _retry(
        self,
        wait: float,
        attempts: int,
        tries: int | None,
        reason: str,
        shown: bool,
        on_retry: Callable[[], None] | None,
    ) -> None:
        """Announce the retry (one line at INFO: the CLI shows it on a terminal), restart the
        display, and wait with the concurrency slot given back."""
        tries = self.settings.max_retries if tries is None else tries
        log.info(retry_line(wait, attempts, tries, reason))
        if shown and on_retry is not None:
            on_retry()
        async with paused():
            await asyncio.sleep(wait)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        wait = self.settings.retry_backoff * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.settings.retry_max_wait)

    def _scrub(self, error: errors.AssistantsError) -> errors.AssistantsError:
        """``error`` without this key in it (see :func:`.failures.scrub_key`)."""
        key = self.settings.api_key.get_secret_value().strip() if self.settings.api_key else ""
        error = naming_profile(error, self.spec, self.settings)  # a context overflow's hint
        return scrub_key(error, key)

    def _record_attempt(
        self, msgs: list[Message], attempt: Attempt, started: float, attempts: int
    ) -> Usage:
        """Record one answered attempt (a ledger row) and return its usage."""
        usage = self._usage(msgs, attempt)
        self._record(usage, time.monotonic() - started, attempts, cached=False)
        return usage

    def _usage(self, msgs: list[Message], attempt: Attempt) -> Usage:
        """The usage the server reported, or (none reported) counted with the tokenizer and
        marked estimated: never a measured zero for what nobody measured."""
        meta = attempt.usage_meta
        if not meta:
            reasoning = count_tokens(attempt.reasoning or "")
            return priced_usage(
                self.prices,
                self.spec.model,
                hit=0,
                miss=count_message_tokens(msgs),
                output=reasoning + count_tokens(attempt.content),
                reasoning=reasoning,
                when=_now(),
                estimated=True,
            )
        input_tokens = int(meta.get("input_tokens") or 0)
        hit = int((meta.get("input_token_details") or {}).get("cache_read") or 0)
        return priced_usage(
            self.prices,
            self.spec.model,
            hit=hit,
            miss=max(input_tokens - hit, 0),
            output=int(meta.get("output_tokens") or 0),
            reasoning=int((meta.get("output_token_details") or {}).get("reasoning") or 0),
            when=_now(),
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
                estimated=usage.estimated_requests,
            )
        except errors.AssistantsError as exc:  # spooled: written with the next row that can be
            warn_once(self.ledger, exc, "its rows are kept locally until it can be written")
        except Exception as exc:  # the ledger must never cost the user a result
            _warn_once(f"usage ledger not written ({exc})")

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

    # -- structured output -----------------------------------------------------------------
    def schema_instructions(self, schema: type[BaseModel]) -> str:
        """The JSON-mode instructions :meth:`astructured` adds to a request for ``schema``."""
        return schema_instructions(schema, self.settings.prompts_dir)

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
        msgs = attach_schema(
            normalize_messages(messages), self.schema_instructions(schema), schema_in
        )
        store = self.cache
        answers = (
            None
            if store is None
            else AnswerCache(
                key=self._request_key(msgs, self._params(True, max_tokens), max_tokens),
                lookup=store.lookup,
                hit=lambda reply: self._from_cache(reply, on_reasoning, None),
                put=lambda slot, reply: store.store(slot, self.spec.model, reply),
                release=store.release,
            )
        )
        return await ask_structured(
            self.acomplete,
            msgs,
            schema,
            prompts_dir=self.settings.prompts_dir,
            max_tokens=max_tokens,
            on_reasoning=on_reasoning,
            cache=answers,
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
        """Run ``func`` over ``items`` with bounded, adaptive concurrency (a
        :class:`~assistants.llm.limiter.Limiter`: 429s and timeouts halve the requests in
        flight, successes restore them); results in order, where a failed item's result is its
        exception (``AssistantsError``) so one failure loses nothing else. Unexpected
        exceptions propagate."""
        limit = Limiter(concurrency or self.concurrency)
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
