"""Print-ready PDFs for a venue: a caption card per portrait, and a poster."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
