"""What every page shares: fragment-or-page rendering, CSRF, body size limits, security
headers, error pages."""

from __future__ import annotations

import io
import logging
from typing import IO, Any

from flask import Flask, Request, current_app, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_compress import Compress
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter
from werkzeug.wrappers import Response

from core.database import is_contention
from core.limits import seconds_until_retry

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; "
    "frame-ancestors 'none'"
)

RETRY_SECONDS = 2
DEFAULT_BODY_LIMIT = 1024 * 1024
BODY_LIMITS = "ambulante_body_limits"

csrf = CSRFProtect()
ERROR_MESSAGES = {
    400: _l("The request could not be understood. Please check what you sent and try again."),
    403: _l("This page is for the centre's administrators."),
    404: _l("This page does not exist, or the link is no longer valid."),
    405: _l("This address does not accept that kind of request."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests from your address. Please try again later."),
    500: _l("Something went wrong on our side. Nothing was changed; please try again."),
    503: _l(
        "Many requests arrived at the same moment. Nothing was changed; please send yours again."
    ),
}
CSRF_MESSAGE = _l("This form has expired. Please reload the page and send it again.")

log = logging.getLogger(__name__)


def is_htmx() -> bool:
    """The request comes from HTMX (not a first visit, a reload or a browser without
    JavaScript)."""
    return request.headers.get("HX-Request") == "true"


def htmx_target() -> str:
    """The id of the element an HTMX request will swap; empty for any other request."""
    return request.headers.get("HX-Target", "") if is_htmx() else ""


def render_page_or_fragment(page: str, fragment: str, fragment_target: str, **context: Any) -> str:
    """The fragment when HTMX asks for the element it targets, the whole page otherwise
    (a first visit, a reload, a browser without JavaScript, a boosted navigation)."""
    wants_fragment = htmx_target() == fragment_target
    return render_template(fragment if wants_fragment else page, **context)


def limit_request_body(app: Flask, blueprint: str, max_bytes: int) -> None:
    """A blueprint's own limit on what a request may send (uploads need more than forms; a
    limit above the site's holds for signed-in staff, everyone else keeps the site's)."""
    app.extensions.setdefault(BODY_LIMITS, {})[blueprint] = max_bytes


def _apply_body_limit() -> None:
    # Registered before CSRFProtect's check, which is the first to read a form body.
    limit = current_app.extensions.get(BODY_LIMITS, {}).get(request.blueprint)
    if limit is None:
        return
    # A limit above the site's is for signed-in staff only (uploads): nobody else has a
    # request of that size read, and held in memory (RequestKeepingFilesInMemory).
    if limit > current_app.config["MAX_CONTENT_LENGTH"] and not current_user.is_authenticated:
        return
    request.max_content_length = limit


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, **extra: Any) -> tuple[Response | str, int]:
    if is_api_request():
        return jsonify(error=str(message), **extra), status
    return render_template("core/error.html", status=status, message=message, **extra), status


def _on_http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status == 429:
        return _on_rate_limited(error)
    message = ERROR_MESSAGES.get(status, error.description or "")
    return error_response(status, message)


def _on_rate_limited(error: HTTPException) -> Any:
    """A limit may draw its own page (Flask-Limiter's on_breach: the request form, kept);
    otherwise the site's answer, with when to come back."""
    if error.response is not None:
        return error.response
    return retry_later(429, seconds_until_retry())


def retry_later(status: int, seconds: int) -> tuple[Response, int]:
    """An error page (or JSON) that says when to come back, in words and in Retry-After."""
    body, status = error_response(status, ERROR_MESSAGES[status], retry_after=seconds)
    response = make_response(body, status)
    response.headers["Retry-After"] = str(seconds)
    return response, status


def _on_unknown_host(_error: SecurityError) -> Any:
    """A Host this site does not answer to (TRUSTED_HOSTS): no page can be drawn for it, as
    no link can be built on it."""
    return Response("Unknown host.\n", status=400, mimetype="text/plain")


