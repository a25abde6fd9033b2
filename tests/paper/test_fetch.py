"""Papers by identifier (assistants.paper.fetch) over real HTTP: a local web server of ours
(tests/support/paper_web.py) serves a generated PDF, an arXiv-API Atom feed, landing pages and
the failure cases; the settings point arXiv and doi.org at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pdfs
import pytest
from paper_web import PaperWeb, Route, atom_feed

from assistants.config import load_settings
from assistants.errors import DownloadError, InputError
from assistants.paper.fetch import is_identifier, parse_identifier
from assistants.paper.pdf import load_paper

ARXIV_ID = "2501.12948"
TITLE = "Reinforcement Learning of Widgets"


@pytest.fixture(scope="module")
def pdf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("pdf") / "remote.pdf"
    pdfs.build_paper(path, arxiv_id=None, doi=None, references=3, appendix=False)
    return path.read_bytes()


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch, pdf_bytes: bytes) -> Iterator[PaperWeb]:
    with PaperWeb() as site:
        site.pdf(f"/pdf/{ARXIV_ID}", pdf_bytes)
        feed = atom_feed(
            ARXIV_ID,
            title=TITLE,
            authors=["Ada Lovelace", "Grace Hopper"],
            published="2025-01-22",
            summary="We train widgets with reinforcement learning.",
            doi="10.1234/rl.widgets",
        )
        site.atom("/api/query", feed)
        monkeypatch.setenv("ASSISTANTS_ARXIV_URL", site.url)
        monkeypatch.setenv("ASSISTANTS_ARXIV_API_URL", f"{site.url}/api/query")
        monkeypatch.setenv("ASSISTANTS_DOI_URL", site.url)
        monkeypatch.setenv("ASSISTANTS_PAPER__DOWNLOAD_TIMEOUT", "20")  # a loaded machine
        monkeypatch.setenv("ASSISTANTS_PAPER__DOWNLOAD_DEADLINE", "20")
        yield site


def test_identifiers_are_recognised_and_mapped_to_the_pdf() -> None:
    settings = load_settings()
    for given in ("arxiv:2501.12948", "https://arxiv.org/abs/2501.12948", "ARXIV:2501.12948"):
        remote = parse_identifier(given, settings)
        assert (remote.kind, remote.arxiv_id) == ("arxiv", "2501.12948")
        assert remote.url == "https://arxiv.org/pdf/2501.12948"
    assert parse_identifier("https://arxiv.org/pdf/2501.12948v2.pdf", settings).arxiv_id == (
        "2501.12948v2"
    )
    assert parse_identifier("arxiv:hep-th/9901001", settings).arxiv_id == "hep-th/9901001"
    doi = parse_identifier("https://doi.org/10.1145/3442188.3445922", settings)
    assert (doi.kind, doi.doi, doi.url) == (
        "doi",
        "10.1145/3442188.3445922",
        "https://doi.org/10.1145/3442188.3445922",
    )
    assert parse_identifier("doi:10.1145/1.2", settings).doi == "10.1145/1.2"
    # arXiv's own DOI goes straight to arXiv
    assert parse_identifier("doi:10.48550/arXiv.2501.12948", settings).arxiv_id == "2501.12948"
    assert parse_identifier("https://example.org/a.pdf", settings).kind == "url"
    with pytest.raises(InputError, match="only http and https"):
        parse_identifier("ftp://example.org/a.pdf", settings)
    assert not is_identifier("paper.pdf")
    assert not is_identifier("A paper about arxiv:2501.12948\nwith two lines")


def test_arxiv_id_downloads_fills_metadata_and_caches(web: PaperWeb, data_dir: Path) -> None:
    paper = load_paper(f"arxiv:{ARXIV_ID}")
    assert paper.source == f"arxiv:{ARXIV_ID}"
    assert paper.page_count > 3
    assert "Marker page 2." in paper.pages[1].text
    assert (paper.title, paper.authors) == (
        TITLE + " (with a line break)",
        [
            "Ada Lovelace",
            "Grace Hopper",
        ],
    )
    assert (paper.year, paper.arxiv_id, paper.doi) == (2025, ARXIV_ID, "10.1234/rl.widgets")
    assert paper.abstract == "We train widgets with reinforcement learning."
    assert web.requests_to("/pdf/") == [f"/pdf/{ARXIV_ID}"]
    api = web.requests_to("/api/query")
    assert len(api) == 1 and f"id_list={ARXIV_ID}" in api[0]
    cached = list((data_dir / "papers").glob("*.pdf"))
    assert len(cached) == 1 and cached[0].read_bytes().startswith(b"%PDF-")
    assert not list((data_dir / "papers").glob(".part-*"))  # no temporary file left

    # a second load makes no request: the abs URL names the same PDF
    count = len(web.log)
    again = load_paper(f"{web.url}/abs/{ARXIV_ID}")
    assert len(web.log) == count
    assert again.title == paper.title and again.year == 2025


def test_offline_loads_from_the_cache_and_fails_clearly_otherwise(
    web: PaperWeb, pdf_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_paper(f"arxiv:{ARXIV_ID}")
    url = web.url
    web.stop()  # offline
    assert load_paper(f"arxiv:{ARXIV_ID}").year == 2025
    with pytest.raises(DownloadError) as info:
        load_paper("arxiv:2502.00001")
    assert f"{url}/pdf/2502.00001" in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.url == f"{url}/pdf/2502.00001"


def test_metadata_api_unreachable_still_loads_with_a_warning(
    web: PaperWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    web.route("/api/query", Route(status=503, body=b"busy", content_type="text/plain"))
    paper = load_paper(f"arxiv:{ARXIV_ID}")
    assert paper.arxiv_id == ARXIV_ID and paper.year is None
    assert any("arXiv metadata not available" in w and "503" in w for w in paper.warnings)
    # the metadata is asked again next time (the PDF is not)
    web.atom(
        "/api/query",
        atom_feed(ARXIV_ID, title="T2", authors=[], published="2024-05-01", summary="s"),
    )
    assert load_paper(f"arxiv:{ARXIV_ID}").year == 2024
    assert len(web.requests_to("/pdf/")) == 1


def test_pdf_url_and_doi_with_a_landing_page(web: PaperWeb, pdf_bytes: bytes) -> None:
    web.pdf("/files/paper", pdf_bytes, content_type="application/octet-stream")
    paper = load_paper(f"{web.url}/files/paper")
    assert paper.page_count > 3 and paper.arxiv_id is None
    # DOI: the resolver redirects to a landing page that names the PDF
    web.redirect("/10.1234/widgets.5", "/landing/5")
    web.html(
        "/landing/5",
        '<html><head><meta content="/files/paper" name="citation_pdf_url"></head></html>',
    )
    by_doi = load_paper("doi:10.1234/widgets.5")
    assert by_doi.doi == "10.1234/widgets.5"
    assert by_doi.page_count == paper.page_count
    # a landing page given as a URL works too
    assert load_paper(f"{web.url}/landing/5").page_count == paper.page_count
    # a landing page without a PDF: a clear error naming the page
    web.redirect("/10.1234/nopdf", "/landing/none")
    web.html("/landing/none", "<html><head><title>Paywall</title></head></html>")
    with pytest.raises(DownloadError, match=r"landing/none is an HTML page, not a PDF"):
        load_paper(f"{web.url}/10.1234/nopdf")


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (None, r"HTTP 404 from http://127\.0\.0\.1:\d+/pdf/2599\.00001"),
        (Route(body=b"<html>login</html>", content_type="text/html"), "is an HTML page"),
        (Route(body=b'{"a": 1}', content_type="application/json"), "sent application/json"),
        (Route(body=b"PK\x03\x04 zip bytes" * 100), r"not a PDF \(no %PDF- header\)"),
        (Route(body=b"%PDF-1.4\n", length=2_000_000_000, stall=30), "2,000.0 MB, over the 5 MB"),
        (Route(body=b"%PDF-1.4\n" + b"x" * 6_000_000, length=-1), "sent more than the 5 MB limit"),
    ],
    ids=["404", "html", "json", "magic", "content-length", "streamed-size"],
)
def test_download_failures_are_one_line_errors(
    web: PaperWeb, monkeypatch: pytest.MonkeyPatch, route: Route | None, expected: str
) -> None:
    monkeypatch.setenv("ASSISTANTS_PAPER__MAX_FILE_MB", "5")
    if route is not None:
        web.route("/pdf/2599.00001", route)
    with pytest.raises(DownloadError, match=expected) as info:
        load_paper("arxiv:2599.00001")
    assert "\n" not in info.value.message
    assert not list(load_settings().resolved_data_dir().glob("papers/*.pdf"))


def test_a_stalled_download_hits_the_read_timeout(
    web: PaperWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANTS_PAPER__DOWNLOAD_TIMEOUT", "1")
    web.route("/pdf/2599.00003", Route(body=b"%PDF-1.4\n" + b"x" * 100, stall=60, head=20))
    with pytest.raises(DownloadError, match=r"no answer from .*/pdf/2599\.00003 within 1 s"):
        load_paper("arxiv:2599.00003")


def test_slow_drip_hits_the_download_deadline(
    web: PaperWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every byte arrives within the read timeout, but the whole takes too long
    monkeypatch.setenv("ASSISTANTS_PAPER__DOWNLOAD_DEADLINE", "1")
    web.route("/pdf/2599.00002", Route(body=b"%PDF-1.4\n" + b"x" * 400, drip=0.05))
    with pytest.raises(DownloadError, match="took longer than 1 s"):
        load_paper("arxiv:2599.00002")


def test_redirect_loop_and_scheme_are_capped(web: PaperWeb) -> None:
    web.redirect("/loop", "/loop")
    with pytest.raises(DownloadError, match="more than 10 redirects"):
        load_paper(f"{web.url}/loop")
    assert 10 <= len(web.requests_to("/loop")) <= 11
    web.redirect("/to-file", "file:///etc/passwd")
    with pytest.raises(DownloadError, match="not an http"):
        load_paper(f"{web.url}/to-file")


def test_concurrent_loads_of_one_url_leave_one_whole_file(web: PaperWeb, data_dir: Path) -> None:
    errors: list[BaseException] = []

    def load() -> None:
        try:
            load_paper(f"arxiv:{ARXIV_ID}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    files = list((data_dir / "papers").iterdir())
    assert sorted(f.suffix for f in files) == [".json", ".pdf"]


def test_download_sources_are_user_only_settings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # a project cannot redirect downloads (DESIGN §8): like the endpoint, ignored with a warning
    (Path.cwd() / "pyproject.toml").write_text(
        '[tool.assistants]\narxiv_url = "http://evil.example"\n'
        'arxiv_api_url = "http://evil.example/api"\ndoi_url = "http://evil.example"\n'
    )
    settings = load_settings()
    assert settings.arxiv_url == "https://arxiv.org"
    assert settings.arxiv_api_url == "https://export.arxiv.org/api/query"
    assert settings.doi_url == "https://doi.org"
    warned = caplog.text
    assert all(f"sets {key}: ignored" in warned for key in ("arxiv_url", "doi_url"))
    monkeypatch.setenv("ASSISTANTS_DOI_URL", "http://127.0.0.1:9")  # the user's own: kept
    assert load_settings().doi_url == "http://127.0.0.1:9"
