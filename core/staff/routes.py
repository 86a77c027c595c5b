"""Sign in, sign out, and the global audit log."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from core.clock import now_utc
from core.database import get_session
from core.frame import first_staff_page
from core.i18n import local_path
from core.staff import audit
from core.staff.accounts import end_sessions
from core.staff.forms import SignInForm
from core.staff.guards import StaffMember, is_staff_path
from core.staff.signin import SignInRefused
from core.staff.signin import sign_in as check_sign_in
from core.staff.throttle import ThrottlePolicy

blueprint = Blueprint("staff", __name__, url_prefix="/staff")


def throttle_policy() -> ThrottlePolicy:
    config = current_app.config
    return ThrottlePolicy(
        account_failures=int(config["STAFF_LOGIN_ACCOUNT_FAILURES"]),
        address_failures=int(config["STAFF_LOGIN_ADDRESS_FAILURES"]),
        lock=dt.timedelta(minutes=int(config["STAFF_LOGIN_LOCK_MINUTES"])),
    )


def _return_to(target: str | None) -> str:
    """Back where the person was going: a staff page of this site, nothing else."""
    path = local_path(target)
    return path if is_staff_path(path.split("?")[0]) else first_staff_page()


def _login_page(form: SignInForm, status: int = 200, **context: object) -> tuple[str, int]:
    return render_template("core/login.html", form=form, **context), status


@blueprint.get("/login")
def login() -> tuple[str, int]:
    form = SignInForm(formdata=None, next=local_path(request.args.get("next")))
    return _login_page(form)


@blueprint.post("/login")
def sign_in() -> Response | tuple[str, int]:
    form = SignInForm()
    if not form.validate():
        return _login_page(form, 422)
    try:
        user = check_sign_in(
            get_session(),
            form.email.data,
            form.password.data,
            request.remote_addr or "unknown",
            throttle_policy(),
            current_app.config["SECRET_KEY"],
            now_utc(),
        )
    except SignInRefused as refused:
        return _refused(form, refused)
    session.clear()  # a session fixed before sign-in is not the one signed in
    login_user(StaffMember.of(user))
    return redirect(_return_to(form.next.data), code=303)


def _refused(form: SignInForm, refused: SignInRefused) -> Response:
    form.password.data = ""
    if refused.until is None:
        page, status = _login_page(form, 401, problem=_("Wrong email or password."))
        return make_response(page, status)
    problem = _(
        "Too many failed sign-ins. Signing in is locked until %(time)s; try again then.",
        time=format_time(refused.until, "short"),
    )
    page, status = _login_page(form, 429, problem=problem)
    response = make_response(page, status)
    wait = refused.until - now_utc()
    response.headers["Retry-After"] = str(max(1, int(wait.total_seconds()) + 1))
    return response


@blueprint.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        end_sessions(get_session(), current_user.id)
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("staff.login"), code=303)


@blueprint.get("/log")
def log() -> str:
    before = request.args.get("before", "")
    if before and not (before.isascii() and before.isdigit() and len(before) <= 18):
        abort(400)
    entries, next_before = audit.recent_events(get_session(), int(before) if before else None)
    return render_template("core/audit_log.html", entries=entries, next_before=next_before)
