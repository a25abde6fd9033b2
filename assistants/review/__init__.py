"""The code reviewer: choose files or a diff, redact secrets, pack numbered units, ask, anchor.
models, files, diff, spans, secrets, units, anchor, run, hook (pre-commit target), render, sarif.
"""
