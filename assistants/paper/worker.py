"""The PDF reader process: the code that runs in the child started by
:mod:`assistants.paper.pdf` (``python -c BOOTSTRAP``), never in the caller's process.

Protocol: one JSON request on stdin; one JSON line per message on stdout, in this order:

- ``meta`` (first start only: page count, labels, outline, metadata) or ``ready`` (a restart
  after a skipped page): the document is open and the next page starts now — the parent's
  per-page time limit counts from here, so start-up and opening are bounded by the file limit
  only;
- ``page`` for each page from ``start`` on (its text, or a warning; for a page whose text has
  a table caption also ``layout``, the text in pypdf's layout mode, which keeps table columns
  apart: slower, so only there);
- ``done``; or ``error`` (one line and a hint) instead of any of them.

Limits: pypdf's own (:class:`pypdf.Configuration`: decompressed stream sizes, decoding and
parsing work, no external jbig2dec), ``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` where the OS has
them, and each page's text truncated to ``max_page_chars``. This module imports only the
standard library (and pypdf and :mod:`assistants.paper.captions`, standard library only, inside
:func:`main`), so the worker starts quickly.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO, Any

__all__ = ["BOOTSTRAP", "Limits", "classify", "main"]

# what the parent runs with ``python -c``
BOOTSTRAP = (
    "import json, sys\n"
    "request = json.loads(sys.stdin.readline())\n"
    "sys.path[:0] = [p for p in request['sys_path'] if p not in sys.path]\n"
    "from assistants.paper.worker import main\n"
    "main(request)\n"
)


@dataclass(frozen=True)
class Limits:
    """The reader's limits (from the ``paper`` settings), sent to the worker in its request."""

    max_pages: int = 2_000
    max_page_chars: int = 200_000
    max_memory_mb: int = 2_048
    cpu_seconds: int = 120
    stream_bytes: int = 50_000_000


_PROTOCOL: list[IO[str]] = []  # the worker's real stdout (library prints go to stderr)


def _emit(message: dict[str, Any]) -> None:
    out = _PROTOCOL[0] if _PROTOCOL else sys.stdout
    out.write(json.dumps(message, ensure_ascii=True) + "\n")
    out.flush()


def _set_os_limits(limits: Limits) -> None:
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


def main(request: dict[str, Any]) -> None:
    import io
    import logging

    limits = Limits(**request["limits"])
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
    from assistants.paper.captions import has_table_caption

    source: Any = request["path"]
    if request.get("data") is not None:
        source = io.BytesIO(bytes.fromhex(request["data"]))
    with context:
        try:
            _extract_pages(pypdf, pdf_errors, source, request, limits, has_table_caption)
        except MemoryError:
            _emit(
                {
                    "kind": "error",
                    "message": f"reading the PDF needed more than {limits.max_memory_mb} MB",
                    "hint": "the file may be hostile; raise paper.max_memory_mb if it is not",
                }
            )


def classify(exc: BaseException, pdf_errors: Any, encrypted: bool) -> tuple[str, str | None]:
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


def _extract_pages(
    pypdf: Any,
    pdf_errors: Any,
    source: Any,
    request: dict[str, Any],
    limits: Limits,
    has_table: Any,
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
        message, hint = classify(exc, pdf_errors, encrypted)
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
    else:  # a restart after a skipped page: the parent's page clock starts now
        _emit({"kind": "ready", "start": start})
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
            elif has_table(text):
                record["layout"] = _layout_text(page, limits)
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


def _layout_text(page: Any, limits: Limits) -> str:
    """The page in layout mode (columns kept), or "" when that fails: the plain text stays."""
    try:
        text = page.extract_text(extraction_mode="layout") or ""
    except MemoryError:
        raise
    except Exception:
        return ""
    return text[: limits.max_page_chars]


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
