"""The sync bridge: coroutines run from synchronous code, inside a running loop too."""

from __future__ import annotations

import asyncio

from assistants.llm import run_sync


async def _double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_run_sync_from_plain_code() -> None:
    assert run_sync(_double(21)) == 42


def test_run_sync_inside_a_running_loop() -> None:
    async def notebook_cell() -> int:  # Jupyter runs cells inside its own loop
        return run_sync(_double(5))

    assert asyncio.run(notebook_cell()) == 10


def test_run_sync_from_code_already_on_the_bridge() -> None:
    async def outer() -> int:  # a callback on the bridge's loop calling the sync API again
        return run_sync(_double(3)) + 1

    assert run_sync(outer()) == 7
