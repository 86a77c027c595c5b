"""Public pages drawn once per calendar and portrait-library version: the offerings, their
calendars, the portraits they show and the API's availability show nothing about any union,
and the database raises the versions on every change that could alter them (and the key has
today's date, when a consent expires), so a page is served again only while it is exactly
right."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Response, make_response, request, session
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from booking.models import CalendarVersion
from core.clock import today_local
from core.i18n import current_language
from media.models import LibraryVersion

MAX_PAGES = 1024
# Read on every public page, so both versions come in one round trip.
VERSIONS = select(
    select(CalendarVersion.version).where(CalendarVersion.id == 1).scalar_subquery(),
    select(LibraryVersion.version).where(LibraryVersion.id == 1).scalar_subquery(),
)

Kept = tuple[bytes, int, str]  # body, status, MIME type
# One cache per database: an engine that goes away takes its pages with it.
_caches: weakref.WeakKeyDictionary[Engine, OrderedDict[Hashable, Kept]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def cached_page(db_session: Session, draw: Callable[[], object]) -> Response:
    """The page this request asks for, drawn by `draw` unless an identical one is kept.

    The key is everything the page depends on: both versions, today's date, the
    address with its query, the language, and whether HTMX asks for a fragment. A visitor
    with a message waiting (a flash) is drawn afresh, so no one's message is ever kept."""
    if session.get("_flashes"):
        return make_response(draw())
    key = (
        *db_session.connection().execute(VERSIONS).one(),
        today_local(),
        request.path,
        request.query_string,  # as sent: bytes that are not UTF-8 are a key like any other
        current_language(),
        request.headers.get("HX-Request"),
        request.headers.get("HX-Target"),
    )
    with _lock:
        pages = _caches.setdefault(db_session.get_bind(), OrderedDict())
        kept = pages.get(key)
        if kept is not None:
            pages.move_to_end(key)
    if kept is not None:
        body, status, mimetype = kept
        return Response(body, status=status, mimetype=mimetype)
    response = make_response(draw())
    if response.status_code == 200:
        with _lock:
            pages[key] = (response.get_data(), response.status_code, response.mimetype)
            while len(pages) > MAX_PAGES:
                pages.popitem(last=False)
    return response
