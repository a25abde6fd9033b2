"""Fixtures of the CLI tests: the paper analyzer's ``spec`` and ``srv``, from tests/support."""

from __future__ import annotations

from paper_fixtures import spec, srv

__all__ = ["spec", "srv"]
