"""Prompt templates: strict rendering, the override folder, export, every shipped template,
language names."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_samples import SAMPLES

from assistants import errors
from assistants.prompts import export_prompts, language_name, list_prompts, render, renderer

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


VALUES = ["What is 2+2?", "  spaced  ", "", "\n", "{{ not jinja }}", "line\nbreak\n\n", "ünï"]


def test_renderer_matches_render_for_the_shipped_template(monkeypatch) -> None:
    import assistants.prompts as prompts

    fast = renderer("math/user.j2", "problem", prompts_dir=None)
    expected = [render("math/user.j2", prompts_dir=None, problem=value) for value in VALUES]
    calls: list[str] = []
    monkeypatch.setattr(prompts, "render", lambda *a, **k: calls.append(a[0]) or "")
    assert [fast(value) for value in VALUES] == expected
    assert calls == []  # the slot is bare: a string join, no template render per value


@pytest.mark.parametrize(
    "body",
    [
        "Solve:\n\n{{ problem }}\n",  # the slot as it is: the fast path
        "{{ problem | upper }} and {{ problem }}",  # twice, and changed: render each time
        "{% if problem.strip() %}Q: {{ problem }}{% else %}nothing{% endif %}",
    ],
)
def test_renderer_matches_render_for_any_template(tmp_path: Path, body: str) -> None:
    (tmp_path / "math").mkdir()
    (tmp_path / "math" / "user.j2").write_text(body, encoding="utf-8")
    fast = renderer("math/user.j2", "problem", prompts_dir=tmp_path)
    for value in VALUES:
        assert fast(value) == render("math/user.j2", prompts_dir=tmp_path, problem=value)
