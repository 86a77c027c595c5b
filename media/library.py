"""The staff portrait library: the portraits in the screens' order with their state and
consent, uploads of several files at once, what staff write about each portrait, its place in
the order (buttons or drag and drop), and its deletion. Routes parse, call
media.library_service or media.portraits, and answer with the page (or, for HTMX, the part of
it that changed)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from core.clock import now_utc, today_local
from core.database import get_session
from core.frame import add_staff_navigation
from core.staff import audit
from core.staff.audit import add_action_labels
from core.web import (
    error_response,
    htmx_target,
    is_htmx,
    limit_request_body,
    render_page_or_fragment,
)
from media import jobs, library_service, storage
from media.ingest import MAX_UPLOAD_BYTES
from media.library_forms import MOVE_MESSAGE, MoveForm, PortraitForm
from media.library_service import (
    MEBIBYTE,
    UPLOAD_BODY_LIMIT,
    FileResult,
    InvalidPortraitText,
    Outcome,
)
from media.models import Portrait
from media.portraits import (
    SUBJECT,
    PortraitNotFound,
    delete_portrait,
    move_portrait,
    portrait_by_id,
    reorder,
    staff_portraits,
)

blueprint = Blueprint("portraits", __name__, url_prefix="/staff")

ACTION_LABELS = {
    "portrait added": _l("portrait added"),
    "portrait changed": _l("portrait changed"),
    "portrait moved": _l("portrait moved"),
    "portraits reordered": _l("portraits reordered"),
    "portrait deleted": _l("portrait deleted"),
}
LIST_ID = "portrait-list"
RESULTS_ID = "upload-results"
NAME_SHOWN = 80  # characters of a file's name kept in a message
# Lines about single files after a plain upload: they travel in the session cookie (4 kB at
# most, with the sign-in), so the rest are only counted.
DETAILS_FLASHED = 8


def _data_dir() -> Path:
    return current_app.config["DATA_DIR"]


def _portrait_or_404(portrait_id: int) -> Portrait:
    try:
        return portrait_by_id(get_session(), portrait_id)
    except PortraitNotFound:
        abort(404)


def _list_context(**extra: Any) -> dict[str, Any]:
    today = today_local()
    portraits = staff_portraits(get_session())
    consent = {p.id: library_service.consent_state(p, today) for p in portraits}
    return {"portraits": portraits, "consent": consent, "today": today, **extra}


def _page_context(**extra: Any) -> dict[str, Any]:
    return _list_context(
        file_limit_mb=MAX_UPLOAD_BYTES // MEBIBYTE,
        upload_limit_mb=UPLOAD_BODY_LIMIT // MEBIBYTE,
        **extra,
    )


@blueprint.get("/portraits")
def library() -> str:
    return render_template("media/library/library.html", **_page_context(results=None))


def _file_name(name: str | None) -> str:
    """The name as the person's computer gave it, without any folders, kept short."""
    name = PurePosixPath((name or "").replace("\\", "/")).name
    return name if len(name) <= NAME_SHOWN else name[: NAME_SHOWN - 1] + "…"


@blueprint.post("/portraits")
def upload() -> Response | tuple[str, int]:
    files = [file for file in request.files.getlist("files") if file.filename]
    if not files:
        problem = _("Choose one or more images to upload first.")
        return _upload_answer([], problem), 422
    session, results = get_session(), []
    for file in files:
        results.append(
            library_service.add_upload(
                session,
                _data_dir(),
                _file_name(file.filename),
                file.stream,
                current_user.email,
                now_utc(),
            )
        )
    # The answer is written before the worker is woken: it says what was true when each file
    # came in (processing), not whatever the worker has finished meanwhile.
    answer = _upload_answer(results) if is_htmx() else None
    if any(result.outcome == Outcome.ADDED for result in results):
        jobs.wake_worker(current_app)
    if answer is not None:
        return answer, 200
    _flash_results(results)
    return redirect(url_for("portraits.library"), code=303)


def _upload_answer(results: list[FileResult], problem: str | None = None) -> str:
    """HTMX: what became of each file, and the list with the new portraits (out of band).
    Without JavaScript: the library page."""
    if is_htmx():
        return render_template(
            "media/library/_upload_answer.html", **_list_context(results=results, problem=problem)
        )
    return render_template(
        "media/library/library.html", **_page_context(results=results, problem=problem)
    )


def _flash_results(results: list[FileResult]) -> None:
    """After a plain upload (303), the library says what became of the files: the added ones
    are in its list, the others are named with why."""
    flash(_summary(results))
    noteworthy = [result for result in results if result.outcome != Outcome.ADDED]
    for result in noteworthy[:DETAILS_FLASHED]:
        flash(_result_line(result))
    if len(noteworthy) > DETAILS_FLASHED:
        flash(
            _(
                "And %(count)s more files skipped or refused.",
                count=len(noteworthy) - DETAILS_FLASHED,
            )
        )


def _summary(results: list[FileResult]) -> str:
    count = {outcome: sum(r.outcome == outcome for r in results) for outcome in Outcome}
    return _(
        "Added %(added)s, skipped %(skipped)s, refused %(refused)s.",
        added=count[Outcome.ADDED],
        skipped=count[Outcome.SKIPPED],
        refused=count[Outcome.REFUSED],
    )


def _result_line(result: FileResult) -> str:
    if result.outcome == Outcome.SKIPPED:
        return _(
            "%(name)s: skipped, already in the library as %(slug)s.",
            name=result.name,
            slug=result.slug,
        )
    return _("%(name)s: refused. %(reason)s", name=result.name, reason=result.reason)


