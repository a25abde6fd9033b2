"""Usage known or marked: a server that reports no usage gets its tokens counted with the
tokenizer, and the result, the ledger row and `assistants usage` say they are estimated."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_runner import run
from deepseek_server import DeepSeekServer, Reply
from ledger_rows import record_call

from assistants.config import load_settings
from assistants.llm import LLM, Usage
from assistants.llm.store import UsageLedger


def ledger() -> UsageLedger:
    return UsageLedger(load_settings().resolved_ledger_path())


@pytest.mark.parametrize("profile", ["chat", "reasoner"])  # non-stream and stream
def test_unreported_usage_is_counted_and_marked(server: DeepSeekServer, profile) -> None:
    server.enqueue(Reply("a reply of some length", reasoning="thinking it over", omit_usage=True))
    reply = LLM(profile).complete([("user", "a question of some length")])
    assert reply.usage.estimated and reply.usage.estimated_requests == 1
    assert reply.usage.cache_miss_tokens > 0 and reply.usage.output_tokens > 0  # never 0
    assert reply.usage.cost_usd > 0
    assert reply.usage.summary().count("~") >= 3 and "estimated" in reply.usage.summary()
    (row,) = ledger().rows()
    assert row["estimated"] == 1 and row["output_tokens"] == reply.usage.output_tokens
    if profile == "reasoner":
        assert row["reasoning_tokens"] > 0


def test_reported_usage_is_not_estimated(server: DeepSeekServer) -> None:
    reply = LLM("chat").complete([("user", "q")])
    assert not reply.usage.estimated and "~" not in reply.usage.summary()
    assert ledger().rows()[0]["estimated"] == 0


def test_server_wide_option_and_sums(server: DeepSeekServer) -> None:
    server.omit_usage = True
    model = LLM("chat")
    model.complete([("user", "one")])
    body = server.chat_requests[-1]
    assert body.usage is None
    server.omit_usage = False
    model.complete([("user", "two")])
    assert model.usage.requests == 2 and model.usage.estimated_requests == 1
    total = Usage(estimated_requests=1) + Usage(requests=3) + Usage(estimated_requests=2)
    assert total.estimated_requests == 3 and total.estimated
    assert sum([Usage(), Usage(estimated_requests=1)]).estimated  # type: ignore[union-attr]
    assert Usage.model_validate_json(total.model_dump_json()) == total


OLD_LEDGER = """
CREATE TABLE calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, task TEXT NOT NULL,
    profile TEXT NOT NULL, model TEXT NOT NULL, cache_hit_tokens INTEGER NOT NULL,
    cache_miss_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL, latency_s REAL NOT NULL, cost_usd REAL NOT NULL,
    peak INTEGER NOT NULL, cached INTEGER NOT NULL, attempts INTEGER NOT NULL
);
INSERT INTO calls (ts, task, profile, model, cache_hit_tokens, cache_miss_tokens,
    output_tokens, reasoning_tokens, latency_s, cost_usd, peak, cached, attempts)
    VALUES ('2026-11-01T00:00:00+00:00','chat','chat','m',1,2,3,0,0.1,0.5,0,0,1);
"""  # the first releases' file: no estimated column, no schema version


def test_an_old_ledger_gets_the_column(data_dir: Path) -> None:
    path = load_settings().resolved_ledger_path()
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_LEDGER)
    conn.close()
    record_call(ledger(), estimated=1)
    rows = ledger().rows()
    assert [r["estimated"] for r in rows] == [0, 1]
    assert rows[0]["username"] is None and rows[1]["host"]  # the team columns are added too
    assert "schema version: 2" in run("store", "status").stdout.split("usage ledger")[1]


def test_usage_command_marks_estimated_totals(data_dir: Path) -> None:
    record_call(ledger(), task="review", cost_usd=0.25)
    record_call(ledger(), task="math", cost_usd=0.5, estimated=1)
    result = run("usage", "--by", "task")
    assert result.exit_code == 0, result.output
    math_line = next(line for line in result.stdout.splitlines() if "math" in line)
    review_line = next(line for line in result.stdout.splitlines() if "review" in line)
    assert "~$0.5000" in math_line and "~" not in review_line
    assert "total: ~$0.7500" in result.stdout
    assert "~ estimated" in result.stdout and "1 call(s)" in result.stdout
    rows = {r["key"]: r for r in json.loads(run("usage", "--by", "task", "--json").stdout)}
    assert rows["math"]["estimated"] is True and rows["math"]["estimated_calls"] == 1
    assert rows["review"]["estimated"] is False and rows["review"]["estimated_calls"] == 0
