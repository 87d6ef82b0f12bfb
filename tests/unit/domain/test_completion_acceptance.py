"""Issue 18 §2: a project's completion acceptance (竣工验收), from the station's notice to the filing (备案)."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from domain import commands as c
from domain.actors import CommandContext
from domain.rules import (
    CompletionAcceptanceAlreadyHeld,
    CompletionAcceptanceNotHeld,
    InvalidSatisfactionThreshold,
    ItemsNotAccepted,
    MemberNotFound,
    NoSatisfactionSurvey,
    NoStationNotice,
    SatisfactionBelowThreshold,
    StopWorkInForce,
    SurveyFiguresInvalid,
    TooSoonAfterNotice,
    WorkingCalendarUnavailable,
    WorksItemNotFound,
)
from domain.working_days import ChineseCalendar, add_working_days
from domain.works_item import WorksItem
from tests.support import World, photo

DOC = [photo("notice")]


def accepted(world: World, kind: str = "pipe_relocation") -> UUID:
    item_id = world.completed_item(kind)
    round_no, subject = world.open_round(item_id)
    for resident in world.residents[:4]:
        world.sign(resident, item_id, round_no, subject)
    return item_id


def notify(world: World, on: str = "2025-09-26") -> None:
    world.run(world.admin, c.NotifyStation(project_id=world.project_id, notice_date=on, photos=DOC))


def survey(world: World, satisfied: int = 9, sample: int = 10) -> None:
    world.run(world.admin, c.RecordSatisfactionSurvey(project_id=world.project_id, surveyed_on="2025-09-20",
                                                      sample=sample, satisfied=satisfied, photos=DOC))


def hold(world: World, on: str = "2025-10-13", representatives: list[str] | None = None) -> None:
    members = representatives or [next(iter(world.member_ids.values()))]
    world.run(world.admin, c.HoldCompletionAcceptance(
        project_id=world.project_id, held_on=on, parties=["建设单位", "施工单位", "监理单位"],
        resident_representatives=members, photos=[photo("minutes")]))


def test_the_seventh_working_day_after_the_friday_before_national_day() -> None:
    """2025: off 1-8 October; Sunday 28 September and Saturday 11 October worked (调休)."""
    calendar = ChineseCalendar()
    assert add_working_days(calendar, date(2025, 9, 26), 7) == date(2025, 10, 13)
    assert add_working_days(calendar, date(2025, 9, 26), 1) == date(2025, 9, 28)  # a Sunday, worked


def test_a_year_the_calendar_does_not_know_is_refused_not_guessed() -> None:
    with pytest.raises(WorkingCalendarUnavailable, match="2099"):
        ChineseCalendar().is_workday(date(2099, 1, 5))


def test_completion_acceptance_waits_for_every_item(world: World) -> None:
    first = accepted(world)
    world.new_item("flying_wire_burial")  # registered, not accepted
    notify(world)
    survey(world)
    with pytest.raises(ItemsNotAccepted) as refused:
        hold(world)
    assert refused.value.code == "items_not_accepted" and "1 项" in refused.value.detail_zh
    assert world.app.get_project(world.project_id).works_items[str(first)] == "pipe_relocation"


def test_no_completion_acceptance_without_items(world: World) -> None:
    notify(world)
    survey(world)
    with pytest.raises(ItemsNotAccepted):
        hold(world)


def test_completion_acceptance_needs_the_notice_seven_working_days_before(world: World) -> None:
    accepted(world)
    survey(world)
    with pytest.raises(NoStationNotice):
        hold(world)
    notify(world, "2025-09-26")
    with pytest.raises(TooSoonAfterNotice) as refused:
        hold(world, "2025-10-10")  # a weekday count would allow 7 October
    assert refused.value.detail_zh == "2025-09-26 告知安质监站后须满 7 个工作日，竣工验收最早可在 2025-10-13 组织"
    hold(world, "2025-10-13")


def test_completion_acceptance_needs_the_survey_threshold(world: World) -> None:
    accepted(world)
    notify(world)
    with pytest.raises(NoSatisfactionSurvey):
        hold(world)
    survey(world, satisfied=79, sample=100)
    with pytest.raises(SatisfactionBelowThreshold) as refused:
        hold(world)
    assert "79.0%" in refused.value.detail_zh and "80%" in refused.value.detail_zh
    survey(world, satisfied=80, sample=100)  # 80 % is "80 % 以上" (Civil Code art. 1259: 以上 includes it)
    hold(world)


def test_a_project_sets_a_stricter_threshold(world: World) -> None:
    world.run(world.admin, c.SetSatisfactionThreshold(project_id=world.project_id, threshold="9/10"))
    with pytest.raises(InvalidSatisfactionThreshold):
        world.run(world.admin, c.SetSatisfactionThreshold(project_id=world.project_id, threshold="3/2"))
    accepted(world)
    notify(world)
    survey(world, satisfied=89, sample=100)
    with pytest.raises(SatisfactionBelowThreshold, match="90%"):
        hold(world)


def test_survey_figures_and_representatives_must_be_real(world: World) -> None:
    with pytest.raises(SurveyFiguresInvalid):
        survey(world, satisfied=11, sample=10)
    accepted(world)
    notify(world)
    survey(world)
    with pytest.raises(MemberNotFound):
        hold(world, representatives=["not-a-member"])


def test_completion_acceptance_is_refused_while_an_item_is_stopped(world: World) -> None:
    item_id = accepted(world)
    notify(world)
    survey(world)
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="复查发现隐患"))
    with pytest.raises(StopWorkInForce, match="竣工验收"):
        hold(world)


def test_from_acceptance_to_filing_late_filing_flagged(world: World) -> None:
    accepted(world)
    with pytest.raises(CompletionAcceptanceNotHeld):
        world.run(world.admin, c.FileRecord(project_id=world.project_id, filing_no="BA-1", filed_on="2025-10-20"))
    notify(world)
    survey(world)
    hold(world, "2025-10-13")
    with pytest.raises(CompletionAcceptanceAlreadyHeld):
        hold(world, "2025-10-14")
    with pytest.raises(CompletionAcceptanceNotHeld, match="早于"):
        world.run(world.station, c.HoldJointAcceptance(project_id=world.project_id, held_on="2025-10-12",
                                                       photos=DOC))
    world.run(world.station, c.HoldJointAcceptance(project_id=world.project_id, held_on="2025-10-20", photos=DOC))
    out = world.run(world.admin, c.FileRecord(project_id=world.project_id, filing_no="BA-2025-17",
                                              filed_on="2025-10-29"))  # 16 days after acceptance
    assert out.result == {"late": True}
    filing = world.app.get_project(world.project_id).completion["filing"]
    assert filing == {"number": "BA-2025-17", "date": "2025-10-29", "late": True, "days_after_acceptance": 16}


def test_a_filing_within_fifteen_days_is_not_late(world: World) -> None:
    accepted(world)
    notify(world)
    survey(world)
    hold(world, "2025-10-13")
    out = world.run(world.station, c.FileRecord(project_id=world.project_id, filing_no="BA-9", filed_on="2025-10-28"))
    assert out.result == {"late": False}


def test_an_item_registered_before_projects_knew_their_items_is_attached_once(world: World) -> None:
    accepted(world)
    legacy = WorksItem.register(CommandContext(actor=world.admin, command_id="legacy"), uuid4(), world.project_id,
                                world.app.catalog.get("pipe_relocation"), "", "2号楼", None, None, None, {})
    world.app.save(legacy)  # as the code before WorksItemAdded saved it: the project does not know it
    notify(world)
    survey(world)
    assert str(legacy.id) not in world.app.get_project(world.project_id).works_items
    out = world.run(world.admin, c.AttachWorksItems(project_id=world.project_id, item_ids=[legacy.id, legacy.id]))
    assert out.result == {"attached": 1}
    assert world.run(world.admin, c.AttachWorksItems(project_id=world.project_id,
                                                     item_ids=[legacy.id])).result == {"attached": 0}
    with pytest.raises(ItemsNotAccepted):
        hold(world)
    other = World(world.app)
    stranger = other.new_item()
    with pytest.raises(WorksItemNotFound, match="不属于该项目"):
        world.run(world.admin, c.AttachWorksItems(project_id=world.project_id, item_ids=[stranger]))
