"""Audit of the code reviewer: symbolic links and submodules, line numbering with form feeds
and CRLF, lenient model findings, path spellings and quotes, pre-push ranges, partial failures
in the hook, --output checked before the review, path limits in diff mode, auth headers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from deepseek_server import DeepSeekServer, Reply
from fakes import ScriptedChatModel
from repos import git, make_repo, write
from review_replies import APP, answer, blocks, sql_finding

from assistants.cli import cli
from assistants.config import load_settings
from assistants.errors import InputError
from assistants.review.diff import load_diff
from assistants.review.files import select_files
from assistants.review.run import review_diff, review_path
from assistants.review.secrets import redact

ZEROS = "0" * 40


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["review", *args], catch_exceptions=False)


def settings() -> Any:
    return load_settings(cache_enabled=False, ledger_enabled=False)


def finding(**kw: Any) -> dict[str, Any]:
    base = {
        "file": "app.py",
        "line_start": 5,
        "quote": "return subprocess.call(cmd, shell=True)",
        "severity": "high",
        "category": "security",
        "title": "shell injection",
    }
    return {**base, **kw}


APP_SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = write(tmp_path / "outside" / "private.py", "PASSWORD_HINT = 'the real one'\n")
    return secret


# -- symbolic links and submodules --------------------------------------------------------
def test_symlinks_are_listed_as_skipped_and_never_read(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / "app.py", "def ok():\n    return 1\n")
    (repo / "leak.py").symlink_to(outside)
    (repo / "alias.py").symlink_to("app.py")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")

    sel = select_files([repo])
    assert [f.path for f in sel.files] == ["app.py"]
    assert {s.path: s.reason for s in sel.skipped} == {"alias.py": "symlink", "leak.py": "symlink"}
    assert all("the real one" not in f.text for f in sel.files)
    # named on the command line, the link is still the link (not the file outside the repo)
    sel = select_files([repo / "leak.py"])
    assert sel.root == repo.resolve() and not sel.files
    assert [(s.path, s.reason) for s in sel.skipped] == [("leak.py", "symlink")]

    plain = tmp_path / "plain"  # outside git: the walk does not follow links either
    write(plain / "a.py", "x = 1\n")
    (plain / "leak.py").symlink_to(outside)
    sel = select_files([plain])
    assert [f.path for f in sel.files] == ["a.py"]
    assert [(s.path, s.reason) for s in sel.skipped] == [("leak.py", "symlink")]


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


# -- line numbers as git counts them ------------------------------------------------------
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


# -- what the model answers ---------------------------------------------------------------
def test_model_finding_quirks_do_not_fail_the_request(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP_SHELL)
    model = ScriptedChatModel(
        replies=[
            json.dumps(
                {
                    "findings": [
                        finding(line_start=0, quote="", title="whole file", category="design"),
                        finding(severity="warning", category="correctness", title="t" * 400),
                        finding(severity="info", line_start=1, quote="import subprocess"),
                        finding(severity="catastrophic", title="unknown severity"),
                        finding(title=""),
                    ]
                }
            )
        ]
    )
    review = review_path(tmp_path / "app.py", settings=settings(), model=model)
    assert len(model.calls) == 1 and not review.failed  # no repair round, nothing failed
    got = {(f.line_start, f.severity, f.category) for f in review.findings}
    assert got == {(1, "high", "maintainability"), (5, "medium", "bug"), (1, "low", "security")}
    assert max(len(f.title) for f in review.findings) == 300
    assert review.rejected == {"invalid": 2}


RESPACED = "return subprocess.call( cmd,shell=True)"
MARKED = "+    return subprocess.call(cmd, shell=True)"


def test_paths_quotes_and_lines_the_model_gets_slightly_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "src" / "app.py", APP_SHELL + "\n\nVERSION = 1\n")
    monkeypatch.chdir(tmp_path)
    path = "src/app.py"
    model = ScriptedChatModel(
        replies=[
            json.dumps(
                {
                    "findings": [
                        finding(file=str((tmp_path / path).resolve()), title="absolute"),
                        finding(file="src\\app.py", title="backslashes", category="bug"),
                        finding(file="src/app.py:5", title="line suffix", category="performance"),
                        # re-spaced quote, wrong line
                        finding(
                            file=path,
                            line_start=4,
                            quote=RESPACED,
                            title="respaced",
                            category="maintainability",
                        ),
                        # a diff mark copied into the quote
                        finding(
                            file=path,
                            line_start=2,
                            quote=MARKED,
                            title="diff mark",
                            category="style",
                        ),
                        # beyond the end of the file: clamped, and the model's line kept
                        finding(file=path, line_start=40, quote="", title="beyond"),
                    ]
                }
            )
        ]
    )
    review = review_path("src", settings=settings(), model=model)
    by_title = {f.title: f for f in review.findings}
    assert review.rejected.get("unknown-file", 0) == 0
    for title in ("absolute", "backslashes", "line suffix"):
        assert (by_title[title].path, by_title[title].line_start) == (path, 5)
    for title, said in (("respaced", 4), ("diff mark", 2)):
        f = by_title[title]
        assert (f.line_start, f.anchored, f.model_line) == (5, True, said)
    beyond = by_title["beyond"]
    assert (beyond.line_start, beyond.anchored, beyond.model_line) == (8, False, 40)


# -- secrets ------------------------------------------------------------------------------
def test_authorization_header_values_are_redacted() -> None:
    token = "8f4Kd92LmQx7Zp3RtY6vWn1B"
    code = (
        f'headers = {{"Authorization": "Bearer {token}"}}\n'
        'curl -H "Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ="\n'
    )
    red = redact(code)
    assert token not in red.text and "dXNlcjpwYXNzd29yZDEyMzQ" not in red.text
    assert red.kinds["auth-header"] == 2 and red.text.count("\n") == 2
    for ordinary in ('f"Bearer {token}"', '"Bearer " + token', "Bearer YOUR_TOKEN_HERE_PLEASE"):
        assert redact(ordinary).text == ordinary


# -- diff mode: paths and descriptions ----------------------------------------------------
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
        review_diff("HEAD", paths=["mian"], settings=settings(), dry_run=True)
    # a deleted file may be named; skipped files outside the limits are not listed
    review = review_diff("HEAD", paths=["gone.py"], settings=settings(), dry_run=True)
    assert [s.path for s in review.skipped] == ["gone.py"] and not review.files
    review = review_diff("HEAD", paths=["a.py"], settings=settings(), dry_run=True)
    assert [f.path for f in review.files] == ["a.py"] and not review.skipped


def test_first_commit_diff_is_described_plainly(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / "a.py", "x = 1\n")
    git(repo, "add", "a.py")
    sel = load_diff(repo=repo)
    assert sel.description == "changes (no commit yet)"
    assert [f.path for f in sel.files] == ["a.py"]


# -- the CLI and the hook -----------------------------------------------------------------
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


# -- bytes that are not UTF-8 -------------------------------------------------------------
def test_names_and_old_lines_that_are_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / "a.py", b'def a():\n    return "caf\xe9"\n')  # Latin-1, re-saved as UTF-8 below
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    write(repo / "a.py", 'def a():\n    return "café"\n')
    (repo / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    git(repo, "add", ".")
    monkeypatch.chdir(repo)
    model = ScriptedChatModel(replies=[json.dumps({"findings": []})], repeat_last=True)
    for review in (
        review_path(".", settings=settings(), model=model),
        review_diff(staged=True, settings=settings(), model=model),
    ):
        assert [f.path for f in review.files] == ["a.py"]
        assert [(s.path, s.reason) for s in review.skipped] == [("caf\ufffd.py", "not-utf8")]
        json.loads(review.model_dump_json())
    sent = model.calls[-1]["messages"][-1].content
    assert '-| return "caf\ufffd"' in " ".join(sent.split()) and "café" in sent


def test_absolute_path_picks_the_file_it_names_among_same_named_files() -> None:
    from assistants.review.anchor import resolve_path as _resolve_path

    known: dict[str, Any] = {"a.py": None, "src/a.py": None}
    assert _resolve_path("/home/me/proj/src/a.py", known) == "src/a.py"
    assert _resolve_path("/home/me/proj/a.py", known) == "a.py"
    assert _resolve_path("src\\a.py:12", known) == "src/a.py"
    assert _resolve_path("lib/other.py", known) is None


def test_hook_only_options_are_usage_errors_without_hook(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    for option in (["--fail-closed"], ["--timeout", "5"]):
        result = CliRunner().invoke(cli, ["review", str(tmp_path), "--dry-run", *option])
        assert result.exit_code == 2, (option, result.output)
        assert "only applies with --hook" in result.output
