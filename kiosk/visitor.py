"""The visitor page a portrait's QR code opens on a phone: the portrait, its story in the
language the visitor scanned (French, Spanish or English), and buttons to donate and to
subscribe through the screen's own short links, so that they count for its venue."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, render_template

from core.clock import today_local
from core.database import get_session
from media.models import LANGUAGES
from media.portraits import PortraitNotFound, public_portrait
from media.public import PORTRAIT_PAGE

blueprint = Blueprint("visitor", __name__)


@blueprint.get(PORTRAIT_PAGE.replace("{slug}", "<slug>"))
def visitor_page(slug: str) -> str:
    try:
        portrait = public_portrait(get_session(), slug, today_local())
    except PortraitNotFound:
        abort(404)
    return render_template("kiosk/visitor.html", portrait=portrait, caption_languages=LANGUAGES)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
