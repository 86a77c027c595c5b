"""Portraits: ingest, renditions, consent, the staff portrait library, and the pages and
files the public sees of them."""

from __future__ import annotations

from flask import Flask

from core.backup import add_seed_folder, add_seed_tables
from core.demo import add_demo_content
from media import commands, demo, library, public, storage

# The tables a first start fills with the demo portraits: `restore` may replace them.
SEED_TABLES = ("portraits", "portrait_renditions", "rendition_jobs", "portrait_library_version")


def init_app(app: Flask) -> None:
    app.register_blueprint(public.blueprint)
    app.jinja_env.globals["public_image_url"] = public.image_url
    app.jinja_env.globals["portrait_page_url"] = public.portrait_page_url
    library.init_app(app)
    commands.init_app(app)
    add_demo_content(app, lambda session: demo.seed_demo_portraits(session, app.config["DATA_DIR"]))
    add_seed_tables(app, SEED_TABLES)
    add_seed_folder(app, storage.MEDIA_DIR)
