"""Settings from the environment and `.env`, every name prefixed PERSEO_ (see README)."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/perseo.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERSEO_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+psycopg://...",
    )
    http_host: str = Field("127.0.0.1", description="Address the web server listens on.")
    http_port: int = Field(8080, ge=1, le=65535, description="Port of the web server.")
    timezone: str = Field("America/Guayaquil", description="Time zone for dates shown to people.")
    knowledge_pack: str = Field(
        "perseo", description="Shipped pack name (knowledge/NAME) or path of a pack folder."
    )
    max_message_chars: int = Field(
        2000, ge=50, description="Longer customer messages get a polite 'please shorten it'."
    )
    log_level: str = Field("info", description="Server log level (debug, info, warning).")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like America/Guayaquil"
            ) from None
        return value

    def sqlite_path(self) -> Path | None:
        """The database file when the URL is SQLite (so its folder can be created)."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix(prefix))
        return None
