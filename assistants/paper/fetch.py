"""Papers by identifier: ``arxiv:2501.12948``, arXiv ``/abs/`` and ``/pdf/`` URLs, DOIs
(``doi:10.xxxx/...``, ``https://doi.org/...``) and any PDF URL, wherever a path is accepted
(:func:`assistants.paper.pdf.load_paper` calls :func:`fetch_paper`).

Downloads (httpx): http(s) only, on every redirect too; redirects followed one by one, at most
``paper.max_redirects``; a connect/read timeout (``paper.download_timeout``) and a deadline for
the whole download (``paper.download_deadline``: a slow drip cannot hold the caller); at most
``paper.max_file_mb`` (a larger ``Content-Length`` is refused before the body is read, and the
bytes streamed are counted too); an HTML page or another content type is refused, and the body
must start with ``%PDF-``. A DOI resolves through the resolver's redirects; when they end on the
publisher's HTML landing page, its ``citation_pdf_url`` meta tag (Highwire Press tags, used by
arXiv, ACL, PMLR, OpenReview and most publishers) names the PDF; without one the error says so.

Downloads are cached by URL under ``<data dir>/papers`` (written to a temporary file and renamed:
a broken download never looks complete), with the arXiv metadata beside them, so a second load
makes no request. Metadata of an arXiv paper (title, authors, year, abstract, DOI) comes from
the arXiv API (an Atom feed) when it is reachable; when it is not, the paper still loads, with a
warning. Every failure is a :class:`~assistants.errors.DownloadError` naming the URL.

Where papers come from (``arxiv_url``, ``arxiv_api_url``, ``doi_url``) is a user setting, like
the endpoint (DESIGN §8): a project's own files cannot redirect downloads unless it is trusted.

This module imports only the standard library at import time (httpx on the first download).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

from ..errors import DownloadError, InputError

if TYPE_CHECKING:
    import httpx

    from ..config import PaperSettings, Settings
    from .text import Paper

__all__ = ["Fetched", "Remote", "fetch_paper", "is_identifier", "parse_identifier"]

_ARXIV_ID = r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)"
_ARXIV_GIVEN = re.compile(rf"^arxiv:\s*{_ARXIV_ID}$", re.IGNORECASE)
_ARXIV_PATH = re.compile(rf"^/(?:abs|pdf)/{_ARXIV_ID}(?:\.pdf)?/?$", re.IGNORECASE)
_ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}
_DOI_GIVEN = re.compile(r"^(?:doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_DOI_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org"}
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_REMOTE = re.compile(r"^(?:arxiv:|doi:|10\.\d{4,9}/|[a-z][a-z0-9+.-]*://)", re.IGNORECASE)
_PDF_TYPES = {
    "",
    "application/pdf",
    "application/x-pdf",
    "application/octet-stream",
    "binary/octet-stream",
    "application/download",
    "application/force-download",
}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_MAX_PAGE_BYTES = 2_000_000  # of an HTML landing page, read for its citation_pdf_url
_MAX_FEED_BYTES = 1_000_000  # of the arXiv API's reply
_OFFLINE_HINT = "check the connection (a paper downloaded once loads from the cache offline)"


def is_identifier(value: str) -> bool:
    """Whether ``value`` names a remote paper (an arXiv id, a DOI or a URL): cheap, no I/O."""
    value = value.strip()
    return "\n" not in value and len(value) <= 2048 and bool(_REMOTE.match(value))


@dataclass(frozen=True)
class Remote:
    """What an identifier names: ``url`` is downloaded first (the PDF itself for arXiv and a
    URL; the resolver's URL for a DOI)."""

    given: str
    kind: Literal["arxiv", "doi", "url"]
    url: str
    arxiv_id: str | None = None
    doi: str | None = None


def parse_identifier(value: str, settings: Settings) -> Remote:
    """The :class:`Remote` that ``value`` names; an :class:`InputError` when it is none."""
    given = value.strip()
    arxiv = _ARXIV_GIVEN.match(given)
    doi = _DOI_GIVEN.match(given)
    if not arxiv and not doi and "://" in given:
        parts = urlsplit(given)
        if parts.scheme.lower() not in {"http", "https"}:
            raise InputError(
                f"{given}: only http and https URLs can be downloaded",
                hint="download the file and pass its path",
            )
        host = (parts.hostname or "").lower()
        arxiv_base = settings.arxiv_url.rstrip("/")
        if host in _ARXIV_HOSTS or given.startswith(arxiv_base + "/"):
            path = given[len(arxiv_base) :] if given.startswith(arxiv_base) else parts.path
            arxiv = _ARXIV_PATH.match(path.split("?")[0].split("#")[0])
        doi_base = settings.doi_url.rstrip("/")
        if not arxiv and (host in _DOI_HOSTS or given.startswith(doi_base + "/")):
            path = given[len(doi_base) + 1 :] if given.startswith(doi_base) else parts.path[1:]
            doi = _DOI_GIVEN.match(path)
    if doi and not arxiv:
        from urllib.parse import unquote

        name = unquote(doi.group(1)).rstrip(".")
        on_arxiv = _ARXIV_DOI.match(name)
        if on_arxiv:  # arXiv's own DOIs (10.48550/arXiv.ID): straight to arXiv
            arxiv = _ARXIV_GIVEN.match(f"arxiv:{on_arxiv.group(1)}")
        else:
            return Remote(given, "doi", f"{settings.doi_url.rstrip('/')}/{name}", doi=name)
    if arxiv:
        ident = arxiv.group(1)
        url = f"{settings.arxiv_url.rstrip('/')}/pdf/{ident}"
        return Remote(given, "arxiv", url, arxiv_id=ident)
    if "://" in given:
        return Remote(given, "url", given)
    raise InputError(
        f"{given}: not an arXiv id, DOI or URL",
        hint="write arxiv:2501.12948, doi:10.xxxx/..., or an http(s) URL",
    )


@dataclass
class Fetched:
    """A downloaded (or cached) paper: the PDF's ``path`` and what is known about it."""

    remote: Remote
    path: Path
    final_url: str
    cached: bool
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def apply(self, paper: Paper) -> Paper:
        """``paper`` with the metadata filled in (the arXiv API's over what the PDF says)."""
        meta = self.meta
        paper.arxiv_id = self.remote.arxiv_id or paper.arxiv_id
        paper.doi = meta.get("doi") or self.remote.doi or paper.doi
        paper.title = meta.get("title") or paper.title
        paper.authors = list(meta.get("authors") or paper.authors)
        paper.year = meta.get("year") or paper.year
        paper.abstract = meta.get("abstract") or paper.abstract
        paper.warnings.extend(self.warnings)
        return paper


def fetch_paper(value: str, settings: Settings | PaperSettings | None = None) -> Fetched:
    """Download the PDF that ``value`` names (or take it from the cache) and its metadata."""
    full = _full_settings(settings)
    remote = parse_identifier(value, full)
    folder = full.resolved_data_dir() / "papers"
    key = hashlib.sha256(remote.url.encode()).hexdigest()[:32]
    pdf, record_path = folder / f"{key}.pdf", folder / f"{key}.json"
    record = _read_record(record_path)
    client: httpx.Client | None = None
    try:
        if pdf.is_file() and record.get("url") == remote.url:
            cached = True
        else:
            client = _client(full)
            final = _download(client, remote, pdf, full.paper)
            record = {"url": remote.url, "final_url": final, "fetched_at": int(time.time())}
            cached = False
            _write_atomic(record_path, json.dumps(record).encode())
        warnings: list[str] = []
        if remote.arxiv_id and "arxiv" not in record:
            client = client or _client(full)
            try:
                record["arxiv"] = _arxiv_metadata(client, remote.arxiv_id, full)
                _write_atomic(record_path, json.dumps(record).encode())
            except DownloadError as exc:
                warnings.append(f"arXiv metadata not available ({exc.message})")
    finally:
        if client is not None:
            client.close()
    return Fetched(
        remote=remote,
        path=pdf,
        final_url=str(record.get("final_url") or remote.url),
        cached=cached,
        meta=record.get("arxiv") or {},
        warnings=warnings,
    )


def _full_settings(settings: Settings | PaperSettings | None) -> Settings:
    from ..config import Settings, load_settings

    if isinstance(settings, Settings):
        return settings
    full = load_settings()
    return full if settings is None else full.model_copy(update={"paper": settings})


def _client(settings: Settings) -> httpx.Client:
    import httpx

    from .._version import __version__

    timeout = settings.paper.download_timeout
    return httpx.Client(
        follow_redirects=False,  # followed one by one: scheme checked, count capped
        timeout=httpx.Timeout(timeout, connect=timeout),
        headers={"User-Agent": f"assistants/{__version__} (paper loader)"},
    )


def _read_record(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------------------
# downloading


def _download(client: httpx.Client, remote: Remote, dest: Path, paper: PaperSettings) -> str:
    """Stream the PDF at ``remote.url`` (following redirects, and a DOI's landing page) into
    ``dest``; the final URL."""
    import httpx

    given = remote.given
    deadline = time.monotonic() + paper.download_deadline
    current = remote.url
    landing = remote.kind != "arxiv"  # a DOI's or a URL's landing page may name the PDF
    hops = 0
    while True:
        scheme = urlsplit(current).scheme.lower()
        if scheme not in {"http", "https"}:
            raise DownloadError(
                f"{given}: redirected to {current}, not an http(s) URL", url=current
            )
        try:
            with client.stream("GET", current, headers={"Accept": "application/pdf, */*"}) as resp:
                if resp.is_redirect and resp.headers.get("location"):
                    hops += 1
                    if hops > paper.max_redirects:
                        raise DownloadError(
                            f"{given}: more than {paper.max_redirects} redirects from {remote.url}",
                            url=current,
                            hint="a redirect loop? open the URL in a browser",
                        )
                    current = urljoin(current, resp.headers["location"])
                    continue
                if resp.status_code != 200:
                    raise DownloadError(
                        f"{given}: HTTP {resp.status_code} from {current}",
                        url=current,
                        hint="check the identifier" if resp.status_code == 404 else None,
                    )
                kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind in _HTML_TYPES:
                    link = _landing_pdf(resp, deadline) if landing else None
                    if link is None:
                        raise DownloadError(
                            f"{given}: {current} is an HTML page, not a PDF",
                            url=current,
                            hint="the publisher serves no PDF there; download it in a "
                            "browser and pass the file's path",
                        )
                    current, landing = urljoin(current, link), False
                    continue
                if kind not in _PDF_TYPES:
                    raise DownloadError(f"{given}: {current} sent {kind}, not a PDF", url=current)
                _check_length(resp, paper, given, current)
                _stream_pdf(resp, dest, paper, deadline, given, current)
                return current
        except httpx.TimeoutException:
            raise DownloadError(
                f"{given}: no answer from {current} within {paper.download_timeout:g} s",
                url=current,
                hint=_OFFLINE_HINT + "; or raise paper.download_timeout",
            ) from None
        except httpx.HTTPError as exc:
            raise DownloadError(
                f"{given}: cannot download {current} ({type(exc).__name__}: {exc})",
                url=current,
                hint=_OFFLINE_HINT,
            ) from None


def _check_length(resp: httpx.Response, paper: PaperSettings, given: str, url: str) -> None:
    try:
        declared = int(resp.headers.get("content-length", ""))
    except ValueError:
        return
    if declared > paper.max_file_mb * 1_000_000:
        raise DownloadError(
            f"{given}: {url} is {declared / 1e6:,.1f} MB, over the {paper.max_file_mb:g} MB limit",
            url=url,
            hint="raise paper.max_file_mb if this is intended",
        )


def _stream_pdf(
    resp: httpx.Response,
    dest: Path,
    paper: PaperSettings,
    deadline: float,
    given: str,
    url: str,
) -> None:
    limit = int(paper.max_file_mb * 1_000_000)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as handle:
            head = b""
            size = 0
            for chunk in resp.iter_bytes():  # as they arrive (the deadline is checked)
                size += len(chunk)
                if size > limit:
                    raise DownloadError(
                        f"{given}: {url} sent more than the {paper.max_file_mb:g} MB limit",
                        url=url,
                        hint="raise paper.max_file_mb if this is intended",
                    )
                if time.monotonic() > deadline:
                    raise DownloadError(
                        f"{given}: downloading {url} took longer than "
                        f"{paper.download_deadline:g} s",
                        url=url,
                        hint="raise paper.download_deadline, or download the file yourself",
                    )
                if len(head) < 1024:
                    head += chunk[: 1024 - len(head)]
                    if len(head) >= 1024 and b"%PDF-" not in head:
                        break  # not a PDF: read no further
                handle.write(chunk)
        if b"%PDF-" not in head:
            raise DownloadError(f"{given}: {url} is not a PDF (no %PDF- header)", url=url)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.pdf_url: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta" and self.pdf_url is None:
            values = {k.lower(): v or "" for k, v in attrs}
            if values.get("name", "").lower() == "citation_pdf_url" and values.get("content"):
                self.pdf_url = values["content"].strip()


def _landing_pdf(resp: httpx.Response, deadline: float) -> str | None:
    """The ``citation_pdf_url`` of a landing page (its first 2 MB), if it names one."""
    body = b""
    for chunk in resp.iter_bytes():  # as they arrive (the deadline is checked)
        body += chunk
        if len(body) >= _MAX_PAGE_BYTES or time.monotonic() > deadline:
            break
    parser = _MetaTags()
    with contextlib.suppress(Exception):  # a broken page names no PDF
        parser.feed(body[:_MAX_PAGE_BYTES].decode(resp.encoding or "utf-8", errors="replace"))
    return parser.pdf_url


# ---------------------------------------------------------------------------------------------
# arXiv metadata

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV_NS = "{http://arxiv.org/schemas/atom}"


def _arxiv_metadata(client: httpx.Client, arxiv_id: str, settings: Settings) -> dict[str, Any]:
    """Title, authors, year, abstract and DOI of an arXiv paper from the API's Atom feed
    (``{}`` when the feed has no such entry)."""
    import xml.etree.ElementTree as ET  # expat >= 2.4 refuses entity expansion attacks

    import httpx

    url = settings.arxiv_api_url
    try:
        resp = client.get(url, params={"id_list": arxiv_id, "max_results": "1"})
    except httpx.HTTPError as exc:
        raise DownloadError(f"{url}: {type(exc).__name__}", url=url) from None
    if resp.status_code != 200:
        raise DownloadError(f"HTTP {resp.status_code} from {url}", url=url)
    if len(resp.content) > _MAX_FEED_BYTES:
        raise DownloadError(f"{url}: the reply is over {_MAX_FEED_BYTES:,} bytes", url=url)
    try:
        root = ET.fromstring(resp.content)
    except ET.ParseError:
        raise DownloadError(f"{url}: not an Atom feed", url=url) from None
    entry = root.find(f"{_ATOM}entry")
    if entry is None or "/api/errors" in (entry.findtext(f"{_ATOM}id") or ""):
        return {}

    def text(tag: str) -> str:
        return " ".join((entry.findtext(tag) or "").split())

    published = text(f"{_ATOM}published")
    authors = [
        " ".join((author.findtext(f"{_ATOM}name") or "").split())
        for author in entry.findall(f"{_ATOM}author")
    ]
    return {
        "title": text(f"{_ATOM}title") or None,
        "authors": [name for name in authors if name],
        "year": int(published[:4]) if published[:4].isdigit() else None,
        "abstract": text(f"{_ATOM}summary") or None,
        "doi": text(f"{_ARXIV_NS}doi") or None,
    }
