"""`flask --app run booking …`: what staff do with bookings from a shell (or cron)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from booking.errors import BookingNotFound
from booking.submit import send_new_link
from core.clock import now_utc
from core.database import session_for
from core.outbox import MailSettings

group = AppGroup("booking", help="Bookings.")


@group.command("send-link")
@click.argument("reference")
def send_link(reference: str) -> None:
    """Email the union of booking REFERENCE a new private link; the old link stops working."""
    config = current_app.config
    if config["PUBLIC_URL_IS_DEFAULT"]:
        raise click.ClickException(
            "Set AMBULANTE_PUBLIC_URL (e.g. https://ambulante.example.org): "
            "the link in the email is built on it."
        )
    with session_for(current_app) as session:
        try:
            booking = send_new_link(session, MailSettings.from_config(config), reference, now_utc())
        except BookingNotFound as error:
            raise click.ClickException(f"No booking has the reference {reference}.") from error
        click.echo(f"A new private link for {booking.reference} was sent to {booking.email}.")
