"""A review as a GitHub pull-request review: inline comments on the changed lines, the rest in
the review body, and on a re-run our earlier comments kept in step instead of duplicated.

Each finding is known across runs by its :attr:`~assistants.review.models.Finding.fingerprint`
(the n-th finding with the same fingerprint gets ``-n``), written into its comment as a hidden
marker ``<!-- assistants:finding:<key> -->``. :func:`post_review`:

1. lists the pull request's review comments and reviews (paginated) and picks out ours: a
   marker, at the top of a thread, by our account (``GET /user`` when the token may ask; an
   Actions token may not, then a bot account);
2. plans (:func:`plan_review`, no I/O): a finding that lies on the diff's hunks (the lines
   GitHub accepts comments on, right side) becomes an inline comment (``start_line`` for a
   range; a ``suggestion`` block when the fix replaces exactly those lines); any other finding
   goes into the body table. A finding whose comment is still in place: the comment is updated
   when its text changed (``PATCH``), else left alone; one whose comment is outdated or on
   other lines: a new comment, the old one removed. A finding already listed in an earlier
   review body is not listed again. A comment whose finding is gone is deleted — unless
   somebody replied to it: then it is edited to say it was fixed (struck through) so the
   conversation stays (the REST API cannot resolve threads);
3. posts one review (``event: COMMENT``, ``commit_id`` = the pull request's head) with the new
   findings only, and none when there is nothing new. When GitHub refuses the inline comments
   (422: a line it does not take as part of the diff), the review is posted again with every
   finding in the body and a warning: no finding is lost. A 5xx on posting is checked against
   the reviews GitHub lists before posting again, so a review is never posted twice.

:func:`update_pr_body_section` keeps a markdown section of the pull request's description
between hidden markers of ours (``assistants review describe`` puts its text there).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .. import git
from ..errors import GitHubError, GitHubRateLimitError

if TYPE_CHECKING:
    from ..config import Settings
    from ..github import GitHubClient, PullRequest
    from .models import Finding, Review

__all__ = [
    "GitHubReviewResult",
    "Placement",
    "ReviewPlan",
    "comment_body",
    "finding_keys",
    "github_client",
    "place",
    "plan_review",
    "post_pull_request_review",
    "post_review",
    "replace_section",
    "update_pr_body_section",
]

log = logging.getLogger("assistants")

REVIEW_MARKER = "<!-- assistants:review -->"
_FINDING = "<!-- assistants:finding:{key} -->"
_RESOLVED = "<!-- assistants:resolved:{key} -->"
_FINDING_RE = re.compile(r"<!-- assistants:finding:([0-9A-Za-z_.-]{1,80}) -->")
_RUN_RE = re.compile(r"<!-- assistants:run:([0-9a-f]{16}) -->")
_MAX_TEXT = 4000  # characters of a finding's explanation in a comment
_MAX_ROWS = 200  # rows of the body table
_SEVERITY_ICON = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵"}


# -- what goes where ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """Where a comment goes: ``line`` (right side), from ``start_line`` for a range;
    ``exact`` when that is the finding's whole range (a suggestion may replace it)."""

    path: str
    line: int
    start_line: int | None
    exact: bool


def place(finding: Finding, hunks: Sequence[tuple[int, int]]) -> Placement | None:
    """The inline place of ``finding`` on the diff's ``hunks`` of its file: the first hunk its
    lines meet, the range clipped to it; None when its lines meet no hunk."""
    for a, b in sorted(hunks):
        start, end = max(a, finding.line_start), min(b, finding.line_end)
        if start <= end:
            exact = (start, end) == (finding.line_start, finding.line_end)
            return Placement(finding.path, end, start if start < end else None, exact)
    return None


