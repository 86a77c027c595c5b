"""The application factory: the shell every feature stands on (settings, data dir, database,
languages, security, mail, page frame), then each feature the composition root names."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import (
    backup,
    centre,
    data_dir,
    database,
    frame,
    health,
    i18n,
    limits,
    migrate,
    outbox,
    settings,
    staff,
    web,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where `python run.py` serves by default: the links of a laptop's demo point there.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
LOOPBACK_NAMES = ["localhost", "127.0.0.1"]  # a health check from the machine itself


class PublicUrlMissing(RuntimeError):
    """Mail would leave with links, and no configured address to build them on."""


class Feature(Protocol):
    """A feature package: its init_app registers blueprints, commands, settings, navigation
    and demo content, and importing it registers its models."""

    def init_app(self, app: Flask) -> None: ...


def build_app(features: Iterable[Feature], config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        root_path=str(PROJECT_ROOT),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings.from_environment())
    app.config.update(config or {})
    data_dir.prepare(app.config["DATA_DIR"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = data_dir.secret_key(app.config["DATA_DIR"])

    _settle_public_url(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx or a load balancer: the client's address (for rate limits), the
        # scheme and the host come from the proxies' X-Forwarded-* headers. The host is
        # still checked against TRUSTED_HOSTS, and no link is ever built on it.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    database.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    limits.init_app(app)
    frame.init_app(app)
    centre.init_app(app)
    staff.init_app(app)
    app.register_blueprint(health.blueprint)
    outbox.register_command(app)
    migrate.register_commands(app)
    backup.register_commands(app)

    for feature in features:
        feature.init_app(app)
    staff.add_log_to_navigation(app)
    web.refuse_views_mixing_reads_and_writes(app)

    migrate.prepare_database(app)
    return app


def _settle_public_url(app: Flask) -> None:
    """Every link in a message, a calendar file or a QR code is built on PUBLIC_URL, never on
    a request's Host header; requests naming another host are refused (TRUSTED_HOSTS)."""
    url = app.config["PUBLIC_URL"]
    if not url:
        if app.config["SMTP_HOST"]:
            raise PublicUrlMissing(
                "Set AMBULANTE_PUBLIC_URL (e.g. https://ambulante.example.org): messages "
                "sent over SMTP carry links to the site."
            )
        url = DEFAULT_PUBLIC_URL
    app.config["PUBLIC_URL_IS_DEFAULT"] = not app.config["PUBLIC_URL"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublicUrlMissing(f"AMBULANTE_PUBLIC_URL must be like https://host, not {url!r}")
    app.config["PUBLIC_URL"] = url.rstrip("/")
    if app.config.get("ANSWER_ANY_HOST"):  # run.py on every interface, no public URL set
        trusted_hosts = None
    else:
        trusted_hosts = [parts.hostname, *LOOPBACK_NAMES]
    app.config["TRUSTED_HOSTS"] = trusted_hosts
    if parts.scheme == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
