"""Settings, model selector, prices, stores, prompts: no sockets."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fakes import ScriptedChatModel, ScriptedReply

from assistants import errors
from assistants.config import describe_settings, load_settings
from assistants.llm import LLM, load_prices, select_model
from assistants.llm.store import ResponseCache, UsageLedger, request_key
from assistants.llm.tokens import count_message_tokens, count_tokens
from assistants.prompts import export_prompts, list_prompts, render

# -- settings ------------------------------------------------------------------------------


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.assistants]\ntimeout = 11\nconcurrency = 2\nlang = 'de'\nmax_retries = 1\n"
        "[tool.assistants.review]\nfail_on = 'low'\n"
    )
    (tmp_path / ".env").write_text("ASSISTANTS_CONCURRENCY=3\nASSISTANTS_LANG=fr\n")
    sub = tmp_path / "pkg" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANTS_LANG", "zh")
    settings = load_settings(max_retries=7)
    assert settings.timeout == 11  # pyproject over default
    assert settings.concurrency == 3  # .env over pyproject
    assert settings.lang == "zh"  # environment over .env
    assert settings.max_retries == 7  # argument over everything
    assert settings.review.fail_on == "low"
    rows = {r.name: r for r in describe_settings(max_retries=7)}
    assert rows["timeout"].source.endswith("pyproject.toml")
    assert rows["concurrency"].source == ".env"
    assert rows["lang"].source == "environment"
    assert rows["max_retries"].source == "argument"
    assert rows["base_url"].source == "default"
    assert rows["review.fail_on"].source.endswith("pyproject.toml")


def test_nearest_pyproject_is_found_from_a_subfolder(tmp_path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.assistants]\ntimeout = 42\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert load_settings().timeout == 42


def test_key_from_dotenv_is_masked(tmp_path, monkeypatch) -> None:
    secret = "sk-dotenv-secret-value-123456789"
    (tmp_path / ".env").write_text(f"DEEPSEEK_API_KEY={secret}\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.has_key()
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    row = next(r for r in describe_settings() if r.name == "api_key")
    assert row.source == ".env"
    assert secret not in row.value and secret[-4:] not in row.value


def test_invalid_settings_are_a_config_error(monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_CONCURRENCY", "lots")
    with pytest.raises(errors.ConfigError, match="concurrency"):
        load_settings()


# -- selector ------------------------------------------------------------------------------


def test_profiles_defaults() -> None:
    settings = load_settings()
    chat, coder, reasoner = (select_model(p, settings) for p in ("chat", "coder", "reasoner"))
    assert {chat.model, coder.model, reasoner.model} == {"deepseek-flash"}
    assert (chat.thinking, coder.thinking, reasoner.thinking) == (False, False, True)
    assert reasoner.request_fields() == {
        "thinking": {"type": "enabled"},
        "reasoning_effort": "high",
    }
    assert chat.request_fields() == {"thinking": {"type": "disabled"}}
    assert select_model("coder", settings, thinking=True).thinking is True


def test_profile_overrides_from_env(monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANTS_PROFILES__REASONER__REASONING_EFFORT", "max")
    monkeypatch.setenv("ASSISTANTS_PROFILES__REASONER__MAX_TOKENS", "1000")
    spec = select_model("reasoner", load_settings())
    assert spec.thinking is True  # untouched fields keep the profile's default
    assert spec.reasoning_effort == "max" and spec.max_tokens == 1000


@pytest.mark.parametrize(
    ("legacy", "thinking"),
    [("deepseek-chat", False), ("deepseek-coder", False), ("deepseek-reasoner", True)],
)
def test_legacy_names_translated_only_for_deepseek(monkeypatch, legacy, thinking) -> None:
    monkeypatch.setenv("ASSISTANTS_PROFILES__CHAT__MODEL", legacy)
    spec = select_model("chat", load_settings())
    assert spec.model == "deepseek-flash" and spec.thinking is thinking
    assert len(spec.notices) == 1 and legacy in spec.notices[0]
    monkeypatch.setenv("ASSISTANTS_BASE_URL", "http://127.0.0.1:11434/v1")
    other = select_model("chat", load_settings())
    assert other.model == legacy and other.notices == ()
    assert other.request_fields() == {}  # no DeepSeek-only fields for other endpoints


def test_unknown_profile_lists_valid_ones() -> None:
    with pytest.raises(errors.ConfigError) as info:
        select_model("poet", load_settings())
    assert "chat, coder, reasoner" in (info.value.hint or "")


# -- prices, cost, stores ------------------------------------------------------------------


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


def test_ledger_summary(tmp_path) -> None:
    ledger = UsageLedger(tmp_path / "u.sqlite3")
    common = dict(
        profile="chat",
        model="deepseek-flash",
        cache_hit_tokens=10,
        cache_miss_tokens=5,
        output_tokens=3,
        reasoning_tokens=0,
        latency_s=0.1,
        cost_usd=0.5,
        peak=0,
        cached=0,
        attempts=1,
    )
    ledger.record(task="review", ts="2026-11-01T10:00:00+00:00", **common)
    ledger.record(task="review", ts="2026-11-02T10:00:00+00:00", **common)
    ledger.record(task="math", ts="2026-11-02T11:00:00+00:00", **common)
    by_task = {r["key"]: r for r in ledger.summary("task")}
    assert by_task["review"]["calls"] == 2 and by_task["math"]["cost_usd"] == 0.5
    by_day = ledger.summary("day", since="2026-11-02")
    assert [(r["key"], r["calls"]) for r in by_day] == [("2026-11-02", 2)]


def test_cache_store_roundtrip(tmp_path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    key = request_key({"b": 1, "a": [1, 2]})
    assert key == request_key({"a": [1, 2], "b": 1})
    assert cache.get(key) is None
    cache.put(key, "m", {"content": "x"})
    assert cache.get(key) == {"content": "x"}
    assert cache.info()["entries"] == 1
    assert cache.clear() == 1 and cache.get(key) is None


def test_ledger_and_usage_recorded_per_call(data_dir) -> None:
    fake = ScriptedChatModel(
        replies=[ScriptedReply("a", input_tokens=100, cache_read=64, output_tokens=7)]
    )
    model = LLM("chat", task="unit", model=fake)
    reply = model.complete([("user", "q")])
    assert (reply.usage.cache_hit_tokens, reply.usage.cache_miss_tokens) == (64, 36)
    rows = UsageLedger(load_settings().resolved_ledger_path()).rows()
    assert [(r["task"], r["output_tokens"], r["cached"]) for r in rows] == [("unit", 7, 0)]
    model.complete([("user", "q")])  # identical: served by our cache, recorded as cached
    rows = UsageLedger(load_settings().resolved_ledger_path()).rows()
    assert [r["cached"] for r in rows] == [0, 1]
    assert len(fake.calls) == 1


# -- tokens --------------------------------------------------------------------------------


def test_token_counts_are_deepseek_tokens() -> None:
    assert count_tokens("") == 0
    assert 1 <= count_tokens("hello") <= 2
    text = "def add(a, b):\n    return a + b\n" * 50
    assert 300 < count_tokens(text) < 1000
    assert count_message_tokens([("system", "x"), ("user", "y")]) > count_tokens("xy")


# -- prompts -------------------------------------------------------------------------------


def test_prompt_override_folder_wins(tmp_path, monkeypatch) -> None:
    (tmp_path / "llm").mkdir()
    (tmp_path / "llm" / "repair.j2").write_text("CUSTOM {{ problem }}")
    monkeypatch.setenv("ASSISTANTS_PROMPTS_DIR", str(tmp_path))
    assert render("llm/repair.j2", problem="p").strip() == "CUSTOM p"
    assert ("llm/repair.j2", "override") in list_prompts(tmp_path)


def test_prompts_are_strict() -> None:
    with pytest.raises(errors.ConfigError, match="undefined"):
        render("llm/repair.j2", prompts_dir=None)
    with pytest.raises(errors.ConfigError, match="not found"):
        render("nope/missing.j2", prompts_dir=None)


def test_export_prompts(tmp_path) -> None:
    written = export_prompts(tmp_path / "out")
    names = {p.relative_to(tmp_path / "out").as_posix() for p in written}
    assert names == {name for name, _ in list_prompts()}


def test_every_public_name_resolves() -> None:
    import assistants

    for name in assistants.__all__:
        assert getattr(assistants, name) is not None, name
    with pytest.raises(AttributeError):
        _ = assistants.no_such_thing  # type: ignore[attr-defined]
