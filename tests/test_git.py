"""assistants.git: every git call of the project, on repositories made in temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from repos import git as run_git
from repos import make_repo, write

from assistants import git
from assistants.errors import InputError

ZEROS = "0" * 40


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    for name in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_REMOTE_BRANCH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return root


def test_work_tree_files_and_ignores(repo: Path, tmp_path: Path) -> None:
    write(repo / ".gitignore", "*.log\n")
    write(repo / "a.py", "x = 1\n")
    write(repo / "debug.log", "x\n")
    assert git.toplevel(repo / "a.py") == repo.resolve()
    assert git.toplevel(tmp_path) is None
    assert git.listed_files(repo, ["."]) == [".gitignore", "a.py"]
    assert git.ignored(repo, ["debug.log", "a.py"]) == {"debug.log"}
    assert git.ignored(repo, []) == set()


def test_commits_diffs_and_contents(repo: Path) -> None:
    assert not git.has_commits(repo)
    assert git.empty_tree(repo) == git.EMPTY_TREE
    write(repo / "a.py", "x = 1\n")
    run_git(repo, "add", "a.py")
    assert not git.nothing_staged()
    assert "+x = 1" in git.diff(repo, git.EMPTY_TREE, cached=True)
    assert git.show(repo, "", "a.py") == b"x = 1\n"
    run_git(repo, "commit", "-qm", "init")
    assert git.has_commits(repo) and git.nothing_staged()
    with pytest.raises(InputError, match="git show failed"):
        git.show(repo, "HEAD", "missing.py")
    with pytest.raises(InputError, match="git diff failed"):
        git.diff(repo, "no-such-ref")


def test_pushed_range(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert git.pushed_range() == (False, None)  # not at a push
    write(repo / "a.py", "x = 1\n")
    run_git(repo, "add", "a.py")
    run_git(repo, "commit", "-qm", "init")
    head = run_git(repo, "rev-parse", "HEAD").strip()
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "abc")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    assert git.pushed_range() == (True, f"abc...{head}")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", ZEROS)  # a deleted remote branch
    assert git.pushed_range() == (True, None)
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", ZEROS)  # a new branch: from the empty tree
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    assert git.pushed_range() == (True, f"{git.EMPTY_TREE}..{head}")


def test_snapshot_keeps_the_files_as_a_tree_to_diff_against(tmp_path: Path) -> None:
    root = tmp_path / "snap"
    write(root / "pkg/a.py", "x = 1\n")
    tree = git.snapshot(root)
    assert git.toplevel(root) == root.resolve()
    assert not git.has_commits(root)  # a tree, no commit: no identity needed
    write(root / "pkg/a.py", "x = 2\n")
    diff = git.diff(root, tree)
    assert "-x = 1" in diff and "+x = 2" in diff
    with pytest.raises(InputError, match="git init failed"):
        git.snapshot(root / "pkg/a.py")  # not a folder
