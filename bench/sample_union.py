"""What a union answers on the request form, for the benchmarks' bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

A_UNION: dict[str, Any] = dict(
    organization="Syndicat des cols bleus",
    contact_name="Ana Pérez",
    email="ana@example.org",
    phone="514-383-2266",
    venue="Salle des métallos",
    address="1601 av. De Lorimier",
    city="Montréal",
    audience=80,
    language="fr",
)


def booking_fields(slug: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """A valid request for an offering of the demo (exhibitions answer the venue questions)."""
    fields: dict[str, Any] = dict(offering=slug, start=start, end=end, **A_UNION)
    if slug.startswith("expo"):
        setting = "outdoor" if slug == "expo-exterieure" else "indoor"
        fields.update(wall_metres=25, venue_setting=setting, secure_storage=True)
    return fields
