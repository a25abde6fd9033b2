"""Load a paper: PDF (pypdf), ``.txt`` / ``.md``, raw text or PDF bytes → :class:`Paper`.

Hostile input is contained in a **child process**: pypdf runs in ``python -c`` worker that
reads one JSON request on stdin and writes one JSON line per page on stdout. A thread cannot be
stopped from outside, so a page whose content stream makes pypdf spin (or allocate without end)
would hang the caller for good; a process can be killed. The worker

- sets pypdf's own limits (:class:`pypdf.Configuration`: decompressed stream sizes, decoding and
  parsing work, array/dictionary sizes, outline and page-tree sizes, no external jbig2dec),
- runs under ``RLIMIT_AS`` (memory, ``paper.max_memory_mb``) and ``RLIMIT_CPU`` where the OS has
  them,
- truncates each page's text to ``paper.max_page_chars``.

The parent enforces a time limit per page (``paper.page_timeout``: the page is skipped with a
warning and a fresh worker continues after it) and per file (``paper.extract_timeout``: a
one-line :class:`~assistants.errors.InputError`). We do not use ``multiprocessing``: its
``spawn``/``forkserver`` start methods re-run the caller's ``__main__`` (scripts without an
``if __name__ == "__main__"`` guard would break), and ``fork`` is unsafe in a threaded caller.

Every failure is an :class:`~assistants.errors.InputError` with one line and a hint: not found,
not a PDF, empty, truncated/corrupt, encrypted (``--password``), wrong password, zero pages,
image-only (run OCR, e.g. ``ocrmypdf``), too large, too slow.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import InputError
from .text import Page, Paper, Section, build_paper, load_text_paper, paper_from_text

if TYPE_CHECKING:
    from ..config import PaperSettings, Settings

__all__ = ["Page", "Paper", "Section", "load_paper"]

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
_OCR_HINT = "the PDF has no text layer; run OCR first, e.g. `ocrmypdf in.pdf out.pdf`"


@dataclass(frozen=True)
class _Limits:
    max_pages: int = 2_000
    max_page_chars: int = 200_000
    max_memory_mb: int = 2_048
    cpu_seconds: int = 120
    stream_bytes: int = 50_000_000


def load_paper(
    path_or_text: str | os.PathLike[str] | bytes | Paper,
    *,
    password: str | None = None,
    settings: PaperSettings | Settings | None = None,
) -> Paper:
    """Load a paper from a path (``.pdf``, ``.txt``, ``.md``), PDF bytes, or raw text.
    ``settings`` is the ``paper`` section (or the whole :class:`~assistants.config.Settings`).

    A ``str`` is a path when it names an existing file or looks like one (one line, ending in a
    known suffix); otherwise it is the paper's text. Raises :class:`InputError` for anything
    that cannot be used.
    """
    from ..config import PaperSettings, Settings

    if isinstance(settings, Settings):
        settings = settings.paper
    settings = settings or PaperSettings()
    if isinstance(path_or_text, Paper):
        return path_or_text
    if isinstance(path_or_text, bytes):
        if b"%PDF-" not in path_or_text[:1024]:
            raise InputError("<bytes>: not a PDF (no %PDF- header)")
        return _load_pdf(path_or_text, "<bytes>", password, settings)
    if isinstance(path_or_text, str) and not _looks_like_path(path_or_text):
        return paper_from_text(path_or_text)
    path = Path(path_or_text).expanduser()
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(
            f"{path}: is a folder", hint="use `assistants paper analyze DIR` for a folder"
        )
    max_bytes = int(settings.max_file_mb * 1_000_000)
    if path.suffix.lower() in TEXT_SUFFIXES:
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
            f"{path}: {size / 1e6:.1f} MB is over the {settings.max_file_mb:g} MB limit",
            hint="raise paper.max_file_mb in [tool.assistants] if this is intended",
        )
    return _load_pdf(path, str(path), password, settings)


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
# parent side


def _load_pdf(
    source: Path | bytes, name: str, password: str | None, settings: PaperSettings
) -> Paper:
    data = source if isinstance(source, bytes) else None
    path = None if isinstance(source, bytes) else str(source)
    limits = _Limits(
        max_pages=settings.max_pages,
        max_page_chars=settings.max_page_chars,
        max_memory_mb=settings.max_memory_mb,
        cpu_seconds=max(1, int(settings.extract_timeout) + 5),
    )
    raw = _extract(
        path=path,
        data=data,
        name=name,
        password=password,
        limits=limits,
        page_timeout=settings.page_timeout,
        file_timeout=settings.extract_timeout,
    )
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


def _extract(
    *,
    path: str | None,
    data: bytes | None,
    name: str,
    password: str | None,
    limits: _Limits,
    page_timeout: float,
    file_timeout: float,
) -> dict[str, Any]:
    """Run the worker (restarting it after a page that times out or crashes it)."""
    deadline = time.monotonic() + file_timeout
    result: dict[str, Any] = {"pages": {}, "warnings": [], "page_count": 0}
    start = 0
    failed_pages = 0
    while True:
        proc, lines = _start_worker(path, data, password, start, limits)
        try:
            current = start
            opened = start > 0  # after a restart the document is known
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise InputError(
                        f"{name}: text extraction took longer than {file_timeout:g} s",
                        hint="raise paper.extract_timeout, or check the PDF (hostile streams?)",
                    )
                wait = remaining if not opened else min(remaining, page_timeout)
                try:
                    line = lines.get(timeout=wait)
                except queue.Empty:
                    if not opened or time.monotonic() >= deadline:
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
                if kind == "meta":
                    opened = True
                    result.update(
                        {k: v for k, v in message.items() if k not in {"kind", "warnings"}}
                    )
                    result["warnings"].extend(message.get("warnings", []))
                elif kind == "page":
                    index = message["index"]
                    result["pages"][index] = message["text"]
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
    limits: _Limits,
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
            [sys.executable or "python3", "-c", _BOOTSTRAP],
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


# ---------------------------------------------------------------------------------------------
# worker side (runs in the child process)

_BOOTSTRAP = (
    "import json, sys\n"
    "request = json.loads(sys.stdin.readline())\n"
    "sys.path[:0] = [p for p in request['sys_path'] if p not in sys.path]\n"
    "from assistants.paper.pdf import _worker_main\n"
    "_worker_main(request)\n"
)


_PROTOCOL: list[IO[str]] = []  # the worker's real stdout (library prints go to stderr)


def _emit(message: dict[str, Any]) -> None:
    out = _PROTOCOL[0] if _PROTOCOL else sys.stdout
    out.write(json.dumps(message, ensure_ascii=True) + "\n")
    out.flush()


def _set_os_limits(limits: _Limits) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    for kind, value in (
        (resource.RLIMIT_AS, limits.max_memory_mb * 1024 * 1024),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
    ):
        try:
            _, hard = resource.getrlimit(kind)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(kind, (value, hard))
        except (ValueError, OSError):  # pragma: no cover - not permitted here
            pass


def _worker_main(request: dict[str, Any]) -> None:
    import io
    import logging

    limits = _Limits(**request["limits"])
    _PROTOCOL.append(sys.stdout)
    sys.stdout = sys.stderr
    _set_os_limits(limits)
    logging.disable(logging.WARNING)  # pypdf logs every recoverable defect
    import warnings

    warnings.simplefilter("ignore")
    try:
        import pypdf
        from pypdf import errors as pdf_errors
    except ImportError:  # pragma: no cover - a declared dependency
        _emit({"kind": "error", "message": "pypdf is not installed", "hint": "pip install pypdf"})
        return

    config = {
        "maximum_declared_stream_length": limits.stream_bytes,
        "array_based_stream_maximum_output_length": limits.stream_bytes,
        "jbig2_maximum_output_length": limits.stream_bytes,
        "lzw_maximum_output_length": limits.stream_bytes,
        "run_length_maximum_output_length": limits.stream_bytes,
        "zlib_maximum_output_length": limits.stream_bytes,
        "brotli_maximum_output_length": limits.stream_bytes,
        "image_maximum_buffer_size": limits.stream_bytes,
        "stream_decoding_work_maximum_length": 4 * limits.stream_bytes,
        "jbig2dec_binary": None,  # never run an external decoder on hostile input
        "disable_legacy_handling": True,
    }
    apply = getattr(pypdf, "apply_configuration", None)
    if apply is not None:
        known = {f for f in getattr(pypdf.Configuration, "__dataclass_fields__", {})}
        context = apply(**{k: v for k, v in config.items() if k in known})
    else:  # pragma: no cover - pypdf < 7 keeps the default limits
        import contextlib

        context = contextlib.nullcontext()
    source: Any = request["path"]
    if request.get("data") is not None:
        source = io.BytesIO(bytes.fromhex(request["data"]))
    with context:
        try:
            _worker_extract(pypdf, pdf_errors, source, request, limits)
        except MemoryError:
            _emit(
                {
                    "kind": "error",
                    "message": f"reading the PDF needed more than {limits.max_memory_mb} MB",
                    "hint": "the file may be hostile; raise paper.max_memory_mb if it is not",
                }
            )


def _classify(exc: BaseException, pdf_errors: Any, encrypted: bool) -> tuple[str, str | None]:
    text = " ".join(str(exc).split())[:160] or type(exc).__name__
    if isinstance(exc, pdf_errors.WrongPasswordError):
        return "wrong password for this encrypted PDF", "check the --password value"
    if isinstance(exc, pdf_errors.FileNotDecryptedError) or (
        encrypted and "decrypt" in text.lower()
    ):
        return "the PDF is encrypted", "pass --password PASSWORD (password= in Python)"
    if isinstance(exc, pdf_errors.DependencyError):
        return f"cannot decrypt: {text}", "pip install cryptography"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, pdf_errors.LimitReachedError):
        cause = cause.__cause__  # pypdf wraps some limits: "Trailer cannot be read: ..."
    if cause is not None:
        return (
            f"the PDF exceeds a safety limit ({text})",
            "the file may be hostile; raise paper.max_pages / limits only if you trust it",
        )
    if isinstance(exc, pdf_errors.EmptyFileError):
        return "empty file", None
    if isinstance(exc, (pdf_errors.PdfReadError, pdf_errors.PdfStreamError, pdf_errors.ParseError)):
        return (
            f"corrupt or truncated PDF ({text})",
            "re-download the file, or repair it with `qpdf in.pdf out.pdf`",
        )
    return f"cannot read the PDF ({type(exc).__name__}: {text})", None


def _worker_extract(
    pypdf: Any, pdf_errors: Any, source: Any, request: dict[str, Any], limits: _Limits
) -> None:
    start = int(request["start"])
    password = request.get("password")
    encrypted = False
    try:
        reader = pypdf.PdfReader(source, strict=False)
        encrypted = bool(reader.is_encrypted)
        if encrypted:
            if password is None:
                try:
                    ok = reader.decrypt("")
                except Exception:
                    ok = 0
                if not ok:
                    _emit(
                        {
                            "kind": "error",
                            "message": "the PDF is encrypted",
                            "hint": "pass --password PASSWORD (password= in Python)",
                        }
                    )
                    return
            elif not reader.decrypt(password) and not _opens_without_password(reader):
                # (a PDF that only has an owner password opens with none: a password given
                # for other files of a batch, or in the environment, must not break it)
                _emit(
                    {
                        "kind": "error",
                        "message": "wrong password for this encrypted PDF",
                        "hint": "check the --password value",
                    }
                )
                return
        count = len(reader.pages)
    except Exception as exc:
        message, hint = _classify(exc, pdf_errors, encrypted)
        _emit({"kind": "error", "message": message, "hint": hint})
        return
    if count == 0:
        _emit({"kind": "error", "message": "the PDF has no pages", "hint": None})
        return
    if count > limits.max_pages:
        _emit(
            {
                "kind": "error",
                "message": f"{count} pages is over the {limits.max_pages}-page limit",
                "hint": "raise paper.max_pages in [tool.assistants] if this is intended",
            }
        )
        return
    if start == 0:
        warnings: list[str] = []
        labels: list[str] = []
        try:
            labels = [str(label) for label in reader.page_labels]
        except Exception:
            warnings.append("page labels unreadable; using page numbers")
        outline: list[tuple[str, int, int]] = []
        try:
            _walk_outline(reader, reader.outline, 1, outline)
        except Exception:
            warnings.append("outline unreadable; sections found from headings")
        metadata: dict[str, str] = {}
        try:
            info = reader.metadata or {}
            for key, value in info.items():
                if isinstance(value, str) and value.strip():
                    metadata[str(key).lstrip("/").lower()] = value.strip()[:2000]
        except Exception:
            warnings.append("document information unreadable")
        _emit(
            {
                "kind": "meta",
                "page_count": count,
                "labels": labels,
                "outline": outline[:5000],
                "metadata": metadata,
                "warnings": warnings,
            }
        )
    for index in range(start, count):
        record: dict[str, Any] = {"kind": "page", "index": index, "text": ""}
        try:
            page = reader.pages[index]
            text = page.extract_text() or ""
            if len(text) > limits.max_page_chars:
                record["warning"] = (
                    f"page {index + 1}: text cut to {limits.max_page_chars} characters"
                )
                text = text[: limits.max_page_chars]
            record["text"] = text
            if not text.strip():
                record["image"] = _has_images(page)
        except MemoryError:
            raise
        except Exception as exc:
            what = (
                "a safety limit was reached"
                if isinstance(exc, pdf_errors.LimitReachedError)
                else type(exc).__name__
            )
            record["warning"] = (
                f"page {index + 1}: text not extracted ({what}: {' '.join(str(exc).split())[:100]})"
            )
        _emit(record)
    _emit({"kind": "done"})


def _opens_without_password(reader: Any) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def _walk_outline(reader: Any, items: Any, level: int, out: list[tuple[str, int, int]]) -> None:
    for item in items:
        if len(out) >= 5000:
            return
        if isinstance(item, list):
            _walk_outline(reader, item, level + 1, out)
            continue
        try:
            page_index = reader.get_destination_page_number(item)
        except Exception:
            continue
        title = str(getattr(item, "title", "") or "").strip()
        if title and page_index is not None and page_index >= 0:
            out.append((title[:300], level, int(page_index)))


def _has_images(page: Any) -> bool:
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        for ref in xobjects.values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                return True
            if obj.get("/Subtype") == "/Form" and obj.get("/Resources"):
                inner = obj["/Resources"].get("/XObject") or {}
                if any(x.get_object().get("/Subtype") == "/Image" for x in inner.values()):
                    return True
    except Exception:
        return False
    return False
