"""Who may see the staff area: every /staff page needs a signed-in account (the login page
aside), and views marked `admin_required` need an administrator. Checked for every request
in one place, so a new staff page is guarded without a line of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from werkzeug.wrappers import Response

from core.database import get_session
from core.staff.models import StaffUser

STAFF_PREFIX = "/staff"
OPEN_ENDPOINTS = frozenset({"staff.login", "staff.sign_in"})
ADMIN_ONLY = "ambulante_admin_only"

login_manager = LoginManager()
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class StaffMember(UserMixin):
    """The signed-in account as the request sees it (no database session attached)."""

    id: int
    email: str
    is_admin: bool
    generation: int

    @classmethod
    def of(cls, user: StaffUser) -> StaffMember:
        return cls(user.id, user.email, user.is_admin, user.session_generation)

    def get_id(self) -> str:
        # The generation in the session: a new password or a disabled account ends sessions.
        return f"{self.id}.{self.generation}"


def admin_required(view: View) -> View:
    """Mark a staff view as administrators' only; plain staff get 403."""
    setattr(view, ADMIN_ONLY, True)
    return view


def is_admin_only(app: Flask, endpoint: str | None) -> bool:
    view = app.view_functions.get(endpoint or "")
    return bool(getattr(view, ADMIN_ONLY, False))


def is_staff_path(path: str) -> bool:
    return path == STAFF_PREFIX or path.startswith(STAFF_PREFIX + "/")


@login_manager.user_loader
def _load_member(session_id: str) -> StaffMember | None:
    user_id, _, generation = session_id.partition(".")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = get_session().get(StaffUser, int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return StaffMember.of(user)


def _guard_staff_pages() -> Response | None:
    if not is_staff_path(request.path) or request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    if is_admin_only(current_app, request.endpoint) and not current_user.is_admin:
        abort(403)
    return None


def _never_cache_staff_pages(response: Response) -> Response:
    """Staff pages show unions' contact details: no browser or proxy keeps a copy."""
    if is_staff_path(request.path):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.before_request(_guard_staff_pages)
    app.after_request(_never_cache_staff_pages)
