"""The paper analyzer: read a PDF in an isolated process, then analyze, ask, review, batch.
models, schema, pdf/worker, text/clean/headings, request, chunks, analyze, chat, review, render.
"""
