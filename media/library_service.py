"""What the staff portrait library does around media.portraits' rules: each file cleaned
outside any transaction and then added on its own (one bad file never stops the others), what
staff write about a portrait checked before it is saved, and the state of a portrait's consent
as staff read it."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from core.header_text import breaks_a_header_line, breaks_a_paragraph
from media.ingest import MAX_UPLOAD_BYTES, CleanImage, ImageRefused, clean_upload
from media.models import LANGUAGES, Portrait
from media.portraits import (
    AlreadyImported,
    PortraitText,
    add_portrait,
    portrait_of_file,
    update_portrait,
)

MEBIBYTE = 1024 * 1024
# The library's own limit on a request (the rest of the site takes a mebibyte): about ten
# camera JPEGs (10-25 MB each) in one upload, five at the largest a file may be.
UPLOAD_BODY_LIMIT = 256 * MEBIBYTE
CAPTION_MAX_LENGTH = 2000  # a caption card's worth; the column itself is unbounded
CAPTIONS = tuple(f"caption_{language}" for language in LANGUAGES)
ONE_LINE = (*(f"alt_{language}" for language in LANGUAGES), "place", "country", "credit")
LENGTHS = {
    **dict.fromkeys(CAPTIONS, CAPTION_MAX_LENGTH),
    **{name: Portrait.__table__.c[name].type.length for name in ONE_LINE},
}
TEXTS = CAPTIONS + ONE_LINE
DATES = ("consent_given_on", "consent_valid_until", "consent_withdrawn_on")


class Outcome(StrEnum):
    ADDED = "added"
    SKIPPED = "skipped"  # the same file is already in the library
    REFUSED = "refused"


@dataclass(frozen=True)
class FileResult:
    """What became of one file of an upload or an import."""

    name: str
    outcome: Outcome
    slug: str | None = None  # the portrait added, or the one already holding the file
    portrait_id: int | None = None
    reason: str | None = None  # why it was refused


class InvalidPortraitText(Exception):
    """What staff wrote breaks a rule; `errors` maps each field to a message."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__(dict(errors))
        self.errors = dict(errors)


def source_sha256(data: bytes) -> str:
    """The hash a file is known by in the library (media.ingest's CleanImage.source_sha256)."""
    return hashlib.sha256(data).hexdigest()


def imported_as(session: Session, data: bytes) -> Portrait | None:
    """The portrait already made from these very bytes, if any: no need to clean them again."""
    return portrait_of_file(session, source_sha256(data))


def refusal(error: ImageRefused) -> str:
    return str(error.reason)  # a lazy string: in the language of whoever reads it now


def add_upload(
    session: Session,
    data_dir: Path,
    name: str,
    stream: BinaryIO,
    actor: str,
    now: dt.datetime,
) -> FileResult:
    """One uploaded file: read (no further than the size limit, which it then breaks),
    cleaned with no transaction open, then added. The caller wakes the rendition worker."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    session.commit()  # nothing stays open while the image is cleaned
    existing = imported_as(session, data)
    session.commit()
    if existing is not None:
        return _skipped(name, existing)
    try:
        image = clean_upload(data)
    except ImageRefused as error:
        return FileResult(name, Outcome.REFUSED, reason=refusal(error))
    return add_clean_image(session, data_dir, name, image, actor, now)


def add_clean_image(
    session: Session,
    data_dir: Path,
    name: str,
    image: CleanImage,
    actor: str,
    now: dt.datetime,
    text: PortraitText | None = None,
) -> FileResult:
    """Add a cleaned image and commit, or say which portrait already holds it."""
    try:
        portrait = add_portrait(session, data_dir, image, actor, now, text)
    except AlreadyImported as error:
        result = _skipped(name, error.portrait)
        session.rollback()
        return result
    session.commit()
    return FileResult(name, Outcome.ADDED, portrait.slug, portrait.id)


def _skipped(name: str, portrait: Portrait) -> FileResult:
    return FileResult(name, Outcome.SKIPPED, portrait.slug, portrait.id)


def cleaned_text(text: PortraitText) -> PortraitText:
    """Without the spaces around each text (a caption of spaces is no caption)."""
    return replace(text, **{name: getattr(text, name).strip() for name in TEXTS})


def _length_error(name: str, limit: int) -> Any:
    if name.startswith("caption"):
        return _l("Keep the caption under %(count)s characters.", count=limit)
    if name.startswith("alt"):
        return _l("Keep the alt text under %(count)s characters.", count=limit)
    return _l("Keep it under %(count)s characters.", count=limit)


def text_errors(text: PortraitText, today: dt.date) -> dict[str, Any]:
    """What is wrong with each field, so that every field says it at once."""
    errors: dict[str, Any] = {}
    for name in TEXTS:
        value = getattr(text, name)
        if len(value) > LENGTHS[name]:
            errors[name] = _length_error(name, LENGTHS[name])
        elif name in CAPTIONS and breaks_a_paragraph(value):
            errors[name] = _l("The caption has a control character; type it again without it.")
        elif name in ONE_LINE and breaks_a_header_line(value):
            errors[name] = _l("This is one line, without line breaks or control characters.")
    errors.update(_date_errors(text, today))
    if text.published and "published" not in errors:
        problems = []
        if not Portrait.consent_holds(text, today):  # type: ignore[arg-type]
            problems.append(
                _l(
                    "A portrait is published only while its consent holds (given, not "
                    "withdrawn, not expired): untick “Published” to save this."
                )
            )
        if not text.alt_fr:
            problems.append(_l("Write the alt text in French before publishing it."))
        if problems:
            errors["published"] = " ".join(str(problem) for problem in problems)
    return errors


def _date_errors(text: PortraitText, today: dt.date) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    given, until, withdrawn = (
        text.consent_given_on,
        text.consent_valid_until,
        text.consent_withdrawn_on,
    )
    if given is not None and given > today:
        errors["consent_given_on"] = _l("Consent cannot be given on a day still ahead.")
    if withdrawn is not None and withdrawn > today:
        errors["consent_withdrawn_on"] = _l(
            "Enter the day consent was withdrawn: it cannot be a day still ahead."
        )
    if given is not None and until is not None and until < given:
        errors["consent_valid_until"] = _l("Consent cannot end before the day it was given.")
    if given is not None and withdrawn is not None and withdrawn < given:
        errors["consent_withdrawn_on"] = _l(
            "Consent cannot be withdrawn before the day it was given."
        )
    return errors


def save_portrait(
    session: Session,
    portrait_id: int,
    text: PortraitText,
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> Portrait:
    """Check what staff wrote, then save it (the caller commits); raises InvalidPortraitText
    and changes nothing when a rule is broken."""
    text = cleaned_text(text)
    errors = text_errors(text, today)
    if errors:
        raise InvalidPortraitText(errors)
    return update_portrait(session, portrait_id, text, actor, now)


class Consent(StrEnum):
    """Where a portrait's consent stands today, as the library marks it."""

    HOLDS = "holds"
    NONE = "none"  # no consent recorded
    AHEAD = "ahead"  # given on a day still ahead
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ConsentState:
    kind: Consent
    on: dt.date | None = None  # since when (withdrawn, expired) or from when (ahead)


