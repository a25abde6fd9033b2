"""Run a blocking call with a time limit of our own (signals only work on the main thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DeadlineExceeded", "run_with_timeout"]

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """The call did not finish within its time limit."""


def run_with_timeout(func: Callable[[], T], seconds: float, *, name: str = "assistants") -> T:
    """Run ``func`` in a daemon thread; raise :class:`DeadlineExceeded` after ``seconds``.

    A thread cannot be killed: a runaway call finishes (or not) in the background, but the
    caller is never blocked longer than ``seconds`` and, being a daemon, the worker never
    holds up interpreter exit. Exceptions of ``func`` are re-raised in the caller.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(f"no result within {seconds:g}s")
    if "error" in box:
        raise box["error"]
    return box["value"]
