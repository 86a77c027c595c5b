"""`flask --app run portraits import FOLDER` for a photographer's delivery, and
`flask --app run media work` to make the portraits' sizes in production."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now_utc, today_local
from core.database import make_engine, session_for
from media import jobs
from media.library_service import (
    Captions,
    CaptionsRefused,
    FileResult,
    Outcome,
    folder_files,
    import_files,
    read_captions,
)
from media.models import Portrait, PortraitState, RenditionJob

portraits_group = AppGroup("portraits", help="The portrait library.")
media_group = AppGroup("media", help="Portrait files.")

IMPORT_ACTOR = "portraits import"  # who the library's history says added them


@portraits_group.command("import")
@click.argument(
    "folder", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@click.option(
    "--captions",
    "captions_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CSV file of captions, alt texts, places, credits and consent dates (see README).",
)
@click.option("--work", is_flag=True, help="Make the imported portraits' sizes at once.")
def import_folder(folder: Path, captions_file: Path | None, work: bool) -> None:
    """Import every JPEG, PNG and WebP image in FOLDER (a file already imported is skipped).

    The portraits come in unpublished; their sizes are made by `flask --app run media work`
    or by the running app (or at once with --work)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with force_locale("en"), session_for(app) as session:
        try:
            captions = read_captions(captions_file, today_local()) if captions_file else Captions()
        except CaptionsRefused as error:
            raise click.ClickException(f"{error} Nothing was imported.") from error
        files = folder_files(folder)
        results = _import_with_progress(app, session, files, captions)
        _report(results, captions, {path.name for path in files})
        if work and any(result.outcome == Outcome.ADDED for result in results):
            click.echo("Making their sizes…")
            made = _work_on_every_core(app.config["DATABASE_URL"], app.config["DATA_DIR"])
            click.echo(f"Made the sizes of {made} portraits.")


def _work_on_every_core(database_url: str, data_dir: Path) -> int:
    """One worker process per core, each claiming jobs as `media work` does: no portrait is
    made twice, and both cores of a small server are busy."""
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_work_in_a_process, [database_url] * workers, [data_dir] * workers))


def _work_in_a_process(database_url: str, data_dir: Path) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return jobs.work_due_jobs(session, data_dir, now_utc())
    finally:
        engine.dispose()


def _import_with_progress(
    app: Flask, session: Session, files: list[Path], captions: Captions
) -> list[FileResult]:
    results = []
    workers = os.cpu_count() or 1
    steps = import_files(
        session, app.config["DATA_DIR"], files, captions, IMPORT_ACTOR, now_utc, workers
    )
    with click.progressbar(steps, length=len(files), label="Importing", show_pos=True) as bar:
        for result in bar:
            results.append(result)
    return results


def _report(results: list[FileResult], captions: Captions, names: set[str]) -> None:
    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in Outcome}
    click.echo(
        f"Imported {counts[Outcome.ADDED]}, skipped {counts[Outcome.SKIPPED]}, "
        f"refused {counts[Outcome.REFUSED]}."
    )
    for result in results:
        if result.outcome == Outcome.ADDED:
            click.echo(f"  imported  {result.name}  as {result.slug} (not published)")
        elif result.outcome == Outcome.SKIPPED:
            click.echo(f"  skipped   {result.name}  already in the library as {result.slug}")
        else:
            click.echo(f"  refused   {result.name}  {result.reason}")
    for row, name in captions.not_in(names):
        click.echo(f"Captions file, row {row}: {name} is not in the folder.")
    for problem in captions.problems:
        click.echo(f"Captions file, {problem}")
    if counts[Outcome.ADDED]:
        click.echo(
            "Their sizes are made by `flask --app run media work` (or the running app); "
            "publish them in the library once their consent is checked."
        )


@media_group.command("work")
@click.option("--once", is_flag=True, help="Work the jobs due now, then stop (for cron).")
def work(once: bool) -> None:
    """Make the sizes of new portraits: every few seconds, or once with --once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    while True:
        try:
            with session_for(app) as session:
                _work_once(session, app.config["DATA_DIR"])
        except Exception as error:  # noqa: BLE001 - a bad moment (a locked database) must not stop it
            if once:
                raise
            click.echo(f"The work stopped on an error, and goes on: {error}", err=True)
        if once:
            return
        time.sleep(jobs.IDLE_SECONDS)


def _work_once(session: Session, data_dir: Path) -> None:
    """Work the due jobs and say what became of each portrait they were for."""
    tries_before = dict(
        session.execute(
            select(RenditionJob.portrait_id, RenditionJob.attempts).where(
                RenditionJob.done_at.is_(None), RenditionJob.attempts < jobs.MAX_ATTEMPTS
            )
        ).all()
    )
    session.commit()
    if not tries_before:
        return
    jobs.work_due_jobs(session, data_dir, now_utc())
    session.expire_all()
    for portrait_id, tries in tries_before.items():
        portrait = session.get(Portrait, portrait_id)
        job = session.scalar(select(RenditionJob).where(RenditionJob.portrait_id == portrait_id))
        if portrait is None or job is None:
            continue  # deleted meanwhile
        if job.done_at is not None:
            click.echo(f"{portrait.slug}: made {len(portrait.renditions)} files.")
        elif portrait.state == PortraitState.FAILED:
            click.echo(f"{portrait.slug}: failed: {portrait.failure}", err=True)
        elif job.attempts > tries:
            click.echo(f"{portrait.slug}: will be tried again ({job.last_error})", err=True)
    session.commit()


def init_app(app: Flask) -> None:
    app.cli.add_command(portraits_group)
    app.cli.add_command(media_group)
