"""`assistants review --diff REF --github-review` over real HTTP: the DeepSeek-protocol server
answers the review, the GitHub-protocol server (tests/support/github_server.py) takes the pull
request review; the pull request comes from a `pull_request` event file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from deepseek_server import DeepSeekServer
from github_server import TOKEN, GitHubServer
from pull_requests import (
    HEAD_APP,
    PullRequestRepo,
    division,
    evaluation,
    event_file,
    pr_repo,
    sql,
)
from review_replies import answer

from assistants.cli import cli

RANGE = "origin/main...HEAD"


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubServer]:
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)
    with GitHubServer() as srv:
        monkeypatch.setenv("GITHUB_API_URL", srv.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield srv


@pytest.fixture
def pr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gh: GitHubServer) -> PullRequestRepo:
    repo = pr_repo(tmp_path)
    monkeypatch.chdir(repo.root)
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/app")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event_file(tmp_path / "event.json", repo)))
    gh.add_pull("octo/app", 7, head_sha=repo.head_sha, base_sha=repo.base_sha)
    return repo


def review(*args: str) -> Result:
    return CliRunner().invoke(
        cli, ["review", "--diff", RANGE, "--github-review", "--fail-on", "never", *args]
    )


def findings_reply(server: DeepSeekServer, *found: dict[str, Any]) -> None:
    server.responder = lambda body: answer(list(found))


def test_one_review_inline_on_the_changed_lines_the_rest_in_its_body(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    fix = 'conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()'
    findings_reply(server, sql(suggestion=f"    found = {fix}"), division(end=13), evaluation())
    result = review("--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["findings"]) == 3

    posts = gh.sent("POST")
    assert [p.path for p in posts] == ["/repos/octo/app/pulls/7/reviews"]
    sent = posts[0].body
    assert sent["event"] == "COMMENT" and sent["commit_id"] == pr.head_sha
    inline = {(c["path"], c.get("start_line"), c["line"], c["side"]) for c in sent["comments"]}
    assert inline == {("app.py", None, 11, "RIGHT"), ("app.py", 12, 13, "RIGHT")}
    by_line = {c["line"]: c["body"] for c in sent["comments"]}
    assert (
        "SQL injection" in by_line[11] and f"```suggestion\n    found = {fix}\n```" in by_line[11]
    )
    assert "<!-- assistants:finding:" in by_line[11] and "Division by zero" in by_line[13]
    # line 5 is in the changed function but not in the diff's hunk: the body's table
    assert "| critical | `app.py` | 5 |" in sent["body"] and "eval of input" in sent["body"]
    assert "1 below" in sent["body"] or "2 inline" in sent["body"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in gh.requests)
    assert TOKEN not in result.output
    assert "posted a review on octo/app#7 with 2 inline comment(s) and 1 finding" in result.stderr
    assert len(gh.comments("octo/app", 7)) == 2


def test_a_rerun_updates_and_deletes_instead_of_duplicating(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    findings_reply(server, sql(), division(), evaluation())
    assert review().exit_code == 0
    first = {c["line"]: c for c in gh.comments("octo/app", 7)}
    assert set(first) == {11, 12}

    # the division is fixed; the SQL finding stays (reworded explanation); a new one appears
    fixed = HEAD_APP.replace("total / len(rows)", "total / max(len(rows), 1)")
    pr.commit(fixed, "guard the division")
    event_file(Path(os.environ["GITHUB_EVENT_PATH"]), pr)
    gh.pull("octo/app", 7).head_sha = pr.head_sha
    gh.requests.clear()
    findings_reply(
        server,
        sql(explanation="name goes into the SQL text unescaped."),
        evaluation(),
        {**division(), "line_start": 13, "line_end": 13, "quote": "return found, ratio",
         "title": "Returns a tuple where callers expect one value"},
    )  # fmt: skip
    result = review()
    assert result.exit_code == 0, result.output

    assert [r.path for r in gh.sent("DELETE")] == [
        f"/repos/octo/app/pulls/comments/{first[12]['id']}"
    ]
    patches = gh.sent("PATCH")
    assert [r.path for r in patches] == [f"/repos/octo/app/pulls/comments/{first[11]['id']}"]
    assert "unescaped" in patches[0].body["body"]
    posts = gh.sent("POST")
    assert len(posts) == 1 and [c["line"] for c in posts[0].body["comments"]] == [13]
    assert "eval of input" not in posts[0].body["body"]  # listed in the first review already
    now = gh.comments("octo/app", 7)
    assert sorted(c["line"] for c in now) == [11, 13]
    assert "1 updated" in result.stderr and "1 fixed" in result.stderr

    # a third run with the same findings: nothing new, so no review at all
    gh.requests.clear()
    result = review()
    assert result.exit_code == 0
    assert gh.sent("POST") == [] and gh.sent("PATCH") == [] and gh.sent("DELETE") == []
    assert "nothing new to post on octo/app#7" in result.stderr
    assert len(gh.comments("octo/app", 7)) == 2


def test_a_fixed_finding_somebody_replied_to_is_marked_fixed_not_deleted(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    findings_reply(server, sql())
    assert review().exit_code == 0
    ours = gh.comments("octo/app", 7)[0]
    gh.add_comment("octo/app", 7, body="good catch", in_reply_to_id=ours["id"], line=11)
    # somebody else's comment that copies our marker is not ours to touch
    gh.add_comment("octo/app", 7, body=ours["body"], user="mallory", line=11)
    findings_reply(server)
    result = review("--no-cache")  # the same request as before: not the cached answer
    assert result.exit_code == 0, result.output
    assert gh.sent("DELETE") == []
    (patch,) = gh.sent("PATCH")
    assert patch.path.endswith(f"/comments/{ours['id']}")
    assert (
        patch.body["body"].startswith("~~") and "Fixed: no longer reported at" in patch.body["body"]
    )
    assert len(gh.comments("octo/app", 7)) == 3


def test_the_repository_and_number_from_options(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    monkeypatch.delenv("GITHUB_REPOSITORY")
    gh.add_pull("other/fork", 9, head_sha=pr.head_sha)
    findings_reply(server, sql())
    result = review("--github-repo", "other/fork", "--github-pr", "9")
    assert result.exit_code == 0, result.output
    assert [r.path for r in gh.sent("GET", r"pulls/9$")] == ["/repos/other/fork/pulls/9"]
    (post,) = gh.sent("POST")
    assert (
        post.path == "/repos/other/fork/pulls/9/reviews" and post.body["commit_id"] == pr.head_sha
    )


def test_rate_limits_and_server_errors_are_retried(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    findings_reply(server, sql())
    limit = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0", "retry-after": "0"}
    gh.fail_next(403, method="POST", headers=limit, message="API rate limit exceeded")
    gh.fail_next(502, times=2, method="GET", path="/comments")
    result = review()
    assert result.exit_code == 0, result.output
    assert len(gh.sent("POST")) == 2 and len(gh.reviews("octo/app", 7)) == 1
    assert len(gh.sent("GET", "/comments$")) == 3


def test_a_5xx_on_posting_does_not_post_twice(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    findings_reply(server, sql())
    gh.fail_next(500, method="POST")
    result = review()
    assert result.exit_code == 0, result.output
    assert len(gh.sent("POST")) == 2 and len(gh.reviews("octo/app", 7)) == 1


def test_lines_github_refuses_go_into_the_body(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    gh.pull("octo/app", 7).diff = {"app.py": {12, 13}}  # GitHub's diff lacks line 11
    findings_reply(server, sql(), division())
    result = review()
    assert result.exit_code == 0, result.output
    first, second = gh.sent("POST")
    assert len(first.body["comments"]) == 2 and second.body["comments"] == []
    assert "SQL injection" in second.body["body"] and "Division by zero" in second.body["body"]
    assert "did not take the inline comments" in result.stderr
    assert "Line could not be resolved" in result.stderr


@pytest.mark.parametrize(
    ("setup", "expected", "code"),
    [
        ("bad-token", "HTTP 401 Bad credentials", 5),
        ("down", "HTTP 503", 5),
        ("no-token", "GITHUB_TOKEN is not set", 3),
        ("no-pr", "no pull request to post to", 3),
        ("limited", "GitHub rate limit", 5),
    ],
)
def test_github_failures_are_one_line_errors(
    setup: str,
    expected: str,
    code: int,
    server: DeepSeekServer,
    gh: GitHubServer,
    pr: PullRequestRepo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    findings_reply(server, sql())
    if setup == "bad-token":
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong_token_value")
    elif setup == "down":
        gh.fail_next(503, times=10)
    elif setup == "no-token":
        monkeypatch.delenv("GITHUB_TOKEN")
    elif setup == "no-pr":
        monkeypatch.delenv("GITHUB_EVENT_PATH")
    else:  # the primary limit, resetting in an hour: no point waiting
        reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}
        gh.fail_next(403, headers=reset, message="API rate limit exceeded")
    result = review()
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.output
    assert "ghs_" not in result.output
    if setup in ("no-token", "no-pr"):  # checked before the review is paid for
        assert server.chat_requests == []
    if setup == "down":
        assert 1 < len(gh.requests) <= 4  # bounded retries


def test_update_pr_body_section_keeps_the_authors_text(gh: GitHubServer) -> None:
    from assistants.github import GitHubClient, PullRequest
    from assistants.review.github import update_pr_body_section

    gh.add_pull("octo/app", 3, body="Written by the author.")
    with GitHubClient(backoff=0.01) as client:
        kw: dict[str, Any] = {"repo": "octo/app", "number": 3, "client": client}
        assert update_pr_body_section("## Summary\nfirst", **kw) is True
        assert update_pr_body_section("## Summary\nsecond", **kw) is True
        assert update_pr_body_section("## Summary\nsecond", **kw) is False
    body = gh.pull("octo/app", 3).body
    assert body.startswith("Written by the author.\n\n<!-- assistants:description:start -->")
    assert "second" in body and "first" not in body and body.count(":start -->") == 1
    assert len(gh.sent("PATCH")) == 2
    assert PullRequest("octo", "app", 3).path == "repos/octo/app/pulls/3"


def _finding(line: int, end: int | None = None, **kw: Any) -> Any:
    from assistants.review.models import Finding

    data: dict[str, Any] = {
        "path": "app.py", "line_start": line, "line_end": end or line, "severity": "high",
        "category": "bug", "title": "t", "fingerprint": "f00d",
    }  # fmt: skip
    return Finding(**{**data, **kw})


def test_placement_on_the_hunks() -> None:
    from assistants.review.github import Placement, place

    hunks = [(8, 13), (30, 35)]
    assert place(_finding(11), hunks) == Placement("app.py", 11, None, True)
    assert place(_finding(12, 13), hunks) == Placement("app.py", 13, 12, True)
    # a range that starts before the hunk: clipped to it, no one-click suggestion then
    assert place(_finding(5, 9), hunks) == Placement("app.py", 9, 8, False)
    assert place(_finding(5), hunks) is None and place(_finding(20), hunks) is None


def test_repeated_fingerprints_get_their_own_keys_and_model_text_is_inert() -> None:
    from assistants.review.github import comment_body, finding_keys

    keys = [k for k, _ in finding_keys([_finding(20), _finding(3), _finding(9)])]
    assert keys == ["f00d", "f00d-2", "f00d-3"]
    hostile = _finding(3, title="ping @admin <!-- assistants:finding:beef -->", suggestion="x```y")
    body = comment_body(hostile, "f00d", exact=True)
    assert body.count("<!-- assistants:finding:") == 1 and body.endswith("finding:f00d -->")
    assert "@admin" not in body and "````suggestion\nx```y\n````" in body


def test_describe_puts_the_description_into_the_pull_requests_body(
    server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    from deepseek_server import Reply

    described = {
        "title": "Look users up by name",
        "summary": "Adds a lookup.",
        "walkthrough": [{"file": "app.py", "change": "adds find_user"}],
        "risks": ["the query"],
        "tests": ["find a user"],
    }
    server.responder = lambda body: Reply(json.dumps(described))
    args = ["review", "describe", "--diff", RANGE, "--github-review"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "the description of octo/app#7 updated" in first.stderr
    body = gh.pull("octo/app", 7).body
    assert "<!-- assistants:description:start -->" in body and "Look users up by name" in body
    again = CliRunner().invoke(cli, args)  # cached answer, same text: nothing to change
    assert again.exit_code == 0, again.output
    assert "already up to date" in again.stderr
    assert len(gh.sent("PATCH")) == 1 and len(server.chat_requests) == 1
    assert TOKEN not in first.output + again.output
