"""What the public sees of the library: the image files at fingerprinted addresses, and a
portrait's own page for phones (French, Spanish, English). Consent is checked on every
request: a portrait whose consent is withdrawn or expired is a 404 everywhere at once."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from core.clock import today_local
from core.database import get_session
from media import storage
from media.models import LANGUAGES
from media.portraits import PortraitNotFound, public_portrait, public_rendition

blueprint = Blueprint("media", __name__)
ONE_YEAR = 31_536_000
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


@blueprint.get("/media/<sha256>.<extension>")
def image(sha256: str, extension: str) -> Response:
    """A rendition, by the hash of its content: the address changes when the content does,
    so browsers and proxies may keep it for a year without asking again."""
    image_format = storage.FORMATS_BY_EXTENSION.get(extension)
    if image_format is None or not FINGERPRINT.fullmatch(sha256):
        abort(404)
    if not public_rendition(get_session(), sha256, image_format, today_local()):
        abort(404)
    path = storage.path_of(current_app.config["DATA_DIR"], sha256, image_format)
    if not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype=storage.MIME_TYPES[image_format])
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.set_etag(sha256)
    return response.make_conditional(request)


@blueprint.get("/p/<slug>")
def portrait_page(slug: str) -> str:
    try:
        portrait = public_portrait(get_session(), slug, today_local())
    except PortraitNotFound:
        abort(404)
    return render_template("media/portrait.html", portrait=portrait, caption_languages=LANGUAGES)


def image_url(sha256: str, image_format: str) -> str:
    """The public address of a rendition (what `image` serves)."""
    return url_for("media.image", sha256=sha256, extension=storage.EXTENSIONS[image_format])
