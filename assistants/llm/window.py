"""Context windows: how many tokens the model behind an endpoint takes, and fitting requests.

Where a window comes from, the first that knows: the profile's ``context_window`` setting;
DeepSeek's API (1M tokens, never asked; see :mod:`.selector`); the server itself, asked lazily
once per base URL and model per process (:func:`probe_window`) — vLLM's ``/v1/models``
(``max_model_len``), llama.cpp's ``/props`` (``n_ctx``), Ollama's ``/api/show`` (``num_ctx``,
else the model's ``context_length``) — with a short timeout, and kept for a day in
``context_windows.json`` in the data dir, keyed by the base URL (without credentials) and the
model, never the key. A probe that fails means unknown: nothing is clamped, nothing fails.

With a known window, :func:`fit_max_tokens` clamps a request's ``max_tokens`` to the room its
prompt leaves (a prompt that leaves too little is a :class:`~assistants.errors.ContextWindowError`
before anything is sent) and :func:`input_budget` caps the review's and the paper's token
budgets to a share of the window. A server's own "maximum context length is N tokens" (HTTP 400,
in llama.cpp's, vLLM's or OpenAI's words) becomes a ContextWindowError too
(:func:`context_overflow`), and N is remembered.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .. import errors
from .selector import DEEPSEEK_HOSTS

if TYPE_CHECKING:
    from ..config import Settings
    from .selector import ModelSpec


class _Model(Protocol):
    """What :func:`fit_request` needs of :class:`~assistants.llm.LLM`."""

    spec: ModelSpec

    def context_window(self, *, probe: bool = True) -> int | None: ...


__all__ = [
    "INPUT_SHARE",
    "context_overflow",
    "fit_max_tokens",
    "fit_request",
    "forget_windows",
    "input_budget",
    "naming_profile",
    "probe_window",
    "remember_window",
    "window_for",
]

PROBE_TIMEOUT = 2.0  # seconds per probe request
CACHE_FILE = "context_windows.json"
CACHE_TTL = 86_400.0  # a server restarted with another context size is asked again next day
INPUT_SHARE = 0.6  # request budgets take at most this share of the window; the reply the rest
MIN_OUTPUT = 256  # the least room a reply needs
PROMPT_MARGIN = 1.25  # another server's tokenizer may count up to a quarter more than ours
PROMPT_SLACK = 64  # chat-template tokens our count does not see

_memo: dict[str, int | None] = {}
_lock = threading.Lock()


# -- where the window comes from ----------------------------------------------------------
def window_for(
    spec: ModelSpec, settings: Settings, *, probe: bool = True, key: str | None = None
) -> int | None:
    """The window of ``spec``'s model in tokens, or None when unknown. ``probe=False`` uses
    only what is configured or already known (a dry run asks nothing)."""
    if spec.context_window:
        return spec.context_window
    if spec.deepseek_fields or (urlsplit(spec.base_url).hostname or "").lower() in DEEPSEEK_HOSTS:
        return None  # DeepSeek's API is never probed (the selector knows its window)
    ident = _ident(spec.base_url, spec.model)
    with _lock:
        if ident in _memo:
            return _memo[ident]
    path = settings.resolved_data_dir() / CACHE_FILE
    known = _read_cache(path, ident)
    if known is not None or not probe:
        return known
    with _lock:  # one probe per endpoint and model at a time; the others wait for its answer
        if ident not in _memo:
            _memo[ident] = found = probe_window(spec.base_url, spec.model, key)
            if found is not None:
                _write_cache(path, ident, found)
        return _memo[ident]


def remember_window(spec: ModelSpec, settings: Settings, window: int) -> None:
    """Keep a window the server reported (in its error for a request that did not fit)."""
    if spec.deepseek_fields or spec.context_window:
        return
    ident = _ident(spec.base_url, spec.model)
    with _lock:
        _memo[ident] = window
    _write_cache(settings.resolved_data_dir() / CACHE_FILE, ident, window)


def forget_windows() -> None:
    """Forget what this process learned (tests)."""
    with _lock:
        _memo.clear()


def _ident(base_url: str, model: str) -> str:
    """The endpoint without user:password (never written anywhere) and the model."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')} {model}"


