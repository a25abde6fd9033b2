"""A folder of papers: failures listed and never fatal, dry-run totals, and one concurrency
limit over every request of every paper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pdfs
from deepseek_server import DeepSeekServer, Reply
from fakes import ScriptedChatModel
from paper_replies import responder

from assistants.config import load_settings
from assistants.paper.batch import analyze_folder


def _settings():  # type: ignore[no-untyped-def]
    return load_settings(cache_enabled=False, ledger_enabled=False)


def test_folder_batch_lists_failures(
    srv: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "good.pdf").write_bytes(spec.path.read_bytes())
    (folder / "notes.md").write_text("# Notes\n\n## Method\nWe test widgets.\n", "utf-8")
    pdfs.build_encrypted(folder / "locked.pdf")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    (folder / "ignore.png").write_bytes(b"\x89PNG")
    batch = analyze_folder(folder, settings=load_settings(cache_enabled=False))
    assert [i.source for i in batch.items] == ["broken.pdf", "good.pdf", "locked.pdf", "notes.md"]
    assert [i.ok for i in batch.items] == [False, True, False, True]
    assert len(srv.chat_requests) == 2
    locked = batch.items[2]
    assert "encrypted" in (locked.error or "") and "--password" in (locked.hint or "")
    assert batch.usage.requests == 2
    index = batch.write(tmp_path / "reports")
    text = index.read_text("utf-8")
    assert "2 analysed, 2 failed" in text and "locked.pdf: " in text
    assert (tmp_path / "reports" / "good.md").read_text("utf-8").startswith("# Sparse Widgets")
    assert (tmp_path / "reports" / "notes.md").is_file()


def test_batch_failure_names_the_file_once(tmp_path: Path) -> None:
    (tmp_path / "b.pdf").write_bytes(b"not a pdf")
    batch = analyze_folder(tmp_path, settings=_settings(), model=ScriptedChatModel(replies=[]))
    (item,) = batch.failures
    assert item.error == "not a PDF (no %PDF- header)"
    assert "- b.pdf: not a PDF" in batch.to_markdown()


def test_folder_dry_run_totals_the_plans(spec: pdfs.PaperSpec, tmp_path: Path) -> None:
    for name in ("a.pdf", "b.pdf"):
        (tmp_path / name).write_bytes(spec.path.read_bytes())
    batch = analyze_folder(tmp_path, settings=_settings(), dry_run=True)
    plans = [a.estimate for a in batch.analyses]
    assert all(plans) and len(plans) == 2
    index = batch.to_markdown()
    assert "dry run: nothing was sent · 2 planned, 0 failed · 2 request(s)" in index
    tokens = sum(e.input_tokens for e in plans if e)
    assert f"{tokens:,} input tokens" in index and "analysed" not in index


def test_a_folder_of_long_papers_keeps_to_the_concurrency_limit(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    import threading
    import time

    lock = threading.Lock()
    in_flight = [0, 0]  # now, most

    def reply(body: dict[str, Any]) -> Reply:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        time.sleep(0.05)  # let the other requests arrive
        with lock:
            in_flight[0] -= 1
        return responder(body)

    server.responder = reply
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        (tmp_path / name).write_bytes(spec.path.read_bytes())
    settings = load_settings(
        cache_enabled=False,
        ledger_enabled=False,
        concurrency=2,
        paper={"token_budget": 1001, "chunk_tokens": 600},
    )
    batch = analyze_folder(tmp_path, settings=settings)
    assert [a.path for a in batch.analyses] == ["map-reduce"] * 3
    assert len(server.chat_requests) > 6
    assert in_flight[1] <= 2  # not 2 papers x 2 map requests
