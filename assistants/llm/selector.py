"""Model selector: which model, mode and limits a task's profile resolves to.

Model facts are data (``PROFILE_DEFAULTS``, ``LEGACY_MODELS``); the rules are:

* a task names a profile (``chat`` for papers, ``coder`` for review, ``reasoner`` for math);
* settings override any field of a profile (``[tool.assistants.profiles.coder]``, env, args);
* against DeepSeek's own API a retired name is translated to the profile it meant, with a
  one-line notice; against any other endpoint names pass through untouched;
* DeepSeek-only request fields (``thinking``, ``reasoning_effort``) are sent only to endpoints
  that take them (``api_flavor``: ``deepseek``, or ``auto`` with DeepSeek's host);
* the context window is the profile's ``context_window`` setting, else DeepSeek's 1M tokens
  against DeepSeek's API, else unknown here (:mod:`.window` asks the server).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

from ..config import SettingRow, Settings
from ..errors import ConfigError

__all__ = [
    "DEEPSEEK_CONTEXT_WINDOW",
    "LEGACY_MODELS",
    "PROFILES",
    "PROFILE_DEFAULTS",
    "TASK_PROFILES",
    "ModelSpec",
    "effective_settings",
    "is_deepseek_endpoint",
    "profile_for_task",
    "select_model",
]

Effort = Literal["high", "max"]


@dataclass(frozen=True)
class ProfileDefaults:
    model: str
    thinking: bool
    reasoning_effort: Effort
    max_tokens: int
    timeout: float | None  # None: the global timeout


PROFILE_DEFAULTS: dict[str, ProfileDefaults] = {
    "chat": ProfileDefaults("deepseek-flash", False, "high", 8_192, None),
    "coder": ProfileDefaults("deepseek-flash", False, "high", 8_192, None),
    # Thinking counts against max_tokens, and long reasoning needs a long timeout.
    "reasoner": ProfileDefaults("deepseek-flash", True, "high", 32_768, 600.0),
}
PROFILES = tuple(PROFILE_DEFAULTS)

TASK_PROFILES = {"paper": "chat", "review": "coder", "math": "reasoner", "chat": "chat"}

# retired name -> (model it maps to, thinking on?)
LEGACY_MODELS: dict[str, tuple[str, bool]] = {
    "deepseek-chat": ("deepseek-flash", False),
    "deepseek-coder": ("deepseek-flash", False),
    "deepseek-reasoner": ("deepseek-flash", True),
}

DEEPSEEK_HOSTS = {"api.deepseek.com"}
DEEPSEEK_CONTEXT_WINDOW = 1_000_000  # tokens (DESIGN §1): never asked of the API


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build the client and the request for one profile."""

    profile: str
    model: str
    base_url: str
    thinking: bool
    reasoning_effort: Effort
    max_tokens: int
    timeout: float
    temperature: float | None
    deepseek_fields: bool
    notices: tuple[str, ...] = field(default=())
    context_window: int | None = None  # tokens; None: unknown until the server is asked

    def request_fields(self) -> dict[str, Any]:
        """Extra body fields for this spec (DeepSeek-only ones only where accepted)."""
        if not self.deepseek_fields:
            return {}
        body: dict[str, Any] = {"thinking": {"type": "enabled" if self.thinking else "disabled"}}
        if self.thinking:
            body["reasoning_effort"] = self.reasoning_effort
        return body


def _deepseek_host(base_url: str) -> bool:
    return (urlparse(base_url).hostname or "").lower() in DEEPSEEK_HOSTS


def is_deepseek_endpoint(settings: Settings) -> bool:
    if settings.api_flavor != "auto":
        return settings.api_flavor == "deepseek"
    return _deepseek_host(settings.base_url)


def profile_for_task(task: str) -> str:
    return TASK_PROFILES.get(task, "chat")


def select_model(profile: str, settings: Settings, *, thinking: bool | None = None) -> ModelSpec:
    """Resolve ``profile`` against ``settings``. ``thinking`` overrides the profile's mode."""
    if profile not in PROFILE_DEFAULTS:
        raise ConfigError(
            f"unknown profile {profile!r}",
            hint=f"valid profiles: {', '.join(PROFILES)}",
        )
    base = PROFILE_DEFAULTS[profile]
    user = getattr(settings.profiles, profile)
    model = user.model or settings.model or base.model
    mode = user.thinking if user.thinking is not None else base.thinking
    deepseek = is_deepseek_endpoint(settings)
    notices: list[str] = []
    if deepseek and model in LEGACY_MODELS:
        new_model, legacy_thinking = LEGACY_MODELS[model]
        notices.append(
            f"note: {model} was retired by DeepSeek; using {new_model} with thinking "
            f"{'on' if legacy_thinking else 'off'} instead"
        )
        model = new_model
        if user.thinking is None:
            mode = legacy_thinking
    if thinking is not None:
        mode = thinking
    timeout = user.timeout or base.timeout or settings.timeout
    return ModelSpec(
        profile=profile,
        model=model,
        base_url=settings.base_url,
        thinking=mode,
        reasoning_effort=user.reasoning_effort or base.reasoning_effort,
        max_tokens=user.max_tokens or base.max_tokens,
        timeout=timeout,
        temperature=user.temperature,
        deepseek_fields=deepseek,
        notices=tuple(notices),
        context_window=user.context_window
        or (DEEPSEEK_CONTEXT_WINDOW if deepseek or _deepseek_host(settings.base_url) else None),
    )


def effective_settings(settings: Settings) -> list[SettingRow]:
    """:func:`~assistants.config.describe_settings` with what is actually used where a
    setting is unset: each profile's model and mode as the selector resolves them, the
    resolved cache, ledger and data paths, the built-in prices and prompts."""
    from ..config import describe_settings, mask_url

    filled: dict[str, str] = {
        "data_dir": str(settings.resolved_data_dir()),
        "cache_path": str(settings.resolved_cache_path()),
        "ledger_path": str(settings.resolved_ledger_path()),
        "cache_url": mask_url(settings.resolved_cache_url()),
        "ledger_url": mask_url(settings.resolved_ledger_url()),
        "price_file": "(built-in prices)",
        "prompts_dir": "(built-in prompts)",
    }
    for profile in PROFILES:
        spec = select_model(profile, settings)
        values = {
            "model": spec.model,
            "thinking": str(spec.thinking),
            "reasoning_effort": spec.reasoning_effort if spec.thinking else "-",
            "max_tokens": str(spec.max_tokens),
            "timeout": str(spec.timeout),
            "temperature": "(server default)" if spec.temperature is None else "",
            "context_window": str(spec.context_window or "(asked from the server)"),
        }
        for key, value in values.items():
            if value:
                filled[f"profiles.{profile}.{key}"] = value
    rows = []
    for row in describe_settings(settings):
        if row.value == "-" and row.name in filled:
            row = SettingRow(row.name, filled[row.name], row.source)
        rows.append(row)
    return rows
