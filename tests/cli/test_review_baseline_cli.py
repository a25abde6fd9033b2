"""`assistants review baseline`, `--baseline` and `--update-baseline` over real HTTP: the file
written, findings held back and counted, no extra requests, errors before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from deepseek_server import DeepSeekServer, Reply
from marker_replies import marker_reply
from repos import git, make_repo, write

from assistants.cli import cli

APP = "import os\n\n\ndef load(text):\n    return eval(text)\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["review", *args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: DeepSeekServer) -> Path:
    root = make_repo(tmp_path / "repo")
    write(root / "app.py", APP)
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    monkeypatch.chdir(root)
    server.responder = lambda body: Reply(marker_reply(body["messages"][-1]["content"], "eval("))
    return root


def test_baseline_then_only_new_findings(repo: Path, server: DeepSeekServer) -> None:
    made = run("baseline", "app.py", "-o", "base.json")
    assert made.exit_code == 0, made.output
    assert "wrote baseline base.json (1 finding(s))" in made.stderr
    entries = json.loads((repo / "base.json").read_text())["findings"]
    assert [(e["path"], e["category"]) for e in entries] == [("app.py", "security")]

    sent = len(server.chat_requests)
    held = run("app.py", "--baseline", "base.json", "--format", "json")
    assert held.exit_code == 0, held.output  # the gate sees no finding
    report = json.loads(held.stdout)
    assert report["findings"] == [] and report["suppressed_counts"]["baseline"] == 1
    assert len(server.chat_requests) == sent  # the cached answer: the check costs nothing

    write(repo / "app.py", APP + "\n\ndef run(code):\n    return eval(code + '1')\n")
    new = run("app.py", "--baseline", "base.json", "--format", "json", "--fail-on", "high")
    assert new.exit_code == 1
    assert [f["line_start"] for f in json.loads(new.stdout)["findings"]] == [9]


def test_the_baseline_command_shares_the_review_options(repo: Path) -> None:
    filler = "".join(f"\n\ndef f{i}(x):\n    return x + {i}\n" for i in range(10))
    write(repo / "app.py", APP + filler)
    git(repo, "commit", "-qam", "longer")
    write(repo / "app.py", APP + filler + "\n\ndef run(code):\n    return eval(code + '1')\n")
    made = run("baseline", "--diff", "HEAD", "--exclude", "nothing/*", "-o", "diff.json")
    assert made.exit_code == 0, made.output
    entries = json.loads((repo / "diff.json").read_text())["findings"]
    assert len(entries) == 1  # only the changed lines were reviewed
    assert run("baseline", "--staged", "--diff", "HEAD").exit_code == 2
    assert run("baseline", "--config-from", "ref", ".").exit_code == 2


def test_update_baseline_accepts_the_current_findings(repo: Path) -> None:
    first = run("app.py", "--baseline", "b.json", "--update-baseline", "--fail-on", "low")
    assert first.exit_code == 0, first.output
    assert "wrote baseline b.json (1 finding(s))" in first.stderr
    assert "1 suppressed (1 baseline)" in first.stdout
    write(repo / "app.py", APP.replace("eval(text)", "int(text)"))
    fixed = run("app.py", "--baseline", "b.json", "--update-baseline")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads((repo / "b.json").read_text())["findings"] == []


def test_under_diff_a_change_cannot_widen_its_own_baseline(repo: Path) -> None:
    assert run("baseline", "app.py", "-o", "base.json").exit_code == 0
    git(repo, "add", "base.json")
    git(repo, "commit", "-qm", "baseline")
    write(repo / "app.py", APP + "\n\ndef run(code):\n    return eval(code + '1')\n")
    # the change also adds its new finding to the baseline file
    assert run("app.py", "--baseline", "base.json", "--update-baseline").exit_code == 0
    assert len(json.loads((repo / "base.json").read_text())["findings"]) == 2

    result = run("--diff", "HEAD", "--baseline", "base.json", "--format", "json")
    assert [f["line_start"] for f in json.loads(result.stdout)["findings"]] == [9]
    assert "baseline base.json comes from HEAD (the change edits it)" in result.stderr
    worktree = ("--diff", "HEAD", "--config-from", "worktree", "--format", "json")
    trusting = run(*worktree, "--baseline", "base.json")
    assert json.loads(trusting.stdout)["findings"] == []

    write(repo / "new.json", (repo / "base.json").read_text())  # not in HEAD at all
    added = run("--diff", "HEAD", "--baseline", "new.json", "--format", "json")
    assert len(json.loads(added.stdout)["findings"]) == 2  # both: nothing held back
    assert "is not in HEAD, so it holds nothing back" in added.stderr
    outside = repo.parent / "artifact.json"  # outside the repository: read as it is
    outside.write_text((repo / "base.json").read_text(), encoding="utf-8")
    artifact = run("--diff", "HEAD", "--baseline", str(outside), "--format", "json")
    assert json.loads(artifact.stdout)["findings"] == []


def test_gitlab_and_rdjson_say_the_count_on_stderr(repo: Path) -> None:
    assert run("baseline", "app.py", "-o", "base.json").exit_code == 0
    for fmt in ("gitlab", "rdjson"):
        result = run("app.py", "--baseline", "base.json", "--format", fmt)
        assert result.exit_code == 0, result.output
        assert "1 suppressed (1 baseline), not in the" in result.stderr
        json.loads(result.stdout)


def test_baseline_errors_come_before_any_request(repo: Path, server: DeepSeekServer) -> None:
    write(repo / "bad.json", "{not json")
    bad = run("app.py", "--baseline", "bad.json")
    assert bad.exit_code == 4 and "is not JSON" in bad.stderr
    assert "Traceback" not in bad.output
    missing = run("app.py", "--baseline", "missing.json")
    assert missing.exit_code == 4 and "does not exist" in missing.stderr
    usage = run("app.py", "--update-baseline")
    assert usage.exit_code == 2 and "--update-baseline needs --baseline FILE" in usage.stderr
    dry = run("app.py", "--baseline", "x.json", "--update-baseline", "--dry-run")
    assert dry.exit_code == 2
    assert server.chat_requests == []


def test_help_lists_the_baseline_command_and_options() -> None:
    top = run("--help")
    assert "baseline" in top.output and "--update-baseline" in top.output
    assert "gitlab" in top.output and "rdjson" in top.output
    sub = run("baseline", "--help")
    assert (
        sub.exit_code == 0
        and "--diff REF" in sub.output
        and ".assistants-baseline.json" in (sub.output)
    )
