"""The transparency log's signed facts: checkpoints the server signed and the stations' cosignatures.

The tree itself is a read model (rebuilt from the log); what was signed, and when a station witnessed it,
exists nowhere else and is what a rebuilt tree is checked against.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TEXT = sa.Text()
SIZE = sa.BigInteger()


def _tables() -> dict[str, list[sa.Column[Any]]]:
    return {
        "transparency_checkpoints": [sa.Column("tree_size", SIZE, primary_key=True),
                                     sa.Column("root_hash", TEXT, nullable=False),
                                     sa.Column("note", TEXT, nullable=False),
                                     sa.Column("signed_at", TEXT, nullable=False)],
        # one row per station's cosignature: the checkpoint with that station's signature line
        "transparency_cosignatures": [sa.Column("tree_size", SIZE, primary_key=True),
                                      sa.Column("cosigner", TEXT, primary_key=True),
                                      sa.Column("root_hash", TEXT, nullable=False),
                                      sa.Column("note", TEXT, nullable=False),
                                      sa.Column("cosigned_at", TEXT, nullable=False),
                                      sa.Column("received_at", TEXT, nullable=False)],
        # a station's witness that found a checkpoint inconsistent with the one it holds says so here
        "transparency_alarms": [sa.Column("alarm_id", TEXT, primary_key=True),
                                sa.Column("reported_by", TEXT, nullable=False),
                                sa.Column("reason", TEXT, nullable=False),
                                sa.Column("held_checkpoint", TEXT, nullable=False),
                                sa.Column("served_checkpoint", TEXT),
                                sa.Column("reported_at", TEXT, nullable=False)],
    }


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in _tables().items():
        if name not in existing:
            op.create_table(name, *columns)


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
