"""The one concurrency limit: :class:`Limiter`, an adaptive (AIMD) semaphore.

A task holds a slot while it talks to the model (``async with limiter:``); the slot is known
to :class:`~assistants.llm.LLM` through a context variable, so the model layer reports what
happened without being handed the limiter: a 429 or a timeout halves the number of slots (to
1 at least; :func:`overloaded`), each success lets it grow back by one slot per window of
successes up to the configured value (:func:`succeeded`), and a request waiting to retry gives
its slot back meanwhile (:func:`paused`), so the retries themselves respect the lower limit.
A cut is one line on the ``assistants`` logger (WARNING); the return to the configured value
is one line at INFO.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Limiter", "overloaded", "paused", "succeeded"]

log = logging.getLogger("assistants")


@dataclass
class _Slot:
    limiter: Limiter
    epoch: int
    held: bool = True
    token: contextvars.Token[_Slot | None] | None = None


_SLOT: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar(
    "assistants_limiter_slot", default=None
)


class Limiter(asyncio.Semaphore):
    """At most ``current`` holders at once; ``current`` adapts between 1 and ``limit``.

    A drop-in ``asyncio.Semaphore`` (``async with``, ``acquire``/``release``, ``locked``), so
    code written for a semaphore takes it unchanged.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(limit)  # the base class's own counter is not used
        self.limit = max(1, int(limit))
        self.current = self.limit
        self.in_flight = 0
        self._queue: deque[asyncio.Future[None]] = deque()
        self._epoch = 0  # bumped at every cut: earlier slots' overloads are already counted
        self._successes = 0

    def __repr__(self) -> str:
        return f"<Limiter {self.in_flight}/{self.current} (limit {self.limit})>"

    # -- the semaphore protocol --------------------------------------------------------------
    def locked(self) -> bool:
        return self.in_flight >= self.current

    async def acquire(self) -> Literal[True]:
        while self.in_flight >= self.current:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queue.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                self._wake()  # a wake-up this waiter took is handed on
                raise
            finally:
                if waiter in self._queue:
                    self._queue.remove(waiter)
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self._wake()

    async def __aenter__(self) -> None:
        await self.acquire()
        slot = _Slot(self, self._epoch)
        slot.token = _SLOT.set(slot)

    async def __aexit__(self, *exc: Any) -> None:
        slot = _SLOT.get()
        if slot is not None and slot.limiter is self and slot.token is not None:
            _SLOT.reset(slot.token)
            if slot.held:
                self.release()
        else:  # pragma: no cover - entered in another context
            self.release()

    def _wake(self) -> None:
        free = self.current - self.in_flight
        for waiter in list(self._queue):
            if free <= 0:
                break
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    # -- adaptation --------------------------------------------------------------------------
    def _overloaded(self, slot: _Slot, reason: str) -> None:
        if slot.epoch != self._epoch:
            return  # sent before the last cut, which already answered this overload
        self._epoch += 1
        self._successes = 0
        new = max(1, self.current // 2)
        if new != self.current:
            log.warning(f"concurrency {self.current} → {new} after {reason}")
            self.current = new

    def _succeeded(self) -> None:
        if self.current >= self.limit:
            return
        self._successes += 1
        if self._successes < self.current:
            return
        self._successes = 0
        self.current += 1
        if self.current == self.limit:
            log.info(f"concurrency back to {self.limit}")
        self._wake()


def overloaded(reason: str) -> None:
    """Tell the limiter of the current slot (if any) that the endpoint is overloaded."""
    slot = _SLOT.get()
    if slot is not None:
        slot.limiter._overloaded(slot, reason)


def succeeded() -> None:
    """Tell the limiter of the current slot (if any) that a request succeeded."""
    slot = _SLOT.get()
    if slot is not None:
        slot.limiter._succeeded()


@asynccontextmanager
async def paused() -> AsyncIterator[None]:
    """Give the current slot back for the duration (a retry's wait), then take one again
    under the limit as it is then."""
    slot = _SLOT.get()
    if slot is None or not slot.held:
        yield
        return
    slot.held = False
    slot.limiter.release()
    yield  # on an exception (a cancelled wait) the slot stays given back
    await slot.limiter.acquire()
    slot.held = True
    slot.epoch = slot.limiter._epoch
