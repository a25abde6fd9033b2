"""Loaders: PDFs and text, source files, git diffs, secret redaction."""
