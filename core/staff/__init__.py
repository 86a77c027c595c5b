"""The staff area's shell: accounts, sign-in and its throttles, the guards every /staff page
passes, the staff frame's navigation and the audit log. Features add their staff pages."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.frame import add_staff_navigation
from core.settings import declare
from core.staff import audit, commands, guards, routes
from core.staff.guards import admin_required

__all__ = ["admin_required", "init_app"]

SETTINGS = {
    "STAFF_LOGIN_ACCOUNT_FAILURES": ("STAFF_LOGIN_ACCOUNT_FAILURES", "5"),
    "STAFF_LOGIN_ADDRESS_FAILURES": ("STAFF_LOGIN_ADDRESS_FAILURES", "20"),
    "STAFF_LOGIN_LOCK_MINUTES": ("STAFF_LOGIN_LOCK_MINUTES", "15"),
}


def init_app(app: Flask) -> None:
    declare(app, SETTINGS)
    guards.init_app(app)
    app.register_blueprint(routes.blueprint)
    app.cli.add_command(commands.group)
    app.jinja_env.globals["audit_action"] = audit.action_label


def add_log_to_navigation(app: Flask) -> None:
    """The global log goes last in the staff navigation, after the features' pages."""
    add_staff_navigation(app, "staff.log", _l("Log"))
