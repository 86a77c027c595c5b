"""Targets as a list staff extend (donate, signup and membership to start with), the ones
each screen shows, QR links a venue owns (its printed cards and poster), and the batches of
scans kept while the database was busy that were since counted.

Revision ID: 0006
Revises: 0005
"""

import contextlib
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STARTING_TARGETS = [
    ("donate", "Faire un don", "Donar", "Donate"),
    ("signup", "S'abonner à l'infolettre", "Suscribirse al boletín", "Subscribe to the newsletter"),
    ("membership", "Devenir membre", "Hacerse miembro", "Become a member"),
]


def upgrade() -> None:
    op.create_table(
        "scan_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("label_fr", sa.String(length=120), nullable=False),
        sa.Column("label_es", sa.String(length=120), nullable=False),
        sa.Column("label_en", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    targets = sa.table(
        "scan_targets",
        *(
            sa.column(name)
            for name in (
                "key",
                "label_fr",
                "label_es",
                "label_en",
                "position",
                "active",
                "created_at",
            )
        ),
    )
    now = dt.datetime.now(dt.timezone.utc)
    op.bulk_insert(
        targets,
        [
            dict(
                key=key,
                label_fr=fr,
                label_es=es,
                label_en=en,
                position=position,
                active=True,
                created_at=now,
            )
            for position, (key, fr, es, en) in enumerate(STARTING_TARGETS)
        ],
    )
    op.create_table(
        "scan_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "screen_targets",
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["screen_id"], ["screens.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_id"], ["scan_targets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("screen_id", "target_id"),
    )
    # What each screen showed stays shown; membership joins every screen (it is left out
    # while AMBULANTE_MEMBERSHIP_URL is unset).
    for position, (key, flag) in enumerate(
        [("donate", "show_donate"), ("signup", "show_signup"), ("membership", None)]
    ):
        condition = f"WHERE screens.{flag}" if flag else ""
        op.execute(
            "INSERT INTO screen_targets (screen_id, target_id, position) "
            f"SELECT screens.id, scan_targets.id, {position} FROM screens, scan_targets "
            f"{condition} {'AND' if flag else 'WHERE'} scan_targets.key = '{key}'"
        )
    # In place, not by rebuilding the table as batch mode does on SQLite: its DROP TABLE
    # would delete (by cascade) every screen's portraits, targets and heartbeats.
    op.execute("ALTER TABLE screens DROP COLUMN show_donate")
    op.execute("ALTER TABLE screens DROP COLUMN show_signup")
    with _scan_counts_kept(), op.batch_alter_table("qr_links") as links:
        links.drop_constraint("qr_link_target", type_="check")
        links.alter_column("target", type_=sa.String(length=40), existing_nullable=False)
        links.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        links.create_foreign_key(
            "fk_qr_links_booking_id", "bookings", ["booking_id"], ["id"], ondelete="SET NULL"
        )
        links.create_unique_constraint("uq_qr_links_booking_purpose", ["booking_id", "purpose"])


@contextlib.contextmanager
def _scan_counts_kept():
    """SQLite rebuilds qr_links to change a constraint; dropping the old table deletes its
    scan counts by cascade. They are copied aside and put back."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute(
        "CREATE TEMPORARY TABLE kept_scan_counts AS SELECT link_id, day, scans FROM scan_counts"
    )
    yield
    op.execute("DELETE FROM scan_counts")
    op.execute(
        "INSERT INTO scan_counts (link_id, day, scans) SELECT link_id, day, scans FROM kept_scan_counts"
    )
    op.execute("DROP TABLE kept_scan_counts")


def downgrade() -> None:
    op.execute("DELETE FROM qr_links WHERE target NOT IN ('donate', 'signup', 'portrait')")
    with _scan_counts_kept(), op.batch_alter_table("qr_links") as links:
        links.drop_constraint("uq_qr_links_booking_purpose", type_="unique")
        links.drop_constraint("fk_qr_links_booking_id", type_="foreignkey")
        links.drop_column("booking_id")
        links.alter_column("target", type_=sa.String(length=20), existing_nullable=False)
        links.create_check_constraint(
            "qr_link_target", "target IN ('donate', 'signup', 'portrait')"
        )
    # Each screen shows again the codes it chose, not every code.
    for column, key in (("show_donate", "donate"), ("show_signup", "signup")):
        op.add_column(
            "screens", sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
        )
        op.execute(
            f"UPDATE screens SET {column} = EXISTS (SELECT 1 FROM screen_targets "
            "JOIN scan_targets ON scan_targets.id = screen_targets.target_id "
            f"WHERE screen_targets.screen_id = screens.id AND scan_targets.key = '{key}')"
        )
    op.drop_table("screen_targets")
    op.drop_table("scan_batches")
    op.drop_table("scan_targets")
