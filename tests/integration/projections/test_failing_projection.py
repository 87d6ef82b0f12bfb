"""A read model that cannot apply an event says so (status, metric, log), backs off, and lets the others go on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from domain import commands as c
from domain.actors import Role
from projections.driver import Batch, EventStoreDriver
from services import bootstrap
from services.api.app import create_app
from services.bootstrap import Container, build
from services.cli import main
from services.settings import Settings
from tests.http_support import auth
from tests.support import World

pytestmark = pytest.mark.integration


class Poisoned:
    """A read model with a bug: it cannot apply a defect being raised, until the bug is fixed."""

    name = "poisoned"
    topics: tuple[str, ...] = ()
    ddl: tuple[str, ...] = (
        "CREATE TABLE IF NOT EXISTS poisoned_events (position BIGINT PRIMARY KEY, type TEXT NOT NULL)",)
    tables: tuple[str, ...] = ("poisoned_events",)

    def __init__(self) -> None:
        self.fixed = False

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        if type(event).__name__ == "DefectRaised" and not self.fixed:
            raise ValueError("no column for a defect")
        batch.tx.execute("INSERT INTO poisoned_events VALUES (?, ?)", (position, type(event).__name__))

    def flush(self, batch: Batch) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build(Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9"))
    yield built
    built.close()


def failures() -> float:
    return REGISTRY.get_sample_value("siteledger_projection_failures_total", {"projection": "poisoned"}) or 0.0


def test_a_failing_read_model_is_shown_counted_backed_off_and_the_others_go_on(container: Container) -> None:
    poisoned, clock = Poisoned(), Clock()
    runner = container.projections
    runner.drivers["poisoned"] = EventStoreDriver(poisoned, container.ledger, container.db, batch=1000)
    runner.clock = clock
    world = World(container.ledger)
    item_id = world.new_item()
    raised = world.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="井盖松动"))
    assert raised.position is not None
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="整改"))
    counted = failures()

    runner.run_once()

    status = {p["name"]: p for p in runner.status()}
    assert status["poisoned"]["state"] == "failing"
    failure = status["poisoned"]["failure"]
    assert failure["position"] == raised.position and failure["event_type"] == "DefectRaised"
    assert failure["error"] == "ValueError: no column for a defect" and failure["attempts"] == 1
    assert datetime.fromisoformat(failure["since"]).tzinfo is not None
    assert status["poisoned"]["position"] == raised.position - 1  # what came before the event is applied
    assert all(p["state"] == "caught_up" for name, p in status.items() if name != "poisoned")
    assert failures() == counted + 1

    runner.run_once()  # backing off: not retried before its time
    assert runner.status(["poisoned"])[0]["failure"]["attempts"] == 1 and failures() == counted + 1

    delays = []
    for _ in range(10):
        clock.now += runner.status(["poisoned"])[0]["failure"]["retry_in_s"]
        runner.run_once()
        delays.append(runner.status(["poisoned"])[0]["failure"]["retry_in_s"])
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0] and delays[-1] == 60.0  # exponential, capped
    assert runner.status(["poisoned"])[0]["failure"]["since"] == failure["since"]
    assert failures() == counted + 11
    assert runner.wait_for(raised.position, timeout_s=30) == 1  # at once: no retry is due within 30 s

    poisoned.fixed = True  # the bug fixed (a new release); at the next retry it catches up
    clock.now += 60
    runner.run_once()
    recovered = runner.status(["poisoned"])[0]
    assert recovered["state"] == "caught_up" and "failure" not in recovered and recovered["lag"] == 0


def test_the_status_route_and_a_rebuild_report_the_failure(container: Container) -> None:
    poisoned = Poisoned()
    container.projections.drivers["poisoned"] = EventStoreDriver(poisoned, container.ledger, container.db)
    world = World(container.ledger)
    item_id = world.new_item()
    raised = world.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="井盖松动"))
    assert raised.position is not None

    report = container.projections.rebuild("poisoned")

    assert report["state"] == "failing" and report["position"] == raised.position - 1
    assert report["failure"]["position"] == raised.position and report["failure"]["event_type"] == "DefectRaised"
    admin = container.users.create(Role.ADMIN, "王芳")
    client = TestClient(create_app(container))
    body = client.get("/api/v1/projections/status", headers=auth(container.users.issue_token(admin.user_id)))
    assert body.status_code == 200, body.text
    shown = {p["name"]: p for p in body.json()["projections"]}
    assert shown["poisoned"]["state"] == "failing"
    assert shown["poisoned"]["failure"]["position"] == raised.position
    assert shown["poisoned"]["failure"]["error"] == "ValueError: no column for a defect"
    assert shown["timeline"]["state"] in ("caught_up", "catching_up")


def test_projections_rebuild_says_where_a_read_model_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITELEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", "127.0.0.1:9")
    with build(Settings()) as container:
        world = World(container.ledger)
        raised = world.run(world.station, c.RaiseDefect(item_id=world.new_item(), severity="minor", description="x"))
    assert raised.position is not None

    def with_poisoned(settings: Settings | None = None) -> Container:  # the release with the bug in it
        built = real_build(settings)
        built.projections.drivers["poisoned"] = EventStoreDriver(Poisoned(), built.ledger, built.db)
        return built

    real_build = bootstrap.build
    monkeypatch.setattr(bootstrap, "build", with_poisoned)

    assert main(["projections", "rebuild", "poisoned"]) == 1
    err = capsys.readouterr().err
    assert (f"poisoned: failing at position {raised.position} (DefectRaised): ValueError: no column for a defect; "
            f"rebuilt up to position {raised.position - 1}") in err
    assert main(["projections", "rebuild", "timeline"]) == 0


def test_a_failing_read_model_holds_up_only_the_routes_that_read_it(container: Container) -> None:
    container.projections.drivers["poisoned"] = EventStoreDriver(Poisoned(), container.ledger, container.db)
    world = World(container.ledger)
    item_id = world.new_item()
    raised = world.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="井盖松动"))
    assert raised.position is not None
    admin = container.users.create(Role.ADMIN, "王芳")
    client = TestClient(create_app(container))
    token = auth(container.users.issue_token(admin.user_id))

    city = client.get(f"/api/v1/dashboards/city?after={raised.position}", headers=token)
    timeline = client.get(f"/api/v1/works-items/{item_id}/timeline?after={raised.position}", headers=token)

    assert city.status_code == 200, city.text  # the dashboard does not read the poisoned model
    assert timeline.status_code == 200, timeline.text
    assert any(e["type"] == "DefectRaised" for e in timeline.json()["items"])
