"""The booking desk in the staff area: the dashboard, a booking's page, and the decisions,
moves and notes made there. Routes parse, call booking.desk_flow or booking.decisions, and
answer with the page (or, for HTMX, the part of it that changed)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from booking import dashboard, decisions
from booking.desk_flow import decide_and_tell, move_and_tell
from booking.desk_forms import DecisionForm, MoveForm, NoteForm
from booking.errors import BookingNotFound, CalendarConflict, InvalidBooking, StatusChangeRefused
from booking.models import Booking, BookingNote, Unit
from booking.routes import mail_settings
from booking.service import booking_by_reference
from booking.status import BookingStatus
from core.clock import now_utc, today_local
from core.database import get_session
from core.staff import audit
from core.web import htmx_target

blueprint = Blueprint("desk", __name__, url_prefix="/staff")

DECISION_NOTICES = {
    BookingStatus.CONFIRMED: lambda ref: _(
        "%(reference)s is approved; the union is told.", reference=ref
    ),
    BookingStatus.DECLINED: lambda ref: _(
        "%(reference)s is declined; its dates are free.", reference=ref
    ),
    BookingStatus.CANCELLED: lambda ref: _(
        "%(reference)s is cancelled; its dates are free.", reference=ref
    ),
    BookingStatus.COMPLETED: lambda ref: _("%(reference)s is marked returned.", reference=ref),
}


@blueprint.get("/")
def dashboard_page() -> str:
    session, today = get_session(), today_local()
    return render_template(
        "booking/desk/dashboard.html",
        pending=dashboard.pending_requests(session, today),
        upcoming=dashboard.upcoming(session, today),
        whereabouts=dashboard.whereabouts(session, today),
        rule_breaks=dashboard.holds_breaking_rules(session, today),
        today=today,
        waiting_days=dashboard.WAITING_TOO_LONG_DAYS,
        decision_form=DecisionForm(formdata=None),
    )


def _booking_or_404(reference: str) -> Booking:
    try:
        return booking_by_reference(get_session(), reference)
    except BookingNotFound:
        abort(404)


def _detail_context(booking: Booking, **forms: object) -> dict[str, object]:
    session = get_session()
    move_form = forms.pop("move_form", None) or MoveForm(
        formdata=None, start=booking.start_date, end=booking.end_date, unit=booking.unit_id
    )
    move_form.unit.choices = _unit_choices(booking)
    return {
        "booking": booking,
        "notes": session.scalars(
            select(BookingNote).where(BookingNote.booking_id == booking.id).order_by(BookingNote.id)
        ).all(),
        "entries": audit.events_of(session, "booking", booking.reference),
        "decision_form": forms.pop("decision_form", None) or DecisionForm(formdata=None),
        "move_form": move_form,
        "note_form": forms.pop("note_form", None) or NoteForm(formdata=None),
        **forms,
    }


def _unit_choices(booking: Booking) -> list[SelectChoice]:
    units = get_session().scalars(
        select(Unit)
        .where(Unit.offering_id == booking.offering_id, Unit.active)
        .order_by(Unit.position, Unit.id)
    )
    return [SelectChoice(unit.id, unit.name) for unit in units]


def _detail(booking: Booking, status: int = 200, **forms: object) -> tuple[str, int]:
    """The booking's page; its main part alone when the calendar asks for it in place."""
    template = (
        "booking/desk/_booking.html"
        if htmx_target() == "booking-detail"
        else "booking/desk/booking.html"
    )
    return render_template(template, **_detail_context(booking, **forms)), status


@blueprint.get("/bookings/<reference>")
def booking_page(reference: str) -> tuple[str, int]:
    return _detail(_booking_or_404(reference))


@blueprint.post("/bookings/<reference>/decision")
def decide(reference: str) -> Response | tuple[str, int]:
    booking = _booking_or_404(reference)
    form = DecisionForm()
    if not form.validate():
        return _decision_refused(booking, form, 422)
    wanted = BookingStatus(form.decision.data)
    session = get_session()
    try:
        booking = decide_and_tell(
            session,
            mail_settings(),
            reference,
            wanted,
            form.message.data or "",
            current_user.email,
            now_utc(),
        )
    except StatusChangeRefused:
        session.rollback()
        form.decision.errors = [
            _("This booking is %(status)s: that decision no longer applies.", status=booking.status)
        ]
        return _decision_refused(_booking_or_404(reference), form, 409)
    except InvalidBooking as error:
        form.message.errors = list(map(str, error.errors.values()))
        return _decision_refused(booking, form, 422)
    notice = DECISION_NOTICES[wanted](booking.reference)
    if htmx_target().startswith("pending-"):
        return render_template(
            "booking/desk/_pending_decided.html", booking=booking, notice=notice
        ), 200
    flash(notice)
    return redirect(url_for("desk.booking_page", reference=reference), code=303)


def _decision_refused(booking: Booking, form: DecisionForm, status: int) -> tuple[str, int]:
    if htmx_target().startswith("pending-"):
        item = dashboard.PendingRequest(booking, 0, False, None, None)
        return render_template(
            "booking/desk/_pending_row.html",
            item=item,
            decision_form=form,
            waiting_days=dashboard.WAITING_TOO_LONG_DAYS,
        ), status
    return _detail(booking, status, decision_form=form)


@blueprint.post("/bookings/<reference>/move")
def move(reference: str) -> Response | tuple[str, int]:
    booking = _booking_or_404(reference)
    form = MoveForm()
    form.unit.choices = _unit_choices(booking)
    if not form.validate():
        return _detail(booking, 422, move_form=form)
    try:
        move_and_tell(
            get_session(),
            mail_settings(),
            reference,
            form.start.data,
            form.end.data,
            form.unit.data,
            current_user.email,
            now_utc(),
        )
    except InvalidBooking as error:
        for name, message in error.errors.items():
            getattr(form, name, form.start).errors = [str(message)]
        return _detail(_booking_or_404(reference), 422, move_form=form)
    except CalendarConflict as conflict:
        form.start.errors = [_("Those days are taken by %(holder)s.", holder=conflict.holder)]
        return _detail(_booking_or_404(reference), 409, move_form=form)
    flash(_("%(reference)s has new dates; the union is told.", reference=reference))
    return redirect(url_for("desk.booking_page", reference=reference), code=303)


@blueprint.post("/bookings/<reference>/notes")
def add_note(reference: str) -> Response | tuple[str, int]:
    booking = _booking_or_404(reference)
    form = NoteForm()
    if not form.validate():
        return _detail(booking, 422, note_form=form)
    session = get_session()
    try:
        decisions.add_note(session, reference, form.text.data, current_user.email, now_utc())
    except InvalidBooking as error:
        form.text.errors = list(map(str, error.errors.values()))
        return _detail(booking, 422, note_form=form)
    session.commit()
    flash(_("Note added."))
    return redirect(url_for("desk.booking_page", reference=reference) + "#notes", code=303)
