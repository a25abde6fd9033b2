"""What the pre-commit hook reviews: the staged changes, or at the pre-push stage the pushed
range. Light on purpose (git and nothing else): the hook asks it before settings or the
reviewer are loaded, so a commit with nothing to review costs next to nothing."""

from __future__ import annotations

import contextlib
import sys
import threading
from dataclasses import dataclass

from .. import git

__all__ = ["HookTarget", "hook_target", "wait_for_client", "warm_client"]


@dataclass(frozen=True)
class HookTarget:
    """The changes the hook reviews (``staged``, or the diff ``ref``); ``nothing`` says why
    there is nothing to review, and then no review runs."""

    staged: bool
    ref: str | None
    nothing: str | None = None


def hook_target(*, staged: bool = False, ref: str | None = None) -> HookTarget:
    """The hook's target: ``staged`` or ``ref`` when given; else the pushed range at the
    pre-push stage (:func:`assistants.git.pushed_range`), else the staged changes."""
    if not staged and not ref:
        at_push, pushed = git.pushed_range()
        if at_push:
            return HookTarget(False, pushed, None if pushed else "nothing pushed to review")
        staged = True
    if not ref and git.nothing_staged():
        return HookTarget(staged, ref, "nothing staged to review")
    return HookTarget(staged, ref)


_warming: list[threading.Thread] = []


def warm_client() -> None:
    """Start importing the LangChain client stack (``langchain_deepseek``, about a second of
    CPU) in a daemon thread, once per process, so it loads while a big review's files are read.

    Only where there is reading left to overlap: beside a reader, the import is slower than
    the two one after the other (its many small file reads each give up the GIL and wait to
    get it back), so a one-request review such as the hook's does not call this and loads the
    client when its request is sent (one staged file: 1.87 s with the import beside the
    reader, 1.65 s one after the other, median of 8; `benchmarks/bench_review.py --mode
    hook`)."""
    if _warming or "langchain_deepseek" in sys.modules:
        return

    def load() -> None:
        with contextlib.suppress(Exception):  # the real import, later, reports a problem
            import langchain_deepseek  # noqa: F401

    thread = threading.Thread(target=load, name="assistants-warm-client", daemon=True)
    _warming.append(thread)
    thread.start()


def wait_for_client(timeout: float | None = None) -> None:
    """Wait until :func:`warm_client`'s import is done (at once when it was never started).
    The reader calls it once the first request is out: the import then has the interpreter
    to itself instead of sharing it, so the client is ready sooner."""
    for thread in _warming:
        thread.join(timeout)
