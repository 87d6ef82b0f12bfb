"""A retried command returns its first outcome and appends nothing; a stale version is refused."""

import pytest

from domain import commands as c
from domain.rules import ConcurrencyConflict, IdempotencyKeyReused
from services.commands.unit_of_work import Outcome, UnitOfWork
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


def test_execute_many_saves_together_keeps_each_command_idempotent_and_refusals_apart(world: World) -> None:
    from domain.actors import CommandContext
    from domain.rules import HoldPointOutOfOrder

    first, second = world.new_item(), world.new_item()

    def ctx(key: str) -> CommandContext:
        return CommandContext(actor=world.supervisor, command_id=key)

    batch = [
        (ctx("a"), inspection(first, "survey_and_marking")),
        (ctx("b"), inspection(second, "survey_and_marking")),
        (ctx("c"), inspection(first, "excavation")),  # same item again: what came before is saved first
        (ctx("d"), inspection(second, "backfill_restoration")),  # refused, the rest goes on
        (ctx("a"), inspection(first, "survey_and_marking")),  # the same command twice: replayed
    ]
    results = UnitOfWork.for_app(world.app).execute_many(batch)
    assert [type(r).__name__ for r in results] == ["Outcome", "Outcome", "Outcome", "HoldPointOutOfOrder", "Outcome"]
    assert isinstance(results[3], HoldPointOutOfOrder)
    replayed, original = results[4], results[0]
    assert isinstance(replayed, Outcome) and isinstance(original, Outcome)
    assert replayed.replayed and replayed.events == original.events
    assert world.event_types(first) == ["Registered", "InspectionRecorded", "InspectionRecorded"]
    assert world.event_types(second) == ["Registered", "InspectionRecorded"]
    again = UnitOfWork.for_app(world.app).execute_many(batch)  # the whole batch retried: nothing new
    assert all(getattr(r, "replayed", True) for r in again)
    assert world.event_types(first) == ["Registered", "InspectionRecorded", "InspectionRecorded"]


def test_a_receipt_is_stored_as_the_library_would_create_it_and_loads_back(world: World) -> None:
    """The receipt's event is built without its aggregate (`CommandReceipt.issue`); it must carry exactly what
    the library's `_create` gives a created event, or an upgrade of the library could store receipts that no
    longer load as one."""
    from domain.receipt import CommandReceipt

    issued = CommandReceipt.issue(world.supervisor.user_id, "cmd-r", "RecordInspection", "f" * 64, {"version": 2})
    created = CommandReceipt._create(CommandReceipt.Issued, id=issued.originator_id, command="RecordInspection",
                                     fingerprint="f" * 64, outcome={"version": 2}).pending_events[0]
    assert {k: v for k, v in vars(issued).items() if k != "timestamp"} == \
        {k: v for k, v in vars(created).items() if k != "timestamp"}
    item_id = world.new_item()
    first = world.run(world.supervisor, inspection(item_id, "survey_and_marking"), command_id="cmd-r")
    receipt: CommandReceipt = world.app.repository.get(CommandReceipt.id_for(world.supervisor.user_id, "cmd-r"))
    assert isinstance(receipt, CommandReceipt) and receipt.version == 1
    assert receipt.outcome == {k: v for k, v in first.as_dict().items() if k not in ("replayed", "position")}
