"""The lines the ``assistants`` logger emits, captured whatever the CLI did to it before
(it stops propagation to the root logger, where pytest's caplog listens)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def log_lines(level: int = logging.INFO) -> Iterator[list[str]]:
    """Collect the formatted messages of the ``assistants`` logger at ``level`` and above."""
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("assistants")
    handler = _Collect(level)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