def finding_keys(findings: Iterable[Finding]) -> list[tuple[str, Finding]]:
    """(key, finding): the fingerprint, ``-2``, ``-3`` … for repeats, in line order."""
    seen: dict[str, int] = {}
    out = []
    for f in sorted(findings, key=lambda f: (f.path, f.line_start, f.line_end)):
        fp = (
            f.fingerprint
            or hashlib.sha256(
                "\0".join([f.path, f.category, f.title.lower()]).encode()
            ).hexdigest()[:16]
        )
        seen[fp] = seen.get(fp, 0) + 1
        out.append((fp if seen[fp] == 1 else f"{fp}-{seen[fp]}", f))
    return out


def _text(value: str) -> str:
    """Model text made inert in a comment: no hidden markers of its own, no @-mentions."""
    value = value.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
    return re.sub(r"@(?=\w)", "@\u200b", value)


def _cell(value: str) -> str:
    return " ".join(_text(value).replace("|", "\\|").split())


def _fence(code: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def _heading(f: Finding) -> str:
    icon = _SEVERITY_ICON.get(f.severity, "")
    return f"{icon} **{f.severity.upper()}** · {f.category} · {_text(f.title)}"


def comment_body(f: Finding, key: str, *, exact: bool = True) -> str:
    """The markdown of an inline comment: severity, category, title, explanation, the fix (a
    ``suggestion`` block when it replaces exactly the commented lines), the hidden marker."""
    parts = [_heading(f).strip()]
    if f.explanation:
        text = f.explanation if len(f.explanation) <= _MAX_TEXT else f.explanation[:_MAX_TEXT] + "…"
        parts.append(_text(text))
    if f.suggestion:
        fence = _fence(f.suggestion)
        kind = "suggestion" if exact else ""
        label = "" if exact else "Suggested fix:\n"
        parts.append(f"{label}{fence}{kind}\n{f.suggestion.rstrip()}\n{fence}")
    parts.append(_FINDING.format(key=key))
    return "\n\n".join(parts)


def _resolved_body(f_heading: str, key: str, sha: str | None) -> str:
    at = f" at {sha[:7]}" if sha else ""
    return f"~~{f_heading}~~\n\n✅ Fixed: no longer reported{at}.\n\n{_RESOLVED.format(key=key)}"


def _lines(f: Finding) -> str:
    return str(f.line_start) if f.line_start == f.line_end else f"{f.line_start}–{f.line_end}"


def body_table(rows: Sequence[tuple[str, Finding]]) -> str:
    """The findings outside the diff's hunks as a markdown table (a marker in each row)."""
    out = ["| Severity | File | Lines | Finding |", "|---|---|---|---|"]
    for key, f in rows[:_MAX_ROWS]:
        out.append(
            f"| {f.severity} | `{_cell(f.path)}` | {_lines(f)} | "
            f"{_cell(f.category)}: {_cell(f.title)} {_FINDING.format(key=key)} |"
        )
    if len(rows) > _MAX_ROWS:
        out.append(f"\n… and {len(rows) - _MAX_ROWS} more (see the SARIF or JSON report).")
    return "\n".join(out)


# -- the plan -----------------------------------------------------------------------------------
@dataclass
class ReviewPlan:
    """What a run does on GitHub (ids are of our earlier comments)."""

    inline: list[tuple[str, Finding, Placement]] = field(default_factory=list)
    body: list[tuple[str, Finding]] = field(default_factory=list)
    updates: list[tuple[int, str]] = field(default_factory=list)
    unchanged: int = 0
    deletes: list[int] = field(default_factory=list)
    resolves: list[tuple[int, str]] = field(default_factory=list)


def plan_review(
    findings: Iterable[Finding],
    hunks: dict[str, list[tuple[int, int]]],
    comments: Sequence[dict[str, Any]],
    listed: set[str],
    *,
    replied: set[int] | frozenset[int] = frozenset(),
    head_sha: str | None = None,
) -> ReviewPlan:
    """The plan for ``findings`` given the diff's ``hunks`` per path, our earlier top-level
    ``comments`` (GitHub's objects), the keys ``listed`` in our earlier review bodies and the
    ids of our comments somebody ``replied`` to. No I/O."""
    plan = ReviewPlan()
    by_key: dict[str, list[dict[str, Any]]] = {}
    for c in comments:
        m = _FINDING_RE.search(c.get("body") or "")
        if m:
            by_key.setdefault(m.group(1), []).append(c)
    kept: set[int] = set()
    for key, f in finding_keys(findings):
        spot = place(f, hunks.get(f.path, []))
        earlier = by_key.get(key, [])
        if spot is None:
            if earlier:  # commented on before (the diff moved on): that comment still says it
                kept.add(earlier[0]["id"])
                plan.unchanged += 1
            elif key in listed:
                plan.unchanged += 1
            else:
                plan.body.append((key, f))
            continue
        body = comment_body(f, key, exact=spot.exact)
        here = next(
            (c for c in earlier if c.get("path") == spot.path and c.get("line") == spot.line),
            None,
        )
        if here is None:
            plan.inline.append((key, f, spot))
            continue
        kept.add(here["id"])
        if (here.get("body") or "").strip() != body.strip():
            plan.updates.append((here["id"], body))
        else:
            plan.unchanged += 1
    for key, group in by_key.items():
        for c in group:
            if c["id"] in kept:
                continue
            if c["id"] in replied:
                heading = (c.get("body") or "").split("\n", 1)[0].strip("~ ")
                plan.resolves.append((c["id"], _resolved_body(heading, key, head_sha)))
            else:
                plan.deletes.append(c["id"])
    return plan


# -- the result ---------------------------------------------------------------------------------
class GitHubReviewResult(BaseModel):
    """What :func:`post_review` did on the pull request."""

    pull_request: str
    posted: bool = False
    review_url: str | None = None
    inline: int = 0
    in_body: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    resolved: int = 0
    moved_to_body: int = 0

    def summary(self) -> str:
        """One line for the terminal."""
        earlier = []
        if self.updated:
            earlier.append(f"{self.updated} updated")
        if self.unchanged:
            earlier.append(f"{self.unchanged} unchanged")
        if self.deleted or self.resolved:
            earlier.append(f"{self.deleted + self.resolved} fixed (removed or marked)")
        tail = f"; earlier findings: {', '.join(earlier)}" if earlier else ""
        if not self.posted:
            return f"github: nothing new to post on {self.pull_request}{tail}"
        return (
            f"github: posted a review on {self.pull_request} with {self.inline} inline "
            f"comment(s) and {self.in_body} finding(s) in its body{tail}"
        )


# -- talking to GitHub ----------------------------------------------------------------------------
def _login(client: GitHubClient) -> str | None:
    """Our account's login, when the token may ask (an Actions token may not)."""
    try:
        user = client.get("user")
    except GitHubError as exc:
        if exc.status in (401, 403, 404) and not isinstance(exc, GitHubRateLimitError):
            return None
        raise
    return user.get("login") if isinstance(user, dict) else None


def _ours(item: dict[str, Any], login: str | None) -> bool:
    user = item.get("user") or {}
    if login is not None:
        return bool(user.get("login") == login)
    return bool(user.get("type") == "Bot")


def _review_body(plan: ReviewPlan, review: Review, run: str, *, moved: bool = False) -> str:
    total = len(plan.inline) + len(plan.body)
    lines = [
        "### assistants review",
        "",
        f"{total} new finding(s): {len(plan.inline)} inline on the changed lines, "
        f"{len(plan.body)} below.",
    ]
    if moved:
        lines.append("\nGitHub did not accept inline comments on these lines, so every new "
                     "finding is listed here.")  # fmt: skip
    if plan.body:
        lines += ["", body_table(plan.body)]
    if review.failed:
        lines.append(f"\n⚠️ {len(review.failed)} file(s) could not be reviewed (partial result).")
    lines += ["", REVIEW_MARKER, f"<!-- assistants:run:{run} -->"]
    return "\n".join(lines)


def _post(
    client: GitHubClient, pr: PullRequest, payload: dict[str, Any], run: str
) -> dict[str, Any]:
    """POST the review; after a 5xx or a dropped connection, post again only when GitHub does
    not list it already."""
    try:
        return dict(client.request("POST", f"{pr.path}/reviews", json_body=payload))
    except GitHubError as exc:
        if exc.status is not None and exc.status < 500:
            raise
    for earlier in client.paginate(f"{pr.path}/reviews"):
        m = _RUN_RE.search(earlier.get("body") or "")
        if m and m.group(1) == run:
            return dict(earlier)
    return dict(client.request("POST", f"{pr.path}/reviews", json_body=payload))


def post_review(
    review: Review,
    pr: PullRequest,
    client: GitHubClient,
    *,
    hunks: dict[str, list[tuple[int, int]]],
    commit_id: str,
) -> GitHubReviewResult:
    """Post ``review`` on ``pr`` as described in the module docstring; ``hunks`` are the
    diff's hunk ranges per path (new side), ``commit_id`` the commit their lines are of."""
    login = _login(client)
    everything = list(client.paginate(f"{pr.path}/comments"))
    replied = {c["in_reply_to_id"] for c in everything if c.get("in_reply_to_id")}
    ours = [
        c
        for c in everything
        if not c.get("in_reply_to_id")
        and _FINDING_RE.search(c.get("body") or "")
        and _ours(c, login)
    ]
    listed: set[str] = set()
    for earlier in client.paginate(f"{pr.path}/reviews"):
        if REVIEW_MARKER in (earlier.get("body") or "") and _ours(earlier, login):
            listed.update(_FINDING_RE.findall(earlier["body"]))
    plan = plan_review(review.findings, hunks, ours, listed, replied=replied, head_sha=commit_id)
    result = GitHubReviewResult(
        pull_request=f"{pr.full_name}#{pr.number}",
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        deleted=len(plan.deletes),
        resolved=len(plan.resolves),
    )
    repo_path = f"repos/{pr.owner}/{pr.repo}/pulls/comments"
    for comment_id, body in [*plan.updates, *plan.resolves]:
        client.request("PATCH", f"{repo_path}/{comment_id}", json_body={"body": body})
    if plan.inline or plan.body:
        keys = sorted([k for k, _, _ in plan.inline] + [k for k, _ in plan.body])
        run = hashlib.sha256("\0".join([commit_id, *keys]).encode()).hexdigest()[:16]
        payload = {
            "commit_id": commit_id,
            "event": "COMMENT",
            "body": _review_body(plan, review, run),
            "comments": [_comment(key, f, spot) for key, f, spot in plan.inline],
        }
        try:
            posted = _post(client, pr, payload, run)
        except GitHubError as exc:
            if exc.status != 422 or not plan.inline:
                raise
            log.warning(
                "warning: GitHub did not take the inline comments (%s); every new finding "
                "goes into the review body instead",
                exc.message,
            )
            result.moved_to_body = len(plan.inline)
            plan.body = sorted(
                [*plan.body, *((k, f) for k, f, _ in plan.inline)],
                key=lambda kf: (kf[1].path, kf[1].line_start),
            )
            plan.inline = []
            payload["comments"] = []
            payload["body"] = _review_body(plan, review, run, moved=True)
            posted = _post(client, pr, payload, run)
        result.posted = True
        result.review_url = posted.get("html_url")
        result.inline, result.in_body = len(plan.inline), len(plan.body)
    for comment_id in plan.deletes:
        try:
            client.request("DELETE", f"{repo_path}/{comment_id}")
        except GitHubError as exc:
            if exc.status != 404:  # already gone is what we wanted
                raise
    return result


def _comment(key: str, f: Finding, spot: Placement) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": spot.path,
        "line": spot.line,
        "side": "RIGHT",
        "body": comment_body(f, key, exact=spot.exact),
    }
    if spot.start_line is not None:
        out.update(start_line=spot.start_line, start_side="RIGHT")
    return out


