"""The HTTP server class our protocol servers (DeepSeek, GitHub, the paper web) run on:
threaded, on 127.0.0.1, and quiet about clients that hang up.

``socketserver`` prints a traceback to ``sys.stderr`` for every error a request thread raises;
a client closing a kept-alive connection (our downloader after a 404, a cancelled stream) is
not an error of the server, and on a loaded machine the traceback can land in the captured
stderr of a CLI under test. Other errors are still printed.
"""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)
