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
