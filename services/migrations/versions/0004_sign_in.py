"""Signing in: passwords, one-time set-password links, server-side web sessions, residents' invitations,
tokens bound to a device, and phones found by number.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT = sa.Text()
FLOAT: sa.Double[float] = sa.Double()


def _tables() -> dict[str, list[sa.Column[Any]]]:
    return {
        # Only Argon2id hashes; the phone a person signs in with stays in `users` (the erasable store).
        "user_passwords": [sa.Column("user_id", TEXT, primary_key=True),
                           sa.Column("password_hash", TEXT, nullable=False),
                           sa.Column("updated_at", TEXT, nullable=False)],
        # A link is kept by its SHA-256 only; used_at makes it one-time, a newer link for the person kills it.
        "password_links": [sa.Column("link_hash", TEXT, primary_key=True), sa.Column("link_id", TEXT, nullable=False),
                           sa.Column("user_id", TEXT, nullable=False), sa.Column("purpose", TEXT, nullable=False),
                           sa.Column("created_by", TEXT), sa.Column("created_at", TEXT, nullable=False),
                           sa.Column("expires_at", TEXT, nullable=False), sa.Column("used_at", TEXT)],
        # The cookie carries a random id; the row is found by its SHA-256, so a database leak signs nobody in.
        "web_sessions": [sa.Column("session_hash", TEXT, primary_key=True),
                         sa.Column("session_id", TEXT, nullable=False), sa.Column("user_id", TEXT, nullable=False),
                         sa.Column("kind", TEXT, nullable=False), sa.Column("csrf_token", TEXT, nullable=False),
                         sa.Column("user_agent", TEXT), sa.Column("address", TEXT),
                         sa.Column("created_at", TEXT, nullable=False), sa.Column("last_seen_at", TEXT, nullable=False),
                         sa.Column("idle_timeout_s", FLOAT, nullable=False),
                         sa.Column("expires_at", TEXT, nullable=False)],
        # A resident's invitation: the QR link's and the short code's hashes; either one, once.
        "resident_invitations": [sa.Column("invitation_id", TEXT, primary_key=True),
                                 sa.Column("user_id", TEXT, nullable=False),
                                 sa.Column("project_id", TEXT, nullable=False),
                                 sa.Column("link_hash", TEXT, nullable=False, unique=True),
                                 sa.Column("code_hash", TEXT, nullable=False), sa.Column("created_by", TEXT),
                                 sa.Column("created_at", TEXT, nullable=False),
                                 sa.Column("expires_at", TEXT, nullable=False), sa.Column("used_at", TEXT)],
    }


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in _tables().items():
        if name not in existing:
            op.create_table(name, *columns)
    op.create_index("password_links_user", "password_links", ["user_id"], if_not_exists=True)
    op.create_index("web_sessions_user", "web_sessions", ["user_id"], if_not_exists=True)
    op.create_index("users_phone", "users", ["phone"], if_not_exists=True)
    op.create_index("resident_invitations_code", "resident_invitations", ["code_hash"], if_not_exists=True)
    op.create_index("resident_invitations_user", "resident_invitations", ["user_id"], if_not_exists=True)
    # A tablet's token is bound to its device id: X-Device-Id must match on every request.
    if "bound_device_id" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("user_tokens")}:
        with op.batch_alter_table("user_tokens") as batch:
            batch.add_column(sa.Column("bound_device_id", TEXT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_tokens") as batch:
        batch.drop_column("bound_device_id")
    op.drop_index("resident_invitations_user", "resident_invitations")
    op.drop_index("resident_invitations_code", "resident_invitations")
    op.drop_index("users_phone", "users")
    op.drop_index("web_sessions_user", "web_sessions")
    op.drop_index("password_links_user", "password_links")
    for name in reversed(list(_tables())):
        op.drop_table(name)
