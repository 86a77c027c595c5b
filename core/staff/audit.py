"""The audit log: every change staff (or a union) make, with the values before and after."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.staff.models import AuditEvent

ACTION_LABELS = "ambulante_audit_labels"
PAGE_SIZE = 100


def record(
    session: Session,
    *,
    actor: str,
    subject: str,
    key: str,
    action: str,
    at: dt.datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction: it commits, or not, with the change."""
    event = AuditEvent(
        at=at,
        actor=actor,
        subject=subject,
        subject_key=key,
        action=action,
        before=json.dumps(before or {}, default=str, ensure_ascii=False, sort_keys=True),
        after=json.dumps(after or {}, default=str, ensure_ascii=False, sort_keys=True),
    )
    session.add(event)
    return event


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the fields that differ, so an event reads as what was changed."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


@dataclass(frozen=True)
class Entry:
    """An event as a page shows it."""

    at: dt.datetime
    actor: str
    subject: str
    key: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


def _entry(event: AuditEvent) -> Entry:
    return Entry(
        event.at,
        event.actor,
        event.subject,
        event.subject_key,
        event.action,
        json.loads(event.before),
        json.loads(event.after),
    )


def events_of(session: Session, subject: str, key: str) -> list[Entry]:
    """One thing's history, oldest first."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject == subject, AuditEvent.subject_key == key)
        .order_by(AuditEvent.id)
    )
    return [_entry(event) for event in events]


def recent_events(session: Session, before_id: int | None = None) -> tuple[list[Entry], int | None]:
    """The global log, newest first, a page at a time; returns the id the next page starts
    before (None on the last page)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    events = list(session.scalars(query))
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return [_entry(event) for event in events], (events[-1].id if more else None)


def add_action_labels(app: Flask, labels: Mapping[str, Any]) -> None:
    """A feature's words for its actions (lazy strings), shown in the log."""
    app.extensions.setdefault(ACTION_LABELS, {}).update(labels)


def action_label(action: str) -> str:
    return str(current_app.extensions.get(ACTION_LABELS, {}).get(action, action))
