"""Reads every AMBULANTE_* environment variable in one place and turns it into Flask config."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_DONATE_URL = "https://www.ciso.qc.ca/outils/faites-un-don/"
DEFAULT_SIGNUP_URL = "https://www.ciso.qc.ca/outils/nouvelle-page-dinscription/"
DEFAULT_STAFF_EMAIL = "ciso@ciso.qc.ca"


def _secret_key(data_dir: Path) -> str:
    """Keep one generated key in the data dir so sessions survive restarts and every
    process sharing the data dir signs cookies the same way."""
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        candidate = data_dir / f"secret_key.{os.getpid()}"
        candidate.write_text(secrets.token_urlsafe(48))
        # os.replace is atomic: concurrent first starts agree on whichever lands last.
        if not key_file.exists():
            os.replace(candidate, key_file)
        else:
            candidate.unlink()
    return key_file.read_text().strip()


def from_environment(environ: dict[str, str] | None = None) -> dict[str, object]:
    """Flask config values taken from the environment (prefix AMBULANTE_)."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(f"AMBULANTE_{name}")
        return value if value not in (None, "") else default

    data_dir = Path(get("DATA_DIR", "instance")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = get("DATABASE_URL") or f"sqlite:///{data_dir / 'ambulante.sqlite3'}"
    return {
        "DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        "SECRET_KEY": get("SECRET_KEY") or _secret_key(data_dir),
        "PUBLIC_URL": (get("PUBLIC_URL") or "").rstrip("/"),
        "DONATE_URL": get("DONATE_URL", DEFAULT_DONATE_URL),
        "SIGNUP_URL": get("SIGNUP_URL", DEFAULT_SIGNUP_URL),
        "STAFF_EMAIL": get("STAFF_EMAIL", DEFAULT_STAFF_EMAIL),
        "MAIL_FROM": get("MAIL_FROM", "Ambulante <ambulante@localhost>"),
        "SMTP_HOST": get("SMTP_HOST"),
        "SMTP_PORT": int(get("SMTP_PORT", "25")),
        "SMTP_USERNAME": get("SMTP_USERNAME"),
        "SMTP_PASSWORD": get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": get("SMTP_STARTTLS", "0") in ("1", "true", "yes"),
        "RATELIMIT_BOOKING": get("BOOKING_RATE_LIMIT", "20/hour"),
        "RATELIMIT_STORAGE_URI": get("RATELIMIT_STORAGE_URI", "memory://"),
        "SEED_DEMO": get("SEED_DEMO", "1") not in ("0", "false", "no"),
    }
