"""Usage monitoring from Python: the same totals as ``assistants usage``."""

from __future__ import annotations

from typing import Any, Literal

from ..config import Settings, load_settings
from .store import UsageLedger

__all__ = ["usage_summary"]


def usage_summary(
    by: Literal["day", "task", "model"] = "day",
    *,
    since: str | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Recorded calls, tokens (cache hit / miss, output, reasoning) and cost, grouped ``by``."""
    settings = settings or load_settings()
    return UsageLedger(settings.resolved_ledger_path()).summary(by=by, since=since)
