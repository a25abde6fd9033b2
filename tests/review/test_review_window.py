"""`assistants review` against a local server with a small context window: the request budget
is capped to the window, so every request fits (prompt + max_tokens), and a dry run asks the
server nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from deepseek_server import count_tokens, prompt_text
from local_server import local_server
from repos import make_repo, write

from assistants.cli import cli


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["review", *args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    for name in ("a.py", "b.py"):  # ~3,000 tokens each: more than one 8K request holds
        write(root / name, "".join(f"v{i} = work({i}, 'padding text here')\n" for i in range(300)))
    monkeypatch.chdir(root)
    return root


def test_requests_fit_a_reported_window(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with local_server(monkeypatch, context_window=8192, report_window=("props",)) as srv:
        result = run("a.py", "b.py", "--format", "json")
        assert result.exit_code == 0, result.output
        chats = srv.chat_requests
        assert len(chats) >= 2  # the 24K default budget would have sent one request
        for request in chats:
            body = request.body or {}
            assert request.status == 200
            assert count_tokens(prompt_text(body["messages"])) + body["max_tokens"] <= 8192
    assert json.loads(result.stdout)["failed"] == []


def test_a_dry_run_asks_the_server_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with local_server(monkeypatch, context_window=8192) as srv:
        result = run("a.py", "b.py", "--dry-run")
        assert result.exit_code == 0, result.output
        assert srv.requests == []
