"""A fake of the DeepSeek chat-completions API for tests, notebooks and benchmarks.

Stdlib only. Real HTTP on 127.0.0.1 with an ephemeral port, thread-per-connection, HTTP/1.1
keep-alive, SSE streaming with ``reasoning_content`` deltas, usage with prefix-cache hit/miss
accounting, keep-alives, the documented error codes, latency and fault injection.

Python::

    from deepseek_server import DeepSeekServer, Reply

    with DeepSeekServer(latency=0.0) as srv:          # or srv = DeepSeekServer().start()
        srv.enqueue(Reply("hello", reasoning="think"))  # FIFO, one per chat request
        srv.responder = lambda body: Reply("dynamic")   # used when the queue is empty
        srv.fail_next(429, times=2, retry_after=0.01)   # the next 2 chat requests fail
        srv.enqueue(Reply("cut", omit_done=True))        # incomplete streams, see Reply
        srv.omit_usage = True                            # no usage in any answer
        srv.context_window = 8192   # /props and /v1/models report it; longer requests: 400
        client = openai.OpenAI(base_url=srv.url, api_key="sk-test")
        ...
        srv.chat_requests[-1].body["messages"]
        srv.max_in_flight, srv.chat_requests[-1].in_flight  # concurrency the server saw
        srv.chat_requests[-1].client_closed   # the client hung up before the answer ended

Standalone (notebooks, manual testing)::

    python tests/support/deepseek_server.py --port 0 --latency 0.2

prints the URL (one line on stdout) and serves until killed.

Order of checks for a chat request: injected failure (``fail_next``) → authentication (401/402)
→ JSON body (400) → model (400) → parameters (422) → response_format / tool_choice (400) →
the next scripted reply (or the responder, or the default: ``ok``; in JSON mode the smallest
object that validates against the JSON Schema in the prompt, ``{}`` without one). A request
rejected before the last step does not consume a scripted reply.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import LoopbackHTTPServer

__all__ = [
    "RETIRED_MODELS",
    "DeepSeekServer",
    "LoggedRequest",
    "Reply",
    "cache_hit_tokens",
    "count_tokens",
    "example_value",
    "prompt_text",
    "requested_schema",
]

RETIRED_MODELS = frozenset({"deepseek-chat", "deepseek-reasoner", "deepseek-coder"})
CACHE_BLOCK_TOKENS = 64
CACHE_BLOCK_CHARS = CACHE_BLOCK_TOKENS * 4  # 4 characters per token
CACHE_MAX_BLOCKS = 2_000_000  # stop remembering new prompts beyond ~512M characters
SYSTEM_FINGERPRINT = "fp_deepseek_test_server"
CHAT_PATHS = frozenset({"/chat/completions", "/v1/chat/completions", "/beta/chat/completions"})
MODELS_PATHS = frozenset({"/models", "/v1/models"})
BALANCE_PATHS = frozenset({"/user/balance", "/v1/user/balance"})
PROPS_PATHS = frozenset({"/props"})

DEFAULT_MESSAGES: dict[int, str] = {
    400: "Invalid request",
    401: "Authentication Fails, Your api key: ****None is invalid",
    402: "Insufficient Balance",
    404: "Not Found",
    422: "Invalid parameters",
    429: "Rate Limit Reached",
    500: "Server error, please retry your request after a brief wait",
    503: "Server overloaded, please retry your request after a brief wait",
}
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_balance_error",
    404: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "server_overloaded_error",
}

Content = str | Callable[[dict[str, Any]], str]

TEST_KEY = "sk-test-0123456789abcdef0123456789abcdef"
"""The API key the test server expects (not a real key)."""


@dataclass
class Reply:
    """One scripted answer of the server.

    ``content`` (and ``reasoning``) may be a callable ``(body) -> str``. ``reasoning=None``
    lets the server invent a short reasoning text when thinking is enabled; ``""`` means an
    empty reasoning. A ``status`` other than 200 answers an error body instead
    (``error_message`` or the default message of that status) with ``Retry-After`` when
    ``retry_after`` is set. ``usage`` overrides the computed usage numbers (shallow merge).
    ``keepalives`` empty lines (non-stream) or ``: keep-alive`` SSE comments (stream) are sent
    while waiting. ``drop_connection`` closes the socket without answering; ``drop_mid_stream``
    streams the first half of the content (reasoning included), then closes the socket.
    ``raw_body`` answers HTTP 200 with exactly this text (a malformed reply; ``raw_content_type``
    is its Content-Type). Incomplete streams: ``omit_done`` sends every chunk (finish_reason and
    usage included) and ends the body without ``data: [DONE]``, closing the connection;
    ``omit_finish_reason`` sends ``[DONE]`` but no chunk with a finish_reason (what
    llama-cpp-python does to a running stream when another request arrives). ``omit_usage``
    leaves the usage out (non-stream body and stream alike).
    """

    content: Content = ""
    reasoning: Content | None = None
    finish_reason: str = "stop"
    status: int = 200
    error_message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    usage: dict[str, Any] | None = None
    keepalives: int = 0
    chunk_size: int = 8
    drop_connection: bool = False
    drop_mid_stream: bool = False
    raw_body: str | None = None
    raw_content_type: str = "application/json"
    omit_done: bool = False
    omit_finish_reason: bool = False
    omit_usage: bool = False


def _key_hash(authorization: str | None) -> str | None:
    _, _, key = (authorization or "").partition(" ")
    return hashlib.sha256(key.strip().encode()).hexdigest() if key.strip() else None


class _Headers(dict[str, str]):
    """A plain dict of request headers (lower-case keys) with case-insensitive lookups."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class LoggedRequest:
    """One request as the server saw it (the Authorization value is redacted)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw_body: bytes
    authorized: bool = False
    status: int | None = None  # None while in flight or when the connection was dropped
    stream: bool = False
    usage: dict[str, Any] | None = None
    time: float = field(default_factory=time.monotonic)
    key_sha256: str | None = None  # the bearer key's hash: which key came, never the key
    in_flight: int = 0  # chat requests being served when this one arrived (itself included)
    client_closed: bool = False  # the client closed the connection before the answer ended
    ended: float | None = None  # when the server was done with it (answered, dropped, closed)

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path in CHAT_PATHS


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    message: str | None


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str | None = None,
        retry_after: float | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message or DEFAULT_MESSAGES.get(status, f"HTTP {status}"))
        self.status = status
        self.message = message or DEFAULT_MESSAGES.get(status, f"HTTP {status}")
        self.retry_after = retry_after
        self.extra = extra or {}  # more fields of the error object (llama.cpp's n_ctx ...)


# --------------------------------------------------------------------------- token accounting


def count_tokens(text: str) -> int:
    """Approximate, deterministic token count: ceil(len/4) (0 for the empty string)."""
    return math.ceil(len(text) / 4)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text", "")))
            else:
                parts.append(str(part))
        return "".join(parts)
    return json.dumps(content, sort_keys=True)


def prompt_text(messages: Iterable[dict[str, Any]]) -> str:
    """The serialized prompt: the concatenation of every message's role + content."""
    return "".join(str(m.get("role", "")) + _content_text(m.get("content")) for m in messages)


