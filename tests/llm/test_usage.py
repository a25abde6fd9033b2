"""Usage and cost: the price table, peak hours, user price files, cost of real replies."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fakes import ScriptedChatModel, ScriptedReply

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM, client, format_usd, load_prices

OFF_PEAK = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday, 12:00 UTC


PEAK = datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc)  # a Wednesday, 07:30 UTC


def test_peak_windows() -> None:
    prices = load_prices()
    wed = datetime(2026, 11, 25, tzinfo=timezone.utc)
    assert prices.is_peak(wed.replace(hour=1, minute=0))
    assert prices.is_peak(wed.replace(hour=9, minute=59))
    assert not prices.is_peak(wed.replace(hour=4, minute=0))
    assert not prices.is_peak(wed.replace(hour=10, minute=0))
    assert not prices.is_peak(datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc))  # Saturday
    off = prices.cost("deepseek-flash", cache_hit=1_000_000, cache_miss=0, output=0)
    assert off == pytest.approx(0.003)
    peak = prices.cost(
        "deepseek-flash",
        cache_hit=0,
        cache_miss=1_000_000,
        output=1_000_000,
        when=wed.replace(hour=2),
    )
    assert peak == pytest.approx((0.15 + 0.60) * 2)
    assert prices.cost("llama3", cache_hit=5, cache_miss=5, output=5) == 0.0


def test_user_price_file_overrides(tmp_path, monkeypatch) -> None:
    price_file = tmp_path / "prices.json"
    price_file.write_text(
        json.dumps(
            {
                "as_of": "2027-01-01",
                "models": {"deepseek-flash": {"cache_hit": 1, "cache_miss": 2, "output": 3}},
                "peak": {"multiplier": 1.0, "weekdays": [], "windows_utc": []},
            }
        )
    )
    prices = load_prices(price_file)
    assert prices.as_of == "2027-01-01"
    assert prices.cost("deepseek-flash", cache_hit=10**6, cache_miss=10**6, output=10**6) == 6
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(errors.ConfigError):
        load_prices(bad)


@pytest.mark.parametrize(
    "content",
    ["[1, 2]", '{"models": []}', '{"models": {"deepseek-flash": {"cache_hit": 1}}}'],
)
def test_bad_price_file_is_one_line(tmp_path: Path, content: str) -> None:
    path = tmp_path / f"prices-{abs(hash(content))}.json"
    path.write_text(content)
    with pytest.raises(errors.ConfigError) as info:
        load_prices(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_unpriced_model_on_deepseek_is_noted(server, monkeypatch) -> None:

    notes: list[str] = []
    monkeypatch.setattr(client.log, "warning", lambda message, *a: notes.append(message % a))
    monkeypatch.setenv("ASSISTANTS_MODEL", "deepseek-future-audit")
    LLM("chat")
    assert any("no price for deepseek-future-audit" in note for note in notes)


@pytest.mark.parametrize("when", [OFF_PEAK, PEAK], ids=["off-peak", "peak"])
def test_usage_and_cost_with_cache_hits(server, monkeypatch, when) -> None:
    monkeypatch.setattr(client, "_now", lambda: when)
    shared = "Static instructions. " * 200
    model = LLM("chat", settings=load_settings(cache_enabled=False))
    first = model.complete([("system", shared), ("user", "first question")])
    reply = model.complete([("system", shared), ("user", "second question")])
    usage = server.chat_requests[1].usage
    assert usage["prompt_cache_hit_tokens"] > 0
    assert reply.usage.cache_hit_tokens == usage["prompt_cache_hit_tokens"]
    assert reply.usage.cache_miss_tokens == usage["prompt_cache_miss_tokens"]
    assert reply.usage.output_tokens == usage["completion_tokens"]
    prices = load_prices().models["deepseek-flash"]
    factor = 2.0 if when is PEAK else 1.0
    expected = (
        (
            usage["prompt_cache_hit_tokens"] * prices.cache_hit
            + usage["prompt_cache_miss_tokens"] * prices.cache_miss
            + usage["completion_tokens"] * prices.output
        )
        * factor
        / 1_000_000
    )
    assert reply.usage.cost_usd == pytest.approx(expected, rel=1e-9)
    assert model.usage.requests == 2
    assert model.usage.cost_usd == pytest.approx(first.usage.cost_usd + reply.usage.cost_usd)
    assert first.usage.cache_hit_tokens == 0


def test_format_usd() -> None:
    assert format_usd(0.00123) == "$0.0012"
    assert format_usd(99.5) == "$99.5000"
    assert format_usd(1234.5) == "$1,234.50"


def test_usage_summary_reads_the_ledger(data_dir) -> None:
    from assistants import usage_summary

    assert usage_summary() == []
    fake = ScriptedChatModel(replies=[ScriptedReply("a", output_tokens=7)])
    LLM("chat", task="unit", model=fake).complete([("user", "q")])
    (row,) = usage_summary("task")
    assert (row["key"], row["calls"], row["output_tokens"]) == ("unit", 1, 7)
    assert usage_summary("task", since="2999-01-01") == []
