"""Property: after any valid sequence of commands, the dashboard's totals are those of the aggregates."""

from __future__ import annotations

import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.dashboard_queries import dashboard
from services.bootstrap import build
from services.settings import Settings
from tests.support import World
from tests.unit.domain.test_hash_chain import apply_step, step

pytestmark = pytest.mark.integration


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.integers(0, 1), step), min_size=1, max_size=30))
def test_dashboard_totals_equal_the_aggregates(steps: list[tuple[int, tuple[str, Any]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        container = build(Settings(data_dir=Path(tmp), s3_endpoint="127.0.0.1:9"))
        try:
            world = World(container.ledger)
            items = [world.new_item("pipe_relocation"), world.new_item("flying_wire_burial")]
            for which, (action, arg) in steps:
                apply_step(world, items[which], action, arg)
            container.projections.run_once()
            board = dashboard(container.db, "project", str(world.project_id))
            aggregates = [container.ledger.get_item(i) for i in items]

            assert board["works_items"] == 2
            assert board["hold_points"] == {
                "passed": sum(len(a.passed_hold_points()) for a in aggregates),
                "total": sum(len(a.hold_points) for a in aggregates)}
            severities = Counter(a.defects[d]["severity"] for a in aggregates for d in a.open_defects())
            assert board["open_defects"]["by_severity"] == dict(severities)
            assert board["stop_work_in_force"] == sum(a.stop_work is not None for a in aggregates)
            states = {a.kind: {a.state: 1} for a in aggregates}
            assert {k: v["by_state"] for k, v in board["by_kind"].items()} == states
            quantities: dict[str, Decimal] = {}
            for a in aggregates:
                for q, amount in a.quantities.items():
                    quantities[q] = quantities.get(q, Decimal(0)) + amount
            assert board["quantities"] == {k: str(v) for k, v in sorted(quantities.items())}
        finally:
            container.close()