def cache_hit_tokens(prefix_chars: int, prompt_tokens: int) -> int:
    """Characters of a shared prefix → cached tokens, rounded down to a multiple of 64."""
    tokens = prefix_chars // 4
    tokens -= tokens % CACHE_BLOCK_TOKENS
    return max(0, min(tokens, prompt_tokens - prompt_tokens % CACHE_BLOCK_TOKENS))


# ------------------------------------------------------------------------------ JSON schemas

_SCHEMA = re.compile(r"validate against this JSON Schema:\s*(\{.*\})\s*$", re.S)


def requested_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema a structured request asks for (``LLM.astructured`` appends it to the
    system message or to the last message; a repair round adds messages after it): the one
    of the latest message that has one, or None."""
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict):
            continue
        match = _SCHEMA.search(_content_text(message.get("content")))
        if match:
            try:
                schema = json.loads(match.group(1))
            except ValueError:
                return None
            return schema if isinstance(schema, dict) else None
    return None


def _resolve_ref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(root.get("$defs", {}).get(ref.split("/")[-1], {}))
    return schema


def example_value(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """The smallest value that validates against a pydantic-generated JSON Schema."""
    root = root or schema
    schema = _resolve_ref(schema, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [_resolve_ref(s, root) for s in schema[key]]
            options.sort(key=lambda s: s.get("type") == "null")
            return example_value(options[0], root)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = schema.get("required", [])
        props = schema.get("properties", {})
        return {name: example_value(props[name], root) for name in required if name in props}
    if kind == "array":
        count = schema.get("minItems", 0)
        return [example_value(schema.get("items", {}), root) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "x" * max(1, int(schema.get("minLength", 1)))


# --------------------------------------------------------------------------------- the server


class DeepSeekServer:
    """A DeepSeek-protocol HTTP server on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        latency: float = 0.0,
        models: Iterable[str] = ("deepseek-flash",),
        valid_keys: Iterable[str] | None = None,
        port: int = 0,
        context_window: int | None = None,
        report_window: Iterable[str] = ("props", "models"),
    ) -> None:
        self.latency = float(latency)
        # like llama.cpp / vLLM: a chat request whose prompt + max_tokens exceed it is answered
        # HTTP 400 in llama.cpp's words; reported by /props and /v1/models (``report_window``)
        self.context_window = context_window
        self.report_window = frozenset(report_window)
        self.models = tuple(models)
        self.valid_keys = None if valid_keys is None else frozenset(valid_keys)
        self.responder: Callable[[dict[str, Any]], Reply | None] | None = None
        self.omit_usage = False  # no usage in any answer (as some local servers do)
        self.in_flight = 0  # chat requests being served now
        self.max_in_flight = 0  # the most at once since start (or reset_max_in_flight)
        self._port = port
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._failures: deque[_Failure] = deque()
        self._log: list[LoggedRequest] = []
        # prefix cache: per model, a trie of 256-character blocks (= 64 tokens) of the prompts
        self._prompts: dict[str, dict[str, Any]] = {}
        self._cached_blocks = 0
        self._httpd: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> DeepSeekServer:
        if self._httpd is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"server_obj": self})
        httpd = _HTTPServer(("127.0.0.1", self._port), handler)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DeepSeekServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("DeepSeekServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ scripting

    def enqueue(self, *replies: Reply | str) -> None:
        """Script replies (FIFO, one per chat request); a plain str means ``Reply(str)``."""
        with self._lock:
            for reply in replies:
                self._queue.append(Reply(reply) if isinstance(reply, str) else reply)

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` chat requests fail with ``status`` (before anything else)."""
        if status < 400:
            raise ValueError("fail_next needs an error status (>= 400)")
        with self._lock:
            for _ in range(times):
                self._failures.append(_Failure(status, retry_after, message))

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    @property
    def chat_requests(self) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self._log if r.is_chat]

    def reset_max_in_flight(self) -> None:
        """Start measuring :attr:`max_in_flight` again from the requests in flight now."""
        with self._lock:
            self.max_in_flight = self.in_flight

    def reset(self) -> None:
        """Clear the queue, pending failures, the request log and the prefix cache."""
        with self._lock:
            self.max_in_flight = self.in_flight
            self._queue.clear()
            self._failures.clear()
            self._log.clear()
            self._prompts.clear()
            self._cached_blocks = 0

    # ------------------------------------------------------------------ internals

    def _log_request(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log.append(entry)

    def _enter(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            entry.in_flight = self.in_flight

    def _leave(self, entry: LoggedRequest) -> None:
        """Once per chat request: before the answer's last bytes go out (a client may send
        its next request the moment it has them) or when it ends otherwise."""
        with self._lock:
            if entry.in_flight and entry.ended is None:
                self.in_flight -= 1
                entry.ended = time.monotonic()

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            reply = self._queue.popleft() if self._queue else None
        if reply is None and self.responder is not None:
            reply = self.responder(body)
        if reply is None:  # the default answer: "ok"; in JSON mode the smallest valid object
            reply = Reply(_default_json(body) if _json_mode(body) else "ok")
        return reply

    def _cache_lookup(self, model: str, prompt: str, prompt_tokens: int) -> int:
        """Longest prefix shared with an earlier prompt (same model) → hit tokens; remember it.

        Only whole 64-token blocks count, so the prompts are kept as a trie of 256-character
        blocks: a lookup is linear in the prompt, whatever the number of earlier prompts.
        """
        blocks = [
            prompt[i : i + CACHE_BLOCK_CHARS]
            for i in range(0, len(prompt) - CACHE_BLOCK_CHARS + 1, CACHE_BLOCK_CHARS)
        ]
        with self._lock:
            node = self._prompts.setdefault(model, {})
            shared = 0
            for block in blocks:
                child = node.get(block)
                if child is None:
                    break
                node, shared = child, shared + 1
            for block in blocks[shared:]:
                if self._cached_blocks >= CACHE_MAX_BLOCKS:
                    break
                node = node.setdefault(block, {})
                self._cached_blocks += 1
        return cache_hit_tokens(shared * CACHE_BLOCK_CHARS, prompt_tokens)

    def _check_auth(self, headers: _Headers) -> tuple[bool, _ApiError | None]:
        value = headers.get("authorization") or ""
        scheme, _, key = value.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return False, _ApiError(401)
        invalid = _ApiError(401, f"Authentication Fails, Your api key: ****{key[-4:]} is invalid")
        if self.valid_keys is not None:
            if key not in self.valid_keys:
                return False, invalid
        elif key.startswith("sk-bad"):
            return False, invalid
        if key.startswith("sk-broke"):
            return True, _ApiError(402)
        return True, None


class _ClientGone(Exception):
    """The client closed the connection while the server was still working on the answer."""


_HTTPServer = LoopbackHTTPServer


# --------------------------------------------------------------------------- request handling


def _thinking_enabled(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    if thinking is None:
        return True
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
        raise _ApiError(422, "thinking.type must be 'enabled' or 'disabled'")
    return thinking["type"] == "enabled"


def _validate(srv: DeepSeekServer, body: dict[str, Any]) -> bool:
    """Raise _ApiError for a request DeepSeek would reject; return whether thinking is on."""
    model = body.get("model")
    if model is None:
        raise _ApiError(422, "Failed to deserialize the JSON body: missing field `model`")
    if model in RETIRED_MODELS or model not in srv.models:
        raise _ApiError(400, "Model Not Exist")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _ApiError(422, "Failed to deserialize the JSON body: missing field `messages`")
    if not all(isinstance(m, dict) for m in messages):
        raise _ApiError(422, "Failed to deserialize the JSON body: invalid `messages`")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0
    ):
        raise _ApiError(
            422, "Invalid max_tokens value, the valid range of max_tokens is [1, 393216]"
        )
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in ("high", "max"):
        raise _ApiError(422, f"Invalid reasoning_effort {effort!r}: expected 'high' or 'max'")
    thinking = _thinking_enabled(body)
    if thinking and (body.get("logprobs") or body.get("top_logprobs") is not None):
        raise _ApiError(422, "logprobs is not supported in thinking mode")
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        if kind == "json_schema":
            raise _ApiError(400, "This response_format type is unavailable now")
        if kind not in (None, "text", "json_object"):
            raise _ApiError(422, f"Invalid response_format type {kind!r}")
        if kind == "json_object" and not any(
            "json" in _content_text(m.get("content")).lower() for m in messages
        ):
            raise _ApiError(
                400,
                "Prompt must contain the word 'json' in some form to use 'response_format' "
                "of type 'json_object'.",
            )
    tool_choice = body.get("tool_choice")
    if thinking and (
        tool_choice == "required"
        or (isinstance(tool_choice, dict) and ("function" in tool_choice or "name" in tool_choice))
    ):
        raise _ApiError(400, "Thinking mode does not support this tool_choice")
    return thinking


def _props(srv: DeepSeekServer) -> dict[str, Any]:
    """llama.cpp's ``GET /props`` (the fields a client reads)."""
    return {
        "default_generation_settings": {"n_ctx": srv.context_window, "n_predict": -1},
        "total_slots": 1,
        "model_path": f"/models/{srv.models[0]}.gguf",
        "chat_template": "",
    }


def _check_window(srv: DeepSeekServer, body: dict[str, Any]) -> None:
    """HTTP 400 in llama.cpp's words for a request longer than the context window."""
    window = srv.context_window
    if not window:
        return
    prompt = count_tokens(prompt_text(body["messages"]))
    max_tokens = body.get("max_tokens")
    needed = prompt + (max_tokens if isinstance(max_tokens, int) else 0)
    if needed > window:
        raise _ApiError(
            400,
            f"request ({needed} tokens) exceeds the available context size ({window} tokens), "
            "try increasing it",
            extra={"type": "exceed_context_size_error", "n_prompt_tokens": prompt, "n_ctx": window},
        )


def _json_mode(body: dict[str, Any]) -> bool:
    rf = body.get("response_format")
    return isinstance(rf, dict) and rf.get("type") == "json_object"


def _default_json(body: dict[str, Any]) -> str:
    """The smallest object that validates against the requested schema, or ``{}``."""
    schema = requested_schema(body)
    return json.dumps(example_value(schema)) if schema is not None else "{}"


def _invented_reasoning(body: dict[str, Any]) -> str:
    question = ""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            question = _content_text(message.get("content"))
            break
    question = " ".join(question.split())[:60]
    return f"The user asks: {question!r}. Let me think about it step by step before answering."


def _resolve(value: Content | None, body: dict[str, Any]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value(body))


class _Handler(BaseHTTPRequestHandler):
    server_obj: DeepSeekServer  # set on the bound subclass
    protocol_version = "HTTP/1.1"
    server_version = "DeepSeekTestServer/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        with self.server_obj._lock:
            self.server_obj._connections.add(self.connection)

    def finish(self) -> None:
        with self.server_obj._lock:
            self.server_obj._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # the client went away (reset, broken pipe, timeout)
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _headers_dict(self) -> _Headers:
        headers = _Headers()
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = "Bearer ***" if key == "authorization" else value
        return headers

    def _wait(self, seconds: float) -> None:
        """Sleep, watching the connection: a client that hangs up raises :class:`_ClientGone`."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                # poll, not select: a process with more than 1,024 open files is still served
                poller = select.poll()
                poller.register(self.connection, select.POLLIN)
                readable = poller.poll(min(left, 0.02) * 1000)
                gone = bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                gone = True
            if gone:
                raise _ClientGone

    def _send_json(
        self,
        status: int,
        payload: dict[str, Any],
        entry: LoggedRequest,
        retry_after: float | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", _fmt_seconds(retry_after))
        self.end_headers()
        entry.status = status  # before the last byte: a client may read the log right after
        self.server_obj._leave(entry)
        self.wfile.write(data)

    def _send_error(self, err: _ApiError, entry: LoggedRequest, extra_delay: float = 0.0) -> None:
        self._wait(self.server_obj.latency + extra_delay)
        payload = {
            "error": {
                "message": err.message,
                "type": ERROR_TYPES.get(err.status, "api_error"),
                "param": None,
                "code": "invalid_request_error" if err.status < 500 else "server_error",
                **err.extra,
            }
        }
        self._send_json(err.status, payload, entry, err.retry_after)

    def _drop(self, entry: LoggedRequest) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        entry.status = None

    # -- verbs

    def do_GET(self) -> None:
        srv = self.server_obj
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        headers = self._headers_dict()
        entry = LoggedRequest("GET", path, headers, None, b"")
        srv._log_request(entry)
        authorized, err = srv._check_auth(self._raw_headers())
        entry.authorized = authorized
        if path in PROPS_PATHS and srv.context_window and "props" in srv.report_window:
            self._wait(srv.latency)
            self._send_json(200, _props(srv), entry)  # llama.cpp answers without a key
            return
        if path not in MODELS_PATHS and path not in BALANCE_PATHS:
            self._send_error(_ApiError(404, f"Not Found: {path}"), entry)
            return
        if err is not None and not (err.status == 402 and path in BALANCE_PATHS):
            self._send_error(err, entry)
            return
        self._wait(srv.latency)
        if path in MODELS_PATHS:
            payload: dict[str, Any] = {
                "object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "deepseek"} for m in srv.models],
            }
            if srv.context_window and "models" in srv.report_window:  # vLLM's field
                for model in payload["data"]:
                    model["max_model_len"] = srv.context_window
        else:
            broke = err is not None
            total = "0.00" if broke else "10.00"
            payload = {
                "is_available": not broke,
                "balance_infos": [
                    {
                        "currency": "USD",
                        "total_balance": total,
                        "granted_balance": "0.00",
                        "topped_up_balance": total,
                    }
                ],
            }
        self._send_json(200, payload, entry)

    def _raw_headers(self) -> _Headers:
        headers = _Headers()
        for name, value in self.headers.items():
            headers[name.lower()] = value
        return headers

    def do_POST(self) -> None:
        srv = self.server_obj
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        raw = self._read_body()
        body: dict[str, Any] | None
        try:
            parsed = json.loads(raw) if raw else None
            body = parsed if isinstance(parsed, dict) else None
        except ValueError:
            parsed, body = None, None
        entry = LoggedRequest("POST", path, self._headers_dict(), body, raw)
        entry.key_sha256 = _key_hash(self.headers.get("Authorization"))
        entry.stream = bool(body and body.get("stream"))
        srv._log_request(entry)
        authorized, auth_err = srv._check_auth(self._raw_headers())
        entry.authorized = authorized
        if path not in CHAT_PATHS:
            self._send_error(_ApiError(404, f"Not Found: {path}"), entry)
            return
        srv._enter(entry)
        try:
            self._chat(srv, entry, body, auth_err)
        except (_ClientGone, OSError):
            entry.client_closed = True
            entry.status = None
            self.close_connection = True
        finally:
            srv._leave(entry)

    def _chat(
        self,
        srv: DeepSeekServer,
        entry: LoggedRequest,
        body: dict[str, Any] | None,
        auth_err: _ApiError | None,
    ) -> None:
        failure = srv._take_failure()
        if failure is not None:
            self._send_error(_ApiError(failure.status, failure.message, failure.retry_after), entry)
            return
        if auth_err is not None:
            self._send_error(auth_err, entry)
            return
        if body is None:
            self._send_error(
                _ApiError(400, "Failed to parse the request body as JSON: expected an object"),
                entry,
            )
            return
        try:
            thinking = _validate(srv, body)
            _check_window(srv, body)
        except _ApiError as err:
            self._send_error(err, entry)
            return
        try:
            reply = srv._next_reply(body)
            if reply.drop_connection:
                self._wait(srv.latency + reply.delay)
                self._drop(entry)
                return
            if reply.status != 200:
                scripted = _ApiError(reply.status, reply.error_message, reply.retry_after)
                self._send_error(scripted, entry, reply.delay)
                return
            if reply.raw_body is not None:
                self._wait(srv.latency + reply.delay)
                data = reply.raw_body.encode()
                self._start_response(reply.raw_content_type, reply, chunked=False)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                entry.status = 200
                self.wfile.write(data)
                return
            completion = _Completion.build(srv, body, reply, thinking)
        except (_ClientGone, OSError):
            raise
        except Exception as exc:  # a bug in a responder/callable: answer 500, keep serving
            traceback.print_exc(file=sys.stderr)
            self._send_error(_ApiError(500, f"test server error: {exc!r}"), entry)
            return
        entry.usage = completion.usage
        if entry.stream:
            self._stream(completion, reply, body, entry)
        else:
            self._non_stream(completion, reply, entry)

    # -- answers

    def _start_response(self, content_type: str, reply: Reply, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if content_type.startswith("text/event-stream"):
            self.send_header("Cache-Control", "no-cache")
        if reply.retry_after is not None:
            self.send_header("Retry-After", _fmt_seconds(reply.retry_after))

    def _write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _keepalive_wait(self, total: float, count: int, piece: bytes) -> None:
        step = total / (count + 1)
        for _ in range(count):
            self._wait(step)
            self._write_chunk(piece)
        self._wait(step)

    def _non_stream(self, c: _Completion, reply: Reply, entry: LoggedRequest) -> None:
        wait = self.server_obj.latency + reply.delay
        data = json.dumps(c.body()).encode()
        if reply.keepalives > 0:
            self._start_response("application/json", reply, chunked=True)
            self.end_headers()
            entry.status = 200
            self._keepalive_wait(wait, reply.keepalives, b"\n")
            self._write_chunk(data)
            self.wfile.write(b"0\r\n\r\n")
            return
        self._wait(wait)
        self._start_response("application/json", reply, chunked=False)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        entry.status = 200
        self.server_obj._leave(entry)
        self.wfile.write(data)

    def _stream(
        self, c: _Completion, reply: Reply, body: dict[str, Any], entry: LoggedRequest
    ) -> None:
        wait = self.server_obj.latency + reply.delay
        if reply.keepalives <= 0:
            self._wait(wait)
        self._start_response("text/event-stream; charset=utf-8", reply, chunked=True)
        self.end_headers()
        entry.status = 200
        if reply.keepalives > 0:
            self._keepalive_wait(wait, reply.keepalives, b": keep-alive\n\n")
        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
        out = bytearray()
        chunks = list(c.chunks(max(1, reply.chunk_size), include_usage, reply.omit_finish_reason))
        if reply.drop_mid_stream:
            for chunk in chunks[: max(1, len(chunks) // 2)]:
                self._write_chunk(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
            self._drop(entry)
            return
        for chunk in chunks:
            out += b"data: " + json.dumps(chunk).encode() + b"\n\n"
            if len(out) >= 4096:
                self._write_chunk(bytes(out))
                out.clear()
        if reply.omit_done:  # a complete HTTP body, but no [DONE]; then hang up
            self._write_chunk(bytes(out))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
            return
        out += b"data: [DONE]\n\n"
        self._write_chunk(bytes(out))
        self.server_obj._leave(entry)
        self.wfile.write(b"0\r\n\r\n")


def _fmt_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass
class _Completion:
    model: str
    content: str
    reasoning: str | None
    finish_reason: str
    usage: dict[str, Any] | None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: int = field(default_factory=lambda: int(time.time()))

    @classmethod
    def build(
        cls, srv: DeepSeekServer, body: dict[str, Any], reply: Reply, thinking: bool
    ) -> _Completion:
        content = _resolve(reply.content, body) or ""
        reasoning: str | None = None
        if thinking:
            reasoning = _resolve(reply.reasoning, body)
            if reasoning is None:
                reasoning = _invented_reasoning(body)
        finish_reason = reply.finish_reason
        max_tokens = body.get("max_tokens")
        r_tok = count_tokens(reasoning or "")
        if isinstance(max_tokens, int) and r_tok + count_tokens(content) > max_tokens:
            if reasoning is not None and r_tok >= max_tokens:
                reasoning, content = reasoning[: max_tokens * 4], ""
            else:
                content = content[: (max_tokens - r_tok) * 4]
            if finish_reason == "stop":
                finish_reason = "length"
        prompt = prompt_text(body["messages"])
        prompt_tokens = count_tokens(prompt)
        hit = srv._cache_lookup(str(body["model"]), prompt, prompt_tokens)
        reasoning_tokens = count_tokens(reasoning or "")
        completion_tokens = reasoning_tokens + count_tokens(content)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_cache_hit_tokens": hit,
            "prompt_cache_miss_tokens": prompt_tokens - hit,
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
        }
        if reply.usage:
            usage.update(reply.usage)
            if "total_tokens" not in reply.usage:
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        omit = reply.omit_usage or srv.omit_usage
        return cls(str(body["model"]), content, reasoning, finish_reason, None if omit else usage)

    def _envelope(self, obj: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }

    def body(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning is not None:
            message["reasoning_content"] = self.reasoning
        usage = {} if self.usage is None else {"usage": self.usage}
        return {
            **self._envelope("chat.completion"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            **usage,
        }

    def chunks(
        self, size: int, include_usage: bool, omit_finish: bool = False
    ) -> Iterable[dict[str, Any]]:
        thinking = self.reasoning is not None
        last = None if omit_finish else self.finish_reason

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                **self._envelope("chat.completion.chunk"),
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }

        if thinking:
            yield chunk({"role": "assistant", "content": None, "reasoning_content": ""})
            text = self.reasoning or ""
            for i in range(0, len(text), size):
                yield chunk({"content": None, "reasoning_content": text[i : i + size]})
            for i in range(0, len(self.content), size):
                yield chunk({"content": self.content[i : i + size], "reasoning_content": None})
            yield chunk({"content": "", "reasoning_content": None}, last)
        else:
            yield chunk({"role": "assistant", "content": ""})
            for i in range(0, len(self.content), size):
                yield chunk({"content": self.content[i : i + size]})
            yield chunk({"content": ""}, last)
        if include_usage and self.usage is not None:
            yield {**self._envelope("chat.completion.chunk"), "choices": [], "usage": self.usage}


# ------------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake DeepSeek API server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (0 = pick a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--model", action="append", dest="models", help="served model (repeatable)")
    parser.add_argument(
        "--valid-key", action="append", dest="valid_keys", help="accepted API key (repeatable)"
    )
    parser.add_argument(
        "--context-window", type=int, default=None, help="tokens (llama.cpp-like 400 beyond)"
    )
    args = parser.parse_args(argv)
    srv = DeepSeekServer(
        latency=args.latency,
        models=tuple(args.models or ("deepseek-flash",)),
        valid_keys=args.valid_keys,
        port=args.port,
        context_window=args.context_window,
    ).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(srv.url, flush=True)
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
