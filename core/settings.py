"""Reads every AMBULANTE_* environment variable in one place and turns it into Flask config."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

DEFAULT_DONATE_URL = "https://www.ciso.qc.ca/outils/faites-un-don/"
DEFAULT_SIGNUP_URL = "https://www.ciso.qc.ca/outils/nouvelle-page-dinscription/"
DEFAULT_STAFF_EMAIL = "ciso@ciso.qc.ca"


def _secret_key(data_dir: Path) -> str:
    """Keep one generated key in the data dir so sessions survive restarts and every
    process sharing the data dir signs cookies the same way."""
    key_file = data_dir / "secret_key"
    try:
        # O_EXCL: of processes starting together, exactly one writes the key; 0600: only
        # the app's own user can read it.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as key:
            key.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another process may have created it and not written it yet
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.05)
    raise RuntimeError(f"{key_file} is empty; delete it and start again")


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
        "TRUSTED_PROXIES": int(get("TRUSTED_PROXIES", "0")),
    }
