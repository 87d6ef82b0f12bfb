"""Every benchmark still runs, small, against the code as it is, and prints its JSON.

They are how this project measures speed (benchmarks/), yet nothing ran them: two had stopped working unnoticed
(the lists benchmark after a column was added to the listing, the Kafka relay's after a domain rule let only the
station close what the station raised). These runs check that each completes and reports, not its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import _missing as browser_missing

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
SMALL: dict[str, list[str]] = {
    "domain_commands": ["--commands", "50", "--long-log", "200"],
    "api_commands": ["--requests", "40", "--rounds", "1", "--warmup", "5"],
    "projections": ["--events", "3000", "--items", "300", "--samples", "5", "--raw-runs", "1"],
    "dashboards": ["--items", "500", "--projects", "10", "--districts", "3", "--samples", "5"],
    "web_pages": ["--items", "300", "--projects", "6", "--samples", "5"],
    "import_xlsx": ["--projects", "10", "--items", "3"],
    "record_pdf": ["--events", "20", "--photos", "3", "--runs", "1"],
    "field_sync": ["--commands", "100", "--photos", "5", "--items", "10", "--weak-link-mb", "0.2"],
    "transparency": ["--samples", "20", "--pack-events", "50", "--pack-photos", "5", "--photo-bytes", "100000"],
    "photo_pipeline": ["--photos", "2", "--rounds", "1", "--size", "1600x1200"],
    "kafka_relay": ["--events", "500", "--seconds", "1"],
    "field_app": ["--commands", "10", "--photos", "1", "--opens", "3"],
    "resident_pages": ["--runs", "1"],
}
IN_A_BROWSER = {"field_app", "resident_pages"}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_the_benchmark_runs_and_prints_its_json(name: str) -> None:
    missing = browser_missing() if name in IN_A_BROWSER else None
    if missing:
        if os.environ.get("SITELEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SITELEDGER_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    out = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *SMALL[name]], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert report and isinstance(report, dict), out.stdout[:500]
