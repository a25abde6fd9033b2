"""A pull request in git: an ``origin`` (bare) with ``main`` and a ``report`` branch, a clone of
it, the ``pull_request`` event file GitHub Actions would write, and scripted model findings on
the changed code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paths import DATA
from repos import git, make_repo, write

BASE_APP = """import sqlite3


def report(conn, name, rows):
    total = eval(rows)
    a = 1
    b = 2
    c = 3
    d = 4
    e = 5
    return total
"""

# lines 11-13 are new: the SQL query (11) and the division (12)
HEAD_APP = """import sqlite3


def report(conn, name, rows):
    total = eval(rows)
    a = 1
    b = 2
    c = 3
    d = 4
    e = 5
    found = conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchone()
    ratio = total / len(rows)
    return found, ratio
"""

LINES = HEAD_APP.splitlines()


@dataclass
class PullRequestRepo:
    root: Path  # the clone the job works in (checked out at the head)
    origin: Path
    base_sha: str
    head_sha: str

    def commit(self, text: str, message: str = "more") -> str:
        """Commit ``text`` as app.py on the head branch and push it; the new head."""
        write(self.root / "app.py", text)
        git(self.root, "commit", "-qam", message)
        git(self.root, "push", "-q", "origin", "HEAD:report")
        self.head_sha = git(self.root, "rev-parse", "HEAD").strip()
        return self.head_sha


def pr_repo(tmp: Path) -> PullRequestRepo:
    """``origin`` with main (BASE_APP) and report (HEAD_APP); the clone is on report."""
    origin = tmp / "origin.git"
    git(tmp, "init", "-q", "--bare", "-b", "main", str(origin))
    work = make_repo(tmp / "work")
    write(work / "app.py", BASE_APP)
    git(work, "add", ".")
    git(work, "commit", "-qm", "base")
    git(work, "branch", "-M", "main")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "-q", "origin", "main")
    base = git(work, "rev-parse", "HEAD").strip()
    git(work, "checkout", "-qb", "report")
    write(work / "app.py", HEAD_APP)
    git(work, "commit", "-qam", "report users")
    git(work, "push", "-q", "origin", "report")
    git(work, "fetch", "-q", "origin")
    head = git(work, "rev-parse", "HEAD").strip()
    return PullRequestRepo(work, origin, base, head)


def event_file(path: Path, repo: PullRequestRepo, *, head_repo: str = "octo/app") -> Path:
    """The ``pull_request`` event payload (a real one's shape) for ``repo``'s head and base."""
    text = (DATA / "github" / "pull_request_event.json").read_text(encoding="utf-8")
    for key, value in {
        "@HEAD_SHA@": repo.head_sha,
        "@BASE_SHA@": repo.base_sha,
        "@BEFORE@": repo.base_sha,
        "@HEAD_REPO@": head_repo,
    }.items():
        text = text.replace(key, value)
    json.loads(text)  # still JSON
    return write(path, text)


def finding(line: int, title: str, *, severity: str = "high", category: str = "bug",
            explanation: str = "", suggestion: str | None = None, end: int | None = None,
            path: str = "app.py") -> dict[str, Any]:  # fmt: skip
    """A model finding quoting HEAD_APP's ``line``."""
    return {
        "file": path,
        "line_start": line,
        "line_end": end or line,
        "quote": LINES[line - 1].strip(),
        "severity": severity,
        "category": category,
        "title": title,
        "explanation": explanation or f"{title}.",
        "suggestion": suggestion,
    }


def sql(**kw: Any) -> dict[str, Any]:
    return finding(11, "SQL injection", category="security", **kw)


def division(**kw: Any) -> dict[str, Any]:
    return finding(12, "Division by zero when rows is empty", **kw)


def evaluation(**kw: Any) -> dict[str, Any]:
    """On line 5: inside the changed function, outside the diff's hunk (9-13)."""
    return finding(5, "eval of input", category="security", severity="critical", **kw)
