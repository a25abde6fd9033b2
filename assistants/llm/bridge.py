"""The sync bridge: run the layer's coroutines from synchronous code.

Everything in :mod:`assistants.llm` is implemented once, asynchronously. :func:`run_sync` runs a
coroutine on one long-lived private event loop in a daemon thread, so synchronous calls share
one HTTP connection pool (an async client is bound to the loop that made it) and work inside a
caller's running loop, as in Jupyter.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

__all__ = ["run_sync", "sync_twin"]

T = TypeVar("T")
P = ParamSpec("P")


class _Runner:
    """One long-lived event loop in a daemon thread for the synchronous API, so sync calls
    share one HTTP connection pool (an async client is bound to the loop that made it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="assistants-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def in_runner(self) -> bool:
        return threading.current_thread() is self._thread


_runner = _Runner()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code (also inside Jupyter's loop)."""
    if _runner.in_runner():  # called from a callback on the runner itself: no deadlock
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, coro).result()
    future = asyncio.run_coroutine_threadsafe(coro, _runner.loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def sync_twin(async_fn: Callable[P, Coroutine[Any, Any, T]], doc: str) -> Callable[P, T]:
    """The synchronous twin of a module-level ``async def a<name>``: ``<name>``, with the same
    parameters (``inspect.signature`` shows them) and ``doc`` as its docstring, running the
    coroutine with :func:`run_sync`. ``solve_math = sync_twin(asolve_math, "...")``."""

    @functools.wraps(async_fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(async_fn(*args, **kwargs))

    call.__name__ = call.__qualname__ = async_fn.__name__.removeprefix("a")
    call.__doc__ = doc
    return call
