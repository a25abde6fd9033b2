"""Fixtures of the paper analyzer's tests: ``spec`` (the paper-shaped PDF most tests read) and
``srv`` (the test server answering as the paper analyzer's model would), from tests/support."""

from __future__ import annotations

from paper_fixtures import spec, srv

__all__ = ["spec", "srv"]
