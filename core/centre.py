"""Who runs the site: the centre's name and contact, set once and shown in the page frame,
the itinerary and wherever a union may need a person to write to or call."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
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

    @property
    def phone_link(self) -> str:
        """The phone as a tel: link that dials the extension too."""
        return tel_link(self.phone)


# How Québec offices write an extension ("poste 225"); phonenumbers reads "ext." and "x".
_EXTENSION_WORDS = re.compile(r"\b(?:poste|post\.|p\.|local)\s*(?=\d)", re.IGNORECASE)
HOME_REGION = "CA"


def tel_link(phone: str) -> str:
    """`tel:+15143832266,225` for "514-383-2266 poste 225": the comma makes a phone wait for
    the call to be answered, then dial the extension (many ignore RFC 3966's ";ext=")."""
    try:
        number = phonenumbers.parse(_EXTENSION_WORDS.sub("ext. ", phone), HOME_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")
    link = "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{link},{number.extension}" if number.extension else link


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
