"""Load a paper: PDF (pypdf), ``.txt`` / ``.md``, raw text or PDF bytes → :class:`Paper`.

This module is the parent side. Hostile input is contained in a **child process**
(:mod:`assistants.paper.worker`): pypdf runs in a ``python -c`` worker that reads one JSON
request on stdin and writes one JSON line per page on stdout. A thread cannot be stopped from
outside, so a page whose content stream makes pypdf spin (or allocate without end) would hang
the caller for good; a process can be killed. The worker sets pypdf's own limits, runs under
``RLIMIT_AS`` (``paper.max_memory_mb``) and ``RLIMIT_CPU`` where the OS has them, and truncates
each page's text to ``paper.max_page_chars``.

The parent enforces a time limit per page (``paper.page_timeout``: the page is skipped with a
warning and a fresh worker continues after it) and per file (``paper.extract_timeout``: a
one-line :class:`~assistants.errors.InputError`). A page's clock starts when the worker is
ready for it (after the previous page, or once the document is open), so a worker's start-up
on a busy machine never counts against a page; start-up and opening are bounded by the file
limit. We do not use ``multiprocessing``: its
``spawn``/``forkserver`` start methods re-run the caller's ``__main__`` (scripts without an
``if __name__ == "__main__"`` guard would break), and ``fork`` is unsafe in a threaded caller.

Start-up is kept off the critical path: this module imports only the standard library, and a
call without ``settings`` takes the ``paper`` defaults from :class:`_ReaderSettings` instead of
importing the configuration (pydantic), so the worker is started at once; the paper model
(pydantic again) is imported in a background thread while the worker reads the pages.

Every failure is an :class:`~assistants.errors.InputError` with one line and a hint: not found,
not a PDF, empty, truncated/corrupt, encrypted (``--password``), wrong password, zero pages,
image-only (run OCR, e.g. ``ocrmypdf``), too large, too slow.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import InputError
from .worker import BOOTSTRAP, Limits

if TYPE_CHECKING:
    from ..config import PaperSettings, Settings
    from .text import Paper

__all__ = ["load_paper"]

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
# what may name a remote paper (assistants.paper.fetch decides; imported only then)
_REMOTE = re.compile(r"(?:arxiv:|doi:|10\.\d|[a-z][a-z0-9+.-]*://)", re.IGNORECASE)
_OCR_HINT = "the PDF has no text layer; run OCR first, e.g. `ocrmypdf in.pdf out.pdf`"


def load_paper(
    path_or_text: str | os.PathLike[str] | bytes | Paper,
    *,
    password: str | None = None,
    settings: PaperSettings | Settings | None = None,
) -> Paper:
    """Load a paper from a path (``.pdf``, ``.txt``, ``.md``), an identifier (``arxiv:ID``,
    an arXiv, DOI or PDF URL, ``doi:10.xxxx/...``: downloaded and cached by
    :mod:`assistants.paper.fetch`), PDF bytes, or raw text. ``settings`` is the ``paper``
    section (or the whole :class:`~assistants.config.Settings`; an identifier needs the whole,
    else they are loaded).

    A ``str`` is a path when it names an existing file or looks like one (one line, ending in a
    known suffix); otherwise it is the paper's text. Raises :class:`InputError` for anything
    that cannot be used (:class:`~assistants.errors.DownloadError` for a failed download).
    """
    reader = _reader_settings(settings)
    if isinstance(path_or_text, str) and _names_remote(path_or_text):
        from .fetch import fetch_paper

        fetched = fetch_paper(path_or_text, settings)
        name = path_or_text.strip()
        return fetched.apply(_load_pdf(fetched.path, name, password, reader))
    if not isinstance(path_or_text, (str, bytes, os.PathLike)):
        from .text import Paper

        if isinstance(path_or_text, Paper):
            return path_or_text
    if isinstance(path_or_text, bytes):
        if b"%PDF-" not in path_or_text[:1024]:
            raise InputError("<bytes>: not a PDF (no %PDF- header)")
        return _load_pdf(path_or_text, "<bytes>", password, reader)
    if isinstance(path_or_text, str) and not _looks_like_path(path_or_text):
        from .text import paper_from_text

        return paper_from_text(path_or_text)
    path = Path(path_or_text).expanduser()
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(
            f"{path}: is a folder", hint="use `assistants paper analyze DIR` for a folder"
        )
    max_bytes = int(reader.max_file_mb * 1_000_000)
    if path.suffix.lower() in TEXT_SUFFIXES:
        from .text import load_text_paper

        return load_text_paper(path, max_bytes=max_bytes)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path}: empty file (0 bytes)")
    if b"%PDF-" not in head:
        hint = "pass a .pdf, .txt or .md file"
        raise InputError(f"{path}: not a PDF (no %PDF- header)", hint=hint)
    if size > max_bytes:
        raise InputError(
            f"{path}: {size / 1e6:.1f} MB is over the {reader.max_file_mb:g} MB limit",
            hint="raise paper.max_file_mb in [tool.assistants] if this is intended",
        )
    return _load_pdf(path, str(path), password, reader)


@dataclass(frozen=True)
class _ReaderSettings:
    """What the loader takes from the ``paper`` settings. The defaults are
    :class:`~assistants.config.PaperSettings`' own (a test keeps them equal), so a call without
    ``settings`` does not import the configuration (pydantic) before the reader starts."""

    max_file_mb: float = 200.0
    max_pages: int = 2_000
    max_page_chars: int = 200_000
    max_memory_mb: int = 2_048
    extract_timeout: float = 60.0
    page_timeout: float = 10.0


def _reader_settings(settings: PaperSettings | Settings | None) -> _ReaderSettings:
    if settings is None:
        return _ReaderSettings()
    from ..config import Settings  # already imported: the caller made `settings`

    paper = settings.paper if isinstance(settings, Settings) else settings
    return _ReaderSettings(**{f.name: getattr(paper, f.name) for f in fields(_ReaderSettings)})


def _names_remote(value: str) -> bool:
    """An arXiv id, DOI or URL (and no file of that name); the fetch module is imported only
    for a string that may be one (it is off the path of a local file's start-up)."""
    if not _REMOTE.match(value.lstrip()):
        return False
    from .fetch import is_identifier

    if not is_identifier(value):
        return False
    try:
        return not Path(value).expanduser().exists()
    except (OSError, ValueError):
        return True


def _looks_like_path(value: str) -> bool:
    if "\n" in value or len(value) > 4096:
        return False
    candidate = Path(value).expanduser()
    try:
        if candidate.exists():
            return True
    except OSError:
        return False
    return candidate.suffix.lower() in {".pdf", *TEXT_SUFFIXES}


# ---------------------------------------------------------------------------------------------
# running the reader process


def _load_pdf(
    source: Path | bytes, name: str, password: str | None, settings: _ReaderSettings
) -> Paper:
    data = source if isinstance(source, bytes) else None
    path = None if isinstance(source, bytes) else str(source)
    limits = Limits(
        max_pages=settings.max_pages,
        max_page_chars=settings.max_page_chars,
        max_memory_mb=settings.max_memory_mb,
        cpu_seconds=max(1, int(settings.extract_timeout) + 5),
    )
    model = f"{__package__}.text"

    def started() -> None:  # the paper model loads while the worker reads, in parallel
        if model not in sys.modules:
            threading.Thread(target=_import_quietly, args=(model,), daemon=True).start()

    raw = _extract(
        on_start=started,
        path=path,
        data=data,
        name=name,
        password=password,
        limits=limits,
        page_timeout=settings.page_timeout,
        file_timeout=settings.extract_timeout,
    )
    from .text import build_paper

    count = raw["page_count"]
    texts: list[str] = [raw["pages"].get(i, "") for i in range(count)]
    warnings = list(raw["warnings"])
    paper = build_paper(
        source=name,
        kind="pdf",
        pages=texts,
        labels=raw.get("labels") or None,
        metadata=raw.get("metadata") or {},
        outline=[tuple(entry) for entry in raw.get("outline") or []],
        warnings=warnings,
        layouts=raw.get("layouts") or {},
    )
    with_text = [p.number for p in paper.pages if len(p.text.strip()) >= 20]
    if not with_text:
        images = raw.get("image_pages", 0)
        failures = [w for w in warnings if w.startswith("page ")]
        if failures and not images:
            raise InputError(
                f"{name}: no text could be extracted ({failures[0]})",
                hint="the file may be damaged or hostile; try `qpdf in.pdf out.pdf`",
            )
        if images:
            raise InputError(f"{name}: no text layer (image-only, {count} pages)", hint=_OCR_HINT)
        raise InputError(f"{name}: no extractable text in {count} pages", hint=_OCR_HINT)
    empty = [p.number for p in paper.pages if not p.text.strip()]
    if empty and len(empty) >= max(2, count // 4):
        paper.warnings.append(
            f"{len(empty)} of {count} pages have no text (scanned pages? consider OCR)"
        )
    return paper


def _import_quietly(module: str) -> None:
    with contextlib.suppress(Exception):  # the caller's own import reports any failure
        importlib.import_module(module)


def _extract(
    *,
    path: str | None,
    data: bytes | None,
    name: str,
    password: str | None,
    limits: Limits,
    page_timeout: float,
    file_timeout: float,
    on_start: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run the worker (restarting it after a page that times out or crashes it);
    ``on_start`` is called once the first worker process exists."""
    deadline = time.monotonic() + file_timeout
    result: dict[str, Any] = {"pages": {}, "warnings": [], "page_count": 0}
    start = 0
    failed_pages = 0
    while True:
        proc, lines = _start_worker(path, data, password, start, limits)
        if on_start is not None:
            on_start()
            on_start = None
        try:
            current = start
            opened = start > 0  # after a restart the document is known
            ready = False  # the page clock runs only once the worker says it is ready
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise InputError(
                        f"{name}: text extraction took longer than {file_timeout:g} s",
                        hint="raise paper.extract_timeout, or check the PDF (hostile streams?)",
                    )
                wait = min(remaining, page_timeout) if ready else remaining
                try:
                    line = lines.get(timeout=wait)
                except queue.Empty:
                    if not ready or time.monotonic() >= deadline:
                        continue  # the file deadline reports it
                    result["warnings"].append(
                        f"page {current + 1}: skipped, extraction took longer than "
                        f"{page_timeout:g} s"
                    )
                    break
                if line is None:  # the worker died: crash, memory or CPU limit
                    code = proc.wait()
                    if not opened:
                        raise InputError(
                            f"{name}: the PDF reader stopped while opening the file "
                            f"(exit code {code}; memory or CPU limit?)",
                            hint="the file may be hostile or corrupt; try repairing it, e.g. "
                            "`qpdf in.pdf out.pdf`",
                        )
                    result["warnings"].append(
                        f"page {current + 1}: skipped, the PDF reader stopped (exit code {code})"
                    )
                    break
                try:
                    message = json.loads(line)
                    kind = message["kind"]
                except (ValueError, KeyError, TypeError):
                    continue  # not our protocol: ignore
                if kind == "error":
                    raise InputError(f"{name}: {message['message']}", hint=message.get("hint"))
                if kind == "ready":
                    ready = True
                elif kind == "meta":
                    opened = ready = True
                    result.update(
                        {k: v for k, v in message.items() if k not in {"kind", "warnings"}}
                    )
                    result["warnings"].extend(message.get("warnings", []))
                elif kind == "page":
                    index = message["index"]
                    result["pages"][index] = message["text"]
                    if message.get("layout"):
                        result.setdefault("layouts", {})[index] = message["layout"]
                    if message.get("image"):
                        result["image_pages"] = result.get("image_pages", 0) + 1
                    if message.get("warning"):
                        result["warnings"].append(message["warning"])
                    current = index + 1
                elif kind == "done":
                    return result
            # a page failed: continue after it in a fresh worker
            failed_pages += 1
            if failed_pages > max(3, result["page_count"] // 10):
                raise InputError(
                    f"{name}: {failed_pages} pages could not be extracted in time",
                    hint="the PDF looks hostile or damaged; try `qpdf` or `ocrmypdf` on it",
                )
            start = current + 1
            if start >= result["page_count"]:
                return result
        finally:
            _stop(proc)


def _start_worker(
    path: str | None,
    data: bytes | None,
    password: str | None,
    start: int,
    limits: Limits,
) -> tuple[subprocess.Popen[bytes], queue.Queue[bytes | None]]:
    request = {
        "sys_path": [p for p in sys.path if p],
        "path": path,
        "data": data.hex() if data is not None else None,
        "password": password,
        "start": start,
        "limits": asdict(limits),
    }
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    try:
        proc = subprocess.Popen(
            [sys.executable or "python3", "-c", BOOTSTRAP],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        from ..errors import ConfigError

        raise ConfigError(
            f"cannot start the PDF reader process ({exc.strerror or exc})",
            hint="the PDF loader runs `python -c ...` with this interpreter; check sys.executable",
        ) from None
    assert proc.stdin is not None and proc.stdout is not None
    lines: queue.Queue[bytes | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    reader.start()
    try:
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.close()
    except OSError:  # the worker died at once; the reader reports EOF
        pass
    return proc, lines


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    try:
        for line in stream:
            lines.put(line)
    finally:
        lines.put(None)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # a process that ignores SIGKILL
        proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()
