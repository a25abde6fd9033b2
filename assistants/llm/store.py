"""The two stores of the llm layer, the response cache and the usage ledger, on the one
storage layer of :mod:`.db` (SQLite files by default; a shared PostgreSQL for a team).

- :class:`ResponseCache`: replies keyed on :func:`request_key`, and the leases that let one
  process send a request while the others with the same request wait for its answer.
- :class:`UsageLedger`: one row per model call (tokens, cost, timing, and who: user, host,
  project, CI job). A row that cannot be written is kept in a local :class:`Spool` and written
  with the next row that can be: nothing paid is lost.

Neither ever stores the API key (the cache key is a hash of the request body and the endpoint
URL) nor the store URL's password. Errors are :class:`~assistants.errors.ConfigError`.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from ..errors import AssistantsError
from .db import Database, tables

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ..config import Settings

__all__ = [
    "GroupBy",
    "LedgerEntry",
    "ResponseCache",
    "Spool",
    "UsageLedger",
    "cache_for",
    "cache_row",
    "ledger_for",
    "request_key",
    "store_status",
    "team_fields",
]

log = logging.getLogger("assistants")
_lost: set[str] = set()  # spools that could not be written (warned once)
GroupBy = Literal["day", "task", "model", "user", "project"]


def request_key(payload: dict[str, Any]) -> str:
    """A stable hash of everything that determines a reply."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _upsert(
    conn: Connection,
    table: Any,
    rows: dict[str, Any] | list[dict[str, Any]],
    keys: list[str],
    replace: tuple[str, ...] = (),
) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` (or, with ``replace``, ``DO UPDATE`` those
    columns) in the dialect of ``conn``. For one row (a dict), the result holds its keys when
    it went in."""
    # only the dialect in use is imported (PostgreSQL's costs a SQLite run 30 ms)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    stmt: Any = dialect.insert(table)
    if replace:
        done = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in replace}
        )
    else:
        done = stmt.on_conflict_do_nothing(index_elements=keys)
    if isinstance(rows, dict):  # one row: tell whether it went in (rowcount is unreliable)
        done = done.returning(*(table.c[key] for key in keys))
    return conn.execute(done, rows)


class Spool:
    """Rows a store could not take, one JSON object a line, kept until :meth:`drain` can
    write them. Appends are single writes (safe across processes); a drain first renames the
    file, so two processes never write the same rows twice (and the rows' own keys make a
    repeated write a no-op anyway)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        """Keep ``rows`` (a spool that cannot be written says so, once: they are lost)."""
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        if not text:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            if str(self.path) not in _lost:
                _lost.add(str(self.path))
                log.warning(f"warning: cannot keep rows in {self.path} either: {exc}")

    def pending(self) -> int:
        return sum(_count_lines(p) for p in self._files())

    def _files(self) -> list[Path]:
        if not self.path.parent.is_dir():
            return []
        return sorted(self.path.parent.glob(f"{self.path.name}*"))

    def drain(self, write: Any) -> int:
        """Hand every spooled row to ``write(rows)``; rows it fails on are kept. Returns how
        many were written."""
        written = 0
        for path in self._files():
            taken = path
            if path == self.path:
                taken = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}")
                try:
                    path.replace(taken)
                except FileNotFoundError:
                    continue
            try:
                lines = taken.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                continue  # another process took it
            rows = [json.loads(line) for line in lines if line.strip()]
            try:
                write(rows)
            except Exception:
                self.add(rows)
                taken.unlink(missing_ok=True)
                raise
            taken.unlink(missing_ok=True)
            written += len(rows)
        return written


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except FileNotFoundError:
        return 0


def cache_row(key: str, model: str, reply: dict[str, Any]) -> dict[str, Any]:
    """A row of the ``responses`` table."""
    text = json.dumps(reply, ensure_ascii=False)
    return {"key": key, "created": time.time(), "model": model, "reply": text}


class _Stored:
    """What the response cache and the usage ledger share: their :class:`Database` (``url``: a
    store URL, or a path for a SQLite file), named ``WHAT`` in messages, and a :class:`Spool`
    of rows it could not take, written by :meth:`flush_spool` when it can."""

    WHAT = "store"

    def __init__(self, url: str | Path, spool: Path | None = None) -> None:
        self.db = Database(f"sqlite:///{url}" if isinstance(url, Path) else url, self.WHAT)
        self.spool = Spool(spool) if spool else None

    @property
    def path(self) -> Path | None:
        return self.db.path

    def _write_rows(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def flush_spool(self) -> int:
        """Write the rows kept while the store could not be used (each once)."""
        if self.spool is None:
            return 0
        return self.spool.drain(lambda rows: self.db.run(lambda c: self._write_rows(c, rows)))


class ResponseCache(_Stored):
    """Persistent replies keyed on :func:`request_key` (``url``: a store URL, or a path for a
    SQLite file), and leases on request keys (:meth:`claim`)."""

    WHAT = "response cache"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply, or None (none, or one that is not JSON)."""
        if not self.db.exists():
            return None
        t = tables().responses
        from sqlalchemy import select

        text = self.db.run(
            lambda conn: conn.execute(select(t.c.reply).where(t.c.key == key)).scalar()
        )
        try:
            return json.loads(text) if text is not None else None
        except ValueError:
            return None

    def put(self, key: str, model: str, reply: dict[str, Any], owner: str | None = None) -> None:
        """Store ``reply`` (replacing an older one) and end ``owner``'s lease on ``key``."""
        row = cache_row(key, model, reply)
        self.db.run(lambda conn: self._write(conn, [row], owner))

    def _write(self, conn: Connection, rows: list[dict[str, Any]], owner: str | None) -> None:
        from sqlalchemy import delete

        t = tables()
        _upsert(conn, t.responses, rows, ["key"], replace=("created", "model", "reply"))
        if owner is not None:
            keys = [row["key"] for row in rows]
            conn.execute(
                delete(t.leases).where(t.leases.c.key.in_(keys), t.leases.c.owner == owner)
            )

    def _write_rows(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        self._write(conn, rows, None)

    def claim(self, key: str, owner: str, seconds: float) -> bool:
        """Take the lease on ``key`` for ``seconds`` (free, or its holder's time is up):
        True when ``owner`` now holds it."""
        from sqlalchemy import update

        t = tables().leases
        now = time.time()

        def take(conn: Connection) -> bool:
            row = {"key": key, "owner": owner, "expires": now + seconds}
            if _upsert(conn, t, row, ["key"]).first() is not None:
                return True
            stale = update(t).where(t.c.key == key, t.c.expires < now)
            taken = stale.values(owner=owner, expires=now + seconds).returning(t.c.key)
            return conn.execute(taken).first() is not None

        return self.db.run(take)

    def release(self, key: str, owner: str) -> None:
        from sqlalchemy import delete

        t = tables().leases
        self.db.run(lambda conn: conn.execute(delete(t).where(t.c.key == key, t.c.owner == owner)))

    def info(self) -> dict[str, Any]:
        size = None  # a server's database: not ours to measure
        if self.path is not None:
            size = self.path.stat().st_size if self.path.exists() else 0
        count = self.db.count(tables().responses) if self.db.exists() else 0
        return {"path": self.db.shown, "entries": count, "bytes": size}

    def clear(self) -> int:
        if not self.db.exists():
            return 0
        from sqlalchemy import delete

        t = tables()
        removed: int = self.db.run(lambda conn: conn.execute(delete(t.responses)).rowcount)
        if self.path is not None:  # give the space back (outside a transaction)
            self.db.run(lambda conn: conn.exec_driver_sql("VACUUM"), autocommit=True)
        return removed


class LedgerEntry(dict[str, Any]):
    """One row of the ledger as a dict (task, profile, model, tokens, latency, cost, peak,
    who: username, host, project, ci_job)."""


@lru_cache(maxsize=16)
def _project(cwd: str) -> str | None:
    from ..git import toplevel

    root = toplevel(Path(cwd))
    return root.name if root else None


_CI_JOBS = (  # (variables joined with "/", label), first found wins
    (("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_JOB"), "github"),
    (("CI_PROJECT_PATH", "CI_JOB_ID"), "gitlab"),
    (("BUILDKITE_PIPELINE_SLUG", "BUILDKITE_JOB_ID"), "buildkite"),
    (("CIRCLE_PROJECT_REPONAME", "CIRCLE_BUILD_NUM"), "circleci"),
    (("BUILD_TAG",), "jenkins"),
)


def team_fields() -> dict[str, str | None]:
    """Who makes a call: user, host, project (the git repository's folder name) and CI job
    (``github:owner/repo/<run id>/<job>``, GitLab, Buildkite, CircleCI, Jenkins)."""
    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):
        user = None
    ci_job = None
    for names, label in _CI_JOBS:
        if os.environ.get(names[-1]):
            ci_job = f"{label}:" + "/".join(os.environ.get(n, "") for n in names)
            break
    return {
        "username": user,
        "host": socket.gethostname(),
        "project": _project(os.getcwd()),
        "ci_job": ci_job,
    }


class UsageLedger(_Stored):
    """Every model call, one row: what it cost and how long it took, whether its tokens were
    ``estimated`` (the server reported none: counted with the tokenizer), and who made it."""

    WHAT = "usage ledger"
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
        "uid",
        "username",
        "host",
        "project",
        "ci_job",
    )
    GROUPS: ClassVar[dict[str, str]] = {
        "day": "ts",
        "task": "task",
        "model": "model",
        "user": "username",
        "project": "project",
    }

    def record(self, **row: Any) -> None:
        """Write one row (missing who-fields filled from :func:`team_fields`). With a spool,
        a row the store cannot take is spooled (the error still raised, for one warning),
        and spooled rows are written with the next row that can be."""
        row.setdefault("ts", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        row.setdefault("estimated", 0)
        row.setdefault("uid", uuid.uuid4().hex)
        for name, value in team_fields().items():
            row.setdefault(name, value)
        values = {name: row.get(name) for name in self.FIELDS}
        try:
            self.db.run(lambda conn: conn.execute(tables().calls.insert(), [values]))
        except AssistantsError:
            if self.spool is not None:
                self.spool.add([values])
            raise
        if self.spool is not None and self.spool.path.exists():
            self.flush_spool()

    def _write_rows(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        _upsert(conn, tables().calls, rows, ["uid"])  # a row spooled twice goes in once

    def rows(self) -> list[LedgerEntry]:
        if not self.db.exists():
            return []
        from sqlalchemy import select

        t = tables().calls
        return self.db.run(
            lambda conn: [LedgerEntry(r._mapping) for r in conn.execute(select(t).order_by(t.c.id))]
        )

    def summary(self, by: GroupBy = "day", since: str | None = None) -> list[dict[str, Any]]:
        """Totals grouped by ``day``, ``task``, ``model``, ``user`` or ``project``
        (``since``: an ISO date); ``estimated_calls`` of them had no usage from the server
        (``estimated``: any)."""
        if not self.db.exists():
            return []
        from sqlalchemy import func, select

        t = tables().calls
        column = t.c[self.GROUPS[by]]
        group = func.substr(column, 1, 10) if by == "day" else func.coalesce(column, "-")
        summed = ("cached", "cache_hit_tokens", "cache_miss_tokens", "output_tokens")
        query = select(
            group.label("key"),
            func.count().label("calls"),
            *(func.sum(t.c[name]).label(name) for name in summed),
            func.sum(t.c.reasoning_tokens).label("reasoning_tokens"),
            func.sum(t.c.cost_usd).label("cost_usd"),
            func.sum(t.c.peak).label("peak_calls"),
            func.sum(t.c.estimated).label("estimated_calls"),
        )
        if since:
            query = query.where(t.c.ts >= since)
        query = query.group_by(group).order_by(group)

        def read(conn: Connection) -> list[dict[str, Any]]:
            out = []
            for r in conn.execute(query):
                row = {k: (int(v) if isinstance(v, int) else v) for k, v in r._mapping.items()}
                row["cost_usd"] = float(row["cost_usd"] or 0)
                out.append({**row, "estimated": bool(row["estimated_calls"])})
            return out

        return self.db.run(read)


def _spool_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir() / "spool"


def cache_for(settings: Settings) -> ResponseCache:
    """The response cache the settings name (replies it could not store spooled locally)."""
    return ResponseCache(settings.resolved_cache_url(), _spool_dir(settings) / "cache.jsonl")


def ledger_for(settings: Settings) -> UsageLedger:
    """The usage ledger the settings name (rows it could not write spooled locally)."""
    return UsageLedger(settings.resolved_ledger_url(), _spool_dir(settings) / "ledger.jsonl")


def store_status(settings: Settings, *, init: bool = False) -> list[dict[str, Any]]:
    """For the cache and the ledger: backend, masked URL, schema version, row counts and
    spooled rows. ``init`` creates or upgrades the schemas first and writes the spooled rows."""
    from .db import SCHEMA_VERSION

    out = []
    stores: tuple[ResponseCache | UsageLedger, ...] = (cache_for(settings), ledger_for(settings))
    for store in stores:
        t = tables()
        if init:
            store.db.run(lambda conn: None)
            store.flush_spool()
        version = store.db.version() if store.db.exists() else None
        counts: dict[str, int] = {}
        if version == SCHEMA_VERSION:
            names = (t.responses, t.leases) if isinstance(store, ResponseCache) else (t.calls,)
            counts = {table.name: store.db.count(table) for table in names}
        out.append(
            {
                "store": store.WHAT,
                "backend": store.db.backend,
                "url": store.db.shown,
                "schema_version": version,
                "rows": counts,
                "spooled": store.spool.pending() if store.spool else 0,
            }
        )
    return out
