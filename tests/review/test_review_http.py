"""`assistants review` end to end: the CLI, the real LLM stack and the DeepSeek-protocol test
server, on git repositories made in temporary folders."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from deepseek_server import DeepSeekServer, Reply
from repos import git, make_repo, write
from review_replies import APP, answer, blocks, sql_finding
from sarif_schema import validate_sarif
from secrets_corpus import SECRETS

from assistants.cli import cli

SECRET_FILE = f'''"""Settings with planted secrets."""

AWS_ACCESS_KEY_ID = "{SECRETS["aws"]}"
GITHUB_TOKEN = "{SECRETS["github"]}"
db_password = "{SECRETS["password"]}"
'''


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["review", *args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    write(root / ".gitignore", "ignored/\n")
    write(root / "app.py", APP)
    write(root / "settings.py", SECRET_FILE)
    write(root / "ignored/skip.py", "x = 1\n")
    write(root / "poetry.lock", "[[package]]\n")
    write(root / "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    write(root / "huge.py", "x = 1\n" * 60_000)
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    monkeypatch.chdir(root)
    return root


def test_path_review_over_http(server: DeepSeekServer, repo: Path) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        paths = [p for p, _ in blocks(body)]
        assert paths == ["app.py", "settings.py"]
        # the model gets the line wrong (says 2): the quote puts it back on line 5
        return answer([sql_finding(line=2)])

    server.responder = responder
    result = run(".", "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert [f["path"] for f in review["files"]] == ["app.py", "settings.py"]
    assert {s["path"]: s["reason"] for s in review["skipped"]} == {
        ".gitignore": "not-code",
        "huge.py": "too-large",
        "logo.png": "binary",
        "poetry.lock": "lock",
    }
    (finding,) = review["findings"]
    assert (finding["line_start"], finding["model_line"], finding["anchored"]) == (5, 2, True)
    assert review["secrets_redacted"] == 3
    assert len(server.chat_requests) == 1
    for request in server.chat_requests:
        raw = request.raw_body.decode()
        for secret in SECRETS.values():
            assert secret not in raw
    assert "[REDACTED:aws-access-key]" in server.chat_requests[0].raw_body.decode()

    # an unchanged second run is served by the response cache: zero requests
    again = run(".", "--format", "json", "--fail-on", "never")
    assert again.exit_code == 0
    assert len(server.chat_requests) == 1
    assert json.loads(again.stdout)["findings"] == review["findings"]
    assert json.loads(again.stdout)["usage"]["cached_requests"] == 1
    # --no-cache asks again
    assert run(".", "--no-cache", "--format", "json", "--fail-on", "never").exit_code == 0
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("critical", 0), ("high", 1), ("medium", 1), ("low", 1), ("never", 0), (None, 1)],
)
def test_exit_code_for_each_fail_on(
    server: DeepSeekServer, repo: Path, fail_on: str | None, code: int
) -> None:
    server.responder = lambda body: answer([sql_finding(severity="high")])
    args = ["app.py", "--format", "markdown"] + (["--fail-on", fail_on] if fail_on else [])
    result = run(*args)
    assert result.exit_code == code, result.output
    assert "SQL injection" in result.stdout


def test_staged_review_rejects_findings_outside_the_change(
    server: DeepSeekServer, repo: Path
) -> None:
    lines = [f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60)]
    write(repo / "calc.py", "".join(lines))
    git(repo, "add", "calc.py")
    git(repo, "commit", "-qm", "calc")
    write(repo / "calc.py", "".join(lines).replace("return x + 30", "return x / 0"))
    git(repo, "add", "calc.py")
    write(repo / "app.py", APP + "\n# unstaged edit\n")  # not staged: not reviewed
    changed = "".join(lines).splitlines().index("    return x + 30") + 1
    seen: list[list[tuple[str, str]]] = []

    def responder(body: dict[str, Any]) -> Reply:
        seen.append(blocks(body))
        return answer(
            [
                {**sql_finding(), "file": "calc.py", "line_start": changed, "line_end": changed,
                 "quote": "return x / 0", "title": "division by zero", "category": "bug"},
                {**sql_finding(), "file": "calc.py", "line_start": 2, "line_end": 2,
                 "quote": "return x + 0", "title": "far away"},
            ]
        )  # fmt: skip

    server.responder = responder
    result = run("--staged", "--format", "json")
    assert result.exit_code == 1, result.output  # a high finding on the change
    review = json.loads(result.stdout)
    assert review["mode"] == "staged"
    assert [f["title"] for f in review["findings"]] == ["division by zero"]
    assert review["rejected"] == {"outside-diff": 1}
    ((path, block),) = seen[0]
    assert path == "calc.py"
    assert f"\n{changed}+\t    return x / 0" in block and "\n-\t    return x + 30" in block
    assert "return x + 0" not in block  # only the enclosing function and hunk context

    git(repo, "commit", "-qm", "change")
    server.reset()
    server.responder = responder
    by_ref = run("--diff", "HEAD~1", "--format", "json", "--fail-on", "critical")
    assert by_ref.exit_code == 0, by_ref.output
    review = json.loads(by_ref.stdout)
    assert review["mode"] == "diff" and review["rejected"] == {"outside-diff": 1}
    # the unstaged app.py edit is part of the working tree vs HEAD~1
    assert [f["path"] for f in review["files"]] == ["app.py", "calc.py"]


def test_partial_failure_over_http(server: DeepSeekServer, repo: Path) -> None:
    for name in ("a.py", "b.py", "c.py"):
        write(
            repo / "many" / name,
            "".join(f"v{i} = work({i}, 'padding text here')\n" for i in range(40)),
        )

    def responder(body: dict[str, Any]) -> Reply:
        ((path, _),) = blocks(body)
        if path.endswith("b.py"):
            return Reply(status=500)
        return answer([{**sql_finding(severity="medium"), "file": path, "line_start": 1,
                        "quote": "v0 = work(0, 'padding text here')"}])  # fmt: skip

    server.responder = responder
    write(repo / "pyproject.toml", "[tool.assistants.review]\nrequest_token_budget = 1500\n")
    result = run("many", "--format", "json", "--fail-on", "high")
    assert result.exit_code == 7, result.output
    review = json.loads(result.stdout)
    assert [f["path"] for f in review["failed"]] == ["many/b.py"]
    assert sorted(f["path"] for f in review["findings"]) == ["many/a.py", "many/c.py"]
    assert "could not be reviewed" in result.stderr
    assert run("many", "--format", "json", "--fail-on", "medium").exit_code == 1


def test_sarif_output_file_is_valid(server: DeepSeekServer, repo: Path) -> None:
    server.responder = lambda body: answer([sql_finding()])
    out = repo / "out" / "review.sarif"
    result = run("app.py", "--format", "sarif", "--output", str(out), "--fail-on", "never")
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    validate_sarif(doc)
    assert doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 5,
        "endLine": 5,
    }


def test_github_format(server: DeepSeekServer, repo: Path) -> None:
    server.responder = lambda body: answer([sql_finding()])
    result = run("app.py", "--format", "github", "--fail-on", "never")
    assert result.stdout.startswith("::error file=app.py,line=5,endLine=5,title=")


# -- no key, unreachable API, hook behaviour ----------------------------------------------
def test_no_key_falls_back_to_a_dry_run(repo: Path) -> None:
    result = run(".")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout and "app.py" in result.stdout
    assert "DEEPSEEK_API_KEY" in result.stderr


def test_explicit_dry_run_json(repo: Path) -> None:
    result = run(".", "--dry-run", "--format", "json")
    plan = json.loads(result.stdout)["plan"]
    assert result.exit_code == 0
    assert plan["requests"][0]["files"] == ["app.py", "settings.py"]
    assert plan["input_tokens"] > 0 and plan["cost_usd"] > 0


def test_hook_without_key_warns_and_passes(repo: Path) -> None:
    write(repo / "app.py", APP + "\n\ndef extra():\n    return 1\n")
    git(repo, "add", "app.py")
    result = run("--hook")
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "--fail-closed" in result.stderr
    closed = run("--hook", "--fail-closed")
    assert closed.exit_code == 3 and "DEEPSEEK_API_KEY" in closed.stderr


def test_hook_with_nothing_staged_answers_without_loading_anything(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings that could not even be loaded: the empty-commit fast path never reads them.
    monkeypatch.setenv("ASSISTANTS_CONCURRENCY", "not-a-number")
    result = run("--hook")
    assert result.exit_code == 0, result.output
    assert "nothing staged" in result.stderr
    write(repo / "app.py", APP + "\n\ndef extra():\n    return 1\n")
    git(repo, "add", "app.py")
    assert run("--hook").exit_code == 3  # with something staged the settings are read


def test_hook_with_unreachable_api(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("ASSISTANTS_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test-unreachable")
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "1")
    write(repo / "app.py", APP + "\n\ndef extra():\n    return 1\n")
    git(repo, "add", "app.py")
    result = run("--hook")
    assert result.exit_code == 0, result.output
    assert "could not run" in result.stderr
    assert run("--hook", "--fail-closed").exit_code == 5


def test_hook_time_limit(server: DeepSeekServer, repo: Path) -> None:
    server.responder = lambda body: Reply(json.dumps({"findings": []}), delay=3.0)
    write(repo / "app.py", APP + "\n\ndef extra():\n    return 1\n")
    git(repo, "add", "app.py")
    result = run("--hook", "--timeout", "0.5", "--no-cache")
    assert result.exit_code == 0
    assert "did not finish within 0.5s" in result.stderr
    assert run("--hook", "--timeout", "0.5", "--no-cache", "--fail-closed").exit_code == 5


def test_usage_errors() -> None:
    assert run("--staged", "--diff", "main").exit_code == 2
    assert run("--fail-closed").exit_code == 2
    missing = run("no/such/path")
    assert missing.exit_code == 4 and "no such file" in missing.stderr


def test_instructions_from_file(server: DeepSeekServer, repo: Path) -> None:
    write(repo / "rules.txt", "Flag every use of f-strings in SQL as critical.")
    server.responder = lambda body: answer([])
    result = run("app.py", "--instructions", "@rules.txt")
    assert result.exit_code == 0, result.output
    assert "f-strings in SQL" in server.chat_requests[0].body["messages"][0]["content"]
    assert run("app.py", "--instructions", "@nope.txt").exit_code == 4


def test_help() -> None:
    result = run("--help")
    assert result.exit_code == 0 and "--fail-on" in result.output and "--staged" in result.output


def test_python_dash_m(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assistants", "review", "--dry-run", "app.py", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["dry_run"] is True


def test_secrets_never_leave_in_diff_mode(server: DeepSeekServer, repo: Path) -> None:
    write(repo / "settings.py", SECRET_FILE + f'\nNEW_TOKEN = "{SECRETS["slack"]}"\n')
    git(repo, "add", "settings.py")
    server.responder = lambda body: answer([])
    result = run("--staged", "--format", "json")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert review["secrets_redacted"] >= 1
    assert len(server.chat_requests) == 1
    raw = server.chat_requests[0].raw_body.decode()
    for secret in SECRETS.values():
        assert secret not in raw


def test_hook_at_pre_push_reviews_the_pushed_range(
    server: DeepSeekServer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / "app.py", APP + "\n\ndef pushed():\n    return 2\n")
    git(repo, "commit", "-qam", "pushed change")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", git(repo, "rev-parse", "HEAD~1").strip())
    monkeypatch.setenv("PRE_COMMIT_TO_REF", git(repo, "rev-parse", "HEAD").strip())
    server.responder = lambda body: answer([])
    result = run("--hook", "--format", "json")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert review["mode"] == "diff" and [f["path"] for f in review["files"]] == ["app.py"]
    assert review["files"][0]["changed_lines"] == 4


def test_fail_on_from_pyproject(server: DeepSeekServer, repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.assistants.review]\nfail_on = "critical"\n')
    server.responder = lambda body: answer([sql_finding(severity="high")])
    assert run("app.py", "--format", "json").exit_code == 0
    assert run("app.py", "--format", "json", "--fail-on", "high").exit_code == 1


def test_json_schema_flag() -> None:
    result = run("--json-schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"findings", "coverage", "counts", "schema_version"} <= set(schema["properties"])


def test_include_exclude_from_pyproject(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.assistants.review]\nexclude = ["settings.py"]\n')
    result = run(".", "--dry-run", "--format", "json")
    review = json.loads(result.stdout)
    assert [f["path"] for f in review["files"]] == ["app.py", "pyproject.toml"]
    assert {"path": "settings.py", "reason": "excluded"}.items() <= next(
        s for s in review["skipped"] if s["path"] == "settings.py"
    ).items()
    only = json.loads(run(".", "--dry-run", "--format", "json", "--include", "set*").stdout)
    assert only["files"] == []  # included by the option, excluded by the settings


def test_a_review_halves_its_requests_in_flight_on_429(
    server: DeepSeekServer, tmp_path: Path
) -> None:
    """The review's own sends go through the adaptive limiter: 429s cut the requests in flight."""
    import logging

    from log_lines import log_lines

    from assistants import review_path
    from assistants.config import load_settings

    root = tmp_path / "many"
    for i in range(8):  # eight files, one request each (an 8k budget holds one file)
        write(root / f"m{i}.py", "\n".join(f"value_{i}_{n} = {n} * {n}" for n in range(400)))
    server.latency = 0.2
    server.fail_next(429, times=8)
    settings = load_settings(concurrency=8, max_retries=5, cache_enabled=False)
    settings.review.request_token_budget = 8000
    with log_lines(logging.WARNING) as lines:
        review = review_path(root, settings=settings)
    assert not review.failed
    assert lines and lines[0] == "concurrency 8 → 4 after HTTP 429"
    retries = server.chat_requests[8:12]
    assert retries and max(r.in_flight for r in retries) <= 4
