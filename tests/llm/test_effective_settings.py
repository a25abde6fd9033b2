"""What `assistants config` shows: the values actually used where a setting is unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants.config import load_settings
from assistants.llm.selector import effective_settings, select_model


def rows() -> dict[str, tuple[str, str]]:
    return {r.name: (r.value, r.source) for r in effective_settings(load_settings())}


def test_unset_profile_fields_show_what_the_selector_uses() -> None:
    shown = rows()
    for profile in ("chat", "coder", "reasoner"):
        spec = select_model(profile, load_settings())
        assert shown[f"profiles.{profile}.model"] == (spec.model, "default")
        assert shown[f"profiles.{profile}.thinking"][0] == str(spec.thinking)
        assert shown[f"profiles.{profile}.max_tokens"][0] == str(spec.max_tokens)
    assert shown["profiles.reasoner.thinking"][0] == "True"
    assert shown["profiles.coder.model"][0] != "-"


def test_paths_show_where_the_files_are(data_dir: Path) -> None:
    shown = rows()
    assert shown["data_dir"][0] == str(data_dir)
    assert shown["cache_path"][0] == str(data_dir / "cache.sqlite3")
    assert shown["ledger_path"][0] == str(data_dir / "usage.sqlite3")


def test_a_configured_model_is_shown_with_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANTS_PROFILES__CODER__MODEL", "my-model")
    assert rows()["profiles.coder.model"] == ("my-model", "environment")
