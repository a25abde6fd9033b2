"""Renderers: terminal text (rich), markdown, JSON, SARIF, GitHub annotations."""
