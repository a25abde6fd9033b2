"""Settings: defaults < ``[tool.assistants]`` in the nearest pyproject.toml < ``.env`` <
environment < explicit arguments.

Nothing here runs at import time: call :func:`load_settings` (cheap; call it per command or
per task). Environment variables use the ``ASSISTANTS_`` prefix and ``__`` for nesting
(``ASSISTANTS_PROFILES__CODER__THINKING=true``, ``ASSISTANTS_REVIEW__FAIL_ON=medium``); the
key is ``DEEPSEEK_API_KEY`` (``ASSISTANTS_API_KEY`` also works).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    PyprojectTomlConfigSettingsSource,
    SettingsConfigDict,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "FailOn",
    "MathSettings",
    "PaperSettings",
    "ProfileSettings",
    "Profiles",
    "ReviewSettings",
    "SettingRow",
    "Settings",
    "Severity",
    "describe_settings",
    "find_pyproject",
    "load_settings",
]

DEFAULT_BASE_URL = "https://api.deepseek.com"
Severity = Literal["critical", "high", "medium", "low"]
"""How serious a review finding is, most serious first: the one severity vocabulary."""
FailOn = Literal[Severity, "never"]
"""The review gate: fail on a finding at or above this severity, or ``never``."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileSettings(_Section):
    """One profile's overrides. ``None`` means: the built-in default for that profile
    (see ``assistants.llm.selector.PROFILE_DEFAULTS``)."""

    model: str | None = None
    thinking: bool | None = None
    reasoning_effort: Literal["high", "max"] | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)


class Profiles(_Section):
    chat: ProfileSettings = Field(default_factory=ProfileSettings)
    coder: ProfileSettings = Field(default_factory=ProfileSettings)
    reasoner: ProfileSettings = Field(default_factory=ProfileSettings)


class ReviewSettings(_Section):
    """``[tool.assistants.review]``."""

    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    fail_on: FailOn = "high"
    instructions: str | None = None
    max_file_bytes: int = Field(default=256_000, gt=0)
    concurrency: int | None = Field(default=None, gt=0)
    request_token_budget: int = Field(default=24_000, gt=1000)
    hook_timeout: float = Field(default=120.0, gt=0)


class PaperSettings(_Section):
    """``[tool.assistants.paper]``."""

    token_budget: int = Field(
        default=120_000, gt=1000, description="above this many input tokens: map-reduce"
    )
    chunk_tokens: int = Field(
        default=24_000, gt=500, description="map-reduce: target tokens of paper text per chunk"
    )
    cut_references: bool = Field(default=True, description="leave the references out")
    max_pages: int = Field(default=2_000, gt=0)
    max_file_mb: float = Field(default=200.0, gt=0)
    max_page_chars: int = Field(default=200_000, gt=0, description="longer page text is cut")
    max_memory_mb: int = Field(default=2_048, ge=256, description="PDF reader memory limit")
    extract_timeout: float = Field(default=60.0, gt=0, description="seconds per file")
    page_timeout: float = Field(default=10.0, gt=0, description="seconds per page")
    concurrency: int | None = Field(default=None, gt=0)
    ensemble: int = Field(default=1, ge=1, le=16, description="reviews per paper (review)")


class MathSettings(_Section):
    """``[tool.assistants.math]``."""

    samples: int = Field(default=1, ge=1, le=64, description="self-consistency samples")
    verify_timeout: float = Field(
        default=5.0, gt=0, description="seconds per Math-Verify check (our own limit)"
    )
    concurrency: int | None = Field(
        default=None, gt=0, description="parallel requests (default: the global concurrency)"
    )
    estimate_output_tokens: int = Field(
        default=4_000, gt=0, description="output tokens per reply assumed by --dry-run"
    )


class Settings(BaseSettings):
    """Effective configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANTS_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        pyproject_toml_table_header=("tool", "assistants"),
        validate_default=True,
    )

    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("api_key", "DEEPSEEK_API_KEY", "ASSISTANTS_API_KEY"),
        description="API key (DEEPSEEK_API_KEY). Never printed, logged or cached.",
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="OpenAI-compatible endpoint")
    api_flavor: Literal["auto", "deepseek", "openai"] = Field(
        default="auto",
        description="deepseek: send DeepSeek-only fields and translate retired names; "
        "auto: deepseek only for api.deepseek.com",
    )
    model: str | None = Field(default=None, description="model for every profile (override)")
    profiles: Profiles = Field(default_factory=Profiles)
    timeout: float = Field(default=120.0, gt=0, description="seconds per request")
    max_retries: int = Field(default=4, ge=0, le=20)
    retry_backoff: float = Field(default=1.0, ge=0, description="first retry wait, seconds")
    retry_max_wait: float = Field(default=60.0, ge=0)
    concurrency: int = Field(default=8, ge=1, le=256)
    cache_enabled: bool = True
    cache_path: Path | None = None
    ledger_enabled: bool = True
    ledger_path: Path | None = None
    data_dir: Path | None = Field(default=None, description="default: the user data directory")
    price_file: Path | None = None
    prompts_dir: Path | None = Field(default=None, description="folder of template overrides")
    lang: str = Field(default="en", description="language of analysis text")
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    paper: PaperSettings = Field(default_factory=PaperSettings)
    math: MathSettings = Field(default_factory=MathSettings)

    def concurrency_for(
        self, task: Literal["review", "paper", "math"], override: int | None = None
    ) -> int:
        """How many requests at once for ``task``: the explicit ``override`` (a ``-j``
        argument), else the task's own setting, else the global ``concurrency``."""
        section: ReviewSettings | PaperSettings | MathSettings = getattr(self, task)
        return override or section.concurrency or self.concurrency

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return tuple(source for _, source in _sources(settings_cls, init_settings))

    # -- derived paths -------------------------------------------------------------------
    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir.expanduser()
        from platformdirs import user_data_dir

        return Path(user_data_dir("assistants", appauthor=False))

    def resolved_cache_path(self) -> Path:
        return (self.cache_path or self.resolved_data_dir() / "cache.sqlite3").expanduser()

    def resolved_ledger_path(self) -> Path:
        return (self.ledger_path or self.resolved_data_dir() / "usage.sqlite3").expanduser()

    def has_key(self) -> bool:
        return self.api_key is not None and bool(self.api_key.get_secret_value().strip())


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml from ``start`` (default: cwd) upwards, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _sources(
    settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource
) -> list[tuple[str, PydanticBaseSettingsSource]]:
    """Sources with their names, highest priority first."""
    sources: list[tuple[str, PydanticBaseSettingsSource]] = [
        ("argument", init),
        ("environment", EnvSettingsSource(settings_cls)),
        (".env", DotEnvSettingsSource(settings_cls)),
    ]
    pyproject = find_pyproject()
    # Always configured (a missing file reads as empty), so pydantic-settings does not warn.
    path = pyproject or Path.cwd() / "pyproject.toml"
    sources.append((str(path), _PyprojectSource(settings_cls, toml_file=path)))
    return sources


