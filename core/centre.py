"""Who runs the site: the centre's name and contact, set once and shown in the page frame,
the itinerary and wherever a union may need a person to write to or call."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from core.settings import declare

SETTINGS = {
    "CENTRE_NAME": ("CENTRE_NAME", "Centre international de solidarité ouvrière"),
    "CENTRE_SHORT_NAME": ("CENTRE_SHORT_NAME", "CISO"),
    "CENTRE_CITY": ("CENTRE_CITY", "Montréal"),
    "CENTRE_ADDRESS": ("CENTRE_ADDRESS", ""),
    "CENTRE_EMAIL": ("CENTRE_EMAIL", "ciso@ciso.qc.ca"),
    "CENTRE_PHONE": ("CENTRE_PHONE", "514-383-2266 poste 225"),
}


@dataclass(frozen=True)
class Centre:
    name: str
    short_name: str
    city: str
    address: str  # street address; empty until configured
    email: str
    phone: str  # as configured; shown as people write it


def centre() -> Centre:
    config = current_app.config
    return Centre(
        name=config["CENTRE_NAME"],
        short_name=config["CENTRE_SHORT_NAME"],
        city=config["CENTRE_CITY"],
        address=config["CENTRE_ADDRESS"],
        email=config["CENTRE_EMAIL"],
        phone=config["CENTRE_PHONE"],
    )


def init_app(app: Flask) -> None:
    declare(app, SETTINGS)
    app.jinja_env.globals["centre"] = centre
