"""Each offering asks what it needs: the outdoor set's questions about its site (ground,
permits, power, who guards it overnight) and the training's start time are kept on the
booking (a training's participants go in `audience`, as an exhibition's audience does);
an offering may be closed on Québec's statutory holidays, as the training is.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Kept as written here: the migration must not change when the models' enums do.
SITE_GROUNDS = ("grass", "paved", "gravel", "other")
SITE_PERMITS = ("obtained", "requested", "not-needed", "unknown")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    # In place (ALTER TABLE … ADD COLUMN, a column CHECK included, is the same SQL on
    # SQLite and PostgreSQL), never by rebuilding the table as batch mode does on SQLite:
    # its DROP TABLE would take the calendar-version triggers with it, and delete by
    # cascade what hangs on a booking (its QR links lose their venue).
    for column, values in (("site_ground", SITE_GROUNDS), ("site_permits", SITE_PERMITS)):
        op.execute(
            f"ALTER TABLE bookings ADD COLUMN {column} VARCHAR(20) "
            f"CONSTRAINT booking_{column} CHECK ({_one_of(column, values)})"
        )
    op.add_column("bookings", sa.Column("site_power", sa.Boolean(), nullable=True))
    op.add_column("bookings", sa.Column("site_guard", sa.String(length=200), nullable=True))
    op.add_column("bookings", sa.Column("start_time", sa.Time(), nullable=True))
    op.add_column(
        "offerings",
        sa.Column("closed_on_holidays", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # A training team does not work on statutory holidays; an exhibition stays up on them.
    op.execute("UPDATE offerings SET closed_on_holidays = true WHERE kind = 'training'")


def downgrade() -> None:
    op.execute("ALTER TABLE offerings DROP COLUMN closed_on_holidays")
    for column in ("start_time", "site_guard", "site_power", "site_permits", "site_ground"):
        op.execute(f"ALTER TABLE bookings DROP COLUMN {column}")
