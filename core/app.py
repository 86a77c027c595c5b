"""The application factory: settings, database, languages, security, and the feature blueprints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from booking import api, routes
from booking.demo import seed_demo_offerings
from core import database, health, i18n, limits, outbox, settings, web
from core.migrate import upgrade_to_latest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_REQUEST_BYTES = 1024 * 1024

csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        root_path=str(PROJECT_ROOT),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings.from_environment())
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, WTF_CSRF_TIME_LIMIT=None)
    app.config.update(config or {})

    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx or a load balancer: the client's address (for rate limits) and the
        # scheme come from the proxies' X-Forwarded-* headers.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["PUBLIC_URL"].startswith("https://"):
        app.config.update(SESSION_COOKIE_SECURE=True)
    database.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    limits.init_app(app)
    web.init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(api.blueprint)
    csrf.exempt(api.blueprint)  # JSON only and no cookie-based identity: nothing to forge

    outbox.register_command(app)

    upgrade_to_latest(database.engine_of(app))
    if app.config["SEED_DEMO"]:
        with database.session_for(app) as session:
            seed_demo_offerings(session)
    return app
