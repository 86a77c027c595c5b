"""The staff's screens page: each screen, whether it is on and what it shows; add, change
and delete screens."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
