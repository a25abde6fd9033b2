"""A store shared by processes and machines: leases (paid once), failure that is not fatal,
the schema version, and the URL's password (a secret). ``backend`` tests run on SQLite and on
a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_runner import one_line_error, run
from deepseek_server import TEST_KEY, DeepSeekServer, Reply
from log_lines import log_lines
from postgres_server import PASSWORD, PostgresServer

from assistants.config import load_settings
from assistants.llm import LLM
from assistants.llm.store import cache_for, ledger_for


def test_a_lease_has_one_holder_until_released_or_expired(backend: str) -> None:
    cache = cache_for(load_settings())
    assert cache.claim("k", "one", 60)
    assert not cache.claim("k", "two", 60)
    cache.release("k", "two")  # not the holder: nothing changes
    assert not cache.claim("k", "two", 60)
    cache.release("k", "one")
    assert cache.claim("k", "two", 0.01)
    time.sleep(0.05)
    assert cache.claim("k", "three", 60)  # its time was up: taken over
    cache.put("k", "m", {"content": "x"}, owner="three")  # the answer ends the lease
    assert cache.claim("k", "four", 60)


def test_a_failed_call_lets_the_waiting_one_send(server: DeepSeekServer, backend: str) -> None:
    server.latency = 0.3
    server.enqueue(Reply(status=400), Reply("the answer"))
    first, second = LLM("chat"), LLM("chat")

    async def both() -> list[object]:
        one = asyncio.ensure_future(first.acomplete([("user", "q")]))
        await asyncio.sleep(0.1)  # the first holds the lease by now
        two = asyncio.ensure_future(second.acomplete([("user", "q")]))
        return list(await asyncio.gather(one, two, return_exceptions=True))

    failed, answered = asyncio.run(both())
    assert isinstance(failed, Exception) and getattr(answered, "content", None) == "the answer"
    assert len(server.chat_requests) == 2


WORKER = """
import sys, time
from pathlib import Path
from assistants.llm import LLM
llm = LLM("chat")  # everything imported and built before the start signal
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.01)
print("ANSWER", llm.complete([("user", "the same question")]).content, flush=True)
"""


def test_identical_requests_from_several_processes_are_sent_once(
    server: DeepSeekServer, backend: str, tmp_path: Path
) -> None:
    server.latency = 1.5
    server.enqueue(*[Reply(f"answer {i}") for i in range(4)])
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WORKER), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(0.5)
    go.touch()
    outputs = [w.communicate(timeout=240) for w in workers]
    answers = [line for out, _ in outputs for line in out.splitlines() if "ANSWER" in line]
    assert answers == ["ANSWER answer 0"] * 4, outputs
    assert len(server.chat_requests) == 1
    rows = ledger_for(load_settings()).rows()
    assert sorted(r["cached"] for r in rows) == [0, 1, 1, 1]  # paid once, served four times


def test_a_store_that_goes_away_mid_run_loses_no_answer_and_no_row(
    server: DeepSeekServer,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
) -> None:
    from assistants.llm import db

    monkeypatch.setenv("ASSISTANTS_STORE_URL", postgres_server.fresh_url())
    monkeypatch.setattr(db, "RETRY_AFTER", 0.0)
    server.enqueue("before", "during 1", "during 2")
    llm = LLM("chat")
    try:
        assert llm.complete([("user", "a")]).content == "before"
        postgres_server.stop()
        with log_lines(logging.WARNING) as lines:
            assert llm.complete([("user", "b")]).content == "during 1"
            assert llm.complete([("user", "c")]).content == "during 2"
        assert len(lines) == 2, lines  # one per store: the cache and the ledger
        assert "running without the response cache" in " ".join(lines)
        assert all(PASSWORD not in line for line in lines)
        spooled = list((data_dir / "spool").iterdir())
        assert spooled and all(PASSWORD not in p.read_text() for p in spooled)
    finally:
        postgres_server.start()
    # the next run writes what was kept: three paid calls, the answers cached
    assert LLM("chat").complete([("user", "b")]).cached
    assert LLM("chat").complete([("user", "c")]).cached
    rows = ledger_for(load_settings()).rows()
    assert [r["cached"] for r in rows].count(0) == 3 and len(rows) == 5
    assert len(server.chat_requests) == 3
    assert not [p for p in (data_dir / "spool").iterdir() if p.stat().st_size]


def test_a_newer_schema_is_refused_in_one_line(server: DeepSeekServer, backend: str) -> None:
    from sqlalchemy import update

    from assistants.llm.db import tables

    assert run("store", "init").exit_code == 0
    ledger = ledger_for(load_settings())
    version = tables().version
    ledger.db.run(lambda conn: conn.execute(update(version).values(version=99)))
    from assistants.llm import db

    db.dispose_all()  # a new process
    result = run("store", "init")
    assert result.exit_code == 3
    assert "schema version 99" in one_line_error(result) and "upgrade" in result.stderr
    server.enqueue("still answered")
    with log_lines(logging.WARNING) as lines:
        assert LLM("chat").complete([("user", "q")]).content == "still answered"
    assert any("schema version 99" in line for line in lines)


def test_the_store_password_is_never_shown(
    server: DeepSeekServer, postgres_server: PostgresServer, monkeypatch, data_dir: Path
) -> None:
    url = postgres_server.fresh_url()
    monkeypatch.setenv("ASSISTANTS_STORE_URL", url)
    seen = []
    with log_lines(logging.DEBUG) as logged:
        for command in (("store", "init"), ("store", "status"), ("config",), ("cache", "info")):
            result = run(*command)
            assert result.exit_code == 0, result.output
            seen.append(result.output)
        assert "postgresql://assistants:***@127.0.0.1" in seen[1]
        server.enqueue("paid")
        LLM("chat").complete([("user", "q")])
        # a wrong password, and a server that is not there: errors, warnings
        port = f":{postgres_server.port}/"
        for broken in (url.replace(PASSWORD, PASSWORD + "x"), url.replace(port, ":1/")):
            monkeypatch.setenv("ASSISTANTS_STORE_URL", broken)
            result = run("store", "init")
            assert result.exit_code == 3
            seen.append(one_line_error(result))
            server.enqueue("paid again")
            assert LLM("chat").complete([("user", "other")]).content == "paid again"
    text = "\n".join(seen + logged)
    assert PASSWORD not in text and TEST_KEY not in text
    assert "password authentication failed" in text and "running without" in text
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
