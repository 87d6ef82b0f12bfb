"""Funding sources and categories as data on projects and items; a district's annual plan as a decision."""

from decimal import Decimal
from typing import get_args
from uuid import uuid4

import pytest
from pydantic import ValidationError

from domain import commands as c
from domain.actors import Actor, Role
from domain.plan import plan_id
from domain.rules import OutOfScope, WorksItemNotFound
from domain.wording import FUNDING_SOURCE_ZH
from tests.support import World


def test_an_existing_project_and_its_item_get_their_funding_recorded_once(world: World) -> None:
    item_id = world.new_item()
    world.run(world.admin, c.SetFunding(project_id=world.project_id, category="basic",
                                        funding_sources=["central_budget", "resident_contributions"]))
    world.run(world.admin, c.SetFunding(project_id=world.project_id, item_id=item_id, category="improvement",
                                        funding_sources=["local_special_bonds"]))
    again = world.run(world.admin, c.SetFunding(project_id=world.project_id, item_id=item_id,
                                                category="improvement", funding_sources=["local_special_bonds"]))
    assert again.events == [] and again.result["changed"] is False
    funding = world.app.get_project(world.project_id).funding
    assert funding[""] == {"category": "basic", "funding_sources": ["central_budget", "resident_contributions"]}
    assert funding[str(item_id)]["category"] == "improvement"
    assert world.event_types(world.project_id).count("FundingSet") == 2


def test_funding_of_an_item_of_another_project_or_an_unknown_source_is_refused(world: World) -> None:
    with pytest.raises(WorksItemNotFound):
        world.run(world.admin, c.SetFunding(project_id=world.project_id, item_id=uuid4(), category="basic"))
    with pytest.raises(ValidationError):
        c.SetFunding.model_validate({"project_id": world.project_id, "funding_sources": ["lottery"]})


def test_every_funding_source_code_has_its_chinese_name() -> None:
    assert set(get_args(c.FundingSource)) == set(FUNDING_SOURCE_ZH)
    assert FUNDING_SOURCE_ZH["ultra_long_special_bonds"] == "超长期特别国债"


def test_a_plan_is_set_per_district_and_year_and_corrected_by_a_new_event(world: World) -> None:
    plan = c.SetAnnualPlan(year=2026, district="徐汇区", communities=12, households=4800, pipe_m=Decimal("3500.5"),
                           items_by_kind={"pipe_relocation": 20}, lifts=8)
    first = world.run(world.admin, plan)
    assert first.aggregate_id == str(plan_id(2026, "徐汇区"))
    assert world.run(world.admin, plan).events == []  # the same plan again: nothing recorded
    world.run(world.admin, plan.model_copy(update={"lifts": 10}))
    stored = world.app.annual_plan(plan_id(2026, "徐汇区"))
    assert stored is not None and stored.targets["lifts"] == "10" and stored.targets["pipe_m"] == "3500.5"
    assert world.event_types(plan_id(2026, "徐汇区")) == ["PlanOpened", "PlanSet", "PlanSet"]


def test_a_district_admin_plans_only_their_own_district(world: World) -> None:
    district_admin = Actor(uuid4(), Role.ADMIN, district="黄浦区")
    with pytest.raises(OutOfScope):
        world.run(district_admin, c.SetAnnualPlan(year=2026, district="徐汇区", communities=1))
    world.run(district_admin, c.SetAnnualPlan(year=2026, district="黄浦区", communities=1))
