"""A retried command returns its first outcome and appends nothing; a stale version is refused."""

import pytest

from domain import commands as c
from domain.rules import ConcurrencyConflict, IdempotencyKeyReused
from tests.support import World, inspection


def test_a_retry_returns_the_first_outcome_and_appends_nothing(world: World) -> None:
    item_id = world.new_item()
    command = inspection(item_id, "survey_and_marking", result="fail",
                         defects=[{"severity": "minor", "description": "标识缺失"}])
    first = world.run(world.supervisor, command, command_id="cmd-1")
    events = world.event_types(item_id)
    again = world.run(world.supervisor, command, command_id="cmd-1")
    assert world.event_types(item_id) == events
    assert again.replayed and not first.replayed
    assert again.result == first.result and again.events == first.events and again.version == first.version


def test_a_retry_that_would_now_be_refused_still_returns_the_first_outcome(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    resident = world.residents[0]
    sign = c.SignAcceptance(item_id=item_id, round_no=round_no, decision="accept", subject_hash=subject)
    first = world.run(resident, sign, command_id="sign-1")
    again = world.run(resident, sign, command_id="sign-1")  # re-executing would be AlreadySigned
    assert again.replayed and again.events == first.events


def test_the_same_command_id_for_a_different_command_is_refused(world: World) -> None:
    item_id = world.new_item()
    world.run(world.supervisor, inspection(item_id, "survey_and_marking"), command_id="cmd-2")
    with pytest.raises(IdempotencyKeyReused):
        world.run(world.supervisor, inspection(item_id, "survey_and_marking", notes="different"),
                  command_id="cmd-2")


def test_command_ids_are_per_user(world: World) -> None:
    item_id = world.new_item()
    world.run(world.supervisor, inspection(item_id, "survey_and_marking"), command_id="shared")
    out = world.run(world.supervisor2, inspection(item_id, "survey_and_marking"), command_id="shared")
    assert not out.replayed


def test_a_stale_expected_version_is_refused_with_the_current_one(world: World) -> None:
    item_id = world.new_item()
    world.run(world.supervisor, inspection(item_id, "survey_and_marking"), expected_version=1)
    with pytest.raises(ConcurrencyConflict) as error:
        world.run(world.supervisor, inspection(item_id, "excavation"), expected_version=1)
    assert error.value.context == {"current": 2, "expected": 1}
    assert error.value.code == "version_conflict"
