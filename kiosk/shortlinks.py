"""/q/<code>: what a scanned QR code opens. It counts the scan (a number per code and day,
nothing about the visitor) and sends the phone on to the link's own destination."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request
from werkzeug.wrappers import Response

from core.clock import today_local
from core.database import get_session
from kiosk.links import LinkNotFound, count_scan, destination, live_link
from kiosk.targets import destinations_of
from kiosk.visitor import not_found_page

blueprint = Blueprint("shortlinks", __name__)


@blueprint.get("/q/<code>")
def scan(code: str) -> Response | tuple[str, int]:
    session = get_session()
    try:
        link = live_link(session, code, today_local())
        target = destination(session, link, destinations_of(current_app.config))
    except LinkNotFound:
        return not_found_page("code")
    if request.method == "GET":  # a HEAD (a link preview) is not a scan
        count_scan(session, link.id, today_local())
    return redirect(target, 302)


@blueprint.get("/q/", defaults={"rest": ""})
@blueprint.get("/q/<path:rest>")
def not_a_code(rest: str) -> tuple[str, int]:
    """Whatever else a phone makes of a code (a slash, a line break, a cut-off address): the
    same friendly page as an unknown code, never a destination taken from the address."""
    return not_found_page("code")

