"""A realistic context for every template under prompts/ (tests/test_prompts_all.py)."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "llm/json_schema.j2": {"schema": '{"type": "object"}'},
    "llm/repair.j2": {"problem": "- score: Input should be less than or equal to 5"},
    "math/system.j2": {},
    "math/user.j2": {"problem": "What is 1/2 + 1/4?"},
}
