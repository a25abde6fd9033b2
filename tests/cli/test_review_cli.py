"""`assistants review` on the command line: the pre-push hook, partial failures, --output checked
before anything is sent, hook-only options, the --fail-on choices."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, get_args

import pytest
from click.testing import CliRunner, Result
from deepseek_server import DeepSeekServer, Reply
from repos import git, make_repo, write
from review_replies import APP, answer, blocks, sql_finding

from assistants.cli import cli
from assistants.errors import InputError

ZEROS = "0" * 40


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["review", *args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    write(root / "app.py", APP)
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    monkeypatch.chdir(root)
    return root


def test_hook_pre_push_of_a_new_branch(
    server: DeepSeekServer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp = repo.parent / "remote.git"
    git(repo.parent, "init", "-q", "--bare", str(tmp))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "HEAD:main")
    git(repo, "fetch", "-q", "origin")
    write(repo / "new.py", "def added():\n    return 1\n")
    git(repo, "add", "new.py")
    git(repo, "commit", "-qm", "on the new branch")
    server.responder = lambda body: answer([])

    monkeypatch.setenv("PRE_COMMIT_FROM_REF", ZEROS)  # a new branch
    monkeypatch.setenv("PRE_COMMIT_TO_REF", git(repo, "rev-parse", "HEAD").strip())
    result = run("--hook", "--format", "json")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert review["mode"] == "diff" and [f["path"] for f in review["files"]] == ["new.py"]
    assert [p for p, _ in blocks(server.chat_requests[-1].body or {})] == ["new.py"]

    # a push of the whole history (pre-commit gives no from-ref): from the empty tree
    monkeypatch.delenv("PRE_COMMIT_FROM_REF")
    monkeypatch.delenv("PRE_COMMIT_TO_REF")
    git(repo, "remote", "remove", "origin")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "HEAD")
    result = run("--hook", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [f["path"] for f in json.loads(result.stdout)["files"]] == ["app.py", "new.py"]

    # deleting a remote branch (a to-ref of zeros): nothing to review, nothing sent
    sent = len(server.chat_requests)
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", git(repo, "rev-parse", "HEAD").strip())
    monkeypatch.setenv("PRE_COMMIT_TO_REF", ZEROS)
    result = run("--hook")
    assert result.exit_code == 0, result.output
    assert "nothing pushed to review" in result.stderr
    assert len(server.chat_requests) == sent


def many_files(repo: Path) -> None:
    for name in ("a.py", "b.py", "c.py"):
        write(repo / "many" / name, "".join(f"v{i} = work({i}, 'padding')\n" for i in range(40)))
    write(repo / "pyproject.toml", "[tool.assistants.review]\nrequest_token_budget = 1500\n")


def partial_responder(severity: str) -> Any:
    def responder(body: dict[str, Any]) -> Reply:
        ((path, _),) = blocks(body)
        if path.endswith("b.py"):
            return Reply(status=500)
        return answer([{**sql_finding(severity=severity), "file": path, "line_start": 1,
                        "quote": "v0 = work(0, 'padding')"}])  # fmt: skip

    return responder


def test_hook_partial_failure_warns_without_blocking(
    server: DeepSeekServer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    many_files(repo)
    # the budget is a review rule: staged changes are reviewed by HEAD's
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-qm", "review budget")
    git(repo, "add", ".")
    server.responder = partial_responder("low")
    result = run("--hook", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "could not be reviewed" in result.stderr and "warning:" in result.stderr
    assert [f["path"] for f in json.loads(result.stdout)["failed"]] == ["many/b.py"]
    assert run("--hook", "--fail-closed", "--format", "json").exit_code == 7


def test_gate_and_partial_failure_are_both_reported(
    server: DeepSeekServer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    many_files(repo)
    server.responder = partial_responder("high")
    result = run("many", "--format", "json")
    assert result.exit_code == 1
    assert "at or above high" in result.stderr and "could not be reviewed" in result.stderr


def test_unwritable_output_fails_before_anything_is_sent(
    server: DeepSeekServer, repo: Path
) -> None:
    server.responder = lambda body: answer([sql_finding()])
    blocker = write(repo / "report", "a file, not a folder\n")
    result = CliRunner().invoke(cli, ["review", "app.py", "-o", str(blocker / "out.sarif")])
    assert result.exit_code == InputError.exit_code, result.output
    assert "cannot write there" in result.stderr and "Traceback" not in result.output
    assert server.chat_requests == []
    if os.geteuid() != 0:  # root can write anywhere
        locked = repo / "locked"
        locked.mkdir(mode=0o500)
        result = CliRunner().invoke(cli, ["review", "app.py", "-o", str(locked / "x" / "r.md")])
        assert result.exit_code == InputError.exit_code


def test_hook_only_options_are_usage_errors_without_hook(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    for option in (["--fail-closed"], ["--timeout", "5"]):
        result = CliRunner().invoke(cli, ["review", str(tmp_path), "--dry-run", *option])
        assert result.exit_code == 2, (option, result.output)
        assert "only applies with --hook" in result.output


def test_fail_on_choices_are_the_settings_vocabulary() -> None:
    from assistants.cli.review import FAIL_ON_CHOICES
    from assistants.config import FailOn, Severity

    assert FAIL_ON_CHOICES == get_args(FailOn) == (*get_args(Severity), "never")


def test_a_symlink_loop_named_directly_is_one_line_exit_4(repo: Path) -> None:
    os.symlink("loop", repo / "loop")
    result = run("loop")
    assert result.exit_code == InputError.exit_code == 4
    assert result.stderr.splitlines() == [
        "error: loop: a symbolic-link loop (the link leads back to itself)"
    ]
