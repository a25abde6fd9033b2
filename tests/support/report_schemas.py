"""JSON schemas of the report formats other tools consume, written from their specifications.

- GitLab Code Quality (docs.gitlab.com/ci/testing/code_quality, "Code Quality report format"):
  a JSON array of objects, each with ``description``, ``check_name``, ``fingerprint``,
  ``severity`` (info, minor, major, critical, blocker), ``location.path`` (relative) and
  ``location.lines.begin`` (or ``location.positions.begin.line``). GitLab ignores other
  properties and shows only the first issue of a fingerprint, so fingerprints must be unique.
- reviewdog rdjson (reviewdog/proto/rdf/reviewdog.proto, ``DiagnosticResult``): reviewdog reads
  it with ``protojson.Unmarshal``, which rejects unknown fields, so every object here is closed
  (``additionalProperties: false``); severities are the enum's names; ranges use 1-based lines
  and columns. What reviewdog needs to place a comment is required: ``message``,
  ``location.path`` and ``location.range.start.line``.
"""

from __future__ import annotations

from typing import Any

_LINE = {"type": "integer", "minimum": 1}

GITLAB_CODE_QUALITY: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^/"}},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": _LINE, "end": _LINE},
                    },
                    "positions": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {
                            "begin": {
                                "type": "object",
                                "required": ["line"],
                                "properties": {"line": _LINE},
                            }
                        },
                    },
                },
                "anyOf": [{"required": ["lines"]}, {"required": ["positions"]}],
            },
        },
    },
}

_POSITION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"line": _LINE, "column": {"type": "integer", "minimum": 1}},
}
_RANGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["start"],
    "properties": {"start": _POSITION, "end": _POSITION},
}
_SEVERITY = {"enum": ["UNKNOWN_SEVERITY", "ERROR", "WARNING", "INFO"]}
_SOURCE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1}, "url": {"type": "string"}},
}

RDJSON: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["diagnostics"],
    "properties": {
        "source": _SOURCE,
        "severity": _SEVERITY,
        "diagnostics": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["message", "location"],
                "properties": {
                    "message": {"type": "string", "minLength": 1},
                    "location": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["path", "range"],
                        "properties": {
                            "path": {"type": "string", "minLength": 1},
                            "range": {
                                **_RANGE,
                                "properties": {
                                    "start": {**_POSITION, "required": ["line"]},
                                    "end": _POSITION,
                                },
                            },
                        },
                    },
                    "severity": _SEVERITY,
                    "source": _SOURCE,
                    "code": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["value"],
                        "properties": {"value": {"type": "string"}, "url": {"type": "string"}},
                    },
                    "suggestions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["range", "text"],
                            "properties": {"range": _RANGE, "text": {"type": "string"}},
                        },
                    },
                    "original_output": {"type": "string"},
                },
            },
        },
    },
}


def validate_gitlab(document: Any) -> None:
    """Raise jsonschema.ValidationError (or AssertionError for a repeated fingerprint) when
    ``document`` is not a Code Quality report GitLab shows in full."""
    import jsonschema

    jsonschema.Draft7Validator(GITLAB_CODE_QUALITY).validate(document)
    prints = [issue["fingerprint"] for issue in document]
    assert len(prints) == len(set(prints)), "GitLab shows only the first issue of a fingerprint"


def validate_rdjson(document: Any) -> None:
    """Raise jsonschema.ValidationError when reviewdog could not read ``document``."""
    import jsonschema

    jsonschema.Draft7Validator(RDJSON).validate(document)