def consent_state(portrait: Portrait, today: dt.date) -> ConsentState:
    if portrait.consent_withdrawn_on is not None:
        return ConsentState(Consent.WITHDRAWN, portrait.consent_withdrawn_on)
    if portrait.consent_given_on is None:
        return ConsentState(Consent.NONE)
    if portrait.consent_given_on > today:
        return ConsentState(Consent.AHEAD, portrait.consent_given_on)
    until = portrait.consent_valid_until
    if until is not None and until < today:
        return ConsentState(Consent.EXPIRED, until + dt.timedelta(days=1))  # its first day out
    return ConsentState(Consent.HOLDS, until)


# Bulk import: a photographer's delivery from a folder, with a captions file beside it.

CSV_COLUMNS = (
    "file",
    *CAPTIONS,
    *(f"alt_{language}" for language in LANGUAGES),
    "place",
    "country",
    "credit",
    "consent_given_on",
    "consent_valid_until",
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HASH_CHUNK = MEBIBYTE


class CaptionsRefused(Exception):
    """The captions file cannot be read as a whole (nothing is imported)."""


@dataclass
class Captions:
    """A captions file read: what to say about each file, or why a file's row is refused."""

    texts: dict[str, PortraitText] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # where each file's row is
    problems: list[str] = field(default_factory=list)  # rows naming no file

    def not_in(self, names: set[str]) -> list[tuple[int, str]]:
        """Rows for files the folder does not have: (row, file name)."""
        return sorted((row, name) for name, row in self.rows.items() if name not in names)


def read_captions(path: Path, today: dt.date) -> Captions:
    """A UTF-8 CSV file (with or without a BOM) with a header row naming some of
    CSV_COLUMNS, `file` among them; a row per file name. A row breaking a rule refuses its
    file, with the reason; an unknown column refuses the whole file (a typo would otherwise
    drop a column of captions silently)."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CaptionsRefused(f"{path.name} is not UTF-8 text: save it as CSV UTF-8.") from error
    rows = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [name.strip() for name in next(rows, [])]
    except csv.Error as error:
        raise CaptionsRefused(f"{path.name} is not a CSV file: {error}.") from error
    _check_header(path.name, header)
    captions = Captions()
    try:
        for number, row in enumerate(rows, start=2):
            if any(cell.strip() for cell in row):
                _read_row(captions, header, number, row, today)
    except csv.Error as error:
        raise CaptionsRefused(f"{path.name} is not a CSV file: {error}.") from error
    return captions


def _check_header(file_name: str, header: list[str]) -> None:
    expected = ", ".join(CSV_COLUMNS)
    if not any(header):
        raise CaptionsRefused(
            f"{file_name} is empty: its first row names the columns ({expected})."
        )
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise CaptionsRefused(
            f"{file_name} has unknown columns: {', '.join(unknown) or '(empty)'}. "
            f"The columns are: {expected}."
        )
    if "file" not in header:
        raise CaptionsRefused(f"{file_name} has no `file` column naming each image.")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CaptionsRefused(f"{file_name} names these columns twice: {', '.join(repeated)}.")


def _read_row(
    captions: Captions, header: list[str], number: int, row: list[str], today: dt.date
) -> None:
    values = dict(zip(header, (cell.strip() for cell in row), strict=False))
    name = values.get("file", "")
    if not name:
        captions.problems.append(f"row {number}: no file name; the row is ignored.")
        return
    if name in captions.rows:
        first = captions.rows[name]
        captions.texts.pop(name, None)
        captions.refused[name] = f"the captions file has two rows for it ({first} and {number})."
        return
    captions.rows[name] = number
    reasons = []
    if len(row) > len(header):
        reasons.append(f"row {number} has more cells than the header has columns")
    dates: dict[str, dt.date | None] = {}
    for column in ("consent_given_on", "consent_valid_until"):
        value = values.get(column, "")
        dates[column] = _date(value)
        if value and dates[column] is None:
            reasons.append(f"{column}: {value!r} is not a date (YYYY-MM-DD)")
    text = PortraitText(
        **{column: values.get(column, "") for column in TEXTS},
        **dates,
    )
    reasons += [f"{column}: {message}" for column, message in text_errors(text, today).items()]
    if reasons:
        captions.refused[name] = f"row {number} of the captions file: " + "; ".join(
            str(reason) for reason in reasons
        )
    else:
        captions.texts[name] = text


def _date(value: str) -> dt.date | None:
    if not ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def folder_files(folder: Path) -> list[Path]:
    """Every regular file in the folder (not its subfolders), by name: each is tried, so a
    file that is not an image is reported, never passed over in silence."""
    return sorted((path for path in folder.iterdir() if path.is_file()), key=lambda p: p.name)


def file_imported_as(session: Session, path: Path) -> Portrait | None:
    """The portrait already made from this file's bytes (read in chunks: a stray video in
    the folder is hashed, never held in memory)."""
    if path.stat().st_size > MAX_UPLOAD_BYTES:
        return None  # never imported: it is refused for its size
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK):
            digest.update(chunk)
    return portrait_of_file(session, digest.hexdigest())


def clean_file(path: Path) -> CleanImage | str:
    """In a worker process: the file cleaned, or why it is refused (in English, for the
    command's report)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_UPLOAD_BYTES + 1)
    except OSError as error:
        return f"it cannot be read: {error.strerror}."
    try:
        return clean_upload(data)
    except ImageRefused as error:
        with force_locale("en"):
            return refusal(error)


def import_files(
    session: Session,
    data_dir: Path,
    files: list[Path],
    captions: Captions,
    actor: str,
    clock: Callable[[], dt.datetime],
    workers: int,
) -> Iterator[FileResult]:
    """Each file's result, in the folder's order, as soon as it is known. The images are
    cleaned by `workers` processes at once (a few files ahead of the one being added); the
    database is written here, in this process, one portrait and one commit at a time.
    Imported portraits are never published: staff publish them after checking consent."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        window: deque[tuple[Path, FileResult | Future[CleanImage | str]]] = deque()
        in_pool = 0
        for path in files:
            started = _start(session, pool, path, captions)
            window.append((path, started))
            in_pool += isinstance(started, Future)
            while window and (in_pool > 2 * workers or not isinstance(window[0][1], Future)):
                path_done, done = window.popleft()
                in_pool -= isinstance(done, Future)
                yield _finish(session, data_dir, path_done, done, captions, actor, clock)
        while window:
            path_done, done = window.popleft()
            yield _finish(session, data_dir, path_done, done, captions, actor, clock)


def _start(
    session: Session, pool: ProcessPoolExecutor, path: Path, captions: Captions
) -> FileResult | Future[CleanImage | str]:
    name = path.name
    if name in captions.refused:
        return FileResult(name, Outcome.REFUSED, reason=captions.refused[name])
    try:
        existing = file_imported_as(session, path)
    except OSError as error:
        return FileResult(name, Outcome.REFUSED, reason=f"it cannot be read: {error.strerror}.")
    finally:
        session.commit()  # no transaction stays open while the images are cleaned
    if existing is not None:
        return _skipped(name, existing)
    return pool.submit(clean_file, path)


def _finish(
    session: Session,
    data_dir: Path,
    path: Path,
    started: FileResult | Future[CleanImage | str],
    captions: Captions,
    actor: str,
    clock: Callable[[], dt.datetime],
) -> FileResult:
    if isinstance(started, FileResult):
        return started
    cleaned = started.result()
    if isinstance(cleaned, str):
        return FileResult(path.name, Outcome.REFUSED, reason=cleaned)
    text = replace(captions.texts.get(path.name, PortraitText()), published=False)
    return add_clean_image(session, data_dir, path.name, cleaned, actor, clock(), text)