def github_client(settings: Settings | None = None) -> GitHubClient:
    """A client on ``GITHUB_API_URL`` with the token from ``GITHUB_TOKEN`` (a
    :class:`~assistants.errors.ConfigError` without one), retrying as ``settings`` say."""
    from ..github import GitHubClient

    if settings is None:
        return GitHubClient()
    return GitHubClient(backoff=settings.retry_backoff, max_wait=settings.retry_max_wait)


def post_pull_request_review(
    review: Review,
    diff_ref: str | None,
    *,
    pr: PullRequest | None = None,
    repo: str | None = None,
    number: int | None = None,
    root: str | Path = ".",
    settings: Settings | None = None,
    client: GitHubClient | None = None,
) -> GitHubReviewResult:
    """Post ``review`` (of ``--diff diff_ref`` in the repository at ``root``) on ``pr``, else
    the pull request named by ``repo`` / ``number`` or the Actions environment
    (:func:`assistants.github.pull_request_from_env`); see :func:`post_review`. Without
    ``client``: the token from ``GITHUB_TOKEN``, the API URL from ``GITHUB_API_URL``."""
    from ..github import pull_request_from_env
    from .diff import load_diff

    pr = pr or pull_request_from_env(repo, number)
    selection = load_diff(diff_ref, repo=root)
    hunks = {f.path: f.hunks for f in selection.files}
    own = client is None
    gh = client or github_client(settings)
    try:
        head = pr.head_sha
        if head is None:
            data = gh.get(pr.path)
            head = data.get("head", {}).get("sha") if isinstance(data, dict) else None
            if not head:
                raise GitHubError(f"GET {pr.path}: no head commit in the answer")
        side = _new_side(diff_ref)
        ours = git.rev_parse(selection.root, side) if side else None
        if ours is not None and ours != head:
            log.warning(
                "warning: the review's lines are of %s, the pull request's head is %s: "
                "comments may land on other lines (review --diff BASE...%s)",
                ours[:7],
                head[:7],
                head[:7],
            )
        return post_review(review, pr, gh, hunks=hunks, commit_id=head)
    finally:
        if own:
            gh.close()


