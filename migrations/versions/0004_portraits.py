"""Portraits, their renditions and the jobs that make them; a library version the database
raises on every change to portraits and renditions, for pages that show them.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WATCHED = ("portraits", "portrait_renditions")
EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE portrait_library_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "portraits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=100), nullable=False),
        sa.Column("caption_fr", sa.Text(), nullable=False),
        sa.Column("caption_es", sa.Text(), nullable=False),
        sa.Column("caption_en", sa.Text(), nullable=False),
        sa.Column("alt_fr", sa.String(length=500), nullable=False),
        sa.Column("alt_es", sa.String(length=500), nullable=False),
        sa.Column("alt_en", sa.String(length=500), nullable=False),
        sa.Column("credit", sa.String(length=200), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("consent_given_on", sa.Date(), nullable=True),
        sa.Column("consent_valid_until", sa.Date(), nullable=True),
        sa.Column("consent_withdrawn_on", sa.Date(), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("original_format", sa.String(length=10), nullable=False),
        sa.Column("original_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('processing', 'ready', 'failed')", name="portrait_state"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
        sa.UniqueConstraint("source_sha256"),
    )
    op.create_index("ix_portraits_position", "portraits", ["position", "id"])
    op.create_table(
        "portrait_renditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portrait_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.CheckConstraint("format IN ('webp', 'jpeg')", name="rendition_format"),
        sa.ForeignKeyConstraint(["portrait_id"], ["portraits.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_renditions_portrait", "portrait_renditions", ["portrait_id", "width", "format"],
        unique=True,
    )
    op.create_index("ix_portrait_renditions_sha256", "portrait_renditions", ["sha256"])
    op.create_table(
        "rendition_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portrait_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["portrait_id"], ["portraits.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("portrait_id"),
    )
    op.create_index("ix_rendition_jobs_done_at", "rendition_jobs", ["done_at"])
    op.create_table(
        "portrait_library_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name="portrait_library_version_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO portrait_library_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_portrait_library_version() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_bump_library_version "
                "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_portrait_library_version()"
            )
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_bump_library_version_{event.lower()} "
                    f"AFTER {event} ON {table} BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_library_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bump_portrait_library_version()")
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_library_version_{event.lower()}")
    op.drop_table("portrait_library_version")
    op.drop_table("rendition_jobs")
    op.drop_table("portrait_renditions")
    op.drop_table("portraits")
