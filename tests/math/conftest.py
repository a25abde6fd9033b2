"""Fixtures of the math tests."""

from __future__ import annotations

import threading

import pytest


class RequestClock:
    """A fake clock for the math latencies that moves only when :meth:`tick` is called: from
    a test server's responder, it advances by one second per request answered, so a latency
    reads how many requests ran while it was measured, whatever the real timing."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def tick(self) -> None:
        with self._lock:
            self.now += 1.0


@pytest.fixture
def request_clock(monkeypatch: pytest.MonkeyPatch) -> RequestClock:
    """:class:`RequestClock` installed as the clock of :mod:`assistants.math.solve`."""
    from assistants.math import solve

    clock = RequestClock()
    monkeypatch.setattr(solve, "_clock", clock)
    return clock
