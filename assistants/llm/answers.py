"""The response cache as every model call consults it: :class:`Answers`.

Paid once across processes: a call whose reply is not stored takes a lease on its request key
(:meth:`~.store.ResponseCache.claim`) and sends the request; an identical call anywhere else
(another task, process or machine on the same store) finds the lease taken and waits for the
answer, polling the store, at most ``wait`` seconds; then it sends the request itself. The
lease ends when the answer is stored or the call fails (or, after a crash, when its time is up).

Failure is not fatal: a store that cannot be used is used as no cache, with one warning per
store and process; a reply it could not store is kept in the spool and stored when it can be.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import AssistantsError
from .reply import Reply
from .store import ResponseCache, cache_row

__all__ = ["Answers", "Slot"]

log = logging.getLogger("assistants")
_warned: set[tuple[str, str]] = set()


def warn_once(store: Any, exc: AssistantsError, what: str) -> None:
    """One warning per store and process that ``store`` could not be used."""
    mark = (type(store).__name__, store.db.url)
    if mark not in _warned:
        _warned.add(mark)
        log.warning(f"warning: {exc.message}; {what}")


@dataclass
class Slot:
    """One call's hold on its request key: ``owner`` is set while it holds the lease."""

    key: str
    owner: str | None = None


class Answers:
    """Stored replies for the calls of one :class:`~assistants.llm.LLM` (see the module)."""

    def __init__(self, cache: ResponseCache, *, wait: float) -> None:
        self.cache = cache
        self.wait = wait
        self._me = f"{socket.gethostname()}:{os.getpid()}"

    async def lookup(self, key: str) -> tuple[Reply | None, Slot]:
        """The stored reply for ``key`` (waiting for one being sent elsewhere; nothing
        recorded), or None (a miss, or an entry another version wrote): then
        the caller sends the request, holding the lease when it could take it, and ends with
        :meth:`store` or :meth:`release`."""
        slot = Slot(key)
        deadline = time.monotonic() + self.wait
        delay = 0.05
        try:
            self._flush()
            while True:
                hit = self.cache.get(key)
                if hit is not None:
                    return _reply(hit), slot
                owner = f"{self._me}:{uuid.uuid4().hex[:12]}"
                if self.wait <= 0:
                    return None, slot
                if self.cache.claim(key, owner, self.wait):
                    slot.owner = owner
                    # the holder before may have stored its answer since we looked
                    hit = self.cache.get(key)
                    if hit is None:
                        return None, slot
                    self.release(slot)
                    return _reply(hit), slot
                if time.monotonic() >= deadline:
                    return None, slot  # waited long enough: send it too
                await asyncio.sleep(delay * random.uniform(0.7, 1.3))
                delay = min(delay * 1.5, 1.0)
        except AssistantsError as exc:
            warn_once(self.cache, exc, "running without the response cache")
            return None, slot

    def store(self, slot: Slot, model: str, answer: Reply) -> None:
        """Store the reply of ``slot``'s request and end its lease; a store that cannot
        take it spools it."""
        reply = answer.model_dump(mode="json")
        try:
            self.cache.put(slot.key, model, reply, owner=slot.owner)
        except AssistantsError as exc:
            if self.cache.spool is not None:
                self.cache.spool.add([cache_row(slot.key, model, reply)])
            warn_once(self.cache, exc, "running without the response cache")
        slot.owner = None

    def release(self, slot: Slot) -> None:
        """End ``slot``'s lease (the call failed or gave no reply to store)."""
        if slot.owner is None:
            return
        owner, slot.owner = slot.owner, None
        try:
            self.cache.release(slot.key, owner)
        except AssistantsError as exc:  # it expires by itself
            warn_once(self.cache, exc, "running without the response cache")

    def _flush(self) -> None:
        spool = self.cache.spool
        if spool is not None and spool.path.exists():
            self.cache.flush_spool()


def _reply(stored: dict[str, Any]) -> Reply | None:
    try:
        return Reply.model_validate(stored)
    except ValidationError:  # written by another version: a miss
        return None
