"""Languages: French by default, English one click away; the choice is remembered in a cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from core.header_text import breaks_a_header_line

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

blueprint = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def localized(thing: object, field: str) -> str:
    """The field in the current language (`title` reads `title_fr` or `title_en`)."""
    return getattr(thing, f"{field}_{current_language()}")


def local_path(target: str | None) -> str:
    """Only a path on this site may be returned to, never another host, and never a value
    that would break the Location header (a line break, any control character)."""
    # Browsers read a backslash as a slash: "/\\host" would leave the site.
    if not target or breaks_a_header_line(target) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@blueprint.get("/lang/<code>")
def switch_language(code: str) -> Response:
    response = redirect(local_path(request.args.get("next")), code=303)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "America/Montreal")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/translations"))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(localized=localized, current_language=current_language)
    app.register_blueprint(blueprint)
