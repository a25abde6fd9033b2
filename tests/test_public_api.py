"""The public API: every name in ``assistants.__all__`` resolves."""

from __future__ import annotations

import pytest


def test_every_public_name_resolves() -> None:
    import assistants

    for name in assistants.__all__:
        assert getattr(assistants, name) is not None, name
    with pytest.raises(AttributeError):
        _ = assistants.no_such_thing  # type: ignore[attr-defined]
