"""The response cache and the usage ledger: stores, their use by every call, damage, secrets.

Tests that take ``backend`` run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from deepseek_server import TEST_KEY, DeepSeekServer, Reply
from fakes import ScriptedChatModel, ScriptedReply
from ledger_rows import record_call
from pydantic import BaseModel, Field

from assistants.config import load_settings
from assistants.llm import LLM
from assistants.llm.store import ResponseCache, UsageLedger, cache_for, ledger_for, request_key


def ledger() -> UsageLedger:
    return ledger_for(load_settings())


def test_ledger_summary(backend: str) -> None:
    ledger = ledger_for(load_settings())
    record_call(ledger, task="review", ts="2026-11-01T10:00:00+00:00")
    record_call(ledger, task="review", ts="2026-11-02T10:00:00+00:00")
    record_call(ledger, task="math", ts="2026-11-02T11:00:00+00:00")
    by_task = {r["key"]: r for r in ledger.summary("task")}
    assert by_task["review"]["calls"] == 2 and by_task["math"]["cost_usd"] == 0.5
    by_day = ledger.summary("day", since="2026-11-02")
    assert [(r["key"], r["calls"]) for r in by_day] == [("2026-11-02", 2)]


def test_cache_store_roundtrip(backend: str) -> None:
    cache = cache_for(load_settings())
    key = request_key({"b": 1, "a": [1, 2]})
    assert key == request_key({"a": [1, 2], "b": 1})
    assert cache.get(key) is None
    cache.put(key, "m", {"content": "x"})
    assert cache.get(key) == {"content": "x"}
    assert cache.info()["entries"] == 1
    assert cache.clear() == 1 and cache.get(key) is None


def test_ledger_and_usage_recorded_per_call(backend: str) -> None:
    fake = ScriptedChatModel(
        replies=[ScriptedReply("a", input_tokens=100, cache_read=64, output_tokens=7)]
    )
    model = LLM("chat", task="unit", model=fake)
    reply = model.complete([("user", "q")])
    assert (reply.usage.cache_hit_tokens, reply.usage.cache_miss_tokens) == (64, 36)
    rows = ledger().rows()
    assert [(r["task"], r["output_tokens"], r["cached"]) for r in rows] == [("unit", 7, 0)]
    model.complete([("user", "q")])  # identical: served by our cache, recorded as cached
    rows = ledger().rows()
    assert [r["cached"] for r in rows] == [0, 1]
    assert len(fake.calls) == 1


def test_identical_call_is_served_from_cache(server, backend: str) -> None:
    server.enqueue(Reply("cached answer"))
    first = LLM("chat").complete([("user", "same question")])
    second = LLM("chat").complete([("user", "same question")])
    assert second.content == first.content == "cached answer"
    assert second.cached and second.usage.cached_requests == 1 and second.usage.cost_usd == 0
    assert len(server.chat_requests) == 1
    # --no-cache goes to the API again
    server.enqueue(Reply("fresh"))
    fresh = LLM("chat", settings=load_settings(cache_enabled=False))
    assert fresh.complete([("user", "same question")]).content == "fresh"


def test_corrupt_cache_and_ledger_never_cost_the_answer(server: DeepSeekServer, data_dir: Path):
    (data_dir / "cache.sqlite3").write_bytes(b"not a database " * 400)
    (data_dir / "usage.sqlite3").write_bytes(b"not a database " * 400)
    server.enqueue("the answer")
    reply = LLM("chat").complete([("user", "q")])
    assert reply.content == "the answer"


def test_cache_entry_of_another_version_is_a_miss(server: DeepSeekServer, backend: str) -> None:
    from sqlalchemy import update

    from assistants.llm.db import tables

    llm = LLM("chat")
    server.enqueue("first")
    llm.complete([("user", "q")])
    assert llm.cache is not None
    responses = tables().responses
    llm.cache.cache.db.run(
        lambda conn: conn.execute(update(responses).values(reply='{"content": 1}'))
    )
    server.enqueue("second")
    assert llm.complete([("user", "q")]).content == "second"


class Verdict(BaseModel):
    label: str
    score: int = Field(ge=1, le=5)


def test_key_never_written(server, data_dir: Path, caplog, backend: str) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue(Reply("one"), Reply('{"label": "x", "score": 2}'))
    model = LLM("chat")
    model.complete([("user", "hello")])
    model.structured([("user", "json please")], Verdict)
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    if backend == "sqlite":
        assert any(p.name.startswith("cache") for p in files)
        assert any(p.name.startswith("usage") for p in files)
    for path in files:
        assert TEST_KEY.encode() not in path.read_bytes(), path
    assert TEST_KEY not in caplog.text
    assert TEST_KEY not in all_rows()


def all_rows() -> str:
    """Every row of every table of both stores, as text."""
    from sqlalchemy import select

    from assistants.llm.db import tables

    settings = load_settings()
    text = []
    for store in (cache_for(settings), ledger_for(settings)):
        for table in tables().meta.sorted_tables:
            rows = store.db.run(lambda conn, t=table: conn.execute(select(t)).all())
            text += [repr(tuple(row)) for row in rows]
    return "\n".join(text)


def test_damaged_stores_heal_with_one_warning_and_are_kept_aside(
    server: DeepSeekServer, data_dir: Path
) -> None:
    from log_lines import log_lines

    garbage = b"not a database " * 400
    (data_dir / "cache.sqlite3").write_bytes(garbage)
    (data_dir / "usage.sqlite3").write_bytes(garbage)
    server.enqueue("the answer", "again")
    with log_lines(logging.WARNING) as lines:
        reply = LLM("chat").complete([("user", "q")])
        assert LLM("chat").complete([("user", "q")]).cached  # the fresh cache works
    assert reply.content == "the answer"
    assert len(lines) == 2, lines  # one per store
    assert "response cache" in lines[0] or "response cache" in lines[1]
    for name in ("cache.sqlite3", "usage.sqlite3"):
        (aside,) = data_dir.glob(f"{name}.corrupt-*")
        assert aside.read_bytes() == garbage
        assert name in " ".join(lines) and aside.name in " ".join(lines)
    assert len(UsageLedger(data_dir / "usage.sqlite3").rows()) == 2  # nothing paid is lost


def test_an_unusable_store_location_is_still_an_error(tmp_path: Path) -> None:
    from assistants import errors

    (tmp_path / "cache.sqlite3").mkdir()  # a folder where the file should be: not "damage"
    with pytest.raises(errors.ConfigError, match=r"cache\.sqlite3"):
        ResponseCache(tmp_path / "cache.sqlite3").info()
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_the_ledger_row_comes_before_the_cache_and_validation(
    server: DeepSeekServer, monkeypatch, backend: str
) -> None:
    class Boom(Exception):
        pass

    def broken_put(self, *args, **kwargs):
        assert len(ledger().rows()) == 1
        raise Boom

    monkeypatch.setattr(ResponseCache, "put", broken_put)
    server.enqueue("paid for")
    with pytest.raises(Boom):
        LLM("chat").complete([("user", "q")])
    (row,) = ledger().rows()
    assert row["output_tokens"] > 0
    # and before validation: an unusable (empty) reply is recorded too
    server.enqueue("")
    from assistants import errors

    with pytest.raises(errors.EmptyResponseError):
        LLM("chat").complete([("user", "other")])
    assert len(ledger().rows()) == 2


def test_an_answered_retry_is_recorded(server: DeepSeekServer, backend: str) -> None:
    server.enqueue(Reply("", finish_reason="insufficient_system_resource"), Reply("done"))
    reply = LLM("chat").complete([("user", "hi")])
    assert reply.usage.requests == 2  # both answers were paid
    assert len(ledger().rows()) == 2
