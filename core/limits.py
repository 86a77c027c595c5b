"""Rate limits per client address (Flask-Limiter); a shared storage URI serves many processes."""

from __future__ import annotations

import time

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Headers off: Flask-Limiter would put Retry-After on every response of a limited route,
# successes too; the 429 handler (core.web) sets it where it means something.
# Errors swallowed: a limit that cannot be counted (a Redis that is down, the memory
# storage's own race between threads starting its expiry timer) lets the request through
# rather than answer 500 to a union; the failure is logged.
limiter = Limiter(key_func=get_remote_address, headers_enabled=False, swallow_errors=True)


def seconds_until_retry() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def init_app(app: Flask) -> None:
    limiter.init_app(app)
