"""A small app under review, the file blocks of a review request, and scripted review replies."""

from __future__ import annotations

import json
import re
from typing import Any

from deepseek_server import Reply

APP = """import sqlite3


def find_user(conn, name):
    return conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchone()


def ratio(a, b):
    return a / b
"""


def blocks(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, block text) of every file block in a request."""
    user = body["messages"][-1]["content"]
    return [
        (json.loads(m.group(2)), m.group(3))
        for m in re.finditer(
            r"<<<FILE (\w+) path=(\"[^\"]*\").*?>>>\n(.*?)\n<<<END FILE \1>>>", user, re.S
        )
    ]


def answer(findings: list[dict[str, Any]]) -> Reply:
    return Reply(json.dumps({"findings": findings}))


def sql_finding(line: int = 5, severity: str = "high", path: str = "app.py") -> dict[str, Any]:
    return {
        "file": path,
        "line_start": line,
        "line_end": line,
        "quote": "return conn.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchone()",
        "severity": severity,
        "category": "security",
        "title": "SQL injection",
        "explanation": "name is interpolated into SQL",
        "suggestion": 'conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()',
    }
