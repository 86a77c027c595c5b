"""What the public sees of the library: the image files at fingerprinted addresses. Consent
is checked on every request: a portrait whose consent is withdrawn or expired is a 404 at
once. A portrait's page for phones is the kiosk's visitor page, at PORTRAIT_PAGE."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, request, url_for
from werkzeug.wrappers import Response

from core.clock import today_local
from core.database import get_session
from media import storage
from media.portraits import public_rendition

blueprint = Blueprint("media", __name__)
ONE_YEAR = 31_536_000
FINGERPRINT = re.compile(r"[0-9a-f]{64}")
# A portrait's page for phones (the URL contract): the kiosk serves it, pages link to it.
PORTRAIT_PAGE = "/p/{slug}"


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


def image_url(sha256: str, image_format: str) -> str:
    """The public address of a rendition (what `image` serves)."""
    return url_for("media.image", sha256=sha256, extension=storage.EXTENSIONS[image_format])


def portrait_page_url(slug: str) -> str:
    return PORTRAIT_PAGE.format(slug=slug)
