"""Languages: French by default, English one click away; the choice is remembered in a cookie.
Dates and label colons as each language writes them ("le 1er août", "Lieu :")."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from babel import Locale
from babel.dates import format_date, get_date_format, tokenize_pattern, untokenize_pattern
from flask import Blueprint, Flask, has_request_context, redirect, request
from flask_babel import Babel, get_locale, gettext
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from core.clock import LOCAL_TIMEZONE, as_utc
from core.header_text import breaks_a_header_line

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

blueprint = Blueprint("i18n", __name__)


def select_locale() -> str | None:
    if not has_request_context():  # a command or a job: Flask-Babel's default, French
        return None
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def _locale(language: str | Locale | None) -> Locale:
    if isinstance(language, Locale):
        return language
    if language:
        return Locale.parse(language)
    # Outside a request and outside force_locale(), in the site's own language.
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


NAMED_FORMATS = ("short", "medium", "long", "full")


def _first_of_month(pattern: str) -> str:
    """The pattern with "er" after a day number that stands before a month in words: French
    writes "1er août", "vendredi 1er janvier", but "01/08/2027" and "le 2 août"."""
    tokens = tokenize_pattern(pattern)
    month_in_words = any(
        kind == "field" and value[0] in "ML" and value[1] >= 3 for kind, value in tokens
    )
    if not month_in_words:
        return pattern
    marked: list[tuple[str, object]] = []
    for kind, value in tokens:
        marked.append((kind, value))
        if kind == "field" and value == ("d", 1):
            marked.append(("chars", "er"))
    return untokenize_pattern(marked)


def format_day(day: dt.date, format: str = "long", language: str | Locale | None = None) -> str:
    """A date in words for a sentence, in the current language (or `language`): "1er août
    2027", "vendredi 1er janvier 2027", "August 1, 2027". `format` is one of NAMED_FORMATS or
    a Babel pattern ("d MMMM"). The |dateformat filter of every template is this function; a
    datetime is written as its day in Montréal, as Flask-Babel's filter did."""
    if isinstance(day, dt.datetime):  # a moment (stored in UTC): its day in Montréal
        day = as_utc(day).astimezone(LOCAL_TIMEZONE).date()
    locale = _locale(language)
    pattern = get_date_format(format, locale).pattern if format in NAMED_FORMATS else format
    if locale.language == "fr" and day.day == 1:
        pattern = _first_of_month(pattern)
    return format_date(day, pattern, locale=locale)


def day_range(first: dt.date, last: dt.date, format: str = "long") -> str:
    """Days from `first` to `last` in words, or the one day when they are the same: a
    one-day training reads "vendredi 15 janvier 2027", never "… to the same day"."""
    if first == last:
        return format_day(first, format)
    return gettext(
        "%(start)s to %(end)s", start=format_day(first, format), end=format_day(last, format)
    )


def lazy_day(day: dt.date, format: str = "long") -> LazyString:
    """format_day, written when the text is shown: for a message made with lazy_gettext
    (a service's error) that the page then shows in its visitor's language."""
    return LazyString(format_day, day, format)


def with_colon(label: object, language: str | Locale | None = None) -> str:
    """A label and its colon: "Lieu :" in French (a no-break space, so the colon never starts
    a line), "Venue:" in English."""
    space = "\u00a0" if _locale(language).language == "fr" else ""
    return f"{label}{space}:"


@pass_eval_context
def _colon_filter(context: EvalContext, label: object) -> str:
    """`{{ _("Venue")|colon }}`: with_colon, escaped on HTML pages, as is in plain-text mail."""
    if context.autoescape:
        return escape(label) + Markup(with_colon("", get_locale()))
    return with_colon(label, get_locale())


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
        remember_language(response, code)
    return response


def remember_language(response: Response, code: str) -> None:
    """The language chosen, for every page after this one (select_locale reads it)."""
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "America/Montreal")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/translations"))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        localized=localized, current_language=current_language, day_range=day_range
    )
    # Flask-Babel's own filter writes "1 août" in French.
    app.jinja_env.filters.update(dateformat=format_day, colon=_colon_filter)
    app.register_blueprint(blueprint)
