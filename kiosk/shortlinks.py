"""/q/<code>: what a scanned QR code opens. It counts the scan (a number per code and day,
nothing about the visitor) and sends the phone on to the link's own destination, even when
the database is busy or away for a moment (kiosk.counting)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.clock import today_local
from core.web import RETRY_SECONDS, retry_later
from kiosk import counting
from kiosk.links import LinkNotFound, destination
from kiosk.models import QrLink
from kiosk.targets import destinations_of
from kiosk.visitor import not_found_page

blueprint = Blueprint("shortlinks", __name__)


@blueprint.record_once
def _set_up_counting(state: BlueprintSetupState) -> None:
    counting.init_app(state.app)


@blueprint.get("/q/<code>")
def scan(code: str) -> Response | tuple[str | Response, int]:
    destinations = destinations_of(current_app.config)

    def lead(session: Session, link: QrLink) -> str:
        return destination(link, destinations)

    counter = counting.counter_of(current_app)
    try:
        # A HEAD (a link preview) is not a scan.
        target = counter.scan(code, today_local(), lead, counted=request.method == "GET")
    except LinkNotFound:
        return not_found_page("code")
    except counting.DatabaseSilent:  # rare: the database is away, and the code new to us
        return retry_later(503, RETRY_SECONDS)
    return redirect(target, 302)


@blueprint.get("/q/", defaults={"rest": ""})
@blueprint.get("/q/<path:rest>")
def not_a_code(rest: str) -> tuple[str, int]:
    """Whatever else a phone makes of a code (a slash, a line break, a cut-off address): the
    same friendly page as an unknown code, never a destination taken from the address."""
    return not_found_page("code")