def _read_cache(path: Path, ident: str) -> int | None:
    try:
        entry = json.loads(path.read_text("utf-8")).get(ident)
        if time.time() - float(entry["checked"]) > CACHE_TTL:
            return None
        tokens = int(entry["tokens"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return tokens if tokens > 0 else None


def _write_cache(path: Path, ident: str, tokens: int) -> None:
    try:
        try:
            known = json.loads(path.read_text("utf-8"))
            known = known if isinstance(known, dict) else {}
        except (OSError, ValueError):
            known = {}
        known[ident] = {"tokens": tokens, "checked": time.time()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(known, indent=1, sort_keys=True), "utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written costs a probe next time, nothing else


# -- asking the server --------------------------------------------------------------------
def probe_window(base_url: str, model: str, key: str | None = None) -> int | None:
    """Ask an OpenAI-compatible server for its context window: vLLM's ``/models``, then
    llama.cpp's ``/props``, then Ollama's ``/api/show``. None when none of them says (or the
    server cannot be reached); never raises."""
    import httpx

    base = base_url.rstrip("/")
    root = base[: -len("/v1")] if base.endswith("/v1") else base
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    probes = (
        ("GET", f"{base}/models", None, _from_models),
        ("GET", f"{root}/props", None, _from_props),
        ("POST", f"{root}/api/show", {"model": model}, _from_ollama),
    )
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT, headers=headers) as http:
            for method, url, body, read in probes:
                try:
                    response = http.request(method, url, json=body)
                except httpx.TransportError:
                    return None  # unreachable or silent: asking elsewhere there costs time
                if response.status_code != 200:
                    continue
                try:
                    found = read(response.json(), model)
                except (ValueError, TypeError, KeyError, AttributeError):
                    found = None
                if found:
                    return found
    except Exception:  # a probe must never cost a request
        return None
    return None


def _positive(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


def _from_models(data: Any, model: str) -> int | None:
    entries = [e for e in data.get("data") or [] if isinstance(e, dict)]
    mine = [e for e in entries if e.get("id") == model] or (entries if len(entries) == 1 else [])
    return _positive(mine[0].get("max_model_len")) if mine else None


def _from_props(data: Any, model: str) -> int | None:
    settings = data.get("default_generation_settings") or {}
    return _positive(settings.get("n_ctx")) or _positive(data.get("n_ctx"))


def _from_ollama(data: Any, model: str) -> int | None:
    params = str(data.get("parameters") or "")
    match = re.search(r"^\s*num_ctx\s+(\d+)", params, re.M)
    if match:
        return _positive(match.group(1))
    info = data.get("model_info") or {}
    return next((_positive(v) for k, v in info.items() if str(k).endswith(".context_length")), None)


# -- fitting requests ---------------------------------------------------------------------
def input_budget(window: int | None, configured: int, share: float = INPUT_SHARE) -> int:
    """``configured`` tokens, capped to ``share`` of a known window."""
    return configured if window is None else min(configured, int(window * share))


def prompt_tokens(messages: Iterable[tuple[str, str]]) -> int:
    """The prompt's tokens as another server may count them (ours, with a margin)."""
    from .tokens import count_message_tokens

    return math.ceil(count_message_tokens(messages) * PROMPT_MARGIN) + PROMPT_SLACK


def fit_max_tokens(
    window: int, messages: list[tuple[str, str]], asked: int, *, profile: str
) -> int:
    """``asked`` clamped to the room the prompt leaves in ``window``. Raises
    :class:`~assistants.errors.ContextWindowError` when that room is too small for a reply."""
    # a token is at least one character: a short prompt needs no tokenizer to know it fits
    chars = sum(len(text) for _, text in messages)
    if math.ceil(chars * PROMPT_MARGIN) + PROMPT_SLACK + asked <= window:
        return asked
    used = prompt_tokens(messages)
    room = window - used
    if room < min(MIN_OUTPUT, asked):
        raise errors.ContextWindowError(
            f"the request (~{used:,} tokens) does not fit the model's context window "
            f"({window:,} tokens); nothing was sent",
            hint=_hint(window, profile),
            window=window,
        )
    return min(asked, room)


# -- the server's own word ----------------------------------------------------------------
_WINDOW_SAID = (
    # OpenAI, vLLM, DeepSeek: "This model's maximum context length is 8192 tokens. ..."
    re.compile(r"maximum context length (?:is|of)\s*(\d[\d,]*)", re.I),
    # llama.cpp: "request (9000 tokens) exceeds the available context size (8192 tokens)"
    re.compile(r"available context size\s*\(?\s*(\d[\d,]*)", re.I),
    # others: "context window of 8192 tokens", "context length (8192)"
    # llama-cpp-python: "Requested tokens (3000) exceed context window of 2048"
    re.compile(r"exceeds? (?:the )?context window of\s*(\d[\d,]*)", re.I),
    re.compile(
        r"context (?:window|length|size)\s*(?:is|of|=|:)?\s*\(?(\d[\d,]*)\s*\)?\s*tok", re.I
    ),
)
_OVERFLOW = re.compile(
    r"maximum context length|exceeds? (?:the )?(?:available )?context|context[_ ]length[_ ]"
    r"exceeded|exceed_context_size|context window|too many tokens|prompt is too long|"
    r"input is too long",
    re.I,
)


def context_overflow(
    message: str, body: Any, *, status: int, attempts: int
) -> errors.ContextWindowError | None:
    """The ContextWindowError of an HTTP 400 that says the request was too long (with the
    window when the server named it), or None for any other 400."""
    said = _positive((body or {}).get("n_ctx")) if isinstance(body, dict) else None
    for pattern in _WINDOW_SAID:
        match = pattern.search(message)
        if match and said is None:
            said = _positive(match.group(1).replace(",", ""))
    if said is None and not _OVERFLOW.search(message):
        return None
    return errors.ContextWindowError(
        f"the request is longer than the model's context window (HTTP {status}): {message}",
        hint=_hint(said, None),
        status=status,
        attempts=attempts,
        window=said,
    )


def naming_profile(
    error: errors.AssistantsError, spec: ModelSpec, settings: Settings
) -> errors.AssistantsError:
    """A server's context overflow with the hint naming ``spec``'s profile; the window it
    named is remembered. Any other error as it is."""
    if not isinstance(error, errors.ContextWindowError) or error.status is None:
        return error
    if error.window:
        remember_window(spec, settings, error.window)
    error.hint = _hint(error.window, spec.profile)
    return error


def _hint(window: int | None, profile: str | None) -> str:
    setting = f"profiles.{profile or '<profile>'}.context_window"
    said = (
        f"the server's context window is {window:,} tokens"
        if window
        else "the request is longer than the server's context window"
    )
    return (
        f"{said}: lower the request (review.request_token_budget, paper.token_budget) or "
        f"max_tokens, or set {setting} to the server's context size"
    )


async def fit_request(
    llm: _Model, msgs: list[tuple[str, str]], params: dict[str, Any], max_tokens: int | None
) -> dict[str, Any]:
    """``params`` of one of ``llm``'s requests with ``max_tokens`` clamped to the room the
    prompt leaves in the window (unchanged when the window is unknown or there is room)."""
    import asyncio

    window = llm.spec.context_window or await asyncio.to_thread(llm.context_window)
    asked = max_tokens or llm.spec.max_tokens
    if window is None:
        return params
    fitted = fit_max_tokens(window, msgs, asked, profile=llm.spec.profile)
    return params if fitted == asked else {**params, "max_tokens": fitted}
