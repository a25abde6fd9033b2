"""Many papers at once: a library of PDFs indexed for full-text search (SQLite FTS5, BM25)
and questions answered across it with checked ``(Author Year, p. N)`` citations
(:class:`~assistants.paper.library.core.Library`), papers compared side by side
(:mod:`~assistants.paper.library.compare`), and BibTeX entries from the metadata found
(:mod:`~assistants.paper.library.bibtex`).

Data flows one way: :mod:`records` (metadata of one loaded paper) → :mod:`store` (the index
file) → :mod:`core` / :mod:`ask` (retrieval, the request, the citation check) → the results of
:mod:`models`, rendered by :mod:`render`.
"""
