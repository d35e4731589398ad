"""Reading settings from the environment, with clear errors for bad values."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str | None = None) -> str | None:
    """The variable's value, or the contents of the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE={file_name} cannot be read: {error}") from error
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true or false.")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_config(url: str, base_dir: Path) -> dict:
    scheme = urlsplit(url).scheme
    if scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r}: use sqlite:///path/to/file.sqlite3 or postgres://user@host:port/name."
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=0 if scheme == "sqlite" else 60)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} cannot be parsed: {error}") from error
    if scheme == "sqlite":
        name = Path(config["NAME"])
        if not name.is_absolute() and config["NAME"] != ":memory:":
            name = base_dir / name
        config["NAME"] = str(name)
        config["ENGINE"] = "chronicle.eventstore.sqlite"
        # A file, not memory, so Celery workers started by tests share the test database.
        config["TEST"] = {"NAME": str(name.with_name(f"test-{name.name}"))}
        # IMMEDIATE makes writers queue for the lock instead of failing with
        # "database is locked" when a read transaction upgrades to a write.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config["CONN_HEALTH_CHECKS"] = True
        # Statements sent through `chronicle.database.prepared_cursor` are prepared after this
        # many runs on a connection (Django's own cursors never prepare; README: PgBouncer).
        config.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
    return config


def cache_config(url: str | None) -> dict:
    """Django's cache from CACHE_URL (redis:// or rediss://); per-process memory without one."""
    if not url:
        # Room for the answers partners ask for again (Django's default keeps 300 entries).
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 5000}}
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise ImproperlyConfigured(f"CACHE_URL={url!r}: use redis://host:6379/1 (or rediss:// for TLS).")
    return {
        "BACKEND": "chronicle.cache.FailOpenRedisCache",
        "LOCATION": url,
        # A hung Redis must cost a request a second, not hang it.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


def email_config(url: str | None, mail_dir: Path) -> dict:
    """Django email settings from EMAIL_URL (smtp://, smtps://, file://, console://, locmem://)."""
    if not url:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
        }
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme in ("smtp", "smtps"):
        if not parts.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL={url!r} has no host; use smtp://host:port.")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": parts.scheme == "smtps",
            "EMAIL_USE_TLS": query.get("tls", ["false"])[0].lower() in ("1", "true", "yes"),
            "EMAIL_TIMEOUT": 30,
        }
    if parts.scheme == "file":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": unquote(parts.path) or str(mail_dir),
        }
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    raise ImproperlyConfigured(f"EMAIL_URL={url!r}: use smtp://host:port (or smtps://), file:///path or console://.")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DigestSchedule(NamedTuple):
    """When the digest passes run (UTC): daily at hour:minute, weekly on a weekday (0 is Monday)."""

    daily_hour: int
    daily_minute: int
    weekday: int
    weekly_hour: int
    weekly_minute: int


def digest_schedule(daily_at: str, weekly_at: str) -> DigestSchedule:
    """The schedule of DIGEST_DAILY_AT=HH:MM and DIGEST_WEEKLY_AT="<weekday> HH:MM"."""
    try:
        daily_hour, daily_minute = (int(part) for part in daily_at.split(":"))
        day, weekly_time = weekly_at.lower().split()
        weekly_hour, weekly_minute = (int(part) for part in weekly_time.split(":"))
        if day not in WEEKDAYS or not all(
            0 <= hour < 24 and 0 <= minute < 60
            for hour, minute in ((daily_hour, daily_minute), (weekly_hour, weekly_minute))
        ):
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            f"DIGEST_DAILY_AT={daily_at!r} / DIGEST_WEEKLY_AT={weekly_at!r}: "
            "use e.g. DIGEST_DAILY_AT=06:00 and DIGEST_WEEKLY_AT='mon 06:30' (UTC)."
        ) from None
    return DigestSchedule(daily_hour, daily_minute, WEEKDAYS.index(day), weekly_hour, weekly_minute)