def _on_csrf_error(_error: CSRFError) -> Any:
    return error_response(400, CSRF_MESSAGE)


def _on_database_busy(error: OperationalError) -> Any:
    """Contention that outlasted the waits (a lock, a deadlock): nothing was written, so the
    person may simply send again. Anything else from the database is an unexpected error."""
    if is_contention(error):
        return retry_later(503, RETRY_SECONDS)
    return _on_unexpected_error(error)


def _on_unexpected_error(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _on_http_error(error)
    log.exception("unexpected error", exc_info=error)
    return error_response(500, ERROR_MESSAGES[500])


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # A private link (its token is in the path) never leaves for another site, while a
    # form posted over https still carries the same-origin Referer CSRF protection checks.
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        # The same address answers a page or an HTMX fragment: caches must tell them apart.
        response.vary.update(("HX-Request", "HX-Target"))
    if current_app.config["PUBLIC_URL"].startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


# The largest id an Integer primary key holds (PostgreSQL's int4; SQLite's is larger).
LARGEST_ID = 2**31 - 1


class PathSegmentConverter(UnicodeConverter):
    """A `<name>` in an address: no control character, so a NUL never reaches a query
    (PostgreSQL refuses it in text) and no reference, slug or token is named with one."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]", 1)


class RowIdConverter(IntegerConverter):
    """An `<int:name>` in an address names a row: a number no id column holds finds
    nothing (404) instead of overflowing the database's integer."""

    def __init__(self, map: Map, *args: Any, max: int = LARGEST_ID, **kwargs: Any) -> None:
        super().__init__(map, *args, max=max, **kwargs)


class RequestKeepingFilesInMemory(Request):
    """Files sent with a form are held in memory, never spooled to a temporary file the way
    Werkzeug does past 500 kB: a photo still carrying where someone lives is never written
    to disk before it is cleaned. The body limits (DEFAULT_BODY_LIMIT, a blueprint's own)
    bound what is held."""

    def _get_file_stream(self, *_args: Any, **_kwargs: Any) -> IO[bytes]:
        return io.BytesIO()


class ViewMixesReadsAndWrites(RuntimeError):
    """A view answering GET (so HEAD) and POST: HEAD would reach the code that writes."""


def refuse_views_mixing_reads_and_writes(app: Flask) -> None:
    """Only POST changes anything: a view that writes answers POST alone, so GET and HEAD
    (which Flask adds to every GET rule) never reach it. Checked when the app is built."""
    for rule in app.url_map.iter_rules():
        methods = rule.methods or set()
        if "POST" in methods and methods & {"GET", "HEAD"}:
            raise ViewMixesReadsAndWrites(
                f"{rule.endpoint} ({rule.rule}) answers {sorted(methods)}: give POST a view "
                "of its own"
            )


COMPRESSED_TYPES = ["text/css", "text/javascript", "application/javascript", "image/svg+xml"]


def init_app(app: Flask) -> None:
    # Before any feature adds its routes: each rule takes its converters when added.
    converters = app.url_map.converters
    converters["default"] = converters["string"] = PathSegmentConverter
    converters["int"] = RowIdConverter
    app.request_class = RequestKeepingFilesInMemory
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True)
    if app.config["MAX_CONTENT_LENGTH"] is None:  # Flask's default: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_BODY_LIMIT
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form left open all day still works
    app.before_request(_apply_body_limit)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _on_csrf_error)
    app.register_error_handler(SecurityError, _on_unknown_host)
    app.register_error_handler(HTTPException, _on_http_error)
    app.register_error_handler(InternalServerError, _on_unexpected_error)
    app.register_error_handler(OperationalError, _on_database_busy)
    app.register_error_handler(Exception, _on_unexpected_error)
    app.after_request(_security_headers)
    # Scripts and stylesheets travel compressed (htmx alone is 52 KB). Pages do not: they
    # carry CSRF tokens and private links beside what people type (the BREACH attack).
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    Compress(app)
