"""The composite GitHub Action (action.yml + action/run.sh): its metadata has what GitHub
requires, and its shell steps run in a simulated Actions environment against the DeepSeek- and
GitHub-protocol test servers: SARIF written, the review posted, the job failed on fail-on, the
cache key stable for unchanged files, and a pull request that cannot choose the endpoint, the
key or its own review rules."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from actions import ActionRun, base_env, load_action, run_action
from deepseek_server import TEST_KEY, DeepSeekServer
from github_server import TOKEN, GitHubServer
from paths import ROOT
from pull_requests import PullRequestRepo, event_file, pr_repo, sql
from repos import git, write
from review_replies import answer

ACTION = load_action(ROOT / "action.yml")
INSTALL = "Install assistants (from the action's own checkout)"


def test_action_yml_has_what_github_requires() -> None:
    assert ACTION["name"] and ACTION["description"]
    assert ACTION["runs"]["using"] == "composite"
    ids = set()
    for step in ACTION["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step["shell"] in {"bash", "sh", "pwsh", "python"}, step
            # inputs reach the shell through env, never spliced into the command text
            assert "${{" not in step["run"], step["run"]
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), step["uses"]
        ids.add(step.get("id"))
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name
        assert isinstance(spec.get("default", ""), str), name
    for name, spec in ACTION["outputs"].items():
        assert spec.get("description") and spec.get("value"), name
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    for used in re.findall(r"inputs\.([\w-]+)", text):
        assert used in ACTION["inputs"], used
    for used in re.findall(r"steps\.([\w-]+)\.outputs", text):
        assert used in ids, used
    install = next(s for s in ACTION["runs"]["steps"] if s.get("name") == INSTALL)
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"]
    uses = {s["uses"].split("@")[0] for s in ACTION["runs"]["steps"] if "uses" in s}
    assert uses == {
        "actions/setup-python",
        "actions/cache/restore",
        "actions/cache/save",
        "github/codeql-action/upload-sarif",
    }


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubServer]:
    with GitHubServer() as srv:
        yield srv


@pytest.fixture
def pr(tmp_path: Path, gh: GitHubServer) -> PullRequestRepo:
    repo = pr_repo(tmp_path)
    gh.add_pull("octo/app", 7, head_sha=repo.head_sha, base_sha=repo.base_sha)
    return repo


def job(
    tmp_path: Path,
    pr: PullRequestRepo,
    server: DeepSeekServer,
    gh: GitHubServer,
    *,
    event_name: str = "pull_request",
    head_repo: str = "octo/app",
    **inputs: str,
) -> ActionRun:
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    event = event_file(tmp_path / "event.json", pr, head_repo=head_repo)
    env = base_env(
        pr.root,
        GITHUB_EVENT_PATH=str(event),
        GITHUB_EVENT_NAME=event_name,
        GITHUB_REPOSITORY="octo/app",
        GITHUB_API_URL=gh.url,
        GITHUB_SHA=pr.head_sha,
        ASSISTANTS_CONFIG_DIR=os.environ["ASSISTANTS_CONFIG_DIR"],
        ASSISTANTS_RETRY_BACKOFF="0.01",
        ASSISTANTS_RETRY_MAX_WAIT="0.2",
    )
    given = {"api-key": TEST_KEY, "base-url": server.url, **inputs}
    return run_action(
        ROOT,
        inputs=given,
        env=env,
        github={"token": TOKEN},
        runner_temp=temp,
        skip=(INSTALL,),
    )


def test_the_action_reviews_posts_uploads_and_fails_on_findings(
    tmp_path: Path, server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    # the pull request tries to send the review elsewhere and to switch its own gate off
    evil = "http://127.0.0.1:9/v1"
    write(pr.root / ".env", f"ASSISTANTS_BASE_URL={evil}\nDEEPSEEK_API_KEY=sk-theirs-0000\n")
    write(pr.root / "pyproject.toml", '[tool.assistants.review]\nfail_on = "never"\n')
    git(pr.root, "add", ".")
    pr.commit((pr.root / "app.py").read_text(encoding="utf-8"), "settings of its own")
    server.responder = lambda body: answer([sql()])
    server.valid_keys = {TEST_KEY}  # any other key: 401

    run = job(tmp_path, pr, server, gh)
    prepare, review, finish = run.step("prepare"), run.step("review"), run.steps[-1]
    assert prepare.returncode == 0, prepare.stderr
    assert prepare.outputs["range"] == f"origin/main...{pr.head_sha}"
    assert review.returncode == 0, review.stdout + review.stderr
    assert review.outputs["exit-code"] == "1"  # a high finding, fail-on high
    assert finish.ran and finish.returncode == 1 and "::error::" in finish.stdout
    assert run.failed is finish

    # the workflow's key went to the workflow's endpoint (the finding came from there)
    assert server.chat_requests and TEST_KEY not in review.stdout + review.stderr
    # the review was posted on the pull request's head, inline on line 11
    (post,) = gh.sent("POST")
    assert post.path == "/repos/octo/app/pulls/7/reviews" and post.body["commit_id"] == pr.head_sha
    assert [(c["path"], c["line"]) for c in post.body["comments"]] == [("app.py", 11)]
    # SARIF for code scanning, rooted at the workspace
    sarif_file = Path(review.outputs["sarif-file"])
    sarif: dict[str, Any] = json.loads(sarif_file.read_text(encoding="utf-8"))
    root = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == pr.root.resolve().as_uri() + "/"
    assert (
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
        == 11
    )
    upload = run.step("Upload SARIF to code scanning")
    assert upload.with_["sarif_file"] == str(sarif_file)
    # the cache keeps the data folder the review wrote its cache and ledger to
    save = run.step("Save the response cache and ledger")
    data = Path(prepare.outputs["data-dir"])
    assert save.with_["path"] == str(data) and any(data.iterdir())
    assert save.with_["key"].startswith(run.step("restore").with_["restore-keys"])
    assert len(git(pr.root, "worktree", "list").splitlines()) == 1  # the base's tree is gone

    # the next run of the same head: same cache key, and the restored cache answers it all
    sent = len(server.chat_requests)
    gh.requests.clear()
    again = job(tmp_path, pr, server, gh)
    assert again.step("prepare").outputs["cache-key"] == prepare.outputs["cache-key"]
    assert len(server.chat_requests) == sent
    assert gh.sent("POST") == [] and again.step("review").outputs["exit-code"] == "1"


def test_a_fork_pull_request_without_secrets_or_write_access(
    tmp_path: Path, server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    server.responder = lambda body: answer([sql()])
    run = job(tmp_path, pr, server, gh, head_repo="mallory/app", **{"fail-on": "never"})
    review = run.step("review")
    assert review.returncode == 0, review.stderr
    assert run.step("prepare").outputs["read-only"] == "true"
    assert "read-only token" in review.stdout and gh.sent("POST") == []
    assert run.step("Upload SARIF to code scanning").uses is None  # skipped: no write access
    assert run.failed is None

    no_key = job(tmp_path, pr, server, gh, head_repo="mallory/app", **{"api-key": ""})
    assert "no API key" in no_key.step("review").stdout
    assert no_key.failed is None and no_key.step("review").outputs["sarif-file"] == ""


def test_a_base_ref_that_is_not_a_branch_name_stops_the_job(
    tmp_path: Path, server: DeepSeekServer, gh: GitHubServer, pr: PullRequestRepo
) -> None:
    run = job(tmp_path, pr, server, gh, **{"base-ref": "--upload-pack=touch /tmp/x"})
    prepare = run.step("prepare")
    assert prepare.returncode == 1 and "::error::not a branch name" in prepare.stdout
    assert not run.step("review").ran and server.chat_requests == []
