"""Report formats other review tools read: GitLab Code Quality and reviewdog's rdjson.

- ``gitlab``: the JSON array of issues GitLab shows in merge requests (the Code Climate subset
  GitLab reads: ``description``, ``check_name``, ``fingerprint``, ``severity`` — info, minor,
  major, critical or blocker — ``location.path`` and ``location.lines.begin``; Code Climate's
  ``type``, ``categories`` and ``content`` are added, GitLab ignores them). GitLab shows only the
  first issue of a fingerprint, so each one is unique within a review.
- ``rdjson``: reviewdog's Diagnostic Format (``DiagnosticResult``): ``source`` (its name; the
  optional url is left out), and per finding
  ``message``, ``location`` (path and line range), ``severity`` (ERROR, WARNING, INFO),
  ``code`` (the category) and, where the suggestion replaces the finding's exact lines (the
  lines were checked against the file), ``suggestions``. reviewdog parses it strictly
  (protobuf JSON), so only the message's own fields are written.

Neither format has a place for a run summary: suppressed findings are left out of both (the
command line says how many on stderr). Imports only the models.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Finding, Review

__all__ = ["GITLAB_SEVERITY", "RDJSON_SEVERITY", "to_gitlab", "to_rdjson"]

GITLAB_SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor"}
RDJSON_SEVERITY = {"critical": "ERROR", "high": "ERROR", "medium": "WARNING", "low": "INFO"}
_CODE_CLIMATE_CATEGORY = {
    "bug": "Bug Risk",
    "security": "Security",
    "performance": "Performance",
    "maintainability": "Complexity",
    "style": "Style",
}


def _message(f: Finding) -> str:
    return f.title + (f"\n\n{f.explanation}" if f.explanation else "")


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# -- GitLab Code Quality ------------------------------------------------------------------
def gitlab_issues(review: Review) -> list[dict[str, Any]]:
    """The Code Quality issues of ``review`` (its reported findings)."""
    issues = []
    for f in review.findings:
        body = f.explanation
        if f.suggestion:
            body += (
                "\n\n" if body else ""
            ) + f"Suggested fix:\n\n```\n{f.suggestion.rstrip()}\n```"
        issue: dict[str, Any] = {
            "type": "issue",
            "description": f.title,
            "check_name": f"review/{f.category}",
            "fingerprint": f.fingerprint,
            "severity": GITLAB_SEVERITY[f.severity],
            "categories": [_CODE_CLIMATE_CATEGORY[f.category]],
            "location": {"path": f.path, "lines": {"begin": f.line_start, "end": f.line_end}},
        }
        if body:
            issue["content"] = {"body": body}
        issues.append(issue)
    return issues


def to_gitlab(review: Review) -> str:
    """GitLab Code Quality JSON (``artifacts: reports: codequality:``)."""
    return _dump(gitlab_issues(review))


# -- reviewdog rdjson ---------------------------------------------------------------------
def _diagnostic(f: Finding) -> dict[str, Any]:
    diagnostic: dict[str, Any] = {
        "message": _message(f),
        "location": {
            "path": f.path,
            "range": {"start": {"line": f.line_start}, "end": {"line": f.line_end}},
        },
        "severity": RDJSON_SEVERITY[f.severity],
        "code": {"value": f"review/{f.category}"},
    }
    if f.suggestion and f.anchored:
        # whole lines: from column 1 of the first to column 1 of the line after the last
        # (the end is exclusive), so the replacement carries its final newline
        text = f.suggestion.rstrip("\n") + "\n"
        diagnostic["suggestions"] = [
            {
                "range": {
                    "start": {"line": f.line_start, "column": 1},
                    "end": {"line": f.line_end + 1, "column": 1},
                },
                "text": text,
            }
        ]
    return diagnostic


def rdjson_result(review: Review) -> dict[str, Any]:
    """The ``DiagnosticResult`` of ``review`` as a dict."""
    return {
        "source": {"name": "assistants-review"},  # url is optional; the project has none yet
        "severity": "WARNING",
        "diagnostics": [_diagnostic(f) for f in review.findings],
    }


def to_rdjson(review: Review) -> str:
    """reviewdog rdjson (``reviewdog -f=rdjson``)."""
    return _dump(rdjson_result(review))
