"""Token usage, the price table, cost, and the summary of recorded usage.

The price table is data (``assistants/data/prices.json``): per-model prices per unit of tokens
for cache hits, cache misses and output, the currency, the date it was checked and the peak
windows (UTC) with their multiplier. Users override it with ``price_file`` (same format; its
models are merged over the built-in ones). :func:`usage_summary` gives, from Python, the totals
``assistants usage`` shows (read from the usage ledger).
"""

from __future__ import annotations

import json
from datetime import datetime, time, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import Settings, load_settings
from ..errors import ConfigError
from .store import GroupBy, ledger_for

__all__ = [
    "ModelPrice",
    "PriceTable",
    "Usage",
    "format_usd",
    "load_prices",
    "priced_usage",
    "usage_summary",
]


class Usage(BaseModel):
    """Tokens and cost of one or more requests. Add them with ``+``.

    ``estimated_requests`` counts requests whose server reported no usage: their tokens were
    counted with the tokenizer (``estimated`` is then true and :meth:`summary` says so).
    """

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    cached_requests: int = Field(default=0, description="served by our response cache (free)")
    cache_hit_tokens: int = Field(default=0, description="prompt tokens served by the API cache")
    cache_miss_tokens: int = 0
    output_tokens: int = Field(default=0, description="completion tokens, reasoning included")
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    estimated_requests: int = Field(
        default=0, description="requests whose usage the server did not report (counted here)"
    )

    @property
    def estimated(self) -> bool:
        return self.estimated_requests > 0

    @property
    def input_tokens(self) -> int:
        return self.cache_hit_tokens + self.cache_miss_tokens

    @property
    def cache_hit_ratio(self) -> float:
        return self.cache_hit_tokens / self.input_tokens if self.input_tokens else 0.0

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            requests=self.requests + other.requests,
            cached_requests=self.cached_requests + other.cached_requests,
            cache_hit_tokens=self.cache_hit_tokens + other.cache_hit_tokens,
            cache_miss_tokens=self.cache_miss_tokens + other.cache_miss_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 10),
            estimated_requests=self.estimated_requests + other.estimated_requests,
        )

    def __radd__(self, other: Any) -> Usage:
        if other == 0:  # sum()
            return self
        return self.__add__(other)

    def summary(self) -> str:
        cached = f", {self.cached_requests} from cache" if self.cached_requests else ""
        mark = "~" if self.estimated else ""
        note = (
            f" (~ estimated: {self.estimated_requests} request(s) without usage from the server)"
            if self.estimated
            else ""
        )
        return (
            f"{self.requests} request(s){cached}, {mark}{self.input_tokens:,} input tokens "
            f"({self.cache_hit_tokens:,} cache hits), {mark}{self.output_tokens:,} output "
            f"tokens, {mark}{format_usd(self.cost_usd)}{note}"
        )


def priced_usage(
    prices: PriceTable,
    model: str,
    *,
    hit: int,
    miss: int,
    output: int,
    reasoning: int,
    when: datetime,
    estimated: bool = False,
) -> Usage:
    """The :class:`Usage` of one request, its cost from ``prices``."""
    cost = prices.cost(model, cache_hit=hit, cache_miss=miss, output=output, when=when)
    return Usage(
        requests=1,
        cache_hit_tokens=hit,
        cache_miss_tokens=miss,
        output_tokens=output,
        reasoning_tokens=reasoning,
        cost_usd=cost,
        estimated_requests=int(estimated),
    )


class ModelPrice(BaseModel):
    cache_hit: float
    cache_miss: float
    output: float


class PriceTable(BaseModel):
    currency: str = "USD"
    as_of: str
    source: str = ""
    unit_tokens: int = 1_000_000
    models: dict[str, ModelPrice]
    default_model: str | None = None
    peak_multiplier: float = 1.0
    peak_weekdays: list[int] = Field(default_factory=list)
    peak_windows_utc: list[tuple[time, time]] = Field(default_factory=list)

    def price_for(self, model: str) -> ModelPrice | None:
        return self.models.get(model)

    def is_peak(self, when: datetime) -> bool:
        when = when.astimezone(timezone.utc) if when.tzinfo else when
        if when.weekday() not in self.peak_weekdays:
            return False
        now = when.time()
        return any(start <= now < end for start, end in self.peak_windows_utc)

    def cost(
        self,
        model: str,
        *,
        cache_hit: int,
        cache_miss: int,
        output: int,
        when: datetime | None = None,
    ) -> float:
        """Cost in ``currency``; 0.0 for a model the table does not price."""
        price = self.price_for(model)
        if price is None:
            return 0.0
        raw = cache_hit * price.cache_hit + cache_miss * price.cache_miss + output * price.output
        factor = self.peak_multiplier if when is not None and self.is_peak(when) else 1.0
        return round(raw * factor / self.unit_tokens, 10)


def _parse(data: dict[str, Any], origin: str) -> PriceTable:
    try:
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise ValueError('expected a JSON object with a "models" object')
        peak = data.get("peak", {})
        windows = [
            (time.fromisoformat(a), time.fromisoformat(b)) for a, b in peak.get("windows_utc", [])
        ]
        return PriceTable(
            currency=data.get("currency", "USD"),
            as_of=data["as_of"],
            source=data.get("source", ""),
            unit_tokens=data.get("unit_tokens", 1_000_000),
            models=data["models"],
            default_model=data.get("default_model"),
            peak_multiplier=peak.get("multiplier", 1.0),
            peak_weekdays=peak.get("weekdays", []),
            peak_windows_utc=windows,
        )
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:3]
        )
        raise ConfigError(
            f"price table {origin} is not valid: {detail}",
            hint="see assistants/data/prices.json for the format",
        ) from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"price table {origin} is not valid: {exc}",
            hint="see assistants/data/prices.json for the format",
        ) from None


@lru_cache(maxsize=8)
def _load(path: str | None) -> PriceTable:
    builtin = json.loads(
        resources.files("assistants").joinpath("data/prices.json").read_text(encoding="utf-8")
    )
    if path is None:
        return _parse(builtin, "built-in")
    try:
        user = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read price file {path}: {exc}") from None
    if not isinstance(user, dict) or not isinstance(user.get("models", {}), dict):
        raise ConfigError(
            f'price table {path} is not valid: expected a JSON object with a "models" object',
            hint="see assistants/data/prices.json for the format",
        )
    merged = {**builtin, **user, "models": {**builtin["models"], **user.get("models", {})}}
    return _parse(merged, path)


def load_prices(price_file: Path | None = None) -> PriceTable:
    """The built-in price table, with ``price_file`` merged over it when given."""
    return _load(str(price_file) if price_file else None)


def format_usd(value: float) -> str:
    """The one money formatter: four decimals for the small sums of API calls, cents past
    $100."""
    return f"${value:.4f}" if value < 100 else f"${value:,.2f}"


def usage_summary(
    by: GroupBy = "day",
    *,
    since: str | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Recorded calls, tokens (cache hit / miss, output, reasoning) and cost, grouped ``by``
    day, task, model, user or project."""
    settings = settings or load_settings()
    return ledger_for(settings).summary(by=by, since=since)
