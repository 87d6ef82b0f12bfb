"""The tables as round 1 made them with CREATE TABLE IF NOT EXISTS; on such a database this creates nothing.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TEXT, BIG = sa.Text(), sa.BigInteger()


def _tables() -> dict[str, list[sa.Column]]:
    return {
        "users": [sa.Column("user_id", TEXT, primary_key=True), sa.Column("role", TEXT, nullable=False),
                  sa.Column("district", TEXT), sa.Column("name", TEXT), sa.Column("phone", TEXT),
                  sa.Column("created_at", TEXT, nullable=False)],
        "user_tokens": [sa.Column("token_hash", TEXT, primary_key=True), sa.Column("user_id", TEXT, nullable=False),
                        sa.Column("created_at", TEXT, nullable=False)],
        "photo_grants": [sa.Column("photo_id", TEXT, primary_key=True), sa.Column("scope", TEXT, primary_key=True)],
        "photo_facts": [sa.Column("photo_id", TEXT, primary_key=True), sa.Column("taken_at", TEXT)],
        "photo_uploads": [sa.Column("upload_id", TEXT, primary_key=True), sa.Column("user_id", TEXT, nullable=False),
                          sa.Column("size", BIG, nullable=False), sa.Column("upload_offset", BIG, nullable=False),
                          sa.Column("sha256", TEXT), sa.Column("project_id", TEXT), sa.Column("works_item_id", TEXT),
                          sa.Column("filename", TEXT), sa.Column("created_at", TEXT, nullable=False)],
        "projection_tracking": [sa.Column("name", TEXT, primary_key=True),
                                sa.Column("position", BIG, nullable=False)],
        "relay_status": [sa.Column("name", TEXT, primary_key=True), sa.Column("state", TEXT, nullable=False),
                         sa.Column("detail", TEXT), sa.Column("published", BIG, nullable=False),
                         sa.Column("updated_at", sa.Double(), nullable=False)],
        "projection_versions": [sa.Column("name", TEXT, primary_key=True),
                                sa.Column("aggregate_id", TEXT, primary_key=True),
                                sa.Column("version", sa.Integer(), nullable=False)],
    }


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in _tables().items():
        if name not in existing:
            op.create_table(name, *columns)


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
