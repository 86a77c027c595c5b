"""Screens, the portraits they play, QR short links with daily scan counts, heartbeats; and
the default screen that /kiosk/ plays from the first start.

Revision ID: 0005
Revises: 0004
"""

import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("languages", sa.String(length=20), nullable=False),
        sa.Column("languages_together", sa.Boolean(), nullable=False),
        sa.Column("seconds_per_slide", sa.Integer(), nullable=False),
        sa.Column("all_portraits", sa.Boolean(), nullable=False),
        sa.Column("show_donate", sa.Boolean(), nullable=False),
        sa.Column("show_signup", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seconds_per_slide BETWEEN 4 AND 300", name="screen_seconds_per_slide"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "screen_portraits",
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("portrait_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["screen_id"], ["screens.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["portrait_id"], ["portraits.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("screen_id", "portrait_id"),
    )
    op.create_table(
        "qr_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("screen_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("portrait_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("target IN ('donate', 'signup', 'portrait')", name="qr_link_target"),
        sa.ForeignKeyConstraint(["screen_id"], ["screens.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["portrait_id"], ["portraits.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("screen_id", "purpose", name="uq_qr_links_screen_purpose"),
    )
    op.create_table(
        "scan_counts",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["qr_links.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("link_id", "day"),
    )
    op.create_table(
        "screen_heartbeats",
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("portrait_slug", sa.String(length=80), nullable=True),
        sa.Column("bundle_version", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["screen_id"], ["screens.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("screen_id", "minute"),
    )
    screens = sa.table(
        "screens",
        *(
            sa.column(name)
            for name in (
                "slug",
                "name",
                "languages",
                "languages_together",
                "seconds_per_slide",
                "all_portraits",
                "show_donate",
                "show_signup",
                "is_default",
                "created_at",
            )
        ),
    )
    op.bulk_insert(
        screens,
        [
            dict(
                slug="accueil",
                name="Écran d'accueil",
                languages="fr,es,en",
                languages_together=False,
                seconds_per_slide=12,
                all_portraits=True,
                show_donate=True,
                show_signup=True,
                is_default=True,
                created_at=dt.datetime.now(dt.timezone.utc),
            )
        ],
    )


def downgrade() -> None:
    op.drop_table("screen_heartbeats")
    op.drop_table("scan_counts")
    op.drop_table("qr_links")
    op.drop_table("screen_portraits")
    op.drop_table("screens")
