"""Settings: defaults < ``[tool.assistants]`` in the nearest pyproject.toml < ``.env`` <
environment < explicit arguments.

Nothing here runs at import time: call :func:`load_settings` (cheap; call it per command or
per task). Environment variables use the ``ASSISTANTS_`` prefix and ``__`` for nesting
(``ASSISTANTS_PROFILES__CODER__THINKING=true``, ``ASSISTANTS_REVIEW__FAIL_ON=medium``); the
key is ``DEEPSEEK_API_KEY`` (``ASSISTANTS_API_KEY`` also works).
"""

from __future__ import annotations

import logging
import sys
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
    "mask_url",
]

log = logging.getLogger("assistants")

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
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="the model's context window in tokens (default: DeepSeek's 1M, or what "
        "the server reports)",
    )


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
    paths: dict[str, str] = Field(
        default_factory=dict,
        description="house rules by path: gitignore-style glob -> instructions sent with the "
        "files it matches",
    )
    project_instructions: bool = Field(
        default=True, description="read REVIEW.md (else AGENTS.md) at the repository root"
    )
    project_instructions_tokens: int = Field(
        default=4_000, gt=0, description="REVIEW.md / AGENTS.md longer than this is cut"
    )


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
    reflect: int = Field(
        default=0, ge=0, le=10, description="reflection rounds per review (review --reflect)"
    )
    download_timeout: float = Field(
        default=30.0, gt=0, description="downloads: seconds to connect, and between two reads"
    )
    download_deadline: float = Field(
        default=300.0, gt=0, description="downloads: seconds for a whole download"
    )
    max_redirects: int = Field(default=10, ge=0, le=30, description="downloads: redirects")
    table_tokens: int = Field(
        default=6_000, ge=0, description="table text sent with the paper (0: none)"
    )


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
    store_url: SecretStr | None = Field(
        default=None,
        description="one database for the cache and the ledger: sqlite:///path or "
        "postgresql://user:password@host/db (the password is never shown)",
    )
    cache_url: SecretStr | None = Field(
        default=None, description="the response cache's database (default: store_url)"
    )
    ledger_url: SecretStr | None = Field(
        default=None, description="the usage ledger's database (default: store_url)"
    )
    cache_wait: float = Field(
        default=300.0,
        ge=0,
        description="seconds to wait for the answer to an identical request another process "
        "is sending, before sending it too",
    )
    data_dir: Path | None = Field(default=None, description="default: the user data directory")
    price_file: Path | None = None
    prompts_dir: Path | None = Field(default=None, description="folder of template overrides")
    lang: str = Field(default="en", description="language of analysis text")
    # where papers are downloaded from: user-only, like the endpoint (a project must not
    # redirect downloads silently; DESIGN §8)
    arxiv_url: str = Field(default="https://arxiv.org", description="arXiv (PDF downloads)")
    arxiv_api_url: str = Field(
        default="https://export.arxiv.org/api/query", description="arXiv API (paper metadata)"
    )
    doi_url: str = Field(default="https://doi.org", description="DOI resolver")
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

    def resolved_cache_url(self) -> str:
        """Where the response cache is: ``cache_url``, else ``store_url``, else the SQLite
        file (``cache_path``, by default in the data dir). Holds the password: never show it
        (:func:`mask_url`)."""
        url = self.cache_url or self.store_url
        return url.get_secret_value() if url else f"sqlite:///{self.resolved_cache_path()}"

    def resolved_ledger_url(self) -> str:
        """Where the usage ledger is (as :meth:`resolved_cache_url`)."""
        url = self.ledger_url or self.store_url
        return url.get_secret_value() if url else f"sqlite:///{self.resolved_ledger_path()}"

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
    """Sources with their names, highest priority first. The project's own files (its
    ``.env`` and ``[tool.assistants]``) pass through the trust gate (:class:`_Layers`)."""
    from .trust import project_at, user_config_file

    _quiet_dotenv()
    project = project_at()
    pyproject = project.pyproject or Path.cwd() / "pyproject.toml"
    user_file = user_config_file()
    # Always configured (a missing file reads as empty), so pydantic-settings does not warn.
    layers = _Layers(
        [
            ("argument", init, "user"),
            ("environment", EnvSettingsSource(settings_cls), "user"),
            (".env", DotEnvSettingsSource(settings_cls), "dotenv"),
            (
                str(pyproject),
                _TomlSource(settings_cls, pyproject, ("tool", "assistants")),
                "pyproject",
            ),
            (str(user_file), _TomlSource(settings_cls, user_file), "user"),
        ],
        project,
    )
    return [(label, _Gated(settings_cls, layers, label)) for label in layers.labels]


_TABLE = ("tool", "assistants")
_warned: set[tuple[str, str]] = set()


