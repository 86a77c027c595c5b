"""The staff's page of QR targets: where codes send visitors, added and changed by staff."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
