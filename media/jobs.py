"""Making renditions off the request path: jobs kept in the database and claimed one at a
time (as the outbox claims messages), worked by a thread in `run.py` or by
`flask --app run media work`; a failed job is tried again, then the portrait shows why."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from core.clock import now_utc
from core.database import begin_write, session_for
from media import storage
from media.models import Portrait, PortraitState, Rendition, RenditionJob
from media.portraits import remove_unused_files
from media.renditions import make_renditions

MAX_ATTEMPTS = 3
CLAIM_SECONDS = 600  # a worker that died mid-job leaves it to another after this
IDLE_SECONDS = 2.0  # how often an idle worker looks for work
WAKE = "ambulante_media_wake"
ABANDONED = "the worker stopped while making its sizes (too large for the server's memory?)"
log = logging.getLogger(__name__)


def _is_due(now: dt.datetime):  # type: ignore[no-untyped-def]
    return and_(
        RenditionJob.done_at.is_(None),
        RenditionJob.attempts < MAX_ATTEMPTS,
        or_(RenditionJob.next_attempt_at.is_(None), RenditionJob.next_attempt_at <= now),
    )


def _claim(session: Session, job_id: int, now: dt.datetime) -> bool:
    """Take the job for this worker only; every other worker sees it as not due. The try
    counts from here: a worker that dies on it (out of memory, say) has used one."""
    begin_write(session)
    result = session.execute(
        update(RenditionJob)
        .where(RenditionJob.id == job_id, _is_due(now))
        .values(
            next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS),
            attempts=RenditionJob.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def work_due_jobs(session: Session, data_dir: Path, now: dt.datetime) -> int:
    """Make the renditions of every portrait whose job is due; returns how many were made."""
    _give_up_on_abandoned_jobs(session, now)
    due = session.scalars(select(RenditionJob.id).where(_is_due(now)).order_by(RenditionJob.id))
    job_ids = list(due)
    session.commit()
    made = 0
    for job_id in job_ids:
        if _claim(session, job_id, now):
            made += _work(session, data_dir, job_id, now)
    return made


def _work(session: Session, data_dir: Path, job_id: int, now: dt.datetime) -> int:
    job = session.get(RenditionJob, job_id, populate_existing=True)
    portrait = session.get(Portrait, job.portrait_id) if job else None
    if job is None or portrait is None:
        return 0
    original = (portrait.original_sha256, portrait.original_format)
    session.commit()  # no transaction stays open while images are made
    stored: list[tuple[str, str]] = []
    try:
        renditions = make_renditions(storage.read(data_dir, *original))
        for rendition in renditions:
            rendition_sha = _sha256(rendition.data)
            storage.store(data_dir, rendition_sha, rendition.format, rendition.data)
            stored.append((rendition_sha, rendition.format))
    except Exception as error:  # noqa: BLE001 - any failure is kept with the job, and shown
        log.exception("renditions of portrait %s failed", portrait.slug)
        _failed(session, job_id, f"{type(error).__name__}: {error}", now)
        remove_unused_files(session, data_dir, stored)
        return 0
    begin_write(session)
    portrait = session.get(Portrait, portrait.id, populate_existing=True)
    job = session.get(RenditionJob, job_id, populate_existing=True)
    if portrait is None or job is None:  # deleted while its sizes were made: so are they
        session.rollback()
        remove_unused_files(session, data_dir, stored)
        return 0
    portrait.renditions = [
        Rendition(
            width=rendition.width,
            height=rendition.height,
            format=rendition.format,
            sha256=sha256,
            size=len(rendition.data),
        )
        for rendition, (sha256, _format) in zip(renditions, stored, strict=True)
    ]
    portrait.state, portrait.failure = PortraitState.READY.value, None
    job.done_at, job.last_error = now, None
    session.commit()
    return 1


def _give_up_on_abandoned_jobs(session: Session, now: dt.datetime) -> None:
    """Jobs whose every try was claimed and never finished (each worker died on it): their
    portraits say so instead of "processing" for ever."""
    abandoned = select(RenditionJob.portrait_id).where(
        RenditionJob.done_at.is_(None),
        RenditionJob.attempts >= MAX_ATTEMPTS,
        RenditionJob.next_attempt_at <= now,
    )
    portraits = session.scalars(
        select(Portrait).where(
            Portrait.id.in_(abandoned), Portrait.state == PortraitState.PROCESSING.value
        )
    ).all()
    if not portraits:
        session.commit()
        return
    begin_write(session)
    for portrait in portraits:
        portrait.state, portrait.failure = PortraitState.FAILED.value, ABANDONED
    session.commit()


def _failed(session: Session, job_id: int, reason: str, now: dt.datetime) -> None:
    begin_write(session)
    job = session.get(RenditionJob, job_id, populate_existing=True)
    if job is None:
        session.rollback()
        return
    job.last_error = reason[:2000]
    job.next_attempt_at = now + dt.timedelta(minutes=2**job.attempts)
    if job.attempts >= MAX_ATTEMPTS:
        portrait = session.get(Portrait, job.portrait_id)
        if portrait is not None:
            portrait.state, portrait.failure = PortraitState.FAILED.value, job.last_error
    session.commit()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def start_worker(app: Flask, wake: threading.Event | None = None) -> threading.Thread:
    """A daemon thread that works due jobs every IDLE_SECONDS (at once when woken)."""
    wake = wake or threading.Event()
    app.extensions[WAKE] = wake

    def run() -> None:
        while True:
            try:
                with app.app_context(), session_for(app) as session:
                    work_due_jobs(session, app.config["DATA_DIR"], now_utc())
            except Exception:  # noqa: BLE001 - a bad moment must not stop the worker
                log.exception("the rendition worker failed; it goes on")
            wake.wait(IDLE_SECONDS)
            wake.clear()

    thread = threading.Thread(target=run, name="renditions", daemon=True)
    thread.start()
    return thread


def wake_worker(app: Flask) -> None:
    """New work: the thread started by run.py starts on it at once (if there is one)."""
    wake = app.extensions.get(WAKE)
    if wake is not None:
        wake.set()
