"""Settings: a TOML file plus ``BIBLIOBOT_<SECTION>__<KEY>`` environment overrides.

The file is found as INTERFACE.md says: ``--config PATH``, else ``$BIBLIOBOT_CONFIG``, else
``./bibliobot.toml`` if present, else the defaults alone. Environment variables win over the
file, so a container or a systemd unit can change one key without editing it.

A wrong value must stop start-up with one line that names the key, never a traceback, because
the people who run the bot are library administrators, not Python programmers: see
:class:`ConfigError` and :func:`load_settings`.
"""

from __future__ import annotations

import os
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.reminders.quiet import QuietHours

ENV_PREFIX = "BIBLIOBOT_"
CONFIG_ENV = "BIBLIOBOT_CONFIG"
DEFAULT_CONFIG_FILE = Path("bibliobot.toml")
SUPPORTED_LANGUAGES = ("it", "en")
PRESETS = ("ginestra", "cbnem")

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the administrator sees."""


class _Section(BaseModel):
    # A misspelt key is an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramSettings(_Section):
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    staff_chat_id: int | None = None
    admin_user_ids: list[int] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        # BotFather tokens look like 123456:ABC-def; an empty token is allowed until `run`.
        value = value.strip()
        if value and (":" not in value or not value.split(":", 1)[0].isdigit()):
            raise ValueError("does not look like a BotFather token (digits:letters)")
        return value


class DatabaseSettings(_Section):
    path: Path = Path("bibliobot.sqlite3")


class LibrarySettings(_Section):
    policy: str = "cbnem"
    timezone: str = "Europe/Rome"
    default_language: Language = "it"
    languages: list[Language] = Field(default_factory=lambda: list(SUPPORTED_LANGUAGES))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Rome)") from exc
        return value

    @field_validator("languages")
    @classmethod
    def _supported(cls, value: list[str]) -> list[str]:
        unknown = [code for code in value if code not in SUPPORTED_LANGUAGES]
        if unknown or not value:
            raise ValueError(f"choose among {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("policy")
    @classmethod
    def _preset_or_file(cls, value: str) -> str:
        if value in PRESETS or value.endswith(".toml"):
            return value
        raise ValueError(f"must be a preset ({', '.join(PRESETS)}) or a path to a .toml file")

    @model_validator(mode="after")
    def _default_in_languages(self) -> LibrarySettings:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RemindersSettings(_Section):
    """Defaults for the timing administrators own; the store's copy wins once edited."""

    due_offsets_days: list[int] = Field(default_factory=lambda: [3, 0])
    overdue_levels: list[str] = Field(
        default_factory=lambda: ["first_day", "grace_end", "suspension"]
    )
    cycle_hour: time = time(9, 0)
    # A cycle may run at its own hour: {holds = "08:30"}; the others run at cycle_hour.
    cycle_hours: dict[Literal["reminders", "overdue", "holds"], time] = Field(default_factory=dict)
    # The reminder before a ready hold's last pickup day (0: none).
    hold_reminder_days_before: int = Field(default=1, ge=0, le=14)
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    max_notice_age_days: int = Field(default=7, ge=1, le=90)
    dispatch_interval_seconds: int = Field(default=30, ge=1, le=3600)

    @field_validator("due_offsets_days")
    @classmethod
    def _offsets(cls, value: list[int]) -> list[int]:
        if any(day < 0 or day > 30 for day in value):
            raise ValueError("offsets are days before the due date, between 0 and 30")
        return sorted(set(value), reverse=True)

    @field_validator("overdue_levels")
    @classmethod
    def _levels(cls, value: list[str]) -> list[str]:
        known = {"first_day", "grace_end", "suspension", "exclusion"}
        unknown = [level for level in value if level not in known]
        if unknown:
            raise ValueError(
                f"unknown level(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return value

    @model_validator(mode="after")
    def _cycles_outside_quiet_hours(self) -> RemindersSettings:
        """The same rule ``bibliobot settings reminders set`` applies: a cycle's hour inside
        the quiet hours is a typo (what it decides would wait for the morning anyway)."""
        quiet = QuietHours(self.quiet_hours_start, self.quiet_hours_end)
        for cycle in ("reminders", "overdue", "holds"):
            hour = self.cycle_hours.get(cycle, self.cycle_hour)
            if quiet.contains(hour):
                raise ValueError(
                    f"the {cycle} cycle's hour {hour:%H:%M} is inside the quiet hours "
                    f"{self.quiet_hours_start:%H:%M}-{self.quiet_hours_end:%H:%M}"
                )
        return self


class Settings(BaseSettings):
    """Everything the product reads from its configuration."""

    model_config: ClassVar[SettingsConfigDict] = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    reminders: RemindersSettings = Field(default_factory=RemindersSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then the environment, then the TOML file.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def find_config_file(explicit: str | os.PathLike[str] | None) -> Path | None:
    """Return the configuration file to read, following INTERFACE.md's order."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config error: --config: no such file: {path}")
        return path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"config error: {CONFIG_ENV}: no such file: {path}")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read the settings, or raise :class:`ConfigError` with one line naming the bad key."""
    path = find_config_file(config)
    if path is not None:
        try:
            with path.open("rb") as handle:
                tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config error: {path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"config error: {path}: cannot read: {exc.strerror}") from exc

    class _FileSettings(Settings):
        model_config: ClassVar[SettingsConfigDict] = SettingsConfigDict(
            **{**Settings.model_config, "toml_file": path}
        )

    try:
        return _FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's report into ``config error: [section] key: what is wrong (env VAR)``."""
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"] if not isinstance(part, int)]
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    message = message.removeprefix("Value error, ")
    if not location:
        return f"config error: {message}"
    section, *rest = location
    if not rest:
        return f"config error: [{section}]: {message}"
    env = ENV_PREFIX + "__".join(part.upper() for part in location)
    return f"config error: [{section}] {'.'.join(rest)}: {message} (environment: {env})"
