"""Booking: offerings, availability, a union's request and private page, the JSON API, and
the staff's booking desk."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from booking import (
    api,
    blackout_desk,
    commands,
    decisions,
    demo,
    desk,
    feeds,
    itinerary,
    lost_link,
    offering_settings,
    private_routes,
    reminders,
    request_routes,
    routes,
    schema,
    timeline,
)
from core.backup import add_seed_tables
from core.demo import add_demo_content
from core.frame import add_navigation, add_staff_navigation
from core.settings import declare
from core.staff.audit import add_action_labels
from core.web import csrf, limit_request_body

# A request form or a JSON request is a few kilobytes; nothing here takes files.
BODY_LIMIT = 64 * 1024
# The tables a fresh start fills on its own (the demo offerings and their units, the
# calendar's version row, the feeds' generated secret): `restore` may replace them.
SEED_TABLES = ("offerings", "units", "calendar_version", "calendar_feed_secret")
# The union's pages: three modules adding their routes to one blueprint ("booking.*").
UNION_PAGES = (routes, request_routes, private_routes)
SETTINGS = {"RATELIMIT_BOOKING": ("BOOKING_RATE_LIMIT", "20/hour")}


def init_app(app: Flask) -> None:
    declare(app, SETTINGS)
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(api.blueprint)
    csrf.exempt(api.blueprint)  # JSON only and no cookie-based identity: nothing to forge
    for blueprint in (routes.blueprint, api.blueprint):
        limit_request_body(app, blueprint.name, BODY_LIMIT)
    app.cli.add_command(commands.group)
    add_navigation(app, "booking.index", _l("Book"))
    app.register_blueprint(desk.blueprint)
    add_staff_navigation(app, "desk.dashboard_page", _l("Dashboard"))
    add_action_labels(app, decisions.ACTION_LABELS)
    add_action_labels(app, lost_link.ACTION_LABELS)
    # The desk's other pages, in the staff navigation's order.
    for part in (timeline, blackout_desk, itinerary, feeds, offering_settings, reminders):
        part.init_app(app)
    schema.init_app(app)  # request_answers(booking), |phone and |phone_link
    add_demo_content(app, demo.seed_demo_offerings)
    add_seed_tables(app, SEED_TABLES)
