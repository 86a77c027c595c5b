"""A screen's bundle: everything the slideshow needs to play on its own (slides, captions,
image addresses at every size, QR codes, the page and its files), named by a version that
is the hash of its content, so a screen knows when there is something new to fetch."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from sqlalchemy.orm import Session

from kiosk.links import portrait_purpose, short_url
from kiosk.models import Screen
from kiosk.screens import links_of_screen, portraits_on, targets_on
from kiosk.targets import destinations_of
from kiosk.wording import words_in
from media.models import LANGUAGES, Portrait
from media.public import image_url

SHELL_FILES = ("kiosk/kiosk.js", "kiosk/kiosk.css")


def screen_bundle(
    session: Session, screen: Screen, today: dt.date, now: dt.datetime
) -> dict[str, Any]:
    config = current_app.config
    portraits = portraits_on(session, screen, today)
    targets = targets_on(screen, destinations_of(config))
    links = links_of_screen(session, screen, portraits, now)
    public_url = config["PUBLIC_URL"]

    def code(purpose: str) -> dict[str, str]:
        link_code = links[purpose].code
        return {
            "url": short_url(public_url, link_code),
            "qr": url_for("kiosk.qr_image", code=link_code),
        }

    content = {
        "screen": {"slug": screen.slug, "name": screen.name},
        "languages": screen.language_order,
        "languages_together": screen.languages_together,
        "seconds_per_slide": screen.seconds_per_slide,
        "refresh_seconds": config["KIOSK_REFRESH_SECONDS"],
        "heartbeat_seconds": config["KIOSK_HEARTBEAT_SECONDS"],
        "heartbeat_url": url_for("kiosk.heartbeat", slug=screen.slug),
        # The kiosk's own words, and each target's label under its key.
        "words": {
            language: {
                **words_in(language),
                **{target.key: target.label(language) for target in targets},
            }
            for language in LANGUAGES
        },
        "codes": [{"target": target.key, **code(target.key)} for target in targets],
        "slides": [
            {**_slide(portrait), "story": code(portrait_purpose(portrait))}
            for portrait in portraits
        ],
        "shell": shell_urls(screen),
    }
    version = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
    return {"version": version, **content}


def _slide(portrait: Portrait) -> dict[str, Any]:
    place = ", ".join(part for part in (portrait.place, portrait.country) if part)
    images: dict[str, list[dict[str, Any]]] = {}
    for rendition in portrait.renditions:
        images.setdefault(rendition.format, []).append(
            {
                "width": rendition.width,
                "height": rendition.height,
                "url": image_url(rendition.sha256, rendition.format),
            }
        )
    return {
        "portrait": portrait.slug,
        "captions": {language: getattr(portrait, f"caption_{language}") for language in LANGUAGES},
        "alts": {language: getattr(portrait, f"alt_{language}") for language in LANGUAGES},
        "place": place,
        "credit": portrait.credit,
        "images": images,
    }


def shell_urls(screen: Screen) -> list[str]:
    """The page and its files, each file's address carrying its content's hash: a new
    release of the slideshow is a new bundle too."""
    pages = [url_for("kiosk.player", slug=screen.slug)]
    if screen.is_default:
        pages.append(url_for("kiosk.default_player"))
    return pages + [
        url_for("static", filename=name, v=_fingerprint(current_app.static_folder, name))
        for name in SHELL_FILES
    ]


@cache
def _fingerprint(static_folder: str | None, name: str) -> str:
    return hashlib.sha256((Path(static_folder or "") / name).read_bytes()).hexdigest()[:12]
