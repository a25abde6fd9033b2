"""Every shipped template renders strictly with a realistic context."""

from __future__ import annotations

import pytest
from prompt_samples import SAMPLES

from assistants.prompts import list_prompts, render

TEMPLATES = [name for name, _ in list_prompts()]


def test_every_template_has_a_sample() -> None:
    missing = sorted(set(TEMPLATES) - set(SAMPLES))
    assert not missing, f"add a sample context to tests/prompt_samples.py for: {missing}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_renders(name: str) -> None:
    text = render(name, prompts_dir=None, **SAMPLES.get(name, {}))
    assert text.strip()
    assert "{{" not in text and "{%" not in text
