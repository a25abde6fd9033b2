"""Prompt templates: strict rendering, the override folder, export, every shipped template,
language names."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_samples import SAMPLES

from assistants import errors
from assistants.prompts import export_prompts, language_name, list_prompts, render

TEMPLATES = [name for name, _ in list_prompts()]


def test_every_template_has_a_sample() -> None:
    missing = sorted(set(TEMPLATES) - set(SAMPLES))
    assert not missing, f"add a sample context to tests/prompt_samples.py for: {missing}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_renders(name: str) -> None:
    text = render(name, prompts_dir=None, **SAMPLES.get(name, {}))
    assert text.strip()
    assert "{{" not in text and "{%" not in text


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


def test_broken_override_template_is_one_line(tmp_path: Path) -> None:
    from assistants.prompts import render

    (tmp_path / "llm").mkdir()
    (tmp_path / "llm" / "repair.j2").write_text("{% if problem %}unclosed\n")
    with pytest.raises(errors.ConfigError, match=r"repair\.j2, line \d") as info:
        render("llm/repair.j2", prompts_dir=tmp_path, problem="x")
    assert "\n" not in str(info.value)


def test_language_names() -> None:
    assert language_name("zh") == "Chinese (简体中文)"
    assert language_name("Klingon") == "Klingon"
