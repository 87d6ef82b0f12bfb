"""The deadlines read model stores a project's state as named plain fields (domain/project_state.py), not the
`Project` aggregate's encoded `__dict__`: its old rows cannot be read on, so it is dropped and rebuilt from the log.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from services.migrations.read_models import rebuild_from_the_log

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The deadlines read model's tables at revision 0008 (frozen here: later code may rename them).
REBUILT = {"deadlines": ("dl_deadlines", "dl_projects", "dl_item_states", "dl_item_states_templates")}


def upgrade() -> None:
    rebuild_from_the_log(REBUILT)


def downgrade() -> None:
    upgrade()  # the old code rebuilds the same way from an empty read model
