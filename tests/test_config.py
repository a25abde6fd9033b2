"""Settings: precedence of the sources, the key masked, errors that name their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants import errors
from assistants.config import describe_settings, load_settings


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


def test_unknown_key_in_pyproject_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.assistants]\nconcurency = 4\n")
    with pytest.raises(errors.ConfigError, match="unknown setting 'concurency'") as info:
        load_settings()
    assert "concurrency" in (info.value.hint or "")


def test_invalid_value_names_setting_and_source(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANTS_PROFILES__CODER__THINKING", "maybe")
    with pytest.raises(errors.ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert "profiles.coder.thinking" in message
    assert "ASSISTANTS_PROFILES__CODER__THINKING" in message
    monkeypatch.setenv("ASSISTANTS_PROFILES__CODER__THINKING", "yes")
    assert load_settings().profiles.coder.thinking is True


def test_dotenv_that_is_not_utf8_names_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(b"DEEPSEEK_API_KEY=sk-\xff\xfe\n")
    with pytest.raises(errors.ConfigError, match=r"\.env is not UTF-8"):
        load_settings()
