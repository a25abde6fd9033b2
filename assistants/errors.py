"""The one exception tree of ``assistants``.

Every expected failure raised by the library is an :class:`AssistantsError`. The CLI turns
each one into a single line on stderr (``error: <message>``, then ``hint: <hint>`` when there is
one) and exits with the class's ``exit_code``; nothing else in the code base formats errors.

::

    AssistantsError                 exit 1   base class
    ├── ConfigError                 exit 3   settings, profiles, price file, prompt templates
    │   └── MissingAPIKeyError      exit 3   no DEEPSEEK_API_KEY for an endpoint that needs one
    ├── InputError                  exit 4   a file we cannot use: corrupt PDF, binary, not found
    │   └── DownloadError           exit 4   a paper by identifier or URL could not be downloaded
    ├── APIError                    exit 5   the endpoint refused or failed (after retries)
    │   ├── AuthenticationError     exit 5   401, bad key
    │   ├── InsufficientBalanceError exit 5  402, account has no balance left
    │   ├── BadRequestError         exit 5   400 / 422, a request the endpoint will not take
    │   │   └── ContextWindowError  exit 5   the request does not fit the model's context window
    │   ├── RateLimitError          exit 5   429 after every retry
    │   ├── ServerError             exit 5   500 / 503 after every retry
    │   ├── APITimeoutError         exit 5   no answer within the time limit after every retry
    │   ├── APIConnectionError      exit 5   endpoint unreachable (refused: after one retry)
    │   ├── IncompleteStreamError   exit 5   a stream ended without [DONE] or a finish_reason
    │   └── GitHubError             exit 5   the GitHub API refused or failed (after retries)
    │       └── GitHubRateLimitError exit 5  GitHub's rate limit, not reset within the wait
    ├── ResponseError               exit 6   the endpoint answered, but the answer is unusable
    │   ├── TruncatedResponseError  exit 6   finish_reason=length
    │   ├── EmptyResponseError      exit 6   no content
    │   ├── ContentFilteredError    exit 6   finish_reason=content_filter
    │   └── StructuredOutputError   exit 6   JSON that failed validation after the repair round
    └── PartialFailureError         exit 7   some units of a batch failed, the rest succeeded

Other exit codes used by the CLI: 0 success; 1 a gate tripped (``review --fail-on``);
2 bad command-line usage (click); 130 interrupted.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AssistantsError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ContentFilteredError",
    "ContextWindowError",
    "DownloadError",
    "EmptyResponseError",
    "GitHubError",
    "GitHubRateLimitError",
    "IncompleteStreamError",
    "InputError",
    "InsufficientBalanceError",
    "MissingAPIKeyError",
    "PartialFailureError",
    "RateLimitError",
    "ResponseError",
    "ServerError",
    "StructuredOutputError",
    "TruncatedResponseError",
]

EXIT_OK = 0
EXIT_GATE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class AssistantsError(Exception):
    """Base class. ``message`` is one line; ``hint`` says what to do about it."""

    exit_code = 1
    default_hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message


class ConfigError(AssistantsError):
    exit_code = 3


class MissingAPIKeyError(ConfigError):
    default_hint = (
        "set DEEPSEEK_API_KEY (export it, or put DEEPSEEK_API_KEY=sk-... in a .env file); "
        "or point ASSISTANTS_BASE_URL at a local OpenAI-compatible server "
        "(e.g. http://127.0.0.1:11434/v1 for Ollama); --dry-run works without a key"
    )


class InputError(AssistantsError):
    exit_code = 4


class DownloadError(InputError):
    """A paper named by an identifier or URL could not be fetched (offline, 404, not a PDF,
    too large, too slow). The message names the URL; ``url`` holds it."""

    def __init__(self, message: str, *, url: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


class APIError(AssistantsError):
    """The endpoint refused the request or failed. ``status`` is the HTTP status if any."""

    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.attempts = attempts


class AuthenticationError(APIError):
    default_hint = "check DEEPSEEK_API_KEY (run `assistants config` to see which key is used)"


class InsufficientBalanceError(APIError):
    default_hint = "top up the account balance on the DeepSeek platform, then run again"


class BadRequestError(APIError):
    default_hint = "the request was rejected as malformed; check model name and options"


class ContextWindowError(BadRequestError):
    """The request does not fit the model's context window: the server said so (HTTP 400
    "maximum context length is N tokens" and its variants), or it was seen before sending.
    ``window`` is the window in tokens when known."""

    default_hint = (
        "lower the request's size (review.request_token_budget, paper.token_budget) or "
        "max_tokens, or set profiles.<profile>.context_window to the server's context size"
    )

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        attempts: int = 1,
        window: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint, status=status, attempts=attempts)
        self.window = window


class RateLimitError(APIError):
    default_hint = "lower --concurrency or wait a minute; retries were exhausted"


class ServerError(APIError):
    default_hint = "the API is failing or overloaded; try again later"


class APITimeoutError(APIError):
    default_hint = "raise ASSISTANTS_TIMEOUT, or try again when the API is less busy"


class APIConnectionError(APIError):
    default_hint = "check the network and ASSISTANTS_BASE_URL"


class IncompleteStreamError(APIError):
    """A stream that ended early: no ``[DONE]``, or no chunk with a ``finish_reason`` (a local
    server such as llama.cpp ends a running stream when another request arrives)."""

    default_hint = (
        "the server ended the reply early; try again (a local server that serves one request "
        "at a time needs --concurrency 1 / ASSISTANTS_CONCURRENCY=1)"
    )


class GitHubError(APIError):
    """The GitHub REST API refused a request or failed after its retries (pull-request
    reviews). ``status`` is the HTTP status if any; the hint says what to check for it."""

    _HINTS = {  # noqa: RUF012
        401: "check GITHUB_TOKEN (it is missing, expired or revoked)",
        403: "the token may not write to the pull request: give the workflow "
        "`permissions: pull-requests: write` (a pull request from a fork gets a read-only "
        "token)",
        404: "check the repository and pull-request number (--github-repo, --github-pr) and "
        "that GITHUB_TOKEN can see the repository",
        422: "GitHub rejected the request as invalid",
    }

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        attempts: int = 1,
    ) -> None:
        if hint is None and status is not None and self.default_hint is None:
            hint = self._HINTS.get(
                status, "GitHub is failing; try again later" if status >= 500 else None
            )
        super().__init__(message, hint=hint, status=status, attempts=attempts)


class GitHubRateLimitError(GitHubError):
    default_hint = "wait for GitHub's rate limit to reset, then run again"


class ResponseError(AssistantsError):
    """The endpoint answered but the answer cannot be used. ``raw`` keeps what it said."""

    exit_code = 6

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        raw: str | None = None,
        reasoning: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.raw = raw
        self.reasoning = reasoning
        self.details = details


class TruncatedResponseError(ResponseError):
    default_hint = "the reply hit max_tokens; raise the profile's max_tokens"


class EmptyResponseError(ResponseError):
    default_hint = "the model returned no content; try again"


class ContentFilteredError(ResponseError):
    default_hint = "the reply was withheld by the provider's content filter"


class StructuredOutputError(ResponseError):
    default_hint = "the model's JSON did not validate even after a repair round; try again"


class PartialFailureError(AssistantsError):
    """Some units failed. ``result`` is the partial result, ``failures`` maps unit → reason."""

    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        result: Any = None,
        failures: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.result = result
        self.failures = failures or {}
