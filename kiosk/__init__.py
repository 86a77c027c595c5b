"""The kiosk: screens, the slideshow that plays at the venue, the visitor page a portrait's
QR code opens, QR short links and their scan counts."""

from __future__ import annotations

from flask import Flask

from core.backup import add_seed_tables
from core.settings import declare
from kiosk import player, printables, reports, screen_desk, shortlinks, target_desk, visitor

SETTINGS = {
    "DONATE_URL": ("DONATE_URL", "https://www.ciso.qc.ca/outils/faites-un-don/"),
    "SIGNUP_URL": ("SIGNUP_URL", "https://www.ciso.qc.ca/outils/nouvelle-page-dinscription/"),
    # The centre's dues form: its target is left out of every screen while this is unset.
    "MEMBERSHIP_URL": ("MEMBERSHIP_URL", ""),
    # How often a screen looks for a new bundle, and reports what it shows.
    "KIOSK_REFRESH_SECONDS": ("KIOSK_REFRESH_SECONDS", "300"),
    "KIOSK_HEARTBEAT_SECONDS": ("KIOSK_HEARTBEAT_SECONDS", "60"),
}


def init_app(app: Flask) -> None:
    declare(app, SETTINGS)
    # The default screen and the starting targets, made at the first start.
    add_seed_tables(app, ("screens", "scan_targets", "screen_targets"))
    for key in ("KIOSK_REFRESH_SECONDS", "KIOSK_HEARTBEAT_SECONDS"):
        app.config[key] = int(app.config[key])
    app.register_blueprint(player.blueprint)
    app.register_blueprint(shortlinks.blueprint)
    visitor.init_app(app)
    screen_desk.init_app(app)
    target_desk.init_app(app)
    reports.init_app(app)
    printables.init_app(app)
