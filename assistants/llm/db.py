"""The one storage layer under the response cache and the usage ledger: SQLAlchemy 2 Core on
SQLite (the default: files in the data dir) or PostgreSQL (psycopg 3), chosen by the URL
(``sqlite:///path``, ``postgresql://user:password@host/db``).

- Schema: the tables of :func:`tables` plus ``assistants_schema`` (one row: the version).
  Created, or brought up from an older version, on first use in a process and by
  ``assistants store init``; a store with a newer schema than :data:`SCHEMA_VERSION` is
  refused with a one-line :class:`~assistants.errors.ConfigError`.
- Healing: a damaged SQLite file is moved aside as ``<name>.corrupt-<time>`` and a fresh one
  created, with one warning.
- Failures are :class:`~assistants.errors.ConfigError` naming the store by its masked URL; no
  message ever holds the password. A server that cannot be reached is not asked again for
  :data:`RETRY_AFTER` seconds, so a run whose store is gone does not wait on every call.
- SQLAlchemy is imported only when a store is used (``assistants --help`` stays fast).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from ..config import mask_url
from ..errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["RETRY_AFTER", "SCHEMA_VERSION", "Database", "dispose_all", "tables"]

log = logging.getLogger("assistants")
T = TypeVar("T")

SCHEMA_VERSION = 2
"""1: the unversioned SQLite files of the first releases; 2: versioned, leases, team columns
(user, host, project, CI job) and a unique id per ledger row."""
RETRY_AFTER = 15.0  # seconds before a server that could not be reached is asked again
CONNECT_TIMEOUT = 5  # seconds


@lru_cache(maxsize=1)
def tables() -> SimpleNamespace:
    """The schema as SQLAlchemy tables: ``version``, ``responses``, ``calls``, ``leases``."""
    from sqlalchemy import Column, Float, Index, Integer, MetaData, Table, Text

    meta = MetaData()
    version = Table("assistants_schema", meta, Column("version", Integer, nullable=False))
    responses = Table(
        "responses",
        meta,
        Column("key", Text, primary_key=True),
        Column("created", Float, nullable=False),
        Column("model", Text, nullable=False),
        Column("reply", Text, nullable=False),
    )
    counted = ("cache_hit_tokens", "cache_miss_tokens", "output_tokens", "reasoning_tokens")
    calls = Table(
        "calls",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("ts", Text, nullable=False),
        Column("task", Text, nullable=False),
        Column("profile", Text, nullable=False),
        Column("model", Text, nullable=False),
        *(Column(name, Integer, nullable=False) for name in counted),
        Column("latency_s", Float, nullable=False),
        Column("cost_usd", Float, nullable=False),
        Column("peak", Integer, nullable=False),
        Column("cached", Integer, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("estimated", Integer, nullable=False, server_default="0"),
        Column("uid", Text),
        Column("username", Text),
        Column("host", Text),
        Column("project", Text),
        Column("ci_job", Text),
        Index("calls_uid", "uid", unique=True),
        Index("calls_ts", "ts"),
        sqlite_autoincrement=True,
    )
    leases = Table(
        "leases",
        meta,
        Column("key", Text, primary_key=True),
        Column("owner", Text, nullable=False),
        Column("expires", Float, nullable=False),
    )
    return SimpleNamespace(
        meta=meta, version=version, responses=responses, calls=calls, leases=leases
    )


@dataclass
class _State:
    """What a process knows of one store: its engine, whether its schema was checked, and
    until when it is known to be unreachable."""

    engine: Engine
    ready: bool = False
    down_until: float = 0.0


_STATES: dict[tuple[int, str], _State] = {}
_LOCK = threading.Lock()


def dispose_all() -> None:
    """Close every pooled connection of this process (tests; a forked child)."""
    with _LOCK:
        for state in _STATES.values():
            state.engine.dispose()
        _STATES.clear()


class Database:
    """One store's database (``url``: ``sqlite:///path`` or ``postgresql://...``);
    ``what`` names it in messages ("response cache", "usage ledger")."""

    def __init__(self, url: str, what: str) -> None:
        self.url = url
        self.what = what
        scheme = url.split(":", 1)[0].lower()
        if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
            self.backend = "postgresql"
        elif scheme == "sqlite":
            self.backend = "sqlite"
        else:
            raise ConfigError(
                f"the {what} URL {mask_url(url)} is not sqlite:///path or postgresql://…",
                hint="set ASSISTANTS_STORE_URL (or cache_url / ledger_url) to a supported URL",
            )
        self.path: Path | None = None
        if self.backend == "sqlite":
            self.path = Path(unquote(urlsplit(url).path[1:] or ":memory:")).expanduser()

    @property
    def shown(self) -> str:
        """The store as messages name it: the file, or the URL with its password masked."""
        return str(self.path) if self.path is not None else mask_url(self.url)

    def exists(self) -> bool:
        """False only for a SQLite file not created yet (reads then need no file)."""
        return self.path is None or self.path.exists()

    # -- running operations ----------------------------------------------------------------
    def run(self, operation: Callable[[Connection], T], *, autocommit: bool = False) -> T:
        """``operation`` in one transaction (``autocommit``: outside any), the schema checked
        first (once per process); a damaged SQLite file is healed once."""
        for healed in (False, True):
            try:
                return self._run(operation, autocommit)
            except ConfigError:
                raise
            except Exception as exc:
                if healed or not self._damaged(exc):
                    raise self._error(exc) from None
                self._heal()
        raise AssertionError("unreachable")  # pragma: no cover

    def _run(self, operation: Callable[[Connection], T], autocommit: bool) -> T:
        state = self._state()
        if state.down_until > time.monotonic():
            raise ConfigError(
                f"cannot use the {self.what} {self.shown}: not reachable a moment ago",
                hint=self._hint(),
            )
        try:
            if not state.ready:
                self._prepare(state.engine)
                state.ready = True
            if autocommit:
                with state.engine.connect() as conn:
                    return operation(conn.execution_options(isolation_level="AUTOCOMMIT"))
            with state.engine.begin() as conn:
                return operation(conn)
        except Exception as exc:
            if self.backend == "postgresql" and _unreachable(exc):
                state.down_until = time.monotonic() + RETRY_AFTER
            raise

    def count(self, table: Any) -> int:
        """How many rows ``table`` holds."""
        from sqlalchemy import func, select

        query = select(func.count()).select_from(table)
        return self.run(lambda conn: int(conn.execute(query).scalar() or 0))

    def version(self) -> int | None:
        """The schema version in the store (None: no schema yet), without creating it."""
        from sqlalchemy import inspect, select

        try:
            with self._state().engine.connect() as conn:
                return _stored_version(conn, inspect(conn), select)
        except Exception as exc:
            raise self._error(exc) from None

    def _state(self) -> _State:
        key = (os.getpid(), self.url)
        with _LOCK:
            state = _STATES.get(key)
            if state is None:
                state = _STATES[key] = _State(self._engine())
            return state

    def _engine(self) -> Engine:
        from sqlalchemy import create_engine, event

        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                f"sqlite:///{self.path}",
                connect_args={"timeout": 30},  # a pool: 1 ms a miss, where a fresh connection
                hide_parameters=True,  # per operation took 50 (bench_store.py)
            )

            @event.listens_for(engine, "connect")
            def _wal(dbapi_conn: Any, _: Any) -> None:
                dbapi_conn.execute("PRAGMA journal_mode=WAL")
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")  # WAL: still never corrupt

            return engine
        url = re.sub(r"^[a-z+]+://", "postgresql+psycopg://", self.url, count=1)
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=4,
            max_overflow=8,
            connect_args={"connect_timeout": CONNECT_TIMEOUT, "application_name": "assistants"},
            hide_parameters=True,
        )

    def _prepare(self, engine: Engine) -> None:
        """Create the schema or bring it up to :data:`SCHEMA_VERSION`; refuse a newer one.
        Processes starting together may race to create it: the loser tries again."""
        for attempt in range(4):
            try:
                with engine.begin() as conn:
                    _migrate(conn, self)
                return
            except ConfigError:
                raise
            except Exception as exc:
                gone = self.backend == "postgresql" and _unreachable(exc)
                if attempt == 3 or gone or self._damaged(exc):
                    raise
                time.sleep(0.1 * (attempt + 1))

    # -- failures --------------------------------------------------------------------------
    def _damaged(self, exc: BaseException) -> bool:
        orig = getattr(exc, "orig", exc)
        return (
            self.path is not None
            and isinstance(orig, sqlite3.DatabaseError)
            and _corrupt(orig)
            and self.path.is_file()
        )

    def _heal(self) -> None:
        """Keep a damaged file as ``<name>.corrupt-<time>`` (with its WAL files); one
        warning; the next operation creates a fresh one."""
        assert self.path is not None
        path = self.path
        self._state().engine.dispose()  # no connection left open on the damaged file
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        try:
            path.replace(target)
            for suffix in ("-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    side.replace(target.with_name(target.name + suffix))
        except OSError as exc:
            raise self._error(exc) from None
        self._state().ready = False
        log.warning(
            f"the {self.what} {path} was damaged: moved it to {target.name} and started a new one"
        )

    def _error(self, exc: BaseException) -> ConfigError:
        return ConfigError(
            f"cannot use the {self.what} {self.shown}: {self.scrub(_first_line(exc))}",
            hint=self._hint(),
        )

    def _hint(self) -> str:
        if self.path is not None:
            return "set ASSISTANTS_DATA_DIR to a writable folder"
        return "check the server and ASSISTANTS_STORE_URL (`assistants store status`)"

    def scrub(self, text: str) -> str:
        """``text`` without the URL's password (as written or percent-decoded)."""
        try:
            password = urlsplit(self.url).password
        except ValueError:
            password = None
        for secret in {password, unquote(password)} if password else ():
            text = text.replace(secret, "***")
        return text.replace(self.url, self.shown)


