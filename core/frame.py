"""The page frame every feature draws in: navigation entries the features contribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for

NAVIGATION = "ambulante_navigation"


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any  # a lazy string, translated when the page is drawn


def add_navigation(app: Flask, endpoint: str, label: Any) -> None:
    """Put a feature's page in the frame's navigation, in the order features register."""
    app.extensions.setdefault(NAVIGATION, []).append(NavEntry(endpoint, label))


def _navigation_links() -> dict[str, Any]:
    if not has_request_context():  # an email drawn by a command has no frame
        return {}
    links = [
        {
            "url": url_for(entry.endpoint),
            "label": entry.label,
            "current": request.endpoint == entry.endpoint,
        }
        for entry in current_app.extensions.get(NAVIGATION, [])
    ]
    return {"navigation": links}


def init_app(app: Flask) -> None:
    app.context_processor(_navigation_links)