class _Layers:
    """Reads every source once and applies DESIGN §8: a project file that is not trusted
    cannot set a trusted key (endpoint, key, prompt overrides, price file, data paths); the
    setting is dropped with one warning naming the file and the setting. Allowed without
    trust, because no key of the user's can leak: a project ``.env`` that names both the
    endpoint and the key for it (then that key is the one sent), and an endpoint named when
    no key is set anywhere (a local server)."""

    def __init__(
        self, sources: list[tuple[str, PydanticBaseSettingsSource, str]], project: Any
    ) -> None:
        self._sources = sources
        self._project = project
        self.labels = [label for label, _, _ in sources]
        self._data: dict[str, dict[str, Any]] | None = None

    def get(self, label: str) -> dict[str, Any]:
        if self._data is None:
            self._data = self._gate()
        return self._data[label]

    def _gate(self) -> dict[str, dict[str, Any]]:
        from .trust import TRUSTED_KEYS, is_trusted

        _check_dotenv(Path.cwd() / ".env")
        data = {label: dict(source()) for label, source, _ in self._sources}
        kinds = {label: kind for label, _, kind in self._sources}
        project_labels = [label for label in self.labels if kinds[label] != "user"]
        asked = [
            label for label in project_labels if any(key in TRUSTED_KEYS for key in data[label])
        ]
        if not asked or is_trusted(self._project):
            return data
        user_key = any("api_key" in data[label] for label in self.labels if kinds[label] == "user")
        for label in asked:
            found = data[label]
            keep: set[str] = set()
            if kinds[label] == "dotenv" and "api_key" in found and "base_url" in found:
                # the project's own endpoint with the project's own key: that key is sent
                keep = {"api_key", "base_url", "api_flavor"}
                for other in self.labels:
                    if kinds[other] == "user" and "base_url" not in data[other]:
                        data[other].pop("api_key", None)
            elif kinds[label] == "dotenv" and "api_key" in found:
                keep = {"api_key"}  # the project's key, sent where the user said
            elif not user_key and not any("api_key" in data[other] for other in project_labels):
                keep = {"base_url", "api_flavor"}  # no key anywhere: a local server
            for key in sorted(TRUSTED_KEYS & set(found) - keep):
                del found[key]
                if (label, key) not in _warned:
                    _warned.add((label, key))
                    log.warning(
                        "warning: %s sets %s: ignored, the project is not trusted "
                        "(`assistants trust` allows it)",
                        Path.cwd() / ".env" if label == ".env" else label,
                        key,
                    )
        return data


class _QuietDotenv(logging.Filter):
    """python-dotenv warns once per unparsable line each time a file is read (and settings
    are read several times per command); :func:`_check_dotenv` says it once instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "could not parse" not in record.getMessage()


def _quiet_dotenv() -> None:
    dotenv_log = logging.getLogger("dotenv.main")
    if not any(isinstance(f, _QuietDotenv) for f in dotenv_log.filters):
        dotenv_log.addFilter(_QuietDotenv())


def _check_dotenv(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # missing: nothing to say; unreadable: load_settings reports it
    import io

    from dotenv.parser import parse_stream

    bad = [str(b.original.line) for b in parse_stream(io.StringIO(text)) if b.error]
    if bad and (str(path), "parse") not in _warned:
        _warned.add((str(path), "parse"))
        lines = ", ".join(bad[:5]) + (" …" if len(bad) > 5 else "")
        log.warning(
            "warning: %s: line%s %s %s not NAME=value; ignored",
            path,
            "s" if len(bad) > 1 else "",
            lines,
            "are" if len(bad) > 1 else "is",
        )


class _Gated(PydanticBaseSettingsSource):
    """One source's values after the trust gate."""

    def __init__(self, settings_cls: type[BaseSettings], layers: _Layers, label: str) -> None:
        super().__init__(settings_cls)
        self._layers = layers
        self._label = label

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        return self._layers.get(self._label)


class _TomlSource(PydanticBaseSettingsSource):
    """Settings from a TOML file: the user's own ``config.toml`` (keys at the top level) or a
    project's ``[tool.assistants]`` table. A file that is not TOML, or a key that is no
    setting (a typo would otherwise be ignored without a word), is a :class:`ConfigError`
    naming the file; a missing file reads as empty."""

    def __init__(
        self, settings_cls: type[BaseSettings], path: Path, table: tuple[str, ...] = ()
    ) -> None:
        super().__init__(settings_cls)
        self._path = path
        self._table = table

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        from .errors import ConfigError

        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            text = self._path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {self._path}: {exc}") from None
        where = "[" + ".".join(self._table) + "] of " if self._table else ""
        try:
            data: Any = tomllib.loads(text)
        except ValueError as exc:
            hint = f"fix the file (its {where[:-4]} table holds settings)" if where else None
            raise ConfigError(f"{self._path} is not valid TOML: {exc}", hint=hint) from None
        for key in self._table:
            data = data.get(key, {}) if isinstance(data, dict) else None
            if not isinstance(data, dict):
                raise ConfigError(f"{where[:-4]} in {self._path} is not a table")
        _check_known(data, self._path, where)
        return _alias_to_field(data)


def _check_known(data: Mapping[str, Any], path: Path, where: str) -> None:
    from .errors import ConfigError

    known = set(Settings.model_fields) | {"DEEPSEEK_API_KEY", "ASSISTANTS_API_KEY"}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]!r} in {where}{path}",
            hint="settings: " + ", ".join(sorted(Settings.model_fields)),
        )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings now. ``overrides`` are explicit arguments (highest priority);
    ``None`` values are ignored so callers can pass optional CLI options straight through."""
    from .errors import ConfigError

    clean = {k: v for k, v in overrides.items() if v is not None}
    _quiet_dotenv()
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


def mask_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) as ``***``."""
    import re
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a URL that cannot be parsed; hidden)"
    if parts.password is not None:
        user, _, host = parts.netloc.rpartition("@")
        masked = f"{user.split(':', 1)[0]}:***@{host}"
        url = f"{parts.scheme}://{masked}{url.split(parts.netloc, 1)[1]}"
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


_URL_SETTINGS = frozenset({"store_url", "cache_url", "ledger_url"})


def _show(name: str, value: Any) -> str:
    if name in _URL_SETTINGS and isinstance(value, SecretStr):
        return mask_url(value.get_secret_value())
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