def _first_line(exc: BaseException) -> str:
    """The driver's own message, first line (not SQLAlchemy's wrapper with the statement)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def _unreachable(exc: BaseException) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))


def _corrupt(exc: sqlite3.Error) -> bool:
    """Is this the error of a damaged file (rather than one we may not open or write)?"""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    text = str(exc)
    return "not a database" in text or "malformed" in text


def _stored_version(conn: Connection, inspector: Any, select: Any) -> int | None:
    t = tables()
    if not inspector.has_table(t.version.name):
        return 1 if inspector.has_table(t.calls.name) or inspector.has_table("responses") else None
    return conn.execute(select(t.version.c.version)).scalar() or 1


def _migrate(conn: Connection, db: Database) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION` inside the transaction of ``conn``."""
    from sqlalchemy import delete, insert, inspect, select, text
    from sqlalchemy.schema import CreateColumn

    inspector = inspect(conn)
    found = _stored_version(conn, inspector, select)
    if found == SCHEMA_VERSION:
        return
    if found is not None and found > SCHEMA_VERSION:
        raise ConfigError(
            f"the {db.what} {db.shown} has schema version {found}; this version of assistants "
            f"knows version {SCHEMA_VERSION} and will not use it",
            hint="upgrade assistants (pip install -U assistants), or point it at another store",
        )
    t = tables()
    t.meta.create_all(conn)
    for table in (t.responses, t.calls, t.leases):
        have = {column["name"] for column in inspect(conn).get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:  # a file of version 1
                spec = CreateColumn(column).compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {spec}"))
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    conn.execute(delete(t.version))
    conn.execute(insert(t.version).values(version=SCHEMA_VERSION))
