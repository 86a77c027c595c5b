"""The application factory: the shell every feature stands on (settings, data dir, database,
languages, security, mail, page frame), then each feature the composition root names."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import data_dir, database, frame, health, i18n, limits, migrate, outbox, settings, web

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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

    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx or a load balancer: the client's address (for rate limits) and the
        # scheme come from the proxies' X-Forwarded-* headers.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["PUBLIC_URL"].startswith("https://"):
        app.config.update(SESSION_COOKIE_SECURE=True)
    database.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    limits.init_app(app)
    frame.init_app(app)
    app.register_blueprint(health.blueprint)
    outbox.register_command(app)
    migrate.register_commands(app)

    for feature in features:
        feature.init_app(app)

    migrate.prepare_database(app)
    return app
