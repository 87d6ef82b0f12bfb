"""Tokens get an id, an expiry, a last use and a device, so they can be listed and revoked one by one.

Round 1's tokens get an id here and keep working; their expiry stays empty, which the directory reads
as created_at + the configured age.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from uuid import uuid4

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("token_id", "expires_at", "last_used_at", "device")


def upgrade() -> None:
    bind = op.get_bind()
    existing = {c["name"] for c in sa.inspect(bind).get_columns("user_tokens")}
    with op.batch_alter_table("user_tokens") as batch:
        for column in COLUMNS:
            if column not in existing:
                batch.add_column(sa.Column(column, sa.Text(), nullable=True))
    tokens = sa.table("user_tokens", sa.column("token_hash", sa.Text()), sa.column("token_id", sa.Text()))
    for (hashed,) in bind.execute(sa.select(tokens.c.token_hash).where(tokens.c.token_id.is_(None))).all():
        bind.execute(tokens.update().where(tokens.c.token_hash == hashed).values(token_id=str(uuid4())))
    op.create_index("user_tokens_user", "user_tokens", ["user_id"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("user_tokens_user", "user_tokens")
    with op.batch_alter_table("user_tokens") as batch:
        for column in COLUMNS:
            batch.drop_column(column)
