"""Residents' acceptance: the tally's edge cases, who may sign, and what a decision does."""

from uuid import uuid4

import pytest

from domain import commands as c
from domain.acceptance import AcceptanceRule, Tally, decide
from domain.actors import Actor, Role
from domain.rules import (
    AlreadySigned,
    InvalidItemState,
    ItemClosedOut,
    NotEligibleSigner,
    OutOfScope,
    RejectNeedsReason,
    RoundNotOpen,
    SignedContentMismatch,
)
from domain.works_item_events import ResidentSigned
from tests.support import World, inspection

RULE = AcceptanceRule()


@pytest.mark.parametrize(
    ("electorate", "accepts", "rejects", "can_still_sign", "closing", "expected"),
    [
        (3, 2, 0, 0, False, "granted"),  # exactly 2/3 signed, all accept, nobody left
        (3, 2, 0, 1, False, None),  # the third could still reject: 2/3 accept < 80%
        (3, 2, 0, 1, True, "granted"),  # closed with exactly 2/3 signed
        (3, 1, 0, 1, True, "rejected"),  # closed below 2/3
        (5, 4, 1, 0, False, "granted"),  # exactly 80%
        (10, 4, 1, 5, False, None),
        (10, 7, 0, 0, False, "granted"),  # 7 of 10 signed (≥ 2/3), all accept
        (10, 6, 0, 0, False, "rejected"),  # 6 of 10 < 2/3
        (15, 8, 2, 0, False, "granted"),  # 10 signed = exactly 2/3, 8/10 = exactly 80%
        (15, 7, 3, 0, False, "rejected"),  # 70%
        (10, 1, 2, 7, False, None),  # 8/10 accept if all remaining accept: still possible
        (10, 1, 2, 7, True, "rejected"),
        (10, 0, 3, 7, False, "rejected"),  # best case 7/10 = 70%: certain already
        (10, 1, 3, 6, False, "rejected"),  # best case 7/10 = 70% < 80%: certain
        (10, 8, 0, 2, False, "granted"),  # 8/10 even if both remaining reject
    ],
)
def test_tally_is_decided_as_soon_as_it_is_certain(
    electorate: int, accepts: int, rejects: int, can_still_sign: int, closing: bool, expected: str | None
) -> None:
    assert decide(RULE, Tally(electorate, accepts, rejects), can_still_sign, closing) == expected


def test_acceptance_rule_refuses_nonsense() -> None:
    from domain.rules import InvalidAcceptanceRule

    for bad in (("0", "0.8"), ("2/3", "1.2"), ("x", "1")):
        with pytest.raises(InvalidAcceptanceRule):
            AcceptanceRule.parse(*bad)
    assert AcceptanceRule.parse("0.5", "3/4").as_dict() == {"min_signed": "1/2", "min_accept": "3/4"}


def test_request_acceptance_only_once_completed(world: World) -> None:
    item_id = world.new_item()
    with pytest.raises(InvalidItemState):
        world.run(world.supervisor, c.RequestAcceptance(item_id=item_id))


def test_only_members_at_the_rounds_opening_sign_once_and_bound_to_the_subject(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    late = Actor(uuid4(), Role.RESIDENT)
    world.run(world.admin, c.AddGroupMember(project_id=world.project_id, user_id=late.user_id, building="9号楼"))
    with pytest.raises(NotEligibleSigner):
        world.sign(late, item_id, round_no, subject)
    with pytest.raises(OutOfScope):  # not a member of this community at all
        world.sign(Actor(uuid4(), Role.RESIDENT), item_id, round_no, subject)
    with pytest.raises(SignedContentMismatch):
        world.sign(world.residents[0], item_id, round_no, "f" * 64)
    with pytest.raises(RejectNeedsReason):
        world.sign(world.residents[0], item_id, round_no, subject, decision="reject", reason="  ")
    world.sign(world.residents[0], item_id, round_no, subject)
    with pytest.raises(AlreadySigned):
        world.sign(world.residents[0], item_id, round_no, subject, decision="reject", reason="改主意")
    with pytest.raises(RoundNotOpen):
        world.sign(world.residents[1], item_id, round_no + 1, subject)
    event = world.events(item_id)[-1]
    assert isinstance(event, ResidentSigned)
    assert event.subject_hash == subject and len(event.signature_digest) == 64


def test_four_of_five_accept_grants_then_close_out_freezes_the_item(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    for resident in world.residents[:4]:
        world.sign(resident, item_id, round_no, subject)
    item = world.app.get_item(item_id)
    assert item.state == "accepted" and item.rounds[0]["status"] == "granted"
    with pytest.raises(RoundNotOpen):
        world.sign(world.residents[4], item_id, round_no, subject)
    world.run(world.admin, c.CloseOut(item_id=item_id, notes="销号"))
    with pytest.raises(ItemClosedOut):
        world.run(world.supervisor, inspection(item_id, "utility_handover"))
    with pytest.raises(ItemClosedOut):
        world.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description="x"))
    world.run(world.station, c.Reopen(item_id=item_id, reason="路面沉降"))
    world.run(world.station, c.RaiseDefect(item_id=item_id, severity="major", description="路面沉降"))


