"""The staff's scan reports: scans by venue, screen, portrait and target over a date range."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
