"""Reads every AMBULANTE_* environment variable in one place and turns it into Flask config.

Reading has no side effect: the data dir and the generated secret key are made when the
app starts (core.data_dir). A feature declares its own settings with `declare`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

PREFIX = "AMBULANTE_"
DEFAULT_STAFF_EMAIL = "ciso@ciso.qc.ca"
TRUE_WORDS = ("1", "true", "yes")


def read(name: str, default: str | None = None, environ: Mapping[str, str] | None = None):  # type: ignore[no-untyped-def]
    """AMBULANTE_<name>, or the default when it is unset or empty."""
    env = os.environ if environ is None else environ
    value = env.get(f"{PREFIX}{name}")
    return value if value not in (None, "") else default


def read_flag(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    value = read(name, None, environ)
    return default if value is None else value.lower() in TRUE_WORDS


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The shell's Flask config values taken from the environment."""

    def get(name: str, default: str | None = None) -> str | None:
        return read(name, default, environ)

    data_dir = Path(get("DATA_DIR", "instance")).resolve()
    return {
        "DATA_DIR": data_dir,
        "DATABASE_URL": get("DATABASE_URL") or f"sqlite:///{data_dir / 'ambulante.sqlite3'}",
        "SECRET_KEY": get("SECRET_KEY"),  # None: generated and kept in the data dir at start
        "PUBLIC_URL": get("PUBLIC_URL") or "",  # settled (and checked) by core.app
        "STAFF_EMAIL": get("STAFF_EMAIL", DEFAULT_STAFF_EMAIL),
        "MAIL_FROM": get("MAIL_FROM", "Ambulante <ambulante@localhost>"),
        "SMTP_HOST": get("SMTP_HOST"),
        "SMTP_PORT": int(get("SMTP_PORT", "25")),
        "SMTP_USERNAME": get("SMTP_USERNAME"),
        "SMTP_PASSWORD": get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": read_flag("SMTP_STARTTLS", False, environ),
        # Unset: .eml copies in the data dir when no SMTP server is set, none when one is.
        "OUTBOX_FILES": None
        if get("OUTBOX_FILES") is None
        else read_flag("OUTBOX_FILES", True, environ),
        "RATELIMIT_STORAGE_URI": get("RATELIMIT_STORAGE_URI", "memory://"),
        "SEED_DEMO": read_flag("SEED_DEMO", True, environ),
        "AUTO_MIGRATE": read_flag("AUTO_MIGRATE", True, environ),
        "TRUSTED_PROXIES": int(get("TRUSTED_PROXIES", "0")),
    }


def declare(app: Flask, settings: Mapping[str, tuple[str, str]]) -> None:
    """A feature's own settings: config key -> (variable name without the prefix, default).
    A value the app was created with (a test's, say) wins over the environment."""
    for key, (variable, default) in settings.items():
        app.config.setdefault(key, read(variable, default))
