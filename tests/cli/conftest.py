"""Fixtures of the CLI tests: the paper analyzer's ``spec`` and ``srv``, and the indexed
library of generated papers, from tests/support."""

from __future__ import annotations

from library_pdfs import built_library, library_dir
from paper_fixtures import spec, srv

__all__ = ["built_library", "library_dir", "spec", "srv"]
