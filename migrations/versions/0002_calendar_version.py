"""A calendar version the database bumps on every change to offerings, units, bookings and
blackouts: caches of pages and offerings in any process compare it instead of guessing.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WATCHED = ("offerings", "units", "bookings", "blackouts")
EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE calendar_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "calendar_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="calendar_version_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO calendar_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_calendar_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_bump_calendar_version "
                "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_calendar_version()"
            )
    else:  # SQLite: row triggers only (and DELETE without WHERE fires them too)
        for table in WATCHED:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_bump_calendar_version_{event.lower()} "
                    f"AFTER {event} ON {table} BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_calendar_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bump_calendar_version()")
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_calendar_version_{event.lower()}")
    op.drop_table("calendar_version")