class _PyprojectSource(PyprojectTomlConfigSettingsSource):
    """``[tool.assistants]``; a file that is not TOML, or a key that is no setting (a typo
    would otherwise be ignored without a word), is a :class:`ConfigError` naming the file."""

    def __init__(self, settings_cls: type[BaseSettings], toml_file: Path) -> None:
        from .errors import ConfigError

        try:
            super().__init__(settings_cls, toml_file=toml_file)
        except ValueError as exc:  # tomllib.TOMLDecodeError
            raise ConfigError(
                f"{toml_file} is not valid TOML: {exc}",
                hint="fix the file (its [tool.assistants] table holds settings)",
            ) from None
        except AttributeError:  # [tool] or [tool.assistants] is a value, not a table
            raise ConfigError(f"[tool.assistants] in {toml_file} is not a table") from None
        known = set(settings_cls.model_fields) | {"DEEPSEEK_API_KEY", "ASSISTANTS_API_KEY"}
        unknown = sorted(str(key) for key in self.toml_data if key not in known)
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]!r} in [tool.assistants] of {toml_file}",
                hint="settings: " + ", ".join(sorted(Settings.model_fields)),
            )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings now. ``overrides`` are explicit arguments (highest priority);
    ``None`` values are ignored so callers can pass optional CLI options straight through."""
    from .errors import ConfigError

    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        detail = "; ".join(_describe_error(err, clean) for err in exc.errors()[:3])
        raise ConfigError(
            f"invalid settings: {detail}",
            hint="check [tool.assistants] in pyproject.toml, .env and ASSISTANTS_* variables",
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{Path('.env').resolve()} is not UTF-8 text ({exc.reason})") from None
    except ValueError as exc:  # pydantic-settings: a value it could not parse
        detail = " ".join(str(exc).split())
        raise ConfigError(
            f"invalid settings: {detail}",
            hint="check [tool.assistants] in pyproject.toml, .env and ASSISTANTS_* variables",
        ) from None


def _describe_error(err: Any, overrides: dict[str, Any]) -> str:
    """``where: what (from source)`` for one validation error, on one line."""
    where = ".".join(str(part) for part in err["loc"]) or "(settings)"
    what = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
    source = _origins(overrides).get(where)
    if source in {"environment", ".env"}:
        source = f"{source}: ASSISTANTS_{where.replace('.', '__').upper()}"
    return f"{where}: {what}" + (f" (from {source})" if source else "")


def _origins(overrides: dict[str, Any]) -> dict[str, str]:
    """Flattened setting name -> the highest-priority source that sets it."""
    origin: dict[str, str] = {}
    for label, source in _sources(Settings, InitSettingsSource(Settings, overrides)):
        try:
            found = source()
        except Exception:  # a source that cannot be read is reported by load_settings
            continue
        for key, _ in _flatten(_alias_to_field(found)):
            origin.setdefault(key, label)
    return origin


@dataclass(frozen=True)
class SettingRow:
    name: str
    value: str
    source: str


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def _show(name: str, value: Any) -> str:
    if name == "api_key":
        if value is None:
            return "(not set)"
        return "set (hidden)"
    if value is None:
        return "-"
    return str(value)


def describe_settings(settings: Settings | None = None, **overrides: Any) -> list[SettingRow]:
    """Every effective setting with the source it came from; the key is masked."""
    settings = settings or load_settings(**overrides)
    clean = {k: v for k, v in overrides.items() if v is not None}
    origin = _origins(clean)
    rows = []
    dumped = settings.model_dump()
    dumped["api_key"] = settings.api_key
    for key, value in _flatten(dumped):
        where = origin.get(key) or origin.get(key.split(".")[0]) or "default"
        rows.append(SettingRow(key, _show(key, value), where))
    return rows


def _alias_to_field(found: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in found.items():
        if key.lower() in {"deepseek_api_key", "assistants_api_key"}:
            key = "api_key"
        out[key] = value
    return out
