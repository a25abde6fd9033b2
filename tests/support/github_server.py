"""A fake of the GitHub REST API (pull-request reviews) for tests: real HTTP on 127.0.0.1.

Stdlib only, thread-per-connection. It keeps pull requests, their review comments and reviews,
answers like GitHub (status codes, JSON shapes, ``Link`` pagination with absolute URLs, 401
without the token, 403 for editing somebody else's comment, 404 for unknown ids, 422 for a
review comment on a line that is not part of the diff) and records every request.

Python::

    from github_server import GitHubServer, TOKEN

    with GitHubServer() as gh:
        pr = gh.add_pull("octo/app", 7, head_sha="abc...", diff={"app.py": {4, 5, 6}})
        gh.fail_next(403, headers={"x-ratelimit-remaining": "0", "retry-after": "0"})
        gh.fail_next(502, method="GET")          # the next GET fails
        gh.add_comment("octo/app", 7, body="thanks", user="alice", in_reply_to_id=1)
        ...
        gh.requests[-1].method, gh.requests[-1].path, gh.requests[-1].body
        gh.comments("octo/app", 7)                # the comments as GitHub would list them
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from loopback import LoopbackHTTPServer

__all__ = ["BOT", "TOKEN", "GitHubServer", "LoggedRequest"]

TOKEN = "ghs_test_token_0123456789"
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class _Fault:
    status: int
    method: str | None
    path: str | None
    headers: dict[str, str]
    message: str


@dataclass
class _Pull:
    full_name: str
    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    body: str = ""
    diff: dict[str, set[int]] | None = None  # path → right-side lines that take comments
    comments: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)


class GitHubServer:
    """The server; ``start()`` / ``stop()`` or a ``with`` block. ``whoami``: the user ``GET
    /user`` answers with, or None for 403 as for an Actions token (our comments are then by
    :data:`BOT` either way)."""

    def __init__(self, *, token: str = TOKEN, whoami: dict[str, Any] | None = None) -> None:
        self.token = token
        self.whoami = whoami
        self.author = dict(whoami or BOT)
        self.requests: list[LoggedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._pulls: dict[tuple[str, int], _Pull] = {}
        self._ids = 1000
        self._lock = threading.Lock()
        self._httpd: LoopbackHTTPServer | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> GitHubServer:
        self._httpd = LoopbackHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> GitHubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- state ---------------------------------------------------------------------------------
    def add_pull(
        self,
        full_name: str,
        number: int,
        *,
        head_sha: str = "0" * 40,
        base_sha: str = "1" * 40,
        base_ref: str = "main",
        body: str = "",
        diff: dict[str, set[int]] | None = None,
    ) -> _Pull:
        pull = _Pull(full_name, number, head_sha, base_sha, base_ref, body, diff)
        self._pulls[(full_name, number)] = pull
        return pull

    def pull(self, full_name: str, number: int) -> _Pull:
        return self._pulls[(full_name, number)]

    def comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        return list(self._pulls[(full_name, number)].comments)

    def reviews(self, full_name: str, number: int) -> list[dict[str, Any]]:
        return list(self._pulls[(full_name, number)].reviews)

    def add_comment(
        self,
        full_name: str,
        number: int,
        *,
        body: str,
        user: str = "alice",
        path: str = "app.py",
        line: int | None = 1,
        in_reply_to_id: int | None = None,
    ) -> dict[str, Any]:
        """A comment somebody else (``user``, a person) wrote."""
        with self._lock:
            return self._new_comment(
                self._pulls[(full_name, number)],
                {"body": body, "path": path, "line": line, "side": "RIGHT"},
                user={"login": user, "id": 7, "type": "User"},
                review_id=None,
                in_reply_to_id=in_reply_to_id,
            )

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        message: str = "",
    ) -> None:
        """The next ``times`` requests (of ``method``, whose path contains ``path``) fail."""
        for _ in range(times):
            self._faults.append(
                _Fault(status, method, path, dict(headers or {}), message or f"fault {status}")
            )

    def sent(self, method: str, pattern: str = "") -> list[LoggedRequest]:
        """The recorded requests of ``method`` whose path matches ``pattern`` (a regex)."""
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # -- answering -----------------------------------------------------------------------------
    def _fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in list(self._faults):
                if (fault.method in (None, method)) and (fault.path is None or fault.path in path):
                    self._faults.remove(fault)
                    return fault
        return None

    def _new_comment(
        self,
        pull: _Pull,
        data: dict[str, Any],
        *,
        user: dict[str, Any],
        review_id: int | None,
        commit_id: str | None = None,
        in_reply_to_id: int | None = None,
    ) -> dict[str, Any]:
        self._ids += 1
        comment = {
            "id": self._ids,
            "pull_request_review_id": review_id,
            "path": data["path"],
            "line": data.get("line"),
            "original_line": data.get("line"),
            "start_line": data.get("start_line"),
            "side": data.get("side", "RIGHT"),
            "commit_id": commit_id or pull.head_sha,
            "body": data["body"],
            "user": user,
            "html_url": f"https://github.test/{pull.full_name}/pull/{pull.number}"
            f"#discussion_r{self._ids}",
        }
        if in_reply_to_id is not None:
            comment["in_reply_to_id"] = in_reply_to_id
        pull.comments.append(comment)
        return comment

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: Any) -> Any:
        """(status, JSON answer or None, extra headers)."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        self.requests.append(LoggedRequest(method, path, query, headers, body))
        fault = self._fault(method, path)
        if fault is not None:
            return fault.status, {"message": fault.message}, fault.headers
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}, {}
        if path == "/user" and method == "GET":
            if self.whoami is None:
                return 403, {"message": "Resource not accessible by integration"}, {}
            return 200, self.whoami, {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls/(\d+)(/comments|/reviews)?", path)
        if m:
            pull = self._pulls.get((m.group(1), int(m.group(2))))
            if pull is None:
                return 404, {"message": "Not Found"}, {}
            return self._on_pull(pull, method, m.group(3), query, body)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls/comments/(\d+)", path)
        if m:
            return self._on_comment(m.group(1), int(m.group(2)), method, body)
        return 404, {"message": "Not Found"}, {}

    def _on_pull(
        self, pull: _Pull, method: str, sub: str | None, query: dict[str, list[str]], body: Any
    ) -> Any:
        if sub is None and method == "GET":
            return 200, self._pull_json(pull), {}
        if sub is None and method == "PATCH":
            if isinstance(body, dict) and "body" in body:
                pull.body = body["body"]
            return 200, self._pull_json(pull), {}
        if method == "GET" and sub in ("/comments", "/reviews"):
            items = pull.comments if sub == "/comments" else pull.reviews
            return self._page(items, query, f"/repos/{pull.full_name}/pulls/{pull.number}{sub}")
        if method == "POST" and sub == "/reviews":
            return self._post_review(pull, body)
        return 404, {"message": "Not Found"}, {}

    def _pull_json(self, pull: _Pull) -> dict[str, Any]:
        owner = pull.full_name.split("/")[0]
        return {
            "number": pull.number,
            "body": pull.body,
            "head": {"sha": pull.head_sha, "ref": "feature", "repo": {"full_name": pull.full_name}},
            "base": {
                "sha": pull.base_sha,
                "ref": pull.base_ref,
                "repo": {"full_name": pull.full_name},
            },
            "user": {"login": owner},
        }

    def _page(self, items: list[dict[str, Any]], query: dict[str, list[str]], path: str) -> Any:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        for rel, number in (("next", page + 1), ("last", last)):
            if page < last:
                query_text = urlencode({"per_page": per_page, "page": number})
                links.append(f'<{self.url}{path}?{query_text}>; rel="{rel}"')
        return 200, chunk, {"Link": ", ".join(links)} if links else {}

    def _post_review(self, pull: _Pull, body: Any) -> Any:
        if not isinstance(body, dict):
            return 400, {"message": "Problems parsing JSON"}, {}
        event = body.get("event")
        if event not in ("COMMENT", "APPROVE", "REQUEST_CHANGES", None):
            return 422, {"message": "Unprocessable Entity", "errors": ["bad event"]}, {}
        comments = body.get("comments") or []
        if event == "COMMENT" and not (body.get("body") or "").strip():
            return 422, {"message": "Unprocessable Entity", "errors": ["Body is required"]}, {}
        for c in comments:
            if not {"path", "body", "line"} <= set(c):
                return (
                    422,
                    {
                        "message": "Unprocessable Entity",
                        "errors": ["path, body and line are required"],
                    },
                    {},
                )
            if c.get("start_line") is not None and c["start_line"] >= c["line"]:
                return (
                    422,
                    {"message": "Unprocessable Entity", "errors": ["start_line must precede line"]},
                    {},
                )
            lines = None if pull.diff is None else pull.diff.get(c["path"], set())
            wanted = range(c.get("start_line") or c["line"], c["line"] + 1)
            if lines is not None and not all(n in lines for n in wanted):
                return (
                    422,
                    {
                        "message": "Unprocessable Entity",
                        "errors": ["Line could not be resolved"],
                    },
                    {},
                )
        with self._lock:
            self._ids += 1
            review = {
                "id": self._ids,
                "user": self.author,
                "body": body.get("body") or "",
                "state": "COMMENTED",
                "commit_id": body.get("commit_id") or pull.head_sha,
                "html_url": f"https://github.test/{pull.full_name}/pull/{pull.number}"
                f"#pullrequestreview-{self._ids}",
            }
            pull.reviews.append(review)
            for c in comments:
                self._new_comment(
                    pull, c, user=self.author, review_id=review["id"], commit_id=review["commit_id"]
                )
        return 200, review, {}

    def _on_comment(self, full_name: str, comment_id: int, method: str, body: Any) -> Any:
        for pull in self._pulls.values():
            if pull.full_name != full_name:
                continue
            for c in pull.comments:
                if c["id"] != comment_id:
                    continue
                if method == "GET":
                    return 200, c, {}
                if c["user"].get("login") != self.author.get("login"):
                    return 403, {"message": "Must have admin rights to Repository."}, {}
                if method == "PATCH":
                    c["body"] = (body or {}).get("body", c["body"])
                    return 200, c, {}
                if method == "DELETE":
                    pull.comments.remove(c)
                    return 204, None, {}
        return 404, {"message": "Not Found"}, {}


def _handler(server: GitHubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = "<invalid json>"
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer, extra = server.handle(self.command, self.path, headers, body)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    return Handler
