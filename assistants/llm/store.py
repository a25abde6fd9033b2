"""The two SQLite stores of the llm layer: the usage ledger and the response cache.

Both open a short-lived connection per operation (safe across threads and asyncio tasks) and
create their schema on first use. A store that cannot be used (a corrupt file, a data dir that
is not a writable folder) raises :class:`~assistants.errors.ConfigError` naming the file.
Neither ever stores the API key: the cache key is a hash of the request body and the endpoint
URL; the ledger records tokens, cost and timing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["LedgerEntry", "ResponseCache", "UsageLedger", "request_key"]


@contextmanager
def _connect(path: Path, schema: str, what: str) -> Iterator[sqlite3.Connection]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=30)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(schema)
            with conn:
                yield conn
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(
            f"cannot use the {what} {path}: {exc}",
            hint="delete the file if it is damaged, or set ASSISTANTS_DATA_DIR to a writable "
            "folder",
        ) from None


def request_key(payload: dict[str, Any]) -> str:
    """A stable hash of everything that determines a reply."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Persistent replies keyed on :func:`request_key` of the request."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS responses (
        key TEXT PRIMARY KEY,
        created REAL NOT NULL,
        model TEXT NOT NULL,
        reply TEXT NOT NULL
    );
    """

    WHAT = "response cache"

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, key: str) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        with _connect(self.path, self.SCHEMA, self.WHAT) as conn:
            row = conn.execute("SELECT reply FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, model: str, reply: dict[str, Any]) -> None:
        with _connect(self.path, self.SCHEMA, self.WHAT) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO responses (key, created, model, reply) VALUES (?,?,?,?)",
                (key, time.time(), model, json.dumps(reply, ensure_ascii=False)),
            )

    def info(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"path": str(self.path), "entries": 0, "bytes": 0}
        with _connect(self.path, self.SCHEMA, self.WHAT) as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM responses").fetchone()
        return {"path": str(self.path), "entries": count, "bytes": self.path.stat().st_size}

    def clear(self) -> int:
        if not self.path.exists():
            return 0
        with _connect(self.path, self.SCHEMA, self.WHAT) as conn:
            removed = conn.execute("DELETE FROM responses").rowcount
        with _connect(self.path, "", self.WHAT) as conn:
            conn.isolation_level = None  # VACUUM cannot run inside a transaction
            conn.execute("VACUUM")
        return removed


class LedgerEntry(dict[str, Any]):
    """One row of the ledger as a dict (task, profile, model, tokens, latency, cost, peak)."""


class UsageLedger:
    """Every model call, one row: what it cost and how long it took."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        task TEXT NOT NULL,
        profile TEXT NOT NULL,
        model TEXT NOT NULL,
        cache_hit_tokens INTEGER NOT NULL,
        cache_miss_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        latency_s REAL NOT NULL,
        cost_usd REAL NOT NULL,
        peak INTEGER NOT NULL,
        cached INTEGER NOT NULL,
        attempts INTEGER NOT NULL
    );
    """
    FIELDS = (
        "ts",
        "task",
        "profile",
        "model",
        "cache_hit_tokens",
        "cache_miss_tokens",
        "output_tokens",
        "reasoning_tokens",
        "latency_s",
        "cost_usd",
        "peak",
        "cached",
        "attempts",
    )

    WHAT = "usage ledger"

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, **row: Any) -> None:
        row.setdefault("ts", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        values = tuple(row[name] for name in self.FIELDS)
        placeholders = ",".join("?" * len(self.FIELDS))
        with _connect(self.path, self.SCHEMA, self.WHAT) as conn:
            conn.execute(
                f"INSERT INTO calls ({','.join(self.FIELDS)}) VALUES ({placeholders})", values
            )

    def rows(self) -> list[LedgerEntry]:
        if not self.path.exists():
            return []
        with _connect(self.path, self.SCHEMA, self.WHAT) as conn:
            conn.row_factory = sqlite3.Row
            return [LedgerEntry(r) for r in conn.execute("SELECT * FROM calls ORDER BY id")]

    def summary(self, by: str = "day", since: str | None = None) -> list[dict[str, Any]]:
        """Totals grouped by ``day``, ``task`` or ``model`` (``since``: an ISO date)."""
        group = {"day": "substr(ts, 1, 10)", "task": "task", "model": "model"}[by]
        if not self.path.exists():
            return []
        where, args = ("WHERE ts >= ?", (since,)) if since else ("", ())
        query = f"""
            SELECT {group} AS key, COUNT(*) AS calls, SUM(cached) AS cached,
                   SUM(cache_hit_tokens) AS cache_hit_tokens,
                   SUM(cache_miss_tokens) AS cache_miss_tokens,
                   SUM(output_tokens) AS output_tokens,
                   SUM(reasoning_tokens) AS reasoning_tokens,
                   SUM(cost_usd) AS cost_usd, SUM(peak) AS peak_calls
            FROM calls {where} GROUP BY key ORDER BY key
        """
        with _connect(self.path, self.SCHEMA, self.WHAT) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(query, args)]
