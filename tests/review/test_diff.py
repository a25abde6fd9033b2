"""Diffs for review: changed files, new-side lines, context ranges, skips and path limits, on git
repositories made in temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from repos import git, make_repo, write
from review_samples import DEFS_PY, review_settings

from assistants.errors import InputError
from assistants.review.diff import limit_to, load_diff
from assistants.review.run import review_diff


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = write(tmp_path / "outside" / "private.py", "PASSWORD_HINT = 'the real one'\n")
    return secret


@pytest.fixture
def diff_repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    write(repo / "a.py", DEFS_PY + "\n")
    write(repo / "b.js", "function foo(a) {\n  const b = a + 1;\n  return b;\n}\n")
    write(repo / "c.py", "x = 1\ny = 2\nz = 3\n")
    write(repo / "d.py", "gone = True\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    return repo


def test_staged_diff_new_side_lines_and_enclosing_context(diff_repo: Path) -> None:
    text = (diff_repo / "a.py").read_text().replace("y = x + 20", "y = x * 20")
    write(diff_repo / "a.py", text)
    git(diff_repo, "add", "a.py")
    # a later unstaged edit must not be part of the staged review
    write(diff_repo / "a.py", text.replace("y = x + 30", "y = x - 30"))
    sel = load_diff(staged=True, repo=diff_repo)
    assert [f.path for f in sel.files] == ["a.py"]
    f = sel.files[0]
    changed = f.text.splitlines().index("    y = x * 20") + 1
    assert f.added == [changed]
    assert "y = x - 30" not in f.text  # the index version, not the working tree
    assert f.removed[changed] == ["    y = x + 20"]
    (start, end), *_ = f.ranges
    assert start <= changed - 1 and end >= changed + 1  # the whole function f20
    assert f.text.splitlines()[changed - 2] == "def f20(x):"


def test_ref_diff_drops_deletion_only_and_deleted_files(diff_repo: Path) -> None:
    write(diff_repo / "c.py", "x = 1\nz = 3\n")  # deletion only
    (diff_repo / "d.py").unlink()
    write(diff_repo / "b.js", "function foo(a) {\n  const b = a - 1;\n  return b;\n}\n")
    git(diff_repo, "commit", "-qam", "change")
    sel = load_diff("HEAD~1", repo=diff_repo)
    assert [f.path for f in sel.files] == ["b.js"]
    assert sel.files[0].added == [2]
    assert sel.files[0].ranges == [(1, 4)]
    assert {s.path: s.reason for s in sel.skipped} == {"c.py": "deletions-only", "d.py": "deleted"}
    assert sel.deletion_only_hunks == 1
    commits = load_diff("HEAD~1..HEAD", repo=diff_repo)
    assert [f.path for f in commits.files] == ["b.js"]


def test_diff_outside_git_and_bad_ref(tmp_path: Path, diff_repo: Path) -> None:
    with pytest.raises(InputError, match="not inside a git repository"):
        load_diff(repo=tmp_path / "nowhere")
    with pytest.raises(InputError, match="git diff"):
        load_diff("no-such-ref", repo=diff_repo)


def test_diff_skips_symlinks_and_submodules(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / "app.py", "def ok():\n    return 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "leak.py").symlink_to(outside)
    git(repo, "add", "leak.py")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},vendor.py")
    write(repo / "app.py", "def ok():\n    return 2\n")
    git(repo, "add", "app.py")

    for sel in (load_diff(staged=True, repo=repo), load_diff("HEAD", repo=repo)):
        assert [f.path for f in sel.files] == ["app.py"]
        assert all("the real one" not in f.text for f in sel.files)
        reasons = {s.path: s.reason for s in sel.skipped}
        assert reasons["leak.py"] == "symlink"
    staged = load_diff(staged=True, repo=repo)
    assert {s.path: s.reason for s in staged.skipped}["vendor.py"] == "submodule"


def test_diff_context_ignores_form_feeds_and_crlf(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    funcs = "".join(f"function f{i}() {{\n  let x = {i};\n  return x;\n}}\n\n" for i in range(8))
    write(repo / "m.js", "function a() {\n  return 1;\n}\n\x0c\n" + funcs)
    write(repo / "w.py", b"def f(x):\r\n    return x\r\n\r\n\r\ndef g(y):\r\n    return y\r\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    lines = (repo / "m.js").read_text().split("\n")
    changed = lines.index("  let x = 5;") + 1
    lines[changed - 1] = "  let x = eval(5);"
    write(repo / "m.js", "\n".join(lines))
    write(repo / "w.py", b"def f(x):\r\n    return x + 1\r\n\r\n\r\ndef g(y):\r\n    return y\r\n")

    sel = load_diff("HEAD", repo=repo)
    js, py = sel.files
    # the enclosing function, as git numbers lines (a form feed is not a line break to git)
    assert js.added == [changed] and js.ranges == [(changed - 3, changed + 3)]
    assert lines[changed - 2] == "function f5() {"
    assert py.removed == {2: ["    return x"]}  # no carriage return left in the removed line


def test_diff_path_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / "a.py", "x = 1\n")
    write(repo / "gone.py", "y = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    write(repo / "a.py", "x = 2\n")
    (repo / "gone.py").unlink()
    monkeypatch.chdir(repo)
    # a ref given as a path (`--staged HEAD`) or a typo: an error, not an empty review
    with pytest.raises(InputError, match="no change under it"):
        review_diff("HEAD", paths=["mian"], settings=review_settings(), dry_run=True)
    # a deleted file may be named; skipped files outside the limits are not listed
    review = review_diff("HEAD", paths=["gone.py"], settings=review_settings(), dry_run=True)
    assert [s.path for s in review.skipped] == ["gone.py"] and not review.files
    review = review_diff("HEAD", paths=["a.py"], settings=review_settings(), dry_run=True)
    assert [f.path for f in review.files] == ["a.py"] and not review.skipped


def test_first_commit_diff_is_described_plainly(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / "a.py", "x = 1\n")
    git(repo, "add", "a.py")
    sel = load_diff(repo=repo)
    assert sel.description == "changes (no commit yet)"
    assert [f.path for f in sel.files] == ["a.py"]


def test_limits_outside_the_repository_are_an_input_error(tmp_path: Path, diff_repo: Path) -> None:
    write(diff_repo / "c.py", "x = 1\ny = 3\nz = 3\n")
    selection = load_diff(repo=diff_repo)
    assert limit_to(selection, []) is selection
    assert [f.path for f in limit_to(selection, [diff_repo / "c.py"]).files] == ["c.py"]
    with pytest.raises(InputError, match="not inside the repository"):
        limit_to(selection, [tmp_path])
