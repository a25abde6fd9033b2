"""A local web server for paper downloads (threaded, 127.0.0.1): PDFs, an arXiv-API Atom feed,
landing pages and the failure cases (404, HTML instead of a PDF, a huge Content-Length, a slow
drip, a redirect loop). Routes are set per test; every request is logged.

    with PaperWeb() as web:
        web.pdf("/pdf/2501.12948", path.read_bytes())
        web.atom("/api/query", title="...", authors=["..."], published="2025-01-22")
        monkeypatch.setenv("ASSISTANTS_ARXIV_URL", web.url)
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from loopback import LoopbackHTTPServer

__all__ = ["PaperWeb", "Route", "atom_feed"]


@dataclass
class Route:
    """What one path answers. ``drip``: send the body one byte at a time, ``drip`` seconds
    apart; ``stall``: after the headers (and ``head`` bytes of the body) send nothing for this
    many seconds; ``length``: the Content-Length declared (default: the body's; -1: none, the
    body ends with the connection)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/pdf"
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None
    drip: float = 0.0
    stall: float = 0.0
    head: int = 0


def atom_feed(
    arxiv_id: str,
    *,
    title: str,
    authors: list[str],
    published: str,
    summary: str,
    doi: str | None = None,
) -> bytes:
    """An arXiv API reply (Atom) with one entry, in the API's own shape."""
    names = "".join(f"<author><name>{escape(name)}</name></author>" for name in authors)
    doi_tag = f"<arxiv:doi>{escape(doi)}</arxiv:doi>" if doi else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">'
        f"<title>arXiv Query: id_list={escape(arxiv_id)}</title>"
        f"<entry><id>http://arxiv.org/abs/{escape(arxiv_id)}v1</id>"
        f"<published>{published}T17:00:00Z</published>"
        f"<title>{escape(title)}\n  (with a line break)</title>"
        f"<summary>  {escape(summary)}\n</summary>{names}{doi_tag}"
        '<link title="pdf" href="http://arxiv.org/pdf/x" rel="related" type="application/pdf"/>'
        "</entry></feed>"
    ).encode()


class PaperWeb:
    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[str], Route]] = {}
        self.log: list[str] = []  # path + query of every request, in order
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: LoopbackHTTPServer | None = None

    # -- routes --------------------------------------------------------------------------
    def route(self, path: str, route: Route | Callable[[str], Route]) -> None:
        self.routes[path] = route

    def pdf(self, path: str, data: bytes, **options: Any) -> None:
        self.route(path, Route(body=data, **options))

    def atom(self, path: str, feed: bytes) -> None:
        self.route(path, Route(body=feed, content_type="application/atom+xml; charset=utf-8"))

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.route(path, Route(status=status, headers={"Location": to}, content_type="text/plain"))

    def html(self, path: str, text: str) -> None:
        self.route(path, Route(body=text.encode(), content_type="text/html; charset=utf-8"))

    def requests_to(self, prefix: str) -> list[str]:
        with self._lock:
            return [entry for entry in self.log if entry.startswith(prefix)]

    # -- running -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> PaperWeb:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with web._lock:
                    web.log.append(self.path)
                found = web.routes.get(urlsplit(self.path).path)
                route = found(self.path) if callable(found) else found
                if route is None:
                    route = Route(status=404, body=b"not found", content_type="text/plain")
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    web._answer(self, route)

        self._server = LoopbackHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _answer(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        length = route.length if route.length is not None else len(route.body)
        if length >= 0:
            handler.send_header("Content-Length", str(length))
        else:  # no length: the body ends when the connection closes
            handler.send_header("Connection", "close")
            handler.close_connection = True
        for key, value in route.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        body = route.body
        if route.stall:
            handler.wfile.write(body[: route.head])
            handler.wfile.flush()
            self._stop.wait(route.stall)
            handler.close_connection = True
            return
        if route.drip:
            for i in range(len(body)):
                if self._stop.is_set():
                    return
                handler.wfile.write(body[i : i + 1])
                handler.wfile.flush()
                time.sleep(route.drip)
            return
        handler.wfile.write(body)
        if route.length is not None and route.length != len(body):
            handler.close_connection = True

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> PaperWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
