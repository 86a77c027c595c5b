"""Offerings, units, bookings, blackouts and the mail outbox; overlapping holds refused by the database.

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 20:39:24.470805
"""

from alembic import op
import sqlalchemy as sa


HOLDING = "status IN ('requested', 'confirmed')"
OVERLAP_ERROR = "booking_holds_overlap"

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offerings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title_fr', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('description_fr', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('venue_setting', sa.String(length=10), nullable=True),
    sa.Column('buffer_before_days', sa.Integer(), nullable=False),
    sa.Column('buffer_after_days', sa.Integer(), nullable=False),
    sa.Column('min_days', sa.Integer(), nullable=False),
    sa.Column('max_days', sa.Integer(), nullable=False),
    sa.Column('lead_days', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('exhibition', 'training')", name='offering_kind'),
    sa.CheckConstraint('buffer_before_days BETWEEN 0 AND 60 AND buffer_after_days BETWEEN 0 AND 60', name='offering_buffers'),
    sa.CheckConstraint('lead_days >= 0', name='offering_lead'),
    sa.CheckConstraint('min_days >= 1 AND max_days >= min_days AND max_days <= 366', name='offering_length'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_sent_at'), ['sent_at'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_offering_id'), ['offering_id'], unique=False)

    op.create_table('blackouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.CheckConstraint('(unit_id IS NULL) <> (offering_id IS NULL)', name='blackout_one_target'),
    sa.CheckConstraint('end_date >= start_date', name='blackout_dates'),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('blackouts', schema=None) as batch_op:
        batch_op.create_index('ix_blackouts_offering_end', ['offering_id', 'end_date'], unique=False)
        batch_op.create_index('ix_blackouts_unit_end', ['unit_id', 'end_date'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=True),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('blocked_start', sa.Date(), nullable=False),
    sa.Column('blocked_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('organization', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('audience', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('wall_metres', sa.Integer(), nullable=True),
    sa.Column('venue_setting', sa.String(length=10), nullable=True),
    sa.Column('secure_storage', sa.Boolean(), nullable=True),
    sa.Column('manage_token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_message', sa.Text(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('requested', 'confirmed', 'declined', 'cancelled', 'completed')", name='booking_status'),
    sa.CheckConstraint('end_date >= start_date AND blocked_start <= start_date AND blocked_end >= end_date', name='booking_dates'),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('manage_token_hash'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_holds', ['unit_id', 'blocked_start'], unique=False, sqlite_where=sa.text("status IN ('requested', 'confirmed')"), postgresql_where=sa.text("status IN ('requested', 'confirmed')"))
        batch_op.create_index(batch_op.f('ix_bookings_offering_id'), ['offering_id'], unique=False)

    refuse_overlapping_holds()


def refuse_overlapping_holds() -> None:
    """Two holds of one unit may never overlap, whatever the application does."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT bookings_holds_no_overlap EXCLUDE USING gist "
            "(unit_id WITH =, daterange(blocked_start, blocked_end, '[]') WITH &&) "
            f"WHERE ({HOLDING})"
        )
        return
    # Holds of one unit never overlap, so only the last hold starting on or before the new
    # one's end can reach into it: one index probe, however long the unit's history.
    for event, self_clause in (("INSERT", ""), ("UPDATE", "AND b.id <> NEW.id")):
        op.execute(
            f"CREATE TRIGGER bookings_no_overlap_{event.lower()} BEFORE {event} ON bookings "
            f"WHEN NEW.{HOLDING} AND ("
            f"SELECT b.blocked_end FROM bookings b WHERE b.unit_id = NEW.unit_id AND b.{HOLDING} "
            f"{self_clause} AND b.blocked_start <= NEW.blocked_end "
            "ORDER BY b.blocked_start DESC LIMIT 1) >= NEW.blocked_start "
            f"BEGIN SELECT RAISE(ABORT, '{OVERLAP_ERROR}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS bookings_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS bookings_no_overlap_update")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_offering_id'))
        batch_op.drop_index('ix_bookings_holds', sqlite_where=sa.text("status IN ('requested', 'confirmed')"), postgresql_where=sa.text("status IN ('requested', 'confirmed')"))

    op.drop_table('bookings')
    with op.batch_alter_table('blackouts', schema=None) as batch_op:
        batch_op.drop_index('ix_blackouts_unit_end')
        batch_op.drop_index('ix_blackouts_offering_end')

    op.drop_table('blackouts')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_offering_id'))

    op.drop_table('units')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_sent_at'))

    op.drop_table('outbox_messages')
    op.drop_table('offerings')
