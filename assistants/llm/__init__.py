"""The shared model layer: every model call in ``assistants`` goes through :class:`LLM`.

``client`` (the LLM class: completion, streaming, retries, cache and ledger use), ``reply``
(messages, replies, estimates), ``failures`` (SDK / HTTP exceptions → :mod:`assistants.errors`),
``structured`` (JSON mode + validation + one repair round), ``bridge`` (:func:`run_sync`),
``selector`` (profiles → model), ``usage`` (tokens, prices, cost, the usage summary), ``store``
(the response cache and the usage ledger), ``tokens`` (offline token counts), ``chat`` (everyday
chat on top). See ``docs/internals.md`` for how tasks use it.
"""

from .bridge import run_sync
from .client import LLM
from .reply import Message, Progress, Reply, RequestEstimate
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
