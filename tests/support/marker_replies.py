"""A review model that reports a finding on every line holding a marker (baseline tests and
the baseline benchmark): it reads the numbered file blocks of the request like a model would,
so line numbers and quotes follow the code wherever it moves."""

from __future__ import annotations

import json
import re
from typing import Any

_BLOCK = re.compile(r"<<<FILE (\w+) path=(\"[^\"]*\").*?>>>\n(.*?)\n<<<END FILE \1>>>", re.S)
_LINE = re.compile(r"^(\d+)[+ ]?\t(.*)$")


def marker_findings(
    user: str,
    marker: str,
    *,
    title: str = "eval of untrusted input",
    category: str = "security",
    severity: str = "high",
) -> list[dict[str, Any]]:
    """A finding (as the model writes it) for every numbered line containing ``marker`` in
    the file blocks of ``user`` (the request's user message)."""
    found = []
    for match in _BLOCK.finditer(user):
        path = json.loads(match.group(2))
        for raw in match.group(3).split("\n"):
            line = _LINE.match(raw)
            if line and marker in line.group(2):
                found.append(
                    {
                        "file": path,
                        "line_start": int(line.group(1)),
                        "quote": line.group(2),
                        "severity": severity,
                        "category": category,
                        "title": title,
                        "explanation": "the argument can come from a user",
                    }
                )
    return found


def marker_reply(user: str, marker: str, **kw: Any) -> str:
    """The model's JSON answer reporting every ``marker`` line of the request."""
    return json.dumps({"findings": marker_findings(user, marker, **kw)})
