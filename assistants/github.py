"""The GitHub REST API, as much as the pull-request review needs: one client object.

:class:`GitHubClient` sends every request to one API base URL (``GITHUB_API_URL``, which
Actions sets; default ``https://api.github.com``) with the token from ``GITHUB_TOKEN``. The
token is a secret like the API key: it is sent only to that URL (pagination links that point
elsewhere are refused, redirects are not followed), and never printed or logged; plain
``http://`` is accepted only for a loopback address. Retries: a rate limit (429, or 403 with
``x-ratelimit-remaining: 0`` or ``retry-after``) waits as GitHub says when that is within
``max_wait``, else fails at once naming when the limit resets; a 5xx or a dropped connection is
retried with exponential backoff for requests that are safe to repeat (a ``POST`` is repeated
only after a rate-limit refusal, which GitHub sends before doing anything). Bounded: at most
``attempts`` tries. Failures are :class:`~assistants.errors.GitHubError` (one line, a hint by
status).

:func:`pull_request_from_env` finds the pull request: ``--github-repo`` / ``--github-pr``, else
``GITHUB_REPOSITORY`` and the ``pull_request`` event payload at ``GITHUB_EVENT_PATH``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import ConfigError, GitHubError, GitHubRateLimitError, InputError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_API_URL",
    "GitHubClient",
    "PullRequest",
    "api_url",
    "pull_request_from_env",
]

log = logging.getLogger("assistants")

DEFAULT_API_URL = "https://api.github.com"
_SAFE_METHODS = frozenset({"GET", "PATCH", "PUT", "DELETE"})  # repeating them does no harm
_API_VERSION = "2022-11-28"


def api_url(value: str | None = None) -> str:
    """The API base URL (``value``, else ``GITHUB_API_URL``, else api.github.com), checked:
    https, or http only to a loopback address (a test server), so the token never crosses a
    network in clear text."""
    url = (value or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return url
    raise ConfigError(
        f"GITHUB_API_URL {url!r} is not an https URL",
        hint="use https://api.github.com or your GitHub Enterprise https://HOST/api/v3",
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class GitHubClient:
    """A GitHub REST client on :mod:`httpx` (see the module docstring for what it promises).

    ``token`` defaults to ``GITHUB_TOKEN``; ``base_url`` to :func:`api_url`; ``backoff`` is the
    first retry wait in seconds (doubled each retry), ``max_wait`` the longest wait it accepts,
    ``attempts`` the most tries per request. ``transport`` is an httpx transport for tests."""

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        attempts: int = 4,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        from ._version import __version__

        token = token if token is not None else os.environ.get("GITHUB_TOKEN", "")
        if not token.strip():
            raise ConfigError(
                "GITHUB_TOKEN is not set",
                hint="in a workflow pass `GITHUB_TOKEN: ${{ github.token }}` in env; locally "
                "export a token that may write to the pull request",
            )
        self.base_url = api_url(base_url)
        self.backoff = backoff
        self.max_wait = max_wait
        self.attempts = max(1, attempts)
        self._sleep = sleep
        self._origin = _origin(self.base_url)
        self._http = httpx.Client(
            headers={
                "Authorization": f"Bearer {token.strip()}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": _API_VERSION,
                "User-Agent": f"assistants/{__version__}",
            },
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:  # never the token
        return f"GitHubClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, json_body: Any = None, **params: Any) -> Any:
        """``method path`` (relative to the API URL, or a full URL on it); the decoded JSON
        answer (None for an empty one)."""
        response = self._send(method, self._url(path), json_body, params or None)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def paginate(self, path: str, **params: Any) -> Iterator[Any]:
        """Every item of a list endpoint, page by page (``per_page=100``), following the
        ``Link: rel="next"`` header while it stays on the API URL."""
        url: str | None = self._url(path)
        query: dict[str, Any] | None = {"per_page": 100, **params}
        while url is not None:
            response = self._send("GET", url, None, query)
            page = response.json()
            if not isinstance(page, list):
                raise GitHubError(f"GET {_show(url)}: expected a list, got {type(page).__name__}")
            yield from page
            following = response.links.get("next", {}).get("url")
            url, query = (self._url(following), None) if following else (None, None)

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            if _origin(path) != self._origin or not path.startswith(self.base_url + "/"):
                raise GitHubError(
                    f"GitHub answered with a link outside {self.base_url}; not followed",
                    hint="check GITHUB_API_URL",
                )
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _send(
        self, method: str, url: str, body: Any, params: dict[str, Any] | None
    ) -> httpx.Response:
        import httpx

        where = f"{method} {_show(url)}"
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self._http.request(method, url, json=body, params=params)
            except httpx.TimeoutException:
                if last or method not in _SAFE_METHODS:
                    raise GitHubError(f"{where}: no answer in time", attempts=attempt) from None
                self._sleep(self._delay(attempt))
                continue
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                if last or (sent and method not in _SAFE_METHODS):
                    raise GitHubError(
                        f"{where}: cannot reach GitHub ({type(exc).__name__})",
                        hint="check the network and GITHUB_API_URL",
                        attempts=attempt,
                    ) from None
                self._sleep(self._delay(attempt))
                continue
            status = response.status_code
            if status < 300:
                return response
            limited = _rate_limited(response)
            if limited is not None:
                wait = max(limited, self._delay(attempt))
                if last or limited > self.max_wait:
                    raise GitHubRateLimitError(
                        f"{where}: GitHub rate limit{_reset_note(response)}",
                        status=status,
                        attempts=attempt,
                    )
                self._sleep(min(wait, self.max_wait))
                continue
            if status >= 500 and not last and method in _SAFE_METHODS:
                self._sleep(self._delay(attempt))
                continue
            raise GitHubError(
                f"{where}: HTTP {status} {_message(response)}".rstrip(),
                status=status,
                attempts=attempt,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.max_wait)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _show(url: str) -> str:
    """The path of ``url`` for messages (no query string)."""
    return urlsplit(url).path or "/"


def _rate_limited(response: httpx.Response) -> float | None:
    """Seconds to wait when ``response`` is a rate-limit refusal, else None."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    after = headers.get("retry-after")
    if after is not None:
        try:
            return max(float(after), 0.0)
        except ValueError:
            return 60.0
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset")
        try:
            return max(float(reset or 0) - time.time(), 0.0) if reset else 60.0
        except ValueError:
            return 60.0
    return 60.0 if response.status_code == 429 else None


