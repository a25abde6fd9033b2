"""Fixtures of the library tests: the generated, indexed library of 30 papers
(tests/support/library_pdfs.py)."""

from __future__ import annotations

from library_pdfs import built_library, library_dir

__all__ = ["built_library", "library_dir"]
