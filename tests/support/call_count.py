"""A thread-safe count of calls, for test-server responders that answer by call number."""

from __future__ import annotations

import threading


class CallCount:
    """``calls.next()`` is 1 on the first call, 2 on the second ...; ``reset()`` starts over.
    Safe when the server calls a responder from several request threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._n = 0

    def next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n

    def reset(self) -> None:
        with self._lock:
            self._n = 0