def test_a_rejected_round_sends_the_item_back_with_defects_from_the_reasons(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    world.sign(world.residents[0], item_id, round_no, subject, decision="reject", reason="路面未恢复平整")
    world.sign(world.residents[1], item_id, round_no, subject, decision="reject", reason="井盖松动")
    item = world.app.get_item(item_id)
    assert item.rounds[0]["status"] == "rejected" and item.state == "in_progress"
    raised = [d for d in item.defects.values() if d["status"] == "open"]
    assert len(raised) == 2
    assert world.event_types(item_id)[-3:] == ["AcceptanceRejected", "DefectRaised", "DefectRaised"]


def test_a_member_removed_mid_round_can_no_longer_sign_and_the_round_can_be_closed(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    for resident in world.residents[:3]:
        world.sign(resident, item_id, round_no, subject)
    gone = world.residents[3]
    world.run(world.admin, c.RemoveGroupMember(project_id=world.project_id, member_id=world.member_ids[gone.user_id],
                                               reason="搬离"))
    with pytest.raises(OutOfScope):
        world.sign(gone, item_id, round_no, subject)
    # 3 accepts of 5; the one who can still sign decides: a reject makes 3/4 < 80%
    assert world.app.get_item(item_id).rounds[0]["status"] == "open"
    world.sign(world.residents[4], item_id, round_no, subject)  # 4/4 accept, 4 of 5 signed
    assert world.app.get_item(item_id).rounds[0]["status"] == "granted"


def test_closing_a_round_decides_on_what_was_signed(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    for resident in world.residents[:3]:
        world.sign(resident, item_id, round_no, subject)
    out = world.run(world.admin, c.CloseAcceptanceRound(item_id=item_id, round_no=round_no))
    assert out.result["round_status"] == "rejected"  # 3 of 5 < 2/3


def test_a_defect_raised_during_a_round_cancels_it(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    world.run(world.station, c.RaiseDefect(item_id=item_id, severity="major", description="护栏松动"))
    item = world.app.get_item(item_id)
    assert item.rounds[0]["status"] == "cancelled" and item.state == "in_progress"
    with pytest.raises(RoundNotOpen):
        world.sign(world.residents[0], item_id, round_no, subject)


def test_a_defect_on_an_accepted_item_undoes_acceptance_so_it_cannot_be_closed_out(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    for resident in world.residents[:4]:
        world.sign(resident, item_id, round_no, subject)
    assert world.app.get_item(item_id).state == "accepted"
    world.run(world.station, c.RaiseDefect(item_id=item_id, severity="critical", description="井盖缺失"))
    assert world.app.get_item(item_id).state == "in_progress"
    with pytest.raises(InvalidItemState):
        world.run(world.admin, c.CloseOut(item_id=item_id))


def test_a_stop_work_order_during_a_round_cancels_it(world: World) -> None:
    item_id = world.completed_item()
    round_no, subject = world.open_round(item_id)
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="安全隐患"))
    assert world.app.get_item(item_id).rounds[0]["status"] == "cancelled"
    with pytest.raises(RoundNotOpen):
        world.sign(world.residents[0], item_id, round_no, subject)


def test_a_member_id_cannot_be_taken_over(world: World) -> None:
    from domain.rules import DuplicateMember

    taken = next(iter(world.member_ids.values()))
    with pytest.raises(DuplicateMember):
        world.run(world.admin, c.AddGroupMember(project_id=world.project_id, member_id=taken,
                                                user_id=uuid4(), building="9号楼"))
