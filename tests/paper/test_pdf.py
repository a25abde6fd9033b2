"""The PDF loader (parent side and reader process) on real PDFs built with fpdf2
(tests/support/pdfs.py): pages, labels, metadata, outline, columns, bad and hostile input, and
the time, memory and size limits."""

from __future__ import annotations

import sys
from pathlib import Path

import pdfs
import pytest

from assistants.config import PaperSettings
from assistants.errors import InputError
from assistants.paper.pdf import load_paper


@pytest.fixture(scope="module")
def outlined(tmp_path_factory: pytest.TempPathFactory) -> pdfs.PaperSpec:
    return pdfs.build_paper(tmp_path_factory.mktemp("pdf") / "outlined.pdf")


@pytest.fixture(scope="module")
def plain_two_columns(tmp_path_factory: pytest.TempPathFactory) -> pdfs.PaperSpec:
    path = tmp_path_factory.mktemp("pdf") / "columns.pdf"
    return pdfs.build_paper(path, outline=False, two_columns=True, metadata=False)


def _sections(paper):  # type: ignore[no-untyped-def]
    return [(s.title, s.level, s.start_page) for s in paper.sections]


def test_pages_labels_and_metadata(outlined: pdfs.PaperSpec) -> None:
    paper = load_paper(outlined.path)
    assert paper.page_count == outlined.pages
    assert [p.number for p in paper.pages] == list(range(1, outlined.pages + 1))
    assert [p.label for p in paper.pages] == outlined.labels  # "i", then 1, 2, ...
    assert paper.title == outlined.title
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert paper.doi == "10.5555/widgets.2024.17"
    assert paper.arxiv_id == "2401.01234"
    for page in paper.pages[1:]:
        assert f"Marker page {page.number}." in page.text
    assert paper.warnings == []


def test_outline_gives_sections_with_page_spans(outlined: pdfs.PaperSpec) -> None:
    paper = load_paper(outlined.path)
    assert paper.sections_from == "outline"
    assert _sections(paper) == outlined.sections
    method = next(s for s in paper.sections if s.title == "3 Method")
    assert method.start_page == method.end_page == 4
    assert method.text.startswith("3 Method")
    assert "3.2 Inference" in method.text  # a section includes its subsections
    inference = next(s for s in paper.sections if s.title == "3.2 Inference")
    assert inference.level == 2
    assert inference.text.startswith("3.2 Inference")
    assert "4 Experiments" not in inference.text


def test_heading_patterns_when_there_is_no_outline(plain_two_columns: pdfs.PaperSpec) -> None:
    paper = load_paper(plain_two_columns.path)
    assert paper.sections_from == "headings"
    assert _sections(paper) == plain_two_columns.sections
    # no metadata: the title comes from the first page's first line
    assert paper.title == plain_two_columns.title
    assert paper.authors == []
    assert paper.doi == "10.5555/widgets.2024.17"  # from the text of page 1


def test_two_columns_read_in_order(plain_two_columns: pdfs.PaperSpec) -> None:
    paper = load_paper(plain_two_columns.path)
    text = " ".join(paper.page(2).text.split())
    order = [
        text.index("Left column 1.0 begins"),
        text.index("Left column 1.0 ends"),
        text.index("Right column 1.0 begins"),
        text.index("Right column 1.0 ends"),
    ]
    assert order == sorted(order)


def test_ligatures_and_hyphenation_repaired(outlined: pdfs.PaperSpec) -> None:
    if pdfs.unicode_font() is None:
        pytest.skip("no TTF font with ligature glyphs on this machine")
    paper = load_paper(outlined.path)
    first = paper.page(1).text
    assert "efficient filtering of floating widgets" in first
    assert not any(ch in paper.text for ch in "\ufb00\ufb01\ufb02\ufb03\ufb04")
    assert "hyphenation aware tokenizer" in " ".join(paper.page(4).text.split())
    assert "hyphen-" not in paper.text


