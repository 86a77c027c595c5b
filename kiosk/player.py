"""The slideshow's addresses: the page a screen opens, its bundle, its QR images, its
service worker, and the heartbeat it sends every minute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from werkzeug.wrappers import Response

from booking.schema import is_storable
from core.clock import now_utc, today_local
from core.database import get_session
from core.header_text import breaks_a_header_line
from core.web import csrf
from kiosk.bundle import screen_bundle, shell_urls
from kiosk.heartbeat import MAX_REPORTS, Report, record_reports
from kiosk.links import LinkNotFound, live_link, short_url
from kiosk.models import Heartbeat, Screen
from kiosk.qr import qr_svg
from kiosk.screens import SLUG, ScreenNotFound, default_screen, screen_by_slug

blueprint = Blueprint("kiosk", __name__)
PORTRAIT_MAX_LENGTH = Heartbeat.__table__.c.portrait_slug.type.length
VERSION_MAX_LENGTH = Heartbeat.__table__.c.bundle_version.type.length
QR_MAX_AGE = 86_400  # a day: the address a code shows follows AMBULANTE_PUBLIC_URL


@blueprint.get("/kiosk/")
def default_player() -> str:
    try:
        return _player(default_screen(get_session()))
    except ScreenNotFound:  # only if someone removed it from the database by hand
        abort(404)


@blueprint.get("/kiosk/<slug>")
def player(slug: str) -> str:
    return _player(_screen_or_404(slug))


def _player(screen: Screen) -> str:
    return render_template("kiosk/player.html", screen=screen, shell=shell_urls(screen))


@blueprint.get("/kiosk/<slug>/bundle.json")
def bundle(slug: str) -> Response:
    screen = _screen_or_404(slug)
    response = jsonify(screen_bundle(get_session(), screen, today_local(), now_utc()))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/kiosk/sw.js")
def service_worker() -> Response:
    """Served from /kiosk/ so that it may look after every kiosk page."""
    path = Path(current_app.static_folder or "") / "kiosk" / "sw.js"
    response = Response(path.read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/kiosk/qr/<code>.svg")
def qr_image(code: str) -> Response:
    try:
        link = live_link(get_session(), code, today_local())
    except LinkNotFound:
        abort(404)
    response = Response(
        qr_svg(short_url(current_app.config["PUBLIC_URL"], link.code)), mimetype="image/svg+xml"
    )
    response.headers["Cache-Control"] = f"public, max-age={QR_MAX_AGE}"
    return response


@blueprint.post("/kiosk/<slug>/heartbeat")
@csrf.exempt  # a screen has no session; a report changes nothing but its own rows
def heartbeat(slug: str) -> tuple[Response, int]:
    screen = _screen_or_404(slug)
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting: not a heartbeat either
        body = None
    reports = _reports(body)
    if reports is None:
        return jsonify(
            error='Send {"reports": [{"seconds_ago", "portrait", "bundle_version"}]}.'
        ), 400
    kept = record_reports(get_session(), screen, reports, now_utc())
    return jsonify(kept=kept), 200


def _reports(body: Any) -> list[Report] | None:
    """The reports of a heartbeat request, or None when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("reports"), list):
        return None
    items = body["reports"]
    if len(items) > MAX_REPORTS:
        return None
    reports = []
    for item in items:
        if not isinstance(item, dict):
            return None
        seconds_ago, portrait, version = (
            item.get("seconds_ago"),
            item.get("portrait"),
            item.get("bundle_version", ""),
        )
        if not isinstance(seconds_ago, int) or isinstance(seconds_ago, bool) or seconds_ago < 0:
            return None
        if portrait is not None and not _one_line(portrait, PORTRAIT_MAX_LENGTH):
            return None
        if not _one_line(version, VERSION_MAX_LENGTH):
            return None
        reports.append(Report(seconds_ago, portrait, version))
    return reports


def _one_line(value: Any, max_length: int) -> bool:
    """Text a database keeps (no lone surrogate, no NUL) on one line, within its column."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and is_storable(value)
        and not breaks_a_header_line(value)
    )


def _screen_or_404(slug: str) -> Screen:
    if not SLUG.fullmatch(slug):
        abort(404)
    try:
        return screen_by_slug(get_session(), slug)
    except ScreenNotFound:
        abort(404)
