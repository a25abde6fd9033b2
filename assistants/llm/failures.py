"""What went wrong, in :mod:`assistants.errors` terms.

Maps what the openai SDK, LangChain and the HTTP layer raise to the one exception tree
(:func:`map_exception`, with the Retry-After the API asked for), reads the API's own message out
of an error body, recognises an HTTP 200 whose body is not a chat completion, and turns a
reply that cannot be used (cut off, filtered, empty) into its error (:func:`check_reply`).
Which failures are worth a retry is decided here too (:data:`RETRYABLE`,
:data:`RETRYABLE_FINISH`); the retry loop itself is :class:`~assistants.llm.LLM`'s.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from socket import gaierror
from typing import Any

from .. import errors
from .reply import Reply

__all__ = [
    "RETRYABLE",
    "RETRYABLE_FINISH",
    "check_reply",
    "map_exception",
    "overload",
    "retry_line",
    "retry_reason",
    "reworded",
    "scrub_key",
    "unreachable",
    "what_broke",
]

RETRYABLE = (
    errors.RateLimitError,
    errors.ServerError,
    errors.APITimeoutError,
    errors.APIConnectionError,
    errors.IncompleteStreamError,
)
RETRYABLE_FINISH = {"insufficient_system_resource"}

# What the SDK and LangChain raise for a 200 answer whose body is not a completion.
_MALFORMED = ("Unexpected response type", "No generation chunks were returned")


def _api_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", "") or exc).splitlines()[0]


def _overflow(
    exc: Any, message: str, status: int, attempts: int
) -> errors.ContextWindowError | None:
    """A request too long for the context window, in the server's words (see :mod:`.window`)."""
    from .window import context_overflow

    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    return context_overflow(message, inner, status=status, attempts=attempts)


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


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


def what_broke(error: errors.AssistantsError) -> str:
    """How a broken stream is described to the user."""
    if isinstance(error, errors.APIConnectionError):
        return "the connection was lost"
    if isinstance(error, errors.APITimeoutError):
        return "nothing more arrived within the time limit"
    if isinstance(error, errors.IncompleteStreamError):
        return "the server ended the stream before the reply was complete"
    return error.message


def retry_reason(error: errors.AssistantsError) -> str:
    """A retry's cause in a few words: ``HTTP 503``, ``a timeout``, ``connection refused``."""
    if isinstance(error, errors.APIError) and error.status is not None:
        return f"HTTP {error.status}"
    if isinstance(error, errors.APITimeoutError):
        return "a timeout"
    if isinstance(error, errors.APIConnectionError):
        return "connection refused" if "refused" in error.message else "connection error"
    if isinstance(error, errors.IncompleteStreamError):
        return "an incomplete stream"
    return error.message


def retry_line(wait: float, attempt: int, tries: int, reason: str) -> str:
    """The one line announcing a retry: ``retrying in 4 s (2/5): HTTP 503``."""
    seconds = f"{wait:.0f}" if wait >= 2 else f"{wait:.2f}".rstrip("0").rstrip(".")
    return f"retrying in {seconds} s ({attempt}/{tries}): {reason}"


def overload(error: errors.AssistantsError) -> bool:
    """Does ``error`` say the endpoint has too much to do: a 429, a timeout, or a stream cut
    off (llama.cpp's server ends a running stream when another request arrives)?"""
    return isinstance(
        error, (errors.RateLimitError, errors.APITimeoutError, errors.IncompleteStreamError)
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes: LangChain's error → the SDK's → httpx's → the OSError."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 10:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def unreachable(exc: BaseException) -> bool:
    """No connection could be made at all (refused, unknown host): one retry is enough."""
    return any(
        type(e).__name__ == "ConnectError" or isinstance(e, (ConnectionRefusedError, gaierror))
        for e in _chain(exc)
    )


def _refused(exc: BaseException) -> bool:
    return any(isinstance(e, ConnectionRefusedError) for e in _chain(exc))


def _url(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return f" at {url}" if url is not None else ""


def reworded(error: errors.AssistantsError, message: str, *, hint: str) -> errors.AssistantsError:
    """``error`` with another message and hint (same class, status and attempts)."""
    if isinstance(error, errors.APIError):
        return type(error)(message, hint=hint, status=error.status, attempts=error.attempts)
    return type(error)(message, hint=hint)


def scrub_key(error: errors.AssistantsError, key: str) -> errors.AssistantsError:
    """Never repeat the key, even when the endpoint echoes it in an error message."""
    if len(key) >= 8 and key in error.message:
        error.message = error.message.replace(key, "***")
        error.args = (error.message,)
    return error


def map_exception(
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
        cause: object = exc.__cause__ or exc
        if _refused(exc):
            cause = "connection refused"
        return errors.APIConnectionError(
            f"cannot reach the API{_url(exc)} (after {n} attempt(s)): {cause}", attempts=n
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
    if status in (400, 413, 422) and (overflow := _overflow(exc, message, status, n)):
        return overflow, None
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


def check_reply(reply: Reply, *, allow_truncated: bool, allow_empty: bool) -> None:
    """Raise the error of a reply that cannot be used: filtered (always), cut off at
    max_tokens, no resources left on the API's side, or empty (unless allowed)."""
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
