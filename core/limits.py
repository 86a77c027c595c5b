"""Rate limits per client address (Flask-Limiter); a shared storage URI serves many processes."""

from __future__ import annotations

import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Headers off: Flask-Limiter would put Retry-After on every response of a limited route,
# successes too; the 429 handler (core.web) sets it where it means something.
limiter = Limiter(key_func=get_remote_address, headers_enabled=False)


def booking_limit() -> str:
    return current_app.config["RATELIMIT_BOOKING"]


def seconds_until_retry() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def init_app(app: Flask) -> None:
    limiter.init_app(app)
