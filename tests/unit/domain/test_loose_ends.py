"""Issue 18 §1, the domain's loose ends: each rule that an audit over HTTP found not to hold."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain import commands as c
from domain import works_item_events as ev
from domain.actors import CommandContext
from domain.rules import StopWorkInForce
from tests.support import World


def accepted_item(world: World) -> UUID:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    for resident in world.residents[:4]:
        world.sign(resident, item_id, round_no, subject)
    assert world.app.get_item(item_id).state == "accepted"
    return item_id


def test_close_out_is_refused_while_a_stop_work_order_is_in_force(world: World) -> None:
    item_id = accepted_item(world)
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="基坑边堆土超高"))
    with pytest.raises(StopWorkInForce) as refused:
        world.run(world.admin, c.CloseOut(item_id=item_id))
    assert refused.value.code == "stop_work_in_force" and "销号" in refused.value.detail_zh
    world.run(world.station, c.LiftStopWork(item_id=item_id, notes="已整改"))
    world.run(world.admin, c.CloseOut(item_id=item_id))
    assert world.app.get_item(item_id).state == "closed_out"


def test_acceptance_is_not_requested_while_stopped(world: World) -> None:
    item_id = world.completed_item()
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="未设围挡"))
    with pytest.raises(StopWorkInForce) as refused:
        world.run(world.supervisor, c.RequestAcceptance(item_id=item_id))
    assert "发起验收" in refused.value.detail_zh
    world.run(world.station, c.LiftStopWork(item_id=item_id))
    world.open_round(item_id)


def test_completion_is_refused_while_stopped(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id)
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="未设围挡"))
    with pytest.raises(StopWorkInForce) as refused:
        world.run(world.supervisor, c.CompleteWorks(item_id=item_id))
    assert "竣工" in refused.value.detail_zh


def test_an_order_left_in_force_on_a_closed_out_item_can_still_be_lifted(world: World) -> None:
    """Logs written before the rule: closed out while stopped. The station can still end the order."""
    item_id = world.new_item()
    item = world.app.get_item(item_id)
    ctx = CommandContext(actor=world.station, command_id="legacy")
    item.record(ev.StopWorkOrdered, ctx, order_id="o-1", reason="旧日志")
    item.record(ev.ClosedOut, CommandContext(actor=world.admin, command_id="legacy-2"), notes="")
    world.app.save(item)
    world.run(world.station, c.LiftStopWork(item_id=item_id, notes="补办解除"))
    lifted = world.app.get_item(item_id)
    assert lifted.stop_work is None and lifted.state == "closed_out"
