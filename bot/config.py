"""Settings from the environment and `.env`, every name prefixed PERSEO_ (see README)."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import secrets
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from bot.domain.calendar import OfficeHours
    from bot.domain.verification import VerificationLimits

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
    knowledge_pack: str = Field("perseo", description="Shipped pack name (knowledge/NAME) or path of a pack folder.")
    max_message_chars: int = Field(
        2000, ge=50, description="Longer customer messages get a polite 'please shorten it'."
    )
    log_level: str = Field("info", description="Server log level (debug, info, warning).")

    smtp_host: str | None = Field(None, description="SMTP server; without it mails go to PERSEO_MAIL_DIR.")
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP user, if the server needs a login.")
    smtp_password: str | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_use_tls: bool = Field(False, description="Connect with implicit TLS (port 465).")
    mail_from: str = Field("Perseo WEB <no-reply@perseo.ec>", description="From: of every mail.")
    mail_dir: Path = Field(Path("var/mail"), description="Where mails are written as .eml without SMTP.")
    receipts_dir: Path = Field(Path("var/receipts"), description="Where payment receipt files are kept.")
    public_url: str = Field(
        "http://127.0.0.1:8080",
        description="The address people open the console at; e-mails link to its back office (no trailing /).",
    )
    send_window_start: dt.time = Field(dt.time(8, 0), description="Proactive messages not before (local).")
    send_window_end: dt.time = Field(dt.time(20, 0), description="Proactive messages not after (local).")
    secret_key: str | None = Field(
        None, description="Key for hashing verification codes; default: generated into var/secret_key."
    )
    verify_codes_per_hour: int = Field(
        3, ge=1, description="Verification codes e-mailed per RUC in any hour, whatever the chat."
    )
    verify_codes_per_day: int = Field(10, ge=1, description="Verification codes e-mailed per RUC in any 24 hours.")
    verify_wrong_codes_per_hour: int = Field(
        10, ge=1, description="Wrong verification codes accepted per RUC in any hour before it is locked."
    )
    verify_wrong_codes_per_day: int = Field(
        20, ge=1, description="Wrong verification codes accepted per RUC in any 24 hours."
    )
    chat_rate_per_minute: float = Field(
        30.0, gt=0, description="POST /api/chat requests per minute per client address (sustained)."
    )
    chat_burst: int = Field(30, ge=1, description="POST /api/chat requests a client address may send at once.")
    chat_unthrottled: str = Field(
        "127.0.0.0/8,::1",
        description="Client addresses (IPs or networks) the POST /api/chat throttle leaves alone: by default "
        "the server's own machine (evaluation runs, benchmarks, a health checker); empty: nobody.",
    )
    office_opens: dt.time = Field(dt.time(8, 30), description="Advisors start attending (local time).")
    office_closes: dt.time = Field(dt.time(17, 30), description="Advisors stop attending (local time).")
    office_weekdays: str = Field(
        "1-5", description="Days advisors attend, Monday = 1: '1-5' or '1,2,3,4,5,6'. National holidays are off."
    )
    training_reminders: str = Field(
        "60,10", description="Minutes before a training's start when reminders go out, e.g. '60,10' or '1440,60'."
    )
    telegram_token: str | None = Field(None, description="Bot token from BotFather; enables Telegram.")
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base; the token is appended (like PTB's base_url)."
    )
    telegram_webhook_secret: str | None = Field(
        None, description="Webhook mode: Telegram sends it in X-Telegram-Bot-Api-Secret-Token. Unset: polling."
    )
    telegram_webhook_url: str | None = Field(None, description="Public https URL of /webhooks/telegram to register.")
    telegram_rate: float = Field(30.0, gt=0, description="Telegram messages per second overall.")
    whatsapp_token: str | None = Field(None, description="Cloud API access token; enables WhatsApp.")
    whatsapp_phone_number_id: str | None = Field(None, description="The business phone number's id.")
    whatsapp_app_secret: str | None = Field(None, description="Meta app secret: checks X-Hub-Signature-256.")
    whatsapp_verify_token: str | None = Field(None, description="Any string; the same in the Meta webhook setup.")
    whatsapp_api_url: str = Field("https://graph.facebook.com/v23.0", description="Graph API base with version.")
    whatsapp_rate: float = Field(80.0, gt=0, description="WhatsApp messages per second (the number's limit).")
    reminder_channels: str = Field(
        "last", description="Customer reminders: 'last' (the chat they used last, else e-mail) or 'all'."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated IPs (or networks like 10.0.0.0/8) of reverse proxies whose "
        "X-Forwarded-For is believed; default none: the peer's address is the client's.",
    )
    tick_seconds: int = Field(60, ge=5, description="How often the server runs the billing sweeps.")
    delivery_seconds: int = Field(5, ge=1, description="How often the server delivers outbox messages.")
    outbox_lease_seconds: int = Field(
        30, ge=5, le=600, description="A delivery worker's claim; a dead worker's rows return after it."
    )
    outbox_batch: int = Field(10, ge=1, le=500, description="Outbox rows a delivery worker claims at a time.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like America/Guayaquil") from None
        return value

    @field_validator("office_weekdays")
    @classmethod
    def _weekdays(cls, value: str) -> str:
        from bot.domain.calendar import parse_weekdays

        parse_weekdays(value)  # raises with what to write instead
        return value

    @field_validator("reminder_channels")
    @classmethod
    def _routes(cls, value: str) -> str:
        if value not in ("last", "all"):
            raise ValueError("use 'last' (the chat the customer used last) or 'all'")
        return value

    @field_validator("telegram_api_url", "whatsapp_api_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("an http(s) URL")
        return value

    @field_validator("trusted_proxies", "chat_unthrottled")
    @classmethod
    def _proxies(cls, value: str) -> str:
        cls.parse_proxies(value)
        return value

    @staticmethod
    @functools.lru_cache(maxsize=16)  # read on every chat message and login: parse each setting once
    def parse_proxies(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        networks = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8)") from None
        return tuple(networks)

    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return self.parse_proxies(self.trusted_proxies)

    def unthrottled_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return self.parse_proxies(self.chat_unthrottled)

    @model_validator(mode="after")
    def _day_covers_hour(self) -> Settings:
        for kind, hour, day in (
            ("CODES", self.verify_codes_per_hour, self.verify_codes_per_day),
            ("WRONG_CODES", self.verify_wrong_codes_per_hour, self.verify_wrong_codes_per_day),
        ):
            if day < hour:
                raise ValueError(f"PERSEO_VERIFY_{kind}_PER_DAY ({day}) is below the hourly limit ({hour})")
        return self

    def verification_limits(self) -> VerificationLimits:
        from bot.domain.verification import VerificationLimits

        return VerificationLimits(
            codes_per_hour=self.verify_codes_per_hour,
            codes_per_day=self.verify_codes_per_day,
            wrong_per_hour=self.verify_wrong_codes_per_hour,
            wrong_per_day=self.verify_wrong_codes_per_day,
        )

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_token and self.whatsapp_phone_number_id and self.whatsapp_app_secret)

    @field_validator("training_reminders")
    @classmethod
    def _reminders(cls, value: str) -> str:
        cls.parse_reminders(value)
        return value

    @staticmethod
    def parse_reminders(value: str) -> tuple[int, ...]:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() and 1 <= int(p) <= 10_080 for p in parts):
            raise ValueError(f"{value!r}: minutes before the start, separated by commas, e.g. 60,10")
        return tuple(sorted({int(p) for p in parts}, reverse=True))

    def reminder_minutes(self) -> tuple[int, ...]:
        return self.parse_reminders(self.training_reminders)

    def office_hours(self) -> OfficeHours:
        from bot.domain.calendar import OfficeHours, parse_weekdays

        return OfficeHours(self.office_opens, self.office_closes, parse_weekdays(self.office_weekdays), self.zone)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def hashing_key(self) -> bytes:
        """PERSEO_SECRET_KEY, or a random key kept in var/secret_key (created on first use)."""
        if self.secret_key:
            return self.secret_key.encode()
        path = Path("var/secret_key")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def sqlite_path(self) -> Path | None:
        """The database file when the URL is SQLite (so its folder can be created)."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix(prefix))
        return None
