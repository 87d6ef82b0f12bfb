"""The lists benchmark still runs against the listing as it is: its rows are written straight into the listing's
tables (to fill 100,000 items in seconds), so a column added to the listing broke it silently once (stop_reason).
A small run through the real API must find every row it wrote, in each caller's scope."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_the_lists_benchmark_fills_rows_the_api_lists_in_each_scope() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks.lists", "--items", "300", "--projects", "6",
                          "--samples", "2", "--people", "50", "--stores", "sqlite"],
                         cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    rows = {(r["list"], r["caller"]): r["first_page"]["rows"] for r in report["results"] if "list" in r}
    # every item in the city; a third of them in the station's district; one project's for its supervisor
    assert rows[("/api/v1/works-items", "admin")] == 300
    assert rows[("/api/v1/works-items", "station")] == 100
    assert rows[("/api/v1/works-items", "supervisor")] == 50
    assert rows[("/api/v1/defects", "admin")] == 75  # one item in four
    assert rows[("/api/v1/stop-work-orders", "admin")] == 15  # one in twenty
    assert rows[("/api/v1/projects", "admin")] == 6
    assert all(value > 0 for value in report["worst_p99_ms"].values())
