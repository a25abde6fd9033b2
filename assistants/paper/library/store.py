"""The library's index: one SQLite file with an FTS5 table of page-level passages (BM25
ranking), kept beside the papers as ``DIR/.assistants-library.sqlite`` so it travels with the
folder (a hidden file: ``paper analyze DIR`` and the index itself skip it).

Incremental: a file whose size and modification time are those recorded is not read at all; a
file that changed is hashed (SHA-256) and re-read by the PDF loader only when its content
differs (a copy with a new time costs a hash, no parse); a file that moved keeps its passages
(same hash, new path); a file that is gone is dropped. A PDF the loader cannot read is
recorded with its error and not retried until it changes. Changing ``paper.cut_references``
re-reads everything (the passages depend on it).

The index is a cache of the folder: an unreadable or older-format file is rebuilt. Only the
standard library's ``sqlite3`` is used (FTS5 is compiled into CPython's SQLite builds).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ... import errors
from ...config import Settings
from ...llm.tokens import count_tokens_batch
from ..batch import MAX_LOADING, paper_files
from ..passages import page_pieces, words
from ..pdf import load_paper
from ..request import paper_text
from ..text import Paper, split_synthetic_pages
from .models import IndexFailure, IndexReport, LibraryPaper
from .records import record_from_paper, with_labels

__all__ = [
    "INDEX_NAME",
    "LibraryStore",
    "Row",
    "fts_query",
    "paper_passages",
]

INDEX_NAME = ".assistants-library.sqlite"
FORMAT = "1"
LONG_PAGE_CHARS = 4_000  # a longer page is cut into passages of about PASSAGE_CHARS
PASSAGE_CHARS = 2_500
_QUESTION_WORDS = frozenset(
    [
        "about",
        "according",
        "any",
        "can",
        "could",
        "did",
        "does",
        "paper",
        "papers",
        "library",
        "me",
        "say",
        "says",
        "show",
        "tell",
        "there",
        "these",
        "they",
        "those",
        "we",
        "our",
        "would",
        "should",
        "will",
        "give",
        "list",
        "find",
    ]
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS papers (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    record TEXT,
    error TEXT,
    hint TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5(
    text, paper_id UNINDEXED, page UNINDEXED, tokens UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


def fts_query(question: str) -> str:
    """An FTS5 query for ``question``: its content words (stop words and question words
    out), each quoted (so no word is read as query syntax), joined with OR — BM25 then ranks
    the passages that share the most (and rarest) of them first. Empty when no word is left."""
    seen: list[str] = []
    for word in words(question):
        if word not in _QUESTION_WORDS and word not in seen:
            seen.append(word)
    return " OR ".join(f'"{w}"' for w in seen)


def paper_passages(paper: Paper, settings: Settings) -> list[tuple[int, str]]:
    """``(page, text)`` passages of a paper: one per page of the text the analysis reads
    (references cut unless configured not to), a long page cut at paragraphs."""
    out: list[tuple[int, str]] = []
    for number, tagged in page_pieces(paper_text(paper, settings)):
        text = tagged.split("\n", 1)[1].strip() if "\n" in tagged else ""
        if not text:
            continue
        if len(text) <= LONG_PAGE_CHARS:
            out.append((number, text))
            continue
        out.extend((number, part.strip()) for part in split_synthetic_pages(text, PASSAGE_CHARS))
    return [(page, text) for page, text in out if text]


@dataclass(frozen=True)
class Row:
    """A passage found by :meth:`LibraryStore.search`."""

    paper_id: int
    page: int
    tokens: int
    text: str
    score: float
    snippet: str


@dataclass
class _Known:
    id: int
    sha256: str
    size: int
    mtime_ns: int
    error: str | None
    hint: str | None


class LibraryStore:
    """The index file of the library in ``folder`` (``path``: elsewhere)."""

    def __init__(self, folder: str | Path, path: str | Path | None = None) -> None:
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise errors.InputError(f"{self.folder}: not a folder")
        self.path = Path(path).expanduser() if path else self.folder / INDEX_NAME

    # -- the file ------------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """An open index (created or rebuilt as needed); committed when the block ends."""
        conn = self._open()
        with closing(conn):
            yield conn
            conn.commit()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise errors.InputError(
                f"{self.path}: cannot open the library index ({exc})",
                hint="the folder must be writable (Python: Library(folder, index_path=...))",
            ) from None
        try:
            self._prepare(conn)
        except sqlite3.OperationalError as exc:
            conn.close()
            if "fts5" in str(exc).lower():
                raise errors.ConfigError(
                    "this Python's SQLite has no FTS5 full-text search",
                    hint="use a Python build whose sqlite3 includes FTS5 (python.org, conda, "
                    "most Linux distributions)",
                ) from None
            if "readonly" in str(exc).lower() or "unable to open" in str(exc).lower():
                raise errors.InputError(
                    f"{self.path}: cannot write the library index ({exc})",
                    hint="the folder must be writable (Python: Library(folder, index_path=...))",
                ) from None
            raise
        except sqlite3.DatabaseError:  # not a database (damaged): it is a cache, rebuild it
            conn.close()
            self.path.unlink(missing_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            self._prepare(conn)
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.executescript(_SCHEMA)
        found = conn.execute("SELECT value FROM info WHERE key = 'format'").fetchone()
        if found is None or found[0] != FORMAT:
            conn.executescript("DELETE FROM papers; DELETE FROM passages;")
            conn.execute("INSERT OR REPLACE INTO info VALUES ('format', ?)", (FORMAT,))
            conn.commit()

    def size_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    # -- indexing ------------------------------------------------------------------------
    def update(
        self,
        settings: Settings,
        *,
        password: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> IndexReport:
        """Bring the index up to date with the folder (see the module docstring)."""
        files = [p for p in paper_files(self.folder, [self.path]) if p.suffix.lower() == ".pdf"]
        options = json.dumps({"cut_references": settings.paper.cut_references})
        report = IndexReport(folder=str(self.folder), index_path=str(self.path))
        with self.connect() as conn:
            stored = conn.execute("SELECT value FROM info WHERE key = 'options'").fetchone()
            if stored is None or stored[0] != options:
                conn.executescript("DELETE FROM papers; DELETE FROM passages;")
                conn.execute("INSERT OR REPLACE INTO info VALUES ('options', ?)", (options,))
            known = {
                source: _Known(*rest)
                for source, *rest in conn.execute(
                    "SELECT source, id, sha256, size, mtime_ns, error, hint FROM papers"
                )
            }
            present = {self._source(p) for p in files}
            vanished = {s: k for s, k in known.items() if s not in present}
            to_read: list[tuple[Path, str, str, os.stat_result, bool]] = []
            for path in files:
                source = self._source(path)
                old = known.get(source)
                try:
                    stat = path.stat()
                    if old and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                        self._unchanged(report, source, old)
                        continue
                    digest = _sha256(path)
                except OSError as exc:  # unreadable now: reported, its old passages kept
                    error = f"cannot read ({exc.strerror or exc})"
                    report.failures.append(IndexFailure(source=source, error=error))
                    continue
                if old and old.sha256 == digest:
                    conn.execute(
                        "UPDATE papers SET size = ?, mtime_ns = ? WHERE id = ?",
                        (stat.st_size, stat.st_mtime_ns, old.id),
                    )
                    self._unchanged(report, source, old)
                    continue
                twin = next((s for s, k in vanished.items() if k.sha256 == digest), None)
                if old is None and twin is not None:
                    moved = vanished.pop(twin)
                    conn.execute(
                        "UPDATE papers SET source = ?, size = ?, mtime_ns = ? WHERE id = ?",
                        (source, stat.st_size, stat.st_mtime_ns, moved.id),
                    )
                    report.moved.append(source)
                    self._unchanged(report, source, moved, count=False)
                    continue
                to_read.append((path, source, digest, stat, old is not None))
            for source, gone in vanished.items():
                conn.execute("DELETE FROM passages WHERE paper_id = ?", (gone.id,))
                conn.execute("DELETE FROM papers WHERE id = ?", (gone.id,))
                report.removed.append(source)
            conn.commit()
            self._read(conn, to_read, settings, password, report, progress)
            totals = conn.execute(
                "SELECT count(*), coalesce(sum(tokens), 0) FROM passages"
            ).fetchone()
            report.passages, report.tokens = int(totals[0]), int(totals[1])
            report.papers = conn.execute(
                "SELECT count(*) FROM papers WHERE record IS NOT NULL"
            ).fetchone()[0]
        report.size_bytes = self.size_bytes()
        return report

    def _source(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    @staticmethod
    def _unchanged(report: IndexReport, source: str, old: _Known, *, count: bool = True) -> None:
        if count:
            report.unchanged += 1
        if old.error is not None:
            report.failures.append(IndexFailure(source=source, error=old.error, hint=old.hint))

    def _read(
        self,
        conn: sqlite3.Connection,
        files: list[tuple[Path, str, str, os.stat_result, bool]],
        settings: Settings,
        password: str | None,
        report: IndexReport,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        """Load ``files`` (a few PDF workers at once) and write each as it arrives."""
        if not files:
            return
        if progress:
            progress(0, len(files))
        workers = min(MAX_LOADING, settings.concurrency_for("paper"), len(files))

        def load(path: Path) -> Paper:
            return load_paper(path, password=password, settings=settings.paper)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(load, item[0]): item for item in files}
            for done, future in enumerate(as_completed(futures), start=1):
                path, source, digest, stat, existed = futures[future]
                report.read += 1
                try:
                    paper = future.result()
                except errors.InputError as exc:
                    message = exc.message
                    for prefix in (f"{path}: ", f"{path.resolve()}: "):
                        message = message.removeprefix(prefix)
                    self._write(conn, source, digest, stat, None, [], (message, exc.hint))
                    report.failures.append(
                        IndexFailure(source=source, error=message, hint=exc.hint)
                    )
                else:
                    record = record_from_paper(paper, source, sha256=digest)
                    self._write(conn, source, digest, stat, record, paper_passages(paper, settings))
                    (report.updated if existed else report.added).append(source)
                conn.commit()
                if progress:
                    progress(done, len(files))

    @staticmethod
    def _write(
        conn: sqlite3.Connection,
        source: str,
        digest: str,
        stat: os.stat_result,
        record: LibraryPaper | None,
        passages: list[tuple[int, str]],
        failure: tuple[str, str | None] | None = None,
    ) -> None:
        tokens = count_tokens_batch([text for _, text in passages]) if passages else []
        if record is not None:
            record = record.model_copy(update={"passages": len(passages), "tokens": sum(tokens)})
        row = conn.execute("SELECT id FROM papers WHERE source = ?", (source,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM passages WHERE paper_id = ?", (row[0],))
            conn.execute("DELETE FROM papers WHERE id = ?", (row[0],))
        cursor = conn.execute(
            "INSERT INTO papers (source, sha256, size, mtime_ns, record, error, hint) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                source,
                digest,
                stat.st_size,
                stat.st_mtime_ns,
                record.model_dump_json() if record is not None else None,
                failure[0] if failure else None,
                failure[1] if failure else None,
            ),
        )
        conn.executemany(
            "INSERT INTO passages (text, paper_id, page, tokens) VALUES (?, ?, ?, ?)",
            [
                (text, cursor.lastrowid, page, count)
                for (page, text), count in zip(passages, tokens, strict=True)
            ],
        )

    # -- reading -------------------------------------------------------------------------
    def papers(self) -> dict[int, LibraryPaper]:
        """Every indexed paper by id, with its citation label."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT id, source, record FROM papers WHERE record IS NOT NULL"
            ).fetchall()
        records = {  # the path column is current (a moved file keeps its record)
            pid: LibraryPaper.model_validate_json(text).model_copy(update={"source": source})
            for pid, source, text in rows
        }
        labelled = {r.source: r for r in with_labels(records.values())}
        return {pid: labelled[r.source] for pid, r in records.items()}

    def search(self, query: str, limit: int) -> list[Row]:
        """The best ``limit`` passages for an FTS5 ``query`` (from :func:`fts_query`)."""
        if not query:
            return []
        with self.connect() as conn:
            try:
                found = conn.execute(
                    "SELECT paper_id, page, tokens, text, -bm25(passages), "
                    "snippet(passages, 0, '**', '**', ' … ', 24) "
                    "FROM passages WHERE passages MATCH ? ORDER BY bm25(passages) LIMIT ?",
                    (query, limit),
                ).fetchall()
            except sqlite3.OperationalError as exc:  # a query FTS5 cannot parse
                raise errors.InputError(f"search: {exc}", hint="use plain words") from None
        return [
            Row(int(a), int(b), int(c), d, float(e), re.sub(r"\s+", " ", f))
            for a, b, c, d, e, f in found
        ]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
