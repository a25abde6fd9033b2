"""What the pre-commit hook reviews: staged changes, the pushed range, or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from repos import git, make_repo, write

from assistants.review.hook import HookTarget, hook_target


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    write(root / "a.py", "x = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    for name in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_REMOTE_BRANCH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return root


def test_hook_target(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert hook_target() == HookTarget(True, None, "nothing staged to review")
    assert hook_target(ref="HEAD") == HookTarget(False, "HEAD")  # a ref: no staged check
    write(repo / "a.py", "x = 2\n")
    git(repo, "add", "a.py")
    assert hook_target() == HookTarget(True, None)
    assert hook_target(staged=True) == HookTarget(True, None)
    head = git(repo, "rev-parse", "HEAD").strip()
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", head)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "0" * 40)
    assert hook_target() == HookTarget(False, None, "nothing pushed to review")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    assert hook_target() == HookTarget(False, f"{head}...{head}")


NO_KEY_HOOK = """
import sys
from assistants.cli import main
try:
    main(["review", "--hook"])
except SystemExit as exc:
    print("exit", exc.code, "langchain", "langchain_deepseek" in sys.modules)
"""


def test_a_hook_without_a_key_skips_without_loading_the_client(repo: Path) -> None:
    """The hook's one request loads the client stack only when it is sent, so a hook that
    cannot send (no key) skips without paying for the import."""
    import os
    import subprocess
    import sys

    write(repo / "a.py", "x = 2\n")
    git(repo, "add", "a.py")
    env = {k: v for k, v in os.environ.items() if k != "DEEPSEEK_API_KEY"}
    env["ASSISTANTS_API_FLAVOR"] = "deepseek"
    out = subprocess.run(
        [sys.executable, "-c", NO_KEY_HOOK], cwd=repo, env=env, capture_output=True, text=True
    )
    assert "review was skipped" in out.stderr, out.stderr
    assert out.stdout.strip() == "exit 0 langchain False", out.stdout + out.stderr