def _new_side(ref: str | None) -> str | None:
    """The commit the diff's new side is, when it is a commit (``A..B`` / ``A...B``; HEAD
    for a clean comparison with the working tree is not known to be clean: None)."""
    if ref and ".." in ref:
        right = (ref.partition("...") if "..." in ref else ref.partition(".."))[2]
        return right or "HEAD"
    return None


# -- the pull request's description -------------------------------------------------------------
def _section_markers(section: str) -> tuple[str, str]:
    name = re.sub(r"[^0-9A-Za-z_.-]", "-", section)
    return f"<!-- assistants:{name}:start -->", f"<!-- assistants:{name}:end -->"


def replace_section(body: str, markdown: str, section: str = "description") -> str:
    """``body`` with ``markdown`` between the section's markers (appended when absent)."""
    start, end = _section_markers(section)
    markdown = markdown.replace(start, "").replace(end, "").strip()
    block = f"{start}\n{markdown}\n{end}"
    a, b = body.find(start), body.find(end)
    if a != -1 and b > a:
        return body[:a] + block + body[b + len(end) :]
    return f"{body.rstrip()}\n\n{block}" if body.strip() else block


def update_pr_body_section(
    markdown: str,
    *,
    section: str = "description",
    repo: str | None = None,
    number: int | None = None,
    settings: Settings | None = None,
    client: GitHubClient | None = None,
) -> bool:
    """Put ``markdown`` into the pull request's description between hidden markers of
    ``section`` (``PATCH`` of the pull request), leaving the rest of the description as the
    author wrote it. The pull request as for :func:`post_pull_request_review`. True when
    the description changed."""
    from ..github import pull_request_from_env

    pr = pull_request_from_env(repo, number)
    own = client is None
    gh = client or github_client(settings)
    try:
        data = gh.get(pr.path)
        body = (data.get("body") if isinstance(data, dict) else None) or ""
        new = replace_section(body, markdown, section)
        if new == body:
            return False
        gh.request("PATCH", pr.path, json_body={"body": new})
        return True
    finally:
        if own:
            gh.close()
