"""The two SQLite stores of the llm layer: the usage ledger and the response cache.

Both open a short-lived connection per operation (safe across threads and asyncio tasks) and
create their schema on first use (adding a column an older file lacks). A damaged file is
moved aside as ``<name>.corrupt-<time>`` and a fresh one created, with one warning; a store that
still cannot be used (a data dir that is not a writable folder) raises
:class:`~assistants.errors.ConfigError` naming the file.
Neither ever stores the API key: the cache key is a hash of the request body and the endpoint
URL; the ledger records tokens, cost and timing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError

__all__ = ["LedgerEntry", "ResponseCache", "UsageLedger", "request_key"]

log = logging.getLogger("assistants")
T = TypeVar("T")


def _corrupt(exc: sqlite3.Error) -> bool:
    """Is this the error of a damaged file (rather than one we may not open or write)?"""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    text = str(exc)
    return "not a database" in text or "malformed" in text


def _move_aside(path: Path, what: str) -> None:
    """Keep a damaged store as ``<name>.corrupt-<time>`` (with its WAL files); one warning."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    log.warning(f"the {what} {path} was damaged: moved it to {target.name} and started a new one")


class _Store:
    """A SQLite file with a schema: :meth:`_use` runs one operation on a short-lived
    connection and heals a damaged file (moved aside, a fresh one created) once."""

    SCHEMA = ""
    WHAT = "store"
    COLUMNS: tuple[tuple[str, str], ...] = ()  # added when an older file lacks them

    def __init__(self, path: Path) -> None:
        self.path = path

    def _use(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        for healed in (False, True):
            try:
                return self._run(operation)
            except sqlite3.Error as exc:
                if healed or not _corrupt(exc) or not self.path.is_file():
                    raise self._error(exc) from None
                try:
                    _move_aside(self.path, self.WHAT)
                except OSError as move:
                    raise self._error(move) from None
            except OSError as exc:
                raise self._error(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(self.SCHEMA)
            self._migrate(conn)
            with conn:
                return operation(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if not self.COLUMNS:
            return
        table = self.SCHEMA.split("IF NOT EXISTS", 1)[1].split("(", 1)[0].strip()
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, decl in self.COLUMNS:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def _error(self, exc: BaseException) -> ConfigError:
        return ConfigError(
            f"cannot use the {self.WHAT} {self.path}: {exc}",
            hint="set ASSISTANTS_DATA_DIR to a writable folder",
        )


def request_key(payload: dict[str, Any]) -> str:
    """A stable hash of everything that determines a reply."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache(_Store):
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

    def get(self, key: str) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        row = self._use(
            lambda conn: conn.execute(
                "SELECT reply FROM responses WHERE key = ?", (key,)
            ).fetchone()
        )
        return json.loads(row[0]) if row else None

    def put(self, key: str, model: str, reply: dict[str, Any]) -> None:
        text = json.dumps(reply, ensure_ascii=False)
        self._use(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO responses (key, created, model, reply) VALUES (?,?,?,?)",
                (key, time.time(), model, text),
            )
        )

    def info(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"path": str(self.path), "entries": 0, "bytes": 0}
        (count,) = self._use(lambda conn: conn.execute("SELECT COUNT(*) FROM responses").fetchone())
        return {"path": str(self.path), "entries": count, "bytes": self.path.stat().st_size}

    def clear(self) -> int:
        if not self.path.exists():
            return 0
        removed: int = self._use(lambda conn: conn.execute("DELETE FROM responses").rowcount)

        def vacuum(conn: sqlite3.Connection) -> None:
            conn.isolation_level = None  # VACUUM cannot run inside a transaction
            conn.execute("VACUUM")

        self._use(vacuum)
        return removed


class LedgerEntry(dict[str, Any]):
    """One row of the ledger as a dict (task, profile, model, tokens, latency, cost, peak)."""


class UsageLedger(_Store):
    """Every model call, one row: what it cost and how long it took, and whether its tokens
    were ``estimated`` (the server reported none: counted with the tokenizer)."""

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
        attempts INTEGER NOT NULL,
        estimated INTEGER NOT NULL DEFAULT 0
    );
    """
    COLUMNS = (("estimated", "INTEGER NOT NULL DEFAULT 0"),)  # older files lack it
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
        "estimated",
    )

    WHAT = "usage ledger"

    def record(self, **row: Any) -> None:
        row.setdefault("ts", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        row.setdefault("estimated", 0)
        values = tuple(row[name] for name in self.FIELDS)
        placeholders = ",".join("?" * len(self.FIELDS))
        self._use(
            lambda conn: conn.execute(
                f"INSERT INTO calls ({','.join(self.FIELDS)}) VALUES ({placeholders})", values
            )
        )

    def rows(self) -> list[LedgerEntry]:
        if not self.path.exists():
            return []

        def read(conn: sqlite3.Connection) -> list[LedgerEntry]:
            conn.row_factory = sqlite3.Row
            return [LedgerEntry(r) for r in conn.execute("SELECT * FROM calls ORDER BY id")]

        return self._use(read)

    def summary(self, by: str = "day", since: str | None = None) -> list[dict[str, Any]]:
        """Totals grouped by ``day``, ``task`` or ``model`` (``since``: an ISO date);
        ``estimated_calls`` of them had no usage from the server (``estimated``: any)."""
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
                   SUM(cost_usd) AS cost_usd, SUM(peak) AS peak_calls,
                   SUM(estimated) AS estimated_calls
            FROM calls {where} GROUP BY key ORDER BY key
        """

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            conn.row_factory = sqlite3.Row
            return [
                {**dict(r), "estimated": bool(r["estimated_calls"])}
                for r in conn.execute(query, args)
            ]

        return self._use(read)
