"""SARIF 2.1.0 for :class:`assistants.review.models.Review` (GitHub code scanning, IDEs).

One rule per category; levels: critical/high → ``error``, medium → ``warning``, low →
``note``; URIs relative to ``%SRCROOT%`` (the review root); ``partialFingerprints`` stable
across line moves and rewording (``assistantsFinding/v2``: path, category, anchored code);
files that failed appear as tool execution notifications. Suppressed findings are results
too, marked with ``suppressions``: kind ``inSource`` (an ``assistants: ignore`` comment) or
``external`` (a baseline file), as code scanning and SARIF viewers expect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._version import __version__

if TYPE_CHECKING:
    from .models import Finding, Review

__all__ = ["RULES", "SARIF_SCHEMA", "to_sarif", "to_sarif_dict"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "7.5", "medium": "5.0", "low": "2.0"}
RULES: dict[str, tuple[str, str]] = {
    "bug": ("Bug", "A defect that makes the code behave incorrectly."),
    "security": ("SecurityIssue", "A vulnerability or unsafe handling of data or secrets."),
    "performance": ("PerformanceIssue", "Needless work, memory or latency."),
    "maintainability": ("MaintainabilityIssue", "Code that is hard to change safely."),
    "style": ("StyleIssue", "Readability and consistency."),
}
_ROOT = "%SRCROOT%"
FINGERPRINT_KEY = "assistantsFinding/v2"
SUPPRESSION_KIND = {"inline": "inSource", "baseline": "external"}


def _uri(path: str) -> str:
    return quote(path, safe="/")


def _location(path: str, start: int | None = None, end: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(path), "uriBaseId": _ROOT}}
    if start is not None:
        physical["region"] = {"startLine": start, "endLine": max(end or start, start)}
    return {"physicalLocation": physical}


def _result(f: Finding, rule_ids: list[str]) -> dict[str, Any]:
    """One finding as a SARIF result."""
    message = f.title + (f"\n\n{f.explanation}" if f.explanation else "")
    markdown = f"**{f.title}**" + (f"\n\n{f.explanation}" if f.explanation else "")
    if f.suggestion:
        markdown += f"\n\nSuggested fix:\n\n```\n{f.suggestion.rstrip()}\n```"
    properties: dict[str, Any] = {
        "severity": f.severity,
        "category": f.category,
        "anchored": f.anchored,
    }
    if f.category == "security":
        properties["security-severity"] = SECURITY_SEVERITY[f.severity]
    if f.suggestion:
        properties["suggestion"] = f.suggestion
    if f.model_line is not None:
        properties["modelLine"] = f.model_line
    fixes = []
    if f.suggestion and f.anchored:
        # A machine-applicable fix only where the lines were checked against the file.
        # A region of whole lines ends before the last line's newline (SARIF §3.30.5).
        fixes.append(
            {
                "description": {
                    "text": f"Replace lines {f.line_start}-{f.line_end} with the suggestion."
                },
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": _uri(f.path), "uriBaseId": _ROOT},
                        "replacements": [
                            {
                                "deletedRegion": {
                                    "startLine": f.line_start,
                                    "endLine": f.line_end,
                                },
                                "insertedContent": {"text": f.suggestion.rstrip("\n")},
                            }
                        ],
                    }
                ],
            }
        )
    return {
        **({"fixes": fixes} if fixes else {}),
        "ruleId": f"review/{f.category}",
        "ruleIndex": rule_ids.index(f.category),
        "level": LEVELS[f.severity],
        "message": {"text": message, "markdown": markdown},
        "locations": [_location(f.path, f.line_start, f.line_end)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": properties,
    }


def to_sarif_dict(review: Review) -> dict[str, Any]:
    """The SARIF log as a dict."""
    rule_ids = list(RULES)
    rules = [
        {
            "id": f"review/{cat}",
            "name": name,
            "shortDescription": {"text": text},
            "fullDescription": {"text": f"{text} Reported by the assistants code reviewer."},
            "defaultConfiguration": {"level": "error" if cat in {"bug", "security"} else "warning"},
            "help": {"text": f"{text} Each result explains the problem and suggests a fix."},
            "properties": {"tags": [cat, "assistants-review"]},
        }
        for cat, (name, text) in RULES.items()
    ]
    results = [_result(f, rule_ids) for f in review.findings]
    for held in review.suppressed:
        result = _result(held, rule_ids)
        kind = SUPPRESSION_KIND[held.suppression]
        how = "an assistants: ignore comment" if kind == "inSource" else "the baseline file"
        result["suppressions"] = [{"kind": kind, "justification": f"suppressed by {how}"}]
        results.append(result)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{failed.path} was not reviewed: {failed.reason}"},
            "locations": [_location(failed.path)],
            "descriptor": {"id": failed.error or "request-failed"},
        }
        for failed in review.failed
    ]
    root_uri = Path(review.root).resolve().as_uri().rstrip("/") + "/"
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "assistants-review",
                "fullName": "assistants code reviewer",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {_ROOT: {"uri": root_uri}},
        "artifacts": [
            {"location": {"uri": _uri(f.path), "uriBaseId": _ROOT}, "sourceLanguage": f.language}
            for f in review.files
        ],
        "invocations": [
            {
                "executionSuccessful": not review.failed,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "mode": review.mode,
            "target": review.target,
            "model": review.model,
            "skipped": [{"path": s.path, "reason": s.reason} for s in review.skipped],
            "secretsRedacted": review.secrets_redacted,
            "suppressed": review.suppressed_counts,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def to_sarif(review: Review) -> str:
    return json.dumps(to_sarif_dict(review), indent=2, ensure_ascii=False) + "\n"