def _reset_note(response: httpx.Response) -> str:
    reset = response.headers.get("x-ratelimit-reset")
    try:
        when = datetime.fromtimestamp(float(reset or ""), tz=timezone.utc)
    except ValueError:
        return ""
    return f" (resets at {when:%H:%M} UTC)"


def _message(response: httpx.Response) -> str:
    """GitHub's own one-line reason: ``message`` and the first of ``errors``."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(data, dict):
        return response.reason_phrase
    text = str(data.get("message") or response.reason_phrase)
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        detail = first.get("message") or first.get("code") if isinstance(first, dict) else first
        if detail:
            text = f"{text}: {detail}"
    return " ".join(text.split())[:300]


# -- which pull request -------------------------------------------------------------------------
@dataclass(frozen=True)
class PullRequest:
    """A pull request: where it is, and (when known) its head and base."""

    owner: str
    repo: str
    number: int
    head_sha: str | None = None
    base_sha: str | None = None
    base_ref: str | None = None

    @property
    def path(self) -> str:
        """``repos/OWNER/REPO/pulls/N``: the API path of the pull request."""
        return f"repos/{self.owner}/{self.repo}/pulls/{self.number}"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


def pull_request_from_env(repo: str | None = None, number: int | None = None) -> PullRequest:
    """The pull request to post to: ``repo`` (``OWNER/NAME``) and ``number`` when given, else
    ``GITHUB_REPOSITORY`` and the ``pull_request`` event payload at ``GITHUB_EVENT_PATH``
    (which also gives the head and base commits)."""
    event = _event()
    pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    full = repo or os.environ.get("GITHUB_REPOSITORY") or _dig(event, "repository", "full_name")
    if not full or full.count("/") != 1 or not all(full.split("/")):
        raise ConfigError(
            f"no repository to post to ({full!r})" if full else "no repository to post to",
            hint="pass --github-repo OWNER/NAME, or run in GitHub Actions (GITHUB_REPOSITORY)",
        )
    owner, name = full.split("/")
    same = pr is not None and (
        repo is None or _dig(pr, "base", "repo", "full_name") in (None, full)
    )
    found = pr.get("number") if pr is not None else None
    if number is None:
        if not isinstance(found, int):
            raise ConfigError(
                "no pull request to post to",
                hint="pass --github-pr N, or run on a `pull_request` event (GITHUB_EVENT_PATH)",
            )
        number = found
    same = same and found == number
    if not same or pr is None:
        return PullRequest(owner, name, number)
    return PullRequest(
        owner,
        name,
        number,
        head_sha=_dig(pr, "head", "sha"),
        base_sha=_dig(pr, "base", "sha"),
        base_ref=_dig(pr, "base", "ref"),
    )


def _event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"GITHUB_EVENT_PATH {path}: cannot read it ({exc.strerror})") from None
    except ValueError:
        raise InputError(f"GITHUB_EVENT_PATH {path}: not a JSON event payload") from None
    return data if isinstance(data, dict) else {}


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
