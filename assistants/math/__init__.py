"""The math solver: thinking-mode answers, extracted, checked with Math-Verify, voted, scored.
models, extract, check, solve, eval, render (``import math`` inside stays the standard library).
"""
