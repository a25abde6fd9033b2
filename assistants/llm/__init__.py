"""The shared model layer: every model call in ``assistants`` goes through :class:`LLM`.

See ``docs/internals.md`` for how tasks use it.
"""

from .core import LLM, Message, Progress, Reply, RequestEstimate, run_sync
from .selector import PROFILES, ModelSpec, select_model
from .usage import PriceTable, Usage, format_usd, load_prices

__all__ = [
    "LLM",
    "PROFILES",
    "Message",
    "ModelSpec",
    "PriceTable",
    "Progress",
    "Reply",
    "RequestEstimate",
    "Usage",
    "format_usd",
    "load_prices",
    "run_sync",
    "select_model",
]
