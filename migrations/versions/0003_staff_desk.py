"""The staff desk: staff accounts, sign-in throttles, audit events, booking notes, the waitlist,
the calendar feeds' secret, reminders and iCalendar sequence numbers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:43:53.781601
"""

import datetime as dt
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('subject_key', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_subject', ['subject', 'subject_key', 'id'], unique=False)

    feed_secret = op.create_table('calendar_feed_secret',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name='calendar_feed_secret_one_row'),
    sa.PrimaryKeyConstraint('id')
    )
    # The calendar feeds' secret exists from the start: showing the addresses never writes.
    op.bulk_insert(
        feed_secret,
        [{"id": 1, "token": secrets.token_urlsafe(32), "rotated_at": dt.datetime.now(dt.UTC)}],
    )
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_generation', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('staff', 'admin')", name='staff_role'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('end_date >= start_date', name='waitlist_dates'),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index('ix_waitlist_waiting', ['offering_id', 'start_date'], unique=False)

    op.create_table('booking_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=254), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('booking_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_notes_booking_id'), ['booking_id'], unique=False)

    # Plain ADD COLUMN: a batch copy of the table would drop its triggers on SQLite.
    op.add_column('bookings', sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))
    op.add_column('bookings', sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('offerings', sa.Column('reminder_days', sa.Integer(), server_default='14', nullable=False))



def downgrade() -> None:
    op.drop_column('offerings', 'reminder_days')
    op.drop_column('bookings', 'reminder_sent_at')
    op.drop_column('bookings', 'sequence')

    with op.batch_alter_table('booking_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_notes_booking_id'))

    op.drop_table('booking_notes')
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_waiting')

    op.drop_table('waitlist_entries')
    op.drop_table('staff_users')
    op.drop_table('login_throttles')
    op.drop_table('calendar_feed_secret')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
