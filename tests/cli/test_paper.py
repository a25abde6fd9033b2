"""``assistants paper ...`` through click's CliRunner against the test server: every command,
--output checked before anything is sent, warnings on stderr, folder runs."""

from __future__ import annotations

import json
from pathlib import Path

import pdfs
import pytest
from click.testing import CliRunner, Result
from deepseek_server import DeepSeekServer, Reply
from paper_replies import responder, review_json

from assistants.cli import cli
from assistants.config import load_settings
from assistants.paper.batch import analyze_folder


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["paper", *args], input=input, catch_exceptions=False)


def _settings():  # type: ignore[no-untyped-def]
    return load_settings(cache_enabled=False, ledger_enabled=False)


def test_every_command_has_help() -> None:
    for command in ("analyze", "ask", "chat", "review"):
        result = CliRunner().invoke(cli, ["paper", command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output and len(result.output) > 200
    top = CliRunner().invoke(cli, ["paper", "--help"])
    assert all(name in top.output for name in ("analyze", "ask", "chat", "review"))


def test_analyze_json_and_markdown(
    srv: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    result = run("analyze", str(spec.path), "--format", "json", "--no-cache")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["path"] == "single" and data["contributions"][1]["unverified_pages"] == [0, 31]
    out = tmp_path / "report.md"
    result = run("analyze", str(spec.path), "-f", "markdown", "-o", str(out))
    assert result.exit_code == 0
    assert "## Core contributions" in out.read_text("utf-8")
    assert "Widgets. (p. 2, 3)" in out.read_text("utf-8")


def test_ask_and_dry_run(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    result = run("ask", str(spec.path), "What is the tokenizer?")
    assert result.exit_code == 0
    assert result.stdout.strip() == "A tokenizer. (p. 4)"
    before = len(srv.chat_requests)
    result = run("ask", str(spec.path), "Why?", "--dry-run")
    assert result.exit_code == 0
    assert "dry run: nothing was sent" in result.stdout
    assert len(srv.chat_requests) == before


def test_chat_reads_questions_from_a_pipe(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    result = run("chat", str(spec.path), "--no-cache", input="First?\n\nSecond?\nexit\nThird?\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("A tokenizer. (p. 4)") == 2
    assert len(srv.chat_requests) == 2  # stopped at "exit"
    second = srv.chat_requests[1].body["messages"]
    assert [m["role"] for m in second] == ["system", "user", "user", "assistant", "user"]
    assert "Second?" in second[-1]["content"]
    assert "prefix cache" in result.stderr


def test_chat_json_is_one_object_per_line(server: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    server.responder = responder
    result = run("chat", str(spec.path), "-f", "json", "--no-cache", input="One?\n\nTwo?\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == ["One?", "Two?"]


def test_review_with_ensemble(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    srv.responder = None
    srv.enqueue(*(Reply(review_json()) for _ in range(3)))
    result = run("review", str(spec.path), "--ensemble", "2", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert len(srv.chat_requests) == 3
    assert "| Overall | 6 / 10 |" in result.stdout
    assert "ensemble of 2" in result.stdout


def test_ask_and_review_show_the_papers_warnings(server: DeepSeekServer, tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for number in range(4):
        pdf.add_page()
        if number % 2 == 0:  # pages 2 and 4 are blank (scans without a text layer)
            pdf.multi_cell(0, 6, f"Page {number + 1} text. " + pdfs.filler(number, 60))
    pdf.output(str(tmp_path / "half.pdf"))
    server.responder = responder
    for args in (("ask", "What?"), ("review",), ("chat",)):
        result = run(args[0], str(tmp_path / "half.pdf"), *args[1:], "--no-cache", input="Q?\n")
        assert result.exit_code == 0, result.output
        assert "warning: 2 of 4 pages have no text" in result.stderr


def test_bad_input_is_one_line_with_exit_code_4(spec: pdfs.PaperSpec, tmp_path: Path) -> None:
    locked = pdfs.build_encrypted(tmp_path / "locked.pdf")
    result = run("analyze", str(locked))
    assert result.exit_code == 4
    assert result.stderr.splitlines() == [
        f"error: {locked}: the PDF is encrypted",
        "hint: pass --password PASSWORD (password= in Python)",
    ]
    result = run("analyze", str(locked), "--password", "s3cret", "--dry-run")
    assert result.exit_code == 0 and "dry run" in result.stdout
    scan = pdfs.build_image_only(tmp_path / "scan.pdf")
    result = run("ask", str(scan), "Anything?")
    assert result.exit_code == 4 and "ocrmypdf" in result.stderr


def test_single_file_output_to_a_folder_is_an_input_error_before_any_request(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    server.responder = responder
    result = run("analyze", str(spec.path), "-o", str(tmp_path))
    assert result.exit_code == 4, result.output
    assert "is a folder" in result.stderr
    assert server.chat_requests == []


def test_folder_output_onto_a_file_is_an_input_error_before_any_request(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    server.responder = responder
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(spec.path.read_bytes())
    target = tmp_path / "report.md"
    target.write_text("keep me", "utf-8")
    result = run("analyze", str(folder), "-o", str(target))
    assert result.exit_code == 4, result.output
    assert "not a folder" in result.stderr
    assert server.chat_requests == []
    assert target.read_text("utf-8") == "keep me"
    for args in (
        ("analyze", str(folder), "-o", str(target / "reports")),
        ("analyze", str(folder / "a.pdf"), "-o", str(target / "a.md")),
        ("ask", str(folder / "a.pdf"), "Why?", "-o", str(target / "a.md")),
        ("review", str(folder / "a.pdf"), "-o", str(target / "sub" / "a.md")),
    ):
        result = run(*args)
        assert result.exit_code == 4, result.output
        assert f"{target} is not a writable folder" in result.stderr
    assert server.chat_requests == []


def test_folder_writes_reports_and_exits_7_on_failures(
    srv: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(spec.path.read_bytes())
    (folder / "b.pdf").write_bytes(b"not a pdf")
    out = tmp_path / "out"
    result = run("analyze", str(folder), "-o", str(out))
    assert result.exit_code == 7, result.output
    assert "1 analysed, 1 failed" in result.stdout
    assert "b.pdf: " in result.stdout
    assert (out / "a.txt").is_file() and (out / "index.txt").is_file() is False
    assert (out / "index.md").is_file()


def test_rerun_on_a_folder_does_not_analyse_its_own_reports(
    server: DeepSeekServer, spec: pdfs.PaperSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.responder = responder
    (tmp_path / "a.pdf").write_bytes(spec.path.read_bytes())
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second run finds ./paper-reports from the first
        result = run("analyze", ".", "--format", "markdown", "--no-cache")
        assert result.exit_code == 0, result.output
        assert "1 analysed, 0 failed" in result.stdout
    assert len(server.chat_requests) == 2
    batch = analyze_folder(tmp_path, settings=_settings(), exclude=[tmp_path / "paper-reports"])
    assert [item.source for item in batch.items] == ["a.pdf"]
    result = run("analyze", ".", "-o", ".", "--no-cache")  # reports next to the papers: works
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.txt").is_file()


def test_folder_dry_run_prints_the_estimate_and_writes_no_reports(
    spec: pdfs.PaperSpec, tmp_path: Path
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    for name in ("a.pdf", "b.pdf"):
        (folder / name).write_bytes(spec.path.read_bytes())
    out = tmp_path / "reports"
    result = run("analyze", str(folder), "--output", str(out), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was sent · 2 planned, 0 failed · 2 request(s)" in result.stdout
    assert "- a.pdf" in result.stdout and "input tokens, estimated $" in result.stdout
    assert f"dry run: no reports written to {out}" in result.stderr
    assert not out.exists()
    result = run("analyze", str(folder), "--dry-run", "--format", "json")  # the default folder
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["items"]) == 2
    assert not Path("paper-reports").exists()
