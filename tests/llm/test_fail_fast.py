"""Fail fast, say so: an endpoint nobody listens on fails after at most one retry with a
message naming the URL; each retry is one line on a terminal."""

from __future__ import annotations

import logging
import re
import socket
import time
from pathlib import Path

import pytest
from cli_runner import one_line_error, run
from deepseek_server import TEST_KEY, DeepSeekServer
from log_lines import log_lines

from assistants import errors
from assistants.config import load_settings
from assistants.llm import LLM
from assistants.llm.failures import retry_line


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def nobody(monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    monkeypatch.setenv("ASSISTANTS_BASE_URL", url)
    monkeypatch.setenv("DEEPSEEK_API_KEY", TEST_KEY)
    monkeypatch.setenv("ASSISTANTS_API_FLAVOR", "deepseek")
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "5")
    return url


def test_connection_refused_fails_after_one_retry(nobody: str) -> None:
    with log_lines() as lines, pytest.raises(errors.APIConnectionError) as info:
        LLM("chat").complete([("user", "q")])
    assert info.value.attempts == 2  # one retry, not five
    assert nobody in info.value.message and "connection refused" in info.value.message
    assert info.value.exit_code == 5
    (retry,) = [line for line in lines if line.startswith("retrying")]
    assert re.fullmatch(r"retrying in [\d.]+ s \(1/1\): connection refused", retry), retry


@pytest.mark.parametrize("command", ["chat", "review"])
def test_cli_against_a_closed_port_fails_fast(nobody: str, tmp_path: Path, command) -> None:
    (tmp_path / "app.py").write_text("def f(x):\n    return x / 0\n")
    args = ["chat", "hello"] if command == "chat" else ["review", str(tmp_path / "app.py")]
    started = time.monotonic()
    result = run(*args)
    assert time.monotonic() - started < 30  # generous: the real bound is the attempts below
    assert result.exit_code == 5, result.output
    line = one_line_error(result)
    assert nobody in line and "after 2 attempt(s)" in line


def test_retry_line_format() -> None:
    assert retry_line(4.03, 2, 5, "HTTP 503") == "retrying in 4 s (2/5): HTTP 503"
    assert retry_line(0.5, 1, 5, "a timeout") == "retrying in 0.5 s (1/5): a timeout"
    assert retry_line(12.7, 3, 5, "HTTP 429") == "retrying in 13 s (3/5): HTTP 429"


def test_each_retry_is_one_line(server: DeepSeekServer) -> None:
    server.fail_next(503, times=2)
    with log_lines() as lines:
        LLM("chat", settings=load_settings(max_retries=5)).complete([("user", "q")])
    retries = [line for line in lines if line.startswith("retrying")]
    assert len(retries) == 2
    assert retries[0].endswith("(1/5): HTTP 503") and retries[1].endswith("(2/5): HTTP 503")


@pytest.mark.parametrize("terminal", [True, False])
def test_the_cli_shows_retry_lines_only_on_a_terminal(server, monkeypatch, terminal) -> None:
    from assistants.cli import _common

    monkeypatch.setattr(_common, "interactive", lambda: terminal)
    server.fail_next(503, times=1)
    result = run("chat", "--json", "hello")
    assert result.exit_code == 0, result.output
    shown = [line for line in result.stderr.splitlines() if line.startswith("retrying in")]
    assert len(shown) == (1 if terminal else 0)
    if terminal:
        assert re.fullmatch(r"retrying in [\d.]+ s \(1/\d+\): HTTP 503", shown[0]), shown
    logging.getLogger("assistants").setLevel(logging.WARNING)
