"""Rows for the usage ledger, written directly (no model call)."""

from __future__ import annotations

from typing import Any

from assistants.llm.store import UsageLedger


def record_call(ledger: UsageLedger, **fields: Any) -> None:
    """One ledger row: a plain chat call on deepseek-flash unless ``fields`` say otherwise."""
    row: dict[str, Any] = {
        "task": "chat",
        "profile": "chat",
        "model": "deepseek-flash",
        "cache_hit_tokens": 10,
        "cache_miss_tokens": 5,
        "output_tokens": 3,
        "reasoning_tokens": 0,
        "latency_s": 0.1,
        "cost_usd": 0.5,
        "peak": 0,
        "cached": 0,
        "attempts": 1,
    }
    ledger.record(**{**row, **fields})
