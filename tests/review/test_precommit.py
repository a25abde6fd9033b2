"""The pre-commit hook: the shipped manifest is valid for pre-commit, and a real `git commit`
through pre-commit (a `repo: local` copy of the hook) blocks on a high finding and passes with
none. `language: python` would make pre-commit build a venv from the network, so the copy
uses `language: system` with this interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from deepseek_server import DeepSeekServer, Reply
from paths import ROOT
from repos import git, make_repo, write

REPO_ROOT = ROOT
MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"

pytestmark = pytest.mark.slow


def test_shipped_manifest_is_valid() -> None:
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(MANIFEST))
    assert hook["id"] == "assistants-review"
    assert hook["language"] == "python"
    assert hook["require_serial"] is True
    assert hook["pass_filenames"] is False
    assert hook["verbose"] is True  # warnings are shown when the hook passes
    assert set(hook["stages"]) == {"pre-commit", "pre-push", "manual"}
    assert hook["entry"].split()[:3] == ["assistants", "review", "--hook"]


def local_config() -> str:
    (hook,) = yaml.safe_load(MANIFEST.read_text())
    entry = hook["entry"].split()
    assert entry[0] == "assistants"
    local = {
        **hook,
        "language": "system",
        "entry": " ".join([sys.executable, "-m", "assistants", *entry[1:]]),
    }
    local.pop("minimum_pre_commit_version", None)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]})


@pytest.fixture
def hooked_repo(tmp_path: Path, server: DeepSeekServer) -> tuple[Path, dict[str, str]]:
    repo = make_repo(tmp_path / "repo")
    write(repo / ".pre-commit-config.yaml", local_config())
    write(repo / "app.py", "def ok():\n    return 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")  # no hook installed yet
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "DEEPSEEK_API_KEY": "sk-test-precommit",
        "ASSISTANTS_BASE_URL": server.url,
        "ASSISTANTS_API_FLAVOR": "deepseek",
        "NO_COLOR": "1",
    }
    env.pop("CI", None)
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    return repo, env


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-m", message], cwd=repo, env=env, capture_output=True, text=True
    )


def finding(body: dict[str, Any], severity: str) -> Reply:
    return Reply(
        json.dumps(
            {
                "findings": [
                    {
                        "file": "app.py",
                        "line_start": 4,
                        "line_end": 4,
                        "quote": "return eval(text)",
                        "severity": severity,
                        "category": "security",
                        "title": "eval on user input",
                        "explanation": "arbitrary code execution",
                        "suggestion": "return ast.literal_eval(text)",
                    }
                ]
            }
        )
    )


def test_real_commit_blocked_on_high_and_passes_with_none(
    hooked_repo: tuple[Path, dict[str, str]], server: DeepSeekServer
) -> None:
    repo, env = hooked_repo
    write(repo / "app.py", "def ok():\n    return 1\n\ndef parse(text):\n    return eval(text)\n")
    git(repo, "add", "app.py")

    server.responder = lambda body: finding(body, "high")
    blocked = commit(repo, env, "add parse")
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "eval on user input" in blocked.stdout + blocked.stderr
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"
    assert len(server.chat_requests) == 1
    body = server.chat_requests[0].body
    assert body is not None and "return eval(text)" in body["messages"][-1]["content"]

    server.responder = lambda body: finding(body, "low")  # below --fail-on high: passes
    env_nocache = {**env, "ASSISTANTS_CACHE_ENABLED": "false"}
    passed = commit(repo, env_nocache, "add parse")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "2"


def test_hook_passes_with_warning_when_api_unreachable(
    hooked_repo: tuple[Path, dict[str, str]],
) -> None:
    repo, env = hooked_repo
    env = {**env, "ASSISTANTS_BASE_URL": "http://127.0.0.1:9", "ASSISTANTS_MAX_RETRIES": "0"}
    write(repo / "app.py", "def ok():\n    return 2\n")
    git(repo, "add", "app.py")
    result = commit(repo, env, "change")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning:" in result.stdout + result.stderr
