"""Off-schema replies are never a review: over HTTP against the test server, a reply without
``findings`` goes through the repair round and, failing it, its file is listed as failed with
the reason (exit 7 beside files that were reviewed), never as "No findings"; nothing that failed
validation is cached, and a repaired answer is cached under the original request's key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from deepseek_server import DeepSeekServer, Reply
from repos import make_repo, write
from review_replies import answer, blocks, sql_finding

from assistants.cli import cli
from assistants.errors import PartialFailureError

OFF_SCHEMA = {
    "empty object": "{}",
    "a finding's fields at the top": json.dumps({"title": "1.1", "description": "Looks off."}),
    "a file key only": json.dumps({"file": "x.py"}),
    "findings missing": json.dumps({"summary": "No issues.", "issues": []}),
    "findings not a list": json.dumps({"findings": "none"}),
}


FILES = ("a.py", "b.py", "c.py")


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["review", *args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    for name in FILES:  # one request each (the budget below)
        write(root / name, "".join(f"v{i} = work({i}, 'padding text here')\n" for i in range(40)))
    write(root / "pyproject.toml", "[tool.assistants.review]\nrequest_token_budget = 1500\n")
    monkeypatch.chdir(root)
    return root


def _finding(path: str) -> dict[str, Any]:
    return {
        **sql_finding(severity="medium"),
        "file": path,
        "line_start": 1,
        "quote": "v0 = work(0, 'padding text here')",
    }


def _path(body: dict[str, Any]) -> str:
    """The one file of a request (its repair round included: the file is in the first ask)."""
    ((path, _),) = blocks({"messages": body["messages"][:2]})
    return path


def _paths(server: DeepSeekServer) -> list[str]:
    return sorted(_path(r.body) for r in server.chat_requests if r.body)


@pytest.mark.parametrize("off", OFF_SCHEMA.values(), ids=OFF_SCHEMA.keys())
def test_an_off_schema_reply_fails_its_file_and_is_not_cached(
    server: DeepSeekServer, repo: Path, off: str
) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        path = _path(body)
        return Reply(off) if path == "b.py" else answer([_finding(path)])

    server.responder = responder
    result = run(*FILES, "--format", "json", "--fail-on", "high")
    assert result.exit_code == PartialFailureError.exit_code, result.output
    review = json.loads(result.stdout)
    (failed,) = review["failed"]
    assert failed["path"] == "b.py" and failed["error"] == "StructuredOutputError"
    assert "did not validate" in failed["reason"]
    assert review["coverage"]["files_reviewed"] == 2
    assert sorted(f["path"] for f in review["findings"]) == ["a.py", "c.py"]
    # the repair round was asked for b.py, and showed the model what was missing
    repair = [r for r in server.chat_requests if len(r.body["messages"]) == 4]
    assert len(repair) == 1 and "findings" in repair[0].body["messages"][-1]["content"]

    server.reset()
    again = run(*FILES, "--format", "text", "--fail-on", "high")
    assert again.exit_code == PartialFailureError.exit_code
    assert "No findings" not in again.output
    assert _paths(server) == ["b.py", "b.py"]  # asked again (twice: the repair round too)


@pytest.mark.parametrize("off", ["{}", json.dumps({"file": "x.py"})], ids=["empty", "file"])
def test_a_single_file_answered_off_schema_is_an_error_not_no_findings(
    server: DeepSeekServer, repo: Path, off: str
) -> None:
    server.responder = lambda body: Reply(off)
    result = run("a.py")
    assert result.exit_code == PartialFailureError.exit_code, result.output
    assert "No findings" not in result.output
    assert "a.py" in result.output and "did not validate" in result.output  # listed, with why
    server.reset()
    assert run("a.py").exit_code == PartialFailureError.exit_code
    assert len(server.chat_requests) == 2  # nothing was cached


@pytest.mark.parametrize(
    "first", ["", "{}", json.dumps({"file": "a.py"})], ids=["empty", "{}", "file"]
)
def test_a_repaired_reply_is_accepted_and_cached_under_the_first_request(
    server: DeepSeekServer, repo: Path, first: str
) -> None:
    server.enqueue(Reply(first), answer([_finding("a.py")]))
    result = run("a.py", "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert [f["path"] for f in review["findings"]] == ["a.py"] and not review["failed"]
    assert len(server.chat_requests) == 2

    server.reset()  # a re-run pays nothing: neither the first request nor the repair
    again = run("a.py", "--format", "json", "--fail-on", "never")
    assert again.exit_code == 0, again.output
    assert server.chat_requests == []
    assert json.loads(again.stdout)["findings"] == review["findings"]


def test_an_empty_findings_list_said_is_a_review(server: DeepSeekServer, repo: Path) -> None:
    server.responder = lambda body: answer([])
    result = run("a.py", "--fail-on", "high")
    assert result.exit_code == 0, result.output
    assert len(server.chat_requests) == 1  # no repair round for a valid empty review


def test_the_servers_default_json_answer_validates(server: DeepSeekServer, repo: Path) -> None:
    result = run(*FILES, "--format", "json")  # no script: the server's smallest valid object
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["failed"] == []
    assert len(server.chat_requests) == 3
