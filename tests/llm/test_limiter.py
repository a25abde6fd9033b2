"""Adaptive concurrency (AIMD): 429s and timeouts halve the requests in flight, successes
restore them, each cut is one line; an abandoned request closes its connection."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from deepseek_server import DeepSeekServer, Reply
from log_lines import log_lines

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM
from assistants.llm.limiter import Limiter, overloaded, succeeded


def test_limiter_halves_once_per_window_and_grows_back() -> None:
    async def scenario() -> list[int]:
        limiter = Limiter(8)
        seen = [limiter.current]
        async with limiter:
            overloaded("HTTP 429")
            seen.append(limiter.current)
            overloaded("HTTP 429")  # the same window: already answered
            seen.append(limiter.current)
        for _ in range(3):
            async with limiter:
                overloaded("a timeout")
                seen.append(limiter.current)
        while limiter.current < 8:
            async with limiter:
                succeeded()
        seen.append(limiter.current)
        return seen

    with log_lines() as lines:
        assert asyncio.run(scenario()) == [8, 4, 4, 2, 1, 1, 8]
    assert lines[:3] == [
        "concurrency 8 → 4 after HTTP 429",
        "concurrency 4 → 2 after a timeout",
        "concurrency 2 → 1 after a timeout",
    ]
    assert lines[-1] == "concurrency back to 8" and len(lines) == 4


def test_limiter_is_a_semaphore_for_task_code() -> None:
    async def scenario() -> int:
        limiter: asyncio.Semaphore = Limiter(2)
        peak = running = 0

        async def one() -> None:
            nonlocal peak, running
            async with limiter:
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(one() for _ in range(6)))
        assert not limiter.locked()
        return peak

    assert asyncio.run(scenario()) == 2


@pytest.mark.parametrize("fault", ["429", "timeout"])
def test_overload_halves_the_requests_in_flight_then_they_recover(
    server: DeepSeekServer, fault: str
) -> None:
    server.latency = 0.05
    if fault == "429":
        server.fail_next(429, times=8)
    else:
        server.enqueue(*[Reply("late", delay=4.0) for _ in range(8)])
    # a generous time limit unless timeouts are the fault (a loaded test machine is slow)
    settings = load_settings(
        concurrency=8, max_retries=5, timeout=1.0 if fault == "timeout" else 30
    )
    model = LLM("chat", settings=settings)

    async def ask(i: int):
        return await model.acomplete([("user", f"question {i}")], use_cache=False)

    with log_lines(logging.WARNING) as lines:
        first = asyncio.run(model.amap(ask, list(range(8))))
    assert all(r.content for r in first)
    assert lines[0] == "concurrency 8 → 4 after " + ("HTTP 429" if fault == "429" else "a timeout")
    requests = server.chat_requests
    assert max(r.in_flight for r in requests[:8]) == 8
    # the first wave of retries respects the cut (successes then let it grow again)
    assert len(requests) > 8 and max(r.in_flight for r in requests[8:12]) <= 4
    # The recovery, within one run (a limiter lives for one amap); a slower server so that
    # the client's own overhead does not keep the requests from overlapping.
    server.reset()
    server.latency = 0.15
    server.fail_next(429, times=8)
    steady = LLM("chat", settings=load_settings(concurrency=8, max_retries=5))

    async def ask_steady(i: int):
        return await steady.acomplete([("user", f"question {i}")], use_cache=False)

    with log_lines() as lines:
        asyncio.run(steady.amap(ask_steady, list(range(64))))
    assert lines[0] == "concurrency 8 → 4 after HTTP 429"
    assert "concurrency back to 8" in lines
    requests = server.chat_requests
    assert max(r.in_flight for r in requests[8:12]) <= 4  # the first wave after the cut
    assert max(r.in_flight for r in requests[-24:]) > 4  # grown back
    assert server.max_in_flight <= 8


def _wait_until(check, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("profile", ["chat", "reasoner"])  # non-stream and stream
def test_an_abandoned_request_closes_its_connection(server: DeepSeekServer, profile) -> None:
    model = LLM(profile)
    server.enqueue(Reply("too late", delay=5.0))

    async def deadline() -> None:
        model.estimate([("user", "q")])  # the tokenizer loaded before the clock starts
        await model.acomplete([("user", "warm up")])  # the client built too
        server.reset()
        server.enqueue(Reply("too late", delay=5.0))
        await asyncio.wait_for(model.acomplete([("user", "q")]), 0.5)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(deadline())
    (request,) = server.chat_requests
    assert _wait_until(lambda: request.client_closed), "the server still works on it"
    assert request.ended is not None and request.ended - request.time < 2.0
    time.sleep(0.3)
    assert len(server.chat_requests) == 1  # no further request arrives
    assert server.in_flight == 0


def test_a_cancelled_task_closes_its_connection(server: DeepSeekServer) -> None:
    model = LLM("chat")

    async def cancel() -> None:
        await model.acomplete([("user", "warm up")])
        server.reset()
        server.enqueue(Reply("too late", delay=5.0))
        task = asyncio.ensure_future(model.acomplete([("user", "q")]))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel())
    (request,) = server.chat_requests
    assert _wait_until(lambda: request.client_closed)
    assert len(server.chat_requests) == 1


def test_our_own_timeout_closes_the_connection_before_retrying(server: DeepSeekServer) -> None:
    server.enqueue(Reply("late", delay=5.0), Reply("on time"))
    reply = LLM("chat", settings=load_settings(timeout=0.3)).complete([("user", "q")])
    assert reply.content == "on time"
    first = server.chat_requests[0]
    assert _wait_until(lambda: first.client_closed)
    with pytest.raises(errors.APITimeoutError):
        server.enqueue(Reply("late", delay=5.0), Reply("late", delay=5.0))
        LLM("chat", settings=load_settings(timeout=0.3, max_retries=1)).complete([("user", "x")])
