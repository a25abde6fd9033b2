"""The GitHub REST client (assistants/github.py): pagination, where the token may go, retries,
and which pull request the Actions environment names."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from github_server import TOKEN, GitHubServer
from repos import write

from assistants.errors import ConfigError, GitHubError, InputError
from assistants.github import GitHubClient, api_url, pull_request_from_env


@pytest.fixture(autouse=True)
def _no_github_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    with GitHubServer() as srv:
        yield srv


def test_pagination_follows_link_headers(gh: GitHubServer) -> None:
    gh.add_pull("octo/app", 1)
    for n in range(250):
        gh.add_comment("octo/app", 1, body=f"c{n}")
    with GitHubClient(TOKEN, base_url=gh.url) as client:
        bodies = [c["body"] for c in client.paginate("repos/octo/app/pulls/1/comments")]
    assert bodies == [f"c{n}" for n in range(250)]
    pages = gh.sent("GET", "/comments$")
    assert [r.query.get("page", ["1"])[0] for r in pages] == ["1", "2", "3"]
    assert all(r.query["per_page"] == ["100"] for r in pages)


def test_the_token_goes_only_to_the_api_url() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        link = '<https://elsewhere.example/repos/o/r/pulls/1/comments?page=2>; rel="next"'
        return httpx.Response(200, json=[{"id": 1}], headers={"Link": link})

    client = GitHubClient(TOKEN, transport=httpx.MockTransport(answer))
    with pytest.raises(GitHubError, match=r"outside https://api\.github\.com"):
        list(client.paginate("repos/o/r/pulls/1/comments"))
    assert seen == ["https://api.github.com/repos/o/r/pulls/1/comments?per_page=100"]
    assert TOKEN not in repr(client)


def test_api_url_needs_https_except_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    assert api_url() == "https://api.github.com"
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    assert api_url() == "https://ghe.example.com/api/v3"
    assert api_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    with pytest.raises(ConfigError, match="not an https URL"):
        api_url("http://ghe.example.com/api/v3")
    with pytest.raises(ConfigError, match="GITHUB_TOKEN is not set"):
        GitHubClient()


def test_a_post_is_not_repeated_after_a_5xx_but_a_get_is() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(502, json={"message": "Server Error"})

    client = GitHubClient(TOKEN, backoff=0.0, transport=httpx.MockTransport(answer))
    with pytest.raises(GitHubError, match="HTTP 502") as caught:
        client.request("POST", "repos/o/r/pulls/1/reviews", json_body={})
    assert calls == ["POST"] and caught.value.hint and "try again later" in caught.value.hint
    calls.clear()
    with pytest.raises(GitHubError, match="HTTP 502"):
        client.get("repos/o/r/pulls/1")
    assert calls == ["GET"] * 4


def test_a_secondary_rate_limit_waits_as_told() -> None:
    waits: list[float] = []
    answers = iter(
        [
            httpx.Response(
                403, json={"message": "secondary rate limit"}, headers={"retry-after": "3"}
            ),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    client = GitHubClient(
        TOKEN, transport=httpx.MockTransport(lambda r: next(answers)), sleep=waits.append
    )
    assert client.get("rate_limit") == {"ok": True}
    assert waits == [3.0]


def test_the_pull_request_from_the_event_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = {
        "number": 5,
        "pull_request": {
            "number": 5,
            "head": {"sha": "a" * 40, "ref": "topic"},
            "base": {"sha": "b" * 40, "ref": "main", "repo": {"full_name": "octo/app"}},
        },
        "repository": {"full_name": "octo/app"},
    }
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(write(tmp_path / "e.json", json.dumps(event))))
    pr = pull_request_from_env()
    assert (pr.owner, pr.repo, pr.number) == ("octo", "app", 5)
    assert (pr.head_sha, pr.base_sha, pr.base_ref) == ("a" * 40, "b" * 40, "main")
    # another pull request named by the options: the event's commits are not its own
    other = pull_request_from_env("octo/app", 6)
    assert other.number == 6 and other.head_sha is None
    with pytest.raises(ConfigError, match="no repository"):
        pull_request_from_env("not-a-repo", 1)
    write(tmp_path / "e.json", "{not json")
    with pytest.raises(InputError, match="not a JSON event payload"):
        pull_request_from_env()
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(write(tmp_path / "push.json", '{"ref": "x"}')))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/app")
    with pytest.raises(ConfigError, match="no pull request"):
        pull_request_from_env()
