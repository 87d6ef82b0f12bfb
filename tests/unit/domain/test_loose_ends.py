"""Issue 18 §1, the domain's loose ends: each rule that an audit over HTTP found not to hold."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain import commands as c
from domain import works_item_events as ev
from domain.acceptance import AcceptanceRule
from domain.actors import Actor, CommandContext
from domain.application import SiteLedger
from domain.inspection import validate_inspection
from domain.rules import (
    AcceptanceRuleBelowFloor,
    DefectClosedByStationOnly,
    InconsistentMeasurements,
    InvalidMeasurement,
    MissingRectificationPhotos,
    StopWorkInForce,
)
from domain.templates import builtin_catalog
from tests.support import VALID, World, inspection, photo


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


CONSENT = next(hp for hp in builtin_catalog().get("elevator_installation").hold_points if hp.code == "owner_consent")
CUTOVER = next(hp for hp in builtin_catalog().get("flying_wire_burial").hold_points if hp.code == "cable_cutover")


def _vote(**figures: str) -> dict[str, str]:
    return {**VALID["owner_consent"]["measurements"], **figures}


@pytest.mark.parametrize("figures", [
    {"total_area_m2": "0", "participating_area_m2": "0", "agreeing_area_m2": "0"},  # no electorate by area
    {"total_owners": "0", "participating_owners": "0", "agreeing_owners": "0"},  # nor by headcount
    {"agreeing_owners": "9"},  # 9 agree of 8 taking part
    {"agreeing_area_m2": "800.01"},
    {"participating_owners": "13", "agreeing_owners": "10"},  # 13 take part of 12
    {"participating_area_m2": "1200.5", "agreeing_area_m2": "1000"},
])
@pytest.mark.parametrize("result", ["pass", "fail"])
def test_a_vote_that_cannot_be_true_is_refused_whatever_its_result(figures: dict[str, str], result: str) -> None:
    with pytest.raises(InconsistentMeasurements) as refused:
        validate_inspection(CONSENT, result, _vote(**figures), VALID["owner_consent"]["checklist"], [])
    assert refused.value.code == "inconsistent_measurements" and refused.value.context["checks"]


@pytest.mark.parametrize("code", ["total_owners", "participating_owners", "agreeing_owners"])
def test_headcounts_are_whole_numbers(code: str) -> None:
    with pytest.raises(InvalidMeasurement, match="整数"):
        validate_inspection(CONSENT, "fail", _vote(**{code: "8.5"}), {}, [])
    assert validate_inspection(CONSENT, "pass", _vote(**{"agreeing_owners": "6.0"}),
                               VALID["owner_consent"]["checklist"], [])["agreeing_owners"] == 6


def test_the_whole_electorate_voting_and_agreeing_is_consistent() -> None:
    every = {"participating_area_m2": "1200", "agreeing_area_m2": "1200", "participating_owners": "12",
             "agreeing_owners": "12"}
    validate_inspection(CONSENT, "pass", _vote(**every), VALID["owner_consent"]["checklist"], [])


@pytest.mark.parametrize(("total", "cut_over"), [("0", "0"), ("3", "4"), ("2.5", "2.5")])
def test_cable_cutover_needs_at_least_one_operator_counted_whole(total: str, cut_over: str) -> None:
    with pytest.raises((InconsistentMeasurements, InvalidMeasurement)):
        validate_inspection(CUTOVER, "pass", {"operators_total": total, "operators_cut_over": cut_over}, {}, [])
    validate_inspection(CUTOVER, "pass", {"operators_total": "1", "operators_cut_over": "1"}, {}, [])


def _raised(world: World, item_id: UUID, by: Actor) -> str:
    out = world.run(by, c.RaiseDefect(item_id=item_id, severity="critical", description="燃气管与电梯基坑净距不足"))
    return str(out.result["defect_id"])


def test_a_rectification_carries_the_after_photos_the_template_requires(world: World) -> None:
    item_id = world.new_item()
    defect_id = _raised(world, item_id, world.supervisor)
    assert world.app.get_item(item_id).parsed_template.rectification_min_photos == 1  # the default
    with pytest.raises(MissingRectificationPhotos) as refused:
        world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已整改"))
    assert refused.value.code == "missing_rectification_photos" and "1 张" in refused.value.detail_zh
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已整改",
                                                      photos=[photo("after")]))


def test_a_template_may_ask_for_more_after_photos(world: World) -> None:
    world.app.catalog.register({"code": "roof", "name_zh": "屋面防水", "name_en": "Roof",
                                "rectification_min_photos": 2, "hold_points": [
                                    {"code": "flood_test", "name_zh": "蓄水试验", "name_en": "Flood test"}]})
    item_id = world.new_item("roof")
    defect_id = _raised(world, item_id, world.supervisor)
    with pytest.raises(MissingRectificationPhotos, match="2 张"):
        world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已补漏",
                                                          photos=[photo("one")]))
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已补漏",
                                                      photos=[photo("one"), photo("two")]))


def test_a_defect_raised_by_the_station_is_closed_only_by_the_station(world: World) -> None:
    item_id = world.new_item()
    defect_id = _raised(world, item_id, world.station)
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已迁移",
                                                      photos=[photo("moved")]))
    with pytest.raises(DefectClosedByStationOnly) as refused:
        world.run(world.supervisor, c.CloseDefect(item_id=item_id, defect_id=defect_id))
    assert refused.value.code == "defect_closed_by_station_only" and "安全质量监督站" in refused.value.detail_zh
    world.run(world.supervisor, c.RejectRectification(item_id=item_id, defect_id=defect_id, reason="照片不清"))
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="重拍",
                                                      photos=[photo("moved-again")]))
    world.run(world.station, c.CloseDefect(item_id=item_id, defect_id=defect_id, notes="复查合格"))
    assert world.app.get_item(item_id).defects[defect_id]["status"] == "closed"


def test_the_station_raising_in_a_spot_check_keeps_the_close_too(world: World) -> None:
    item_id = world.new_item()
    drafts = [{"defect_id": "spot-1", "severity": "major", "description": "标识缺失"}]
    world.run(world.station, inspection(item_id, "survey_and_marking", result="fail", defects=drafts))
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id="spot-1", description="已补",
                                                      photos=[photo("sign")]))
    with pytest.raises(DefectClosedByStationOnly):
        world.run(world.supervisor, c.CloseDefect(item_id=item_id, defect_id="spot-1"))


def test_a_supervisors_defect_is_closed_by_a_supervisor_or_the_station(world: World) -> None:
    item_id = world.new_item()
    for closer in (world.supervisor2, world.station):
        defect_id = _raised(world, item_id, world.supervisor)
        world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已整改",
                                                          photos=[photo(f"fix-{closer.user_id}")]))
        world.run(closer, c.CloseDefect(item_id=item_id, defect_id=defect_id))


@pytest.mark.parametrize(("signed", "accept"), [("0.000001", "0.000001"), ("1/3", "4/5"), ("2/3", "0.6")])
def test_an_acceptance_rule_below_the_citys_floor_is_refused(world: World, signed: str, accept: str) -> None:
    with pytest.raises(AcceptanceRuleBelowFloor) as refused:
        world.run(world.admin, c.SetAcceptanceRule(project_id=world.project_id, min_signed=signed, min_accept=accept))
    assert refused.value.code == "acceptance_rule_below_floor" and "1/2" in refused.value.detail_zh
    assert world.app.get_project(world.project_id).acceptance_rule == {"min_signed": "2/3", "min_accept": "4/5"}


def test_the_floor_itself_and_stricter_rules_are_allowed(world: World) -> None:
    world.run(world.admin, c.SetAcceptanceRule(project_id=world.project_id, min_signed="1/2", min_accept="2/3"))
    world.run(world.admin, c.SetAcceptanceRule(project_id=world.project_id, min_signed="1", min_accept="1"))


def test_a_deployment_sets_its_own_floor() -> None:
    strict = World(SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                              acceptance_floor=AcceptanceRule.parse("2/3", "4/5")))
    with pytest.raises(AcceptanceRuleBelowFloor, match="4/5"):
        strict.run(strict.admin, c.SetAcceptanceRule(project_id=strict.project_id, min_signed="2/3",
                                                     min_accept="3/4"))


def test_a_rule_set_below_the_floor_before_it_existed_runs_at_the_floor(world: World) -> None:
    project = world.app.get_project(world.project_id)
    project.set_acceptance_rule(CommandContext(actor=world.admin, command_id="legacy-rule"),
                                AcceptanceRule.parse("0.000001", "0.000001"))
    world.app.save(project)
    item_id = world.completed_item()
    round_no, _ = world.open_round(item_id)
    assert world.app.get_item(item_id).rounds[round_no - 1]["rule"] == {"min_signed": "1/2", "min_accept": "2/3"}
