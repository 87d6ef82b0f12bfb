"""The live runner's passes: the read models at one position go on together and are not caught up again alone
in the same round."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from projections.driver import EventStoreDriver, Stuck
from projections.runner import Failing, ProjectionRunner
from services.bootstrap import Container, build
from services.settings import Settings
from tests.support import World, inspection

pytestmark = pytest.mark.integration


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build(Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9"))
    yield built
    built.close()


def alone_counter(runner: ProjectionRunner, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the read models caught up on their own (each call still does the work)."""
    alone: list[str] = []
    real = EventStoreDriver.catch_up

    def counted(driver: EventStoreDriver, *args: object, **kwargs: object) -> int:
        alone.append(driver.name)
        return real(driver, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(EventStoreDriver, "catch_up", counted)
    return alone


def test_read_models_brought_up_together_are_not_caught_up_again_alone(
        container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = container.projections
    world = World(container.ledger)
    item_id = world.new_item()
    alone = alone_counter(runner, monkeypatch)
    runner.run_once()
    for _ in range(3):
        world.run(world.supervisor, inspection(item_id, "survey_and_marking"))

    runner.run_once()

    assert alone == []  # one pass, one commit for all of them: none read, decoded and committed alone
    assert all(p["state"] == "caught_up" for p in runner.status())


def test_a_failing_read_model_that_succeeds_in_a_pass_together_is_no_longer_failing(container: Container) -> None:
    runner = container.projections
    world = World(container.ledger)
    world.new_item()
    name = "timeline"
    runner.failing[name] = Failing(Stuck(None, None, "RuntimeError: a flaky disk"), datetime.now(UTC), 1,
                                   retry_at=runner.clock() - 1)

    runner.run_once()

    assert name not in runner.failing
    assert runner.status([name])[0]["state"] == "caught_up"
