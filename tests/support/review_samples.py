"""Code reviewer test material: settings without cache or ledger, model findings and replies
for the scripted chat model, small apps under review and a finished sample review."""

from __future__ import annotations

import json
from typing import Any

from assistants.config import Settings, load_settings
from assistants.review.models import Finding, Review

SHELL_APP = """import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def average(xs):
    return sum(xs) / len(xs)
"""
"""An app with a shell injection (line 5) and a division by zero (line 9)."""

APP_SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"

DEFS_PY = "\n".join(
    ["import os", ""]
    + [
        line
        for i in range(40)
        for line in (f"def f{i}(x):", f"    y = x + {i}", "    return y", "")
    ]
)
"""A Python module of 40 three-line functions f0..f39 after an import (161 lines)."""


def review_settings(**kw: Any) -> Settings:
    """Settings for a test review: no response cache, no usage ledger."""
    return load_settings(cache_enabled=False, ledger_enabled=False, **kw)


def model_finding(
    file: str, line: int, quote: str, severity: str = "high", **kw: Any
) -> dict[str, Any]:
    """One finding as the model writes it."""
    return {
        "file": file,
        "line_start": line,
        "line_end": kw.pop("line_end", line),
        "quote": quote,
        "severity": severity,
        "category": kw.pop("category", "bug"),
        "title": kw.pop("title", "a problem"),
        "explanation": kw.pop("explanation", "because"),
        "suggestion": kw.pop("suggestion", None),
    }


def shell_finding(**kw: Any) -> dict[str, Any]:
    """The shell injection of :data:`APP_SHELL` as the model reports it, with ``kw`` changed."""
    base = {
        "file": "app.py",
        "line_start": 5,
        "quote": "return subprocess.call(cmd, shell=True)",
        "severity": "high",
        "category": "security",
        "title": "shell injection",
    }
    return {**base, **kw}


def reply(*findings: dict[str, Any]) -> str:
    """The model's JSON answer with ``findings``."""
    return json.dumps({"findings": list(findings)})


def sample_review() -> Review:
    """A finished review: a critical finding with a fix, an unanchored low one, a skipped
    and a failed file."""
    return Review(
        mode="path",
        target="src",
        root="/tmp/project",
        model="deepseek-flash",
        findings=[
            Finding(
                path="src/a b.py",
                line_start=3,
                line_end=4,
                severity="critical",
                category="security",
                title="SQL injection, via f-string: bad",
                explanation="User input\nreaches SQL.",
                suggestion="cur.execute('SELECT ?', (x,))",
                fingerprint="abc123",
            ),
            Finding(
                path="src/c.py",
                line_start=1,
                line_end=1,
                severity="low",
                category="style",
                title="naming",
                anchored=False,
                fingerprint="def456",
            ),
        ],
        files=[],
        skipped=[{"path": "yarn.lock", "reason": "lock", "detail": "lock file"}],  # type: ignore[list-item]
        failed=[{"path": "src/d.py", "reason": "server error", "error": "ServerError"}],  # type: ignore[list-item]
    )