@blueprint.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> tuple[str, int] | Any:
    """Uploads say what the limit is, in the results HTMX shows, or on the error page."""
    message = _(
        "What you sent is over %(size)s MB in all: send the files a few at a time.",
        size=UPLOAD_BODY_LIMIT // MEBIBYTE,
    )
    if htmx_target() == RESULTS_ID:
        return render_template(
            "media/library/_upload_results.html", results=[], problem=message
        ), 413
    return error_response(413, message)


def _list_answer(status: int = 200, **extra: Any) -> tuple[str, int]:
    return render_page_or_fragment(
        "media/library/library.html",
        "media/library/_list.html",
        LIST_ID,
        **_page_context(results=None, **extra),
    ), status


def _back_to(portrait_id: int | None = None) -> Response:
    anchor = f"#portrait-{portrait_id}" if portrait_id else ""
    return redirect(url_for("portraits.library") + anchor, code=303)


@blueprint.post("/portraits/<int:portrait_id>/move")
def move(portrait_id: int) -> Response | tuple[str, int] | Any:
    form = MoveForm()
    if not form.validate():
        return error_response(400, str(MOVE_MESSAGE))
    try:
        move_portrait(get_session(), portrait_id, form.steps(), current_user.email, now_utc())
    except PortraitNotFound:
        abort(404)
    get_session().commit()
    if is_htmx():
        return _list_answer()
    return _back_to(portrait_id)


def _order_asked() -> list[int] | None:
    values = request.form.getlist("ids")
    if not values or not all(value.isascii() and value.isdigit() for value in values):
        return None
    return [int(value) for value in values]


@blueprint.post("/portraits/order")
def order() -> Response | tuple[str, int] | Any:
    """Drag and drop: the whole library in its new order, every portrait once."""
    asked = _order_asked()
    if asked is None:
        return _order_refused()
    try:
        reorder(get_session(), asked, current_user.email, now_utc())
    except PortraitNotFound:
        return _order_refused()
    get_session().commit()
    if is_htmx():
        return _list_answer()
    return _back_to()


def _order_refused() -> tuple[str, int] | Any:
    """The order sent is not the library's portraits each once: most likely someone added or
    deleted one meanwhile. HTMX gets the list as it is now, with the message."""
    get_session().rollback()
    problem = _(
        "The library changed while you were ordering it (a portrait was added or deleted): "
        "nothing was moved. Here it is as it is now."
    )
    if is_htmx():
        return _list_answer(400, order_problem=problem)
    return error_response(400, problem)


def _edit_page(portrait: Portrait, form: PortraitForm, status: int = 200) -> tuple[str, int]:
    today = today_local()
    return render_template(
        "media/library/edit.html",
        portrait=portrait,
        form=form,
        consent=library_service.consent_state(portrait, today),
        today=today,
        entries=audit.events_of(get_session(), SUBJECT, portrait.slug),
    ), status


@blueprint.get("/portraits/<int:portrait_id>")
def edit(portrait_id: int) -> tuple[str, int]:
    portrait = _portrait_or_404(portrait_id)
    return _edit_page(portrait, PortraitForm(formdata=None, obj=portrait))


@blueprint.post("/portraits/<int:portrait_id>")
def save(portrait_id: int) -> Response | tuple[str, int]:
    portrait = _portrait_or_404(portrait_id)
    form = PortraitForm()
    if not form.validate():
        return _edit_page(portrait, form, 422)
    session = get_session()
    try:
        library_service.save_portrait(
            session, portrait_id, form.text(), current_user.email, now_utc(), today_local()
        )
    except InvalidPortraitText as error:  # the rules changed under the form (a new day)
        session.rollback()
        form.attach(error.errors)
        return _edit_page(_portrait_or_404(portrait_id), form, 422)
    except PortraitNotFound:
        session.rollback()
        abort(404)
    session.commit()
    flash(_("Portrait saved."))
    return redirect(url_for("portraits.edit", portrait_id=portrait_id), code=303)


@blueprint.get("/portraits/<int:portrait_id>/delete")
def confirm_delete(portrait_id: int) -> str:
    portrait = _portrait_or_404(portrait_id)
    return render_template("media/library/delete.html", portrait=portrait)


@blueprint.post("/portraits/<int:portrait_id>/delete")
def delete(portrait_id: int) -> Response:
    try:
        delete_portrait(get_session(), _data_dir(), portrait_id, current_user.email, now_utc())
    except PortraitNotFound:
        get_session().rollback()
        abort(404)
    flash(_("Portrait deleted, with its image files."))
    return redirect(url_for("portraits.library"), code=303)


@blueprint.get("/portraits/<int:portrait_id>/image/<sha256>.<extension>")
def image(portrait_id: int, sha256: str, extension: str) -> Response:
    """Any file of any portrait, published or not, consent or not, for staff only: never
    kept by a browser or a proxy (the staff area's pages say no-store)."""
    portrait = _portrait_or_404(portrait_id)
    image_format = storage.FORMATS_BY_EXTENSION.get(extension)
    files = {(portrait.original_sha256, portrait.original_format)} | {
        (rendition.sha256, rendition.format) for rendition in portrait.renditions
    }
    if (sha256, image_format) not in files:
        abort(404)
    path = storage.path_of(_data_dir(), sha256, image_format)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=storage.MIME_TYPES[image_format], etag=False, max_age=0)


def image_url(portrait: Portrait, sha256: str, image_format: str) -> str:
    extension = storage.EXTENSIONS[image_format]
    return url_for("portraits.image", portrait_id=portrait.id, sha256=sha256, extension=extension)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    limit_request_body(app, blueprint.name, UPLOAD_BODY_LIMIT)
    add_staff_navigation(app, "portraits.library", _l("Portraits"))
    add_action_labels(app, ACTION_LABELS)
    app.jinja_env.globals["portrait_image_url"] = image_url