def test_references_cut_appendix_kept_and_counted(outlined: pdfs.PaperSpec) -> None:
    paper = load_paper(outlined.path)
    assert paper.references is not None
    assert paper.references_page == outlined.references_page
    assert paper.reference_count == outlined.reference_count == 12
    body = paper.body_text()
    assert "[3] A. Author3" not in body
    assert "[3] A. Author3" in paper.text
    assert "Appendix text survives the references cut." in body
    assert "7 Conclusion" in body
    # page tags for citations, none for the references page (it is cut entirely)
    assert "[page 1]" in body and "[page 10]" in body
    assert f"[page {outlined.references_page}]" not in body


def test_long_paper(tmp_path: Path) -> None:
    spec = pdfs.build_long_paper(tmp_path / "long.pdf", pages=110)
    paper = load_paper(spec.path)
    assert paper.page_count == spec.pages >= 100
    assert _sections(paper) == spec.sections
    assert paper.reference_count == 150
    assert paper.references_page == spec.references_page


def test_pdf_bytes(outlined: pdfs.PaperSpec) -> None:
    paper = load_paper(outlined.path.read_bytes())
    assert paper.page_count == outlined.pages and paper.source == "<bytes>"


def _error(source: object, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as info:
        load_paper(source, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in info.value.message
    return info.value


def test_encrypted_needs_password(tmp_path: Path) -> None:
    path = pdfs.build_encrypted(tmp_path / "locked.pdf", user_password="s3cret")
    err = _error(path)
    assert "encrypted" in err.message and "--password" in (err.hint or "")
    wrong = _error(path, password="nope")
    assert "wrong password" in wrong.message
    paper = load_paper(path, password="s3cret")
    assert "Secret page 1." in paper.page(1).text


def _owner_only(path: Path) -> Path:
    """Encrypted with an empty user password (publisher PDFs that only restrict printing)."""
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.set_encryption(
        owner_password="owner", user_password="", encryption_method=EncryptionMethod.AES_128
    )
    pdf.add_page()
    pdf.multi_cell(0, 6, "Owner restricted page. " + pdfs.filler(1, 60))
    pdf.output(str(path))
    return path


def test_a_password_does_not_break_a_pdf_that_opens_without_one(tmp_path: Path) -> None:
    path = _owner_only(tmp_path / "owner.pdf")
    assert "Owner restricted page." in load_paper(path).text
    # a password given for other files of a batch (or ASSISTANTS_PDF_PASSWORD) is not fatal
    assert "Owner restricted page." in load_paper(path, password="for-another-file").text
    locked = pdfs.build_encrypted(tmp_path / "locked.pdf")
    with pytest.raises(Exception, match="wrong password"):
        load_paper(locked, password="nope")
    assert "Secret page 1." in load_paper(locked, password="s3cret").text


def test_truncated_and_corrupt(tmp_path: Path) -> None:
    err = _error(pdfs.build_truncated(tmp_path / "cut.pdf"))
    assert "truncated" in err.message
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"this is not a pdf at all" * 10)
    assert "not a PDF" in _error(junk).message
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert "empty" in _error(empty).message
    assert "not found" in _error(tmp_path / "missing.pdf").message
    assert "folder" in _error(tmp_path).message


def test_image_only_suggests_ocr(tmp_path: Path) -> None:
    err = _error(pdfs.build_image_only(tmp_path / "scan.pdf"))
    assert "image-only" in err.message
    assert "ocrmypdf" in (err.hint or "")


def test_zero_pages(tmp_path: Path) -> None:
    assert "no pages" in _error(pdfs.build_zero_pages(tmp_path / "zero.pdf")).message


def test_decompression_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    err = _error(pdfs.build_bomb(tmp_path / "bomb.pdf", megabytes=200))
    assert "safety limit" in err.message


def test_a_safety_limit_is_not_called_corruption() -> None:
    from pypdf import errors as pdf_errors

    from assistants.paper.worker import classify

    try:
        try:
            raise pdf_errors.LimitReachedError("Maximum XRef stream entry limit reached")
        except pdf_errors.LimitReachedError as inner:
            raise pdf_errors.PdfReadError(f"Trailer cannot be read: {inner}") from inner
    except pdf_errors.PdfReadError as exc:
        message, hint = classify(exc, pdf_errors, encrypted=False)
    assert message.startswith("the PDF exceeds a safety limit")
    assert "corrupt" not in message and hint and "hostile" in hint


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux-only")
def test_memory_limit_of_the_reader_process(tmp_path: Path) -> None:
    # With pypdf's stream limit lifted, only the worker's RLIMIT_AS stops the bomb.
    from assistants.paper.pdf import _extract
    from assistants.paper.worker import Limits

    bomb = pdfs.build_bomb(tmp_path / "bomb.pdf", megabytes=300)
    limits = Limits(max_memory_mb=256, stream_bytes=2_000_000_000)
    with pytest.raises(InputError) as info:
        _extract(
            path=str(bomb),
            data=None,
            name="bomb.pdf",
            password=None,
            limits=limits,
            page_timeout=60,
            file_timeout=120,
        )
    assert "more than 256 MB" in info.value.message


def test_limits_from_settings(tmp_path: Path) -> None:
    path = pdfs.build_simple(tmp_path / "five.pdf", pages=5)
    err = _error(path, settings=PaperSettings(max_pages=3))
    assert "5 pages is over the 3-page limit" in err.message
    err = _error(path, settings=PaperSettings(max_file_mb=0.0001))
    assert "MB limit" in err.message


def test_runaway_page_is_skipped_after_its_time_limit(tmp_path: Path) -> None:
    path = pdfs.build_slow_page(tmp_path / "slow.pdf")
    paper = load_paper(path, settings=PaperSettings(page_timeout=1.0, extract_timeout=60))
    assert paper.page_count == 3
    assert "Fast page one" in paper.page(1).text
    assert paper.page(2).text == ""
    assert "Fast page three" in paper.page(3).text
    assert any("page 2: skipped" in w for w in paper.warnings)


def test_file_time_limit(tmp_path: Path) -> None:
    path = pdfs.build_slow_page(tmp_path / "slow.pdf")
    err = _error(path, settings=PaperSettings(page_timeout=60, extract_timeout=1.5))
    assert "longer than 1.5 s" in err.message


def test_reader_defaults_are_the_paper_settings_defaults() -> None:
    # load_paper without settings uses these without importing the config (pydantic)
    from assistants.config import Settings
    from assistants.paper.pdf import _reader_settings, _ReaderSettings

    assert _reader_settings(None) == _ReaderSettings()
    assert _reader_settings(PaperSettings()) == _ReaderSettings()
    assert _reader_settings(Settings()).page_timeout == Settings().paper.page_timeout
    custom = _reader_settings(PaperSettings(page_timeout=2.5, max_pages=7))
    assert (custom.page_timeout, custom.max_pages) == (2.5, 7)


def test_the_reader_starts_before_pydantic_is_imported(tmp_path: Path) -> None:
    # what keeps a fresh `load_paper` fast: the worker (pypdf) starts while the parent imports
    # the paper model; the parent never imports pypdf
    import subprocess

    path = pdfs.build_simple(tmp_path / "two.pdf", pages=2)
    code = (
        "import subprocess, sys\n"
        "from assistants import load_paper\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported by the module'\n"
        "seen = []\n"
        "class Popen(subprocess.Popen):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        seen.append('pydantic' in sys.modules)\n"
        "        super().__init__(*args, **kwargs)\n"
        "subprocess.Popen = Popen\n"
        "paper = load_paper(sys.argv[1])\n"
        "assert seen == [False], seen\n"
        "assert 'pypdf' not in sys.modules\n"
        "print(paper.page_count)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
