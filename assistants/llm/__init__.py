"""The shared model layer: every model call goes through :class:`LLM` (retries, cache, cost).
client, calls, limiter, reply, failures, structured, bridge, selector, usage, store, tokens, chat.
"""

from .bridge import run_sync
from .client import LLM
from .limiter import Limiter
from .reply import Message, Progress, Reply, RequestEstimate
from .selector import PROFILES, ModelSpec, select_model
from .usage import PriceTable, Usage, format_usd, load_prices

__all__ = [
    "LLM",
    "PROFILES",
    "Limiter",
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
