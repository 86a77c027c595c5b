"""The page frame every feature draws in: the public navigation and the staff navigation that
the features contribute."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user
from markupsafe import Markup

NAVIGATION = "ambulante_navigation"
STAFF_NAVIGATION = "ambulante_staff_navigation"
PAGE_PARTS = "ambulante_page_parts"
STAFF_FALLBACK_PAGE = "staff.log"  # the shell's own staff page, when no feature adds one


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any  # a lazy string, translated when the page is drawn
    admin_only: bool = False


def add_navigation(app: Flask, endpoint: str, label: Any) -> None:
    """Put a feature's page in the frame's navigation, in the order features register."""
    app.extensions.setdefault(NAVIGATION, []).append(NavEntry(endpoint, label))


def add_staff_navigation(app: Flask, endpoint: str, label: Any, admin_only: bool = False) -> None:
    """Put a feature's staff page in the staff frame's navigation; the first one added is
    where staff land after signing in."""
    app.extensions.setdefault(STAFF_NAVIGATION, []).append(NavEntry(endpoint, label, admin_only))


def add_page_part(app: Flask, place: str, draw: Callable[..., str]) -> None:
    """Let a feature add a part to another feature's page without either importing the
    other: the page calls `page_parts(place, **what_it_shows)`, and each part registered
    for that place draws itself from those values (or returns "" to stay out)."""
    app.extensions.setdefault(PAGE_PARTS, {}).setdefault(place, []).append(draw)


def page_parts(place: str, **context: Any) -> Markup:
    """What the features registered for a place on a page, drawn in their order."""
    parts = current_app.extensions.get(PAGE_PARTS, {}).get(place, [])
    return Markup("").join(Markup(draw(**context)) for draw in parts)


def first_staff_page() -> str:
    entries = current_app.extensions.get(STAFF_NAVIGATION, [])
    return url_for(entries[0].endpoint if entries else STAFF_FALLBACK_PAGE)


def _links(entries: list[NavEntry]) -> list[dict[str, Any]]:
    return [
        {
            "url": url_for(entry.endpoint),
            "label": entry.label,
            "current": request.endpoint == entry.endpoint,
        }
        for entry in entries
    ]


def _navigation_links() -> dict[str, Any]:
    if not has_request_context():  # an email drawn by a command has no frame
        return {}
    links = {"navigation": _links(current_app.extensions.get(NAVIGATION, []))}
    # Only staff pages look at who is signed in: public pages stay the same for everyone.
    if request.path.startswith("/staff") and current_user.is_authenticated:
        staff_entries = [
            entry
            for entry in current_app.extensions.get(STAFF_NAVIGATION, [])
            if current_user.is_admin or not entry.admin_only
        ]
        links["staff_navigation"] = _links(staff_entries)
    return links


def init_app(app: Flask) -> None:
    app.context_processor(_navigation_links)
    app.jinja_env.globals["page_parts"] = page_parts
