"""The math solver.

``models`` (result types) · ``extract`` (final answers and references from text) · ``check``
(equivalence with Math-Verify, voting) · ``solve`` (one problem, self-consistency, dry-run
estimate) · ``eval`` (a JSONL file scored, resumable) · ``render`` (markdown and text).
Modules import each other absolutely or by ``.name``, so ``import math`` inside the package is
always the standard library's.
"""
