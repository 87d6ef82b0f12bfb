"""A read model's project state is the aggregate's, folded by the same events, and stored as named plain fields."""

import json
from typing import Any

import pytest

from domain import commands as c
from domain.deadlines import project_deadlines
from domain.project import Project
from domain.project_event import ProjectEvent
from domain.project_state import ProjectState, fold, from_plain, to_plain
from domain.working_days import ChineseCalendar
from tests.support import World, photo
from tests.unit.domain.test_completion_acceptance import accepted, hold, notify, survey

FIELDS = ("name", "district", "details", "assignments", "members", "acceptance_rule", "funding", "works_items",
          "completion", "version", "modified_on")


def story(world: World) -> None:
    """Every kind of project event: people in and out, rules, funding, and the completion path to the filing."""
    pid = world.project_id
    item_id = accepted(world)
    world.run(world.admin, c.UnassignUser(project_id=pid, user_id=world.contractor.user_id))
    world.run(world.admin, c.SetAcceptanceRule(project_id=pid, min_signed="3/4", min_accept="4/5"))
    world.run(world.admin, c.SetSatisfactionThreshold(project_id=pid, threshold="9/10"))
    world.run(world.admin, c.SetFunding(project_id=pid, category="basic", funding_sources=["central_budget"]))
    world.run(world.admin, c.SetFunding(project_id=pid, item_id=item_id, funding_sources=["local_special_bonds"]))
    notify(world)
    survey(world)
    hold(world, "2025-10-13")
    project: Project = world.app.get_project(pid)
    leaving = next(iter(project.members))
    world.run(world.admin, c.RemoveGroupMember(project_id=pid, member_id=leaving, reason="搬离"))
    world.run(world.admin, c.HoldJointAcceptance(project_id=pid, held_on="2025-10-20", photos=[photo("joint")]))
    world.run(world.admin, c.FileRecord(project_id=pid, filing_no="BA-1", filed_on="2025-10-30"))


def project_events(world: World) -> list[ProjectEvent]:
    events = world.events(world.project_id)
    assert all(isinstance(event, ProjectEvent) for event in events)
    return events  # type: ignore[return-value]  # checked above


def facts(project: Any) -> dict[str, Any]:
    return {f: getattr(project, f) for f in FIELDS}


def test_folding_the_log_gives_the_aggregates_state(world: World) -> None:
    story(world)
    project: Project = world.app.get_project(world.project_id)
    state = None
    for event in project_events(world):
        state = fold(state, event)
    assert state is not None
    assert facts(state) == facts(project)
    assert state.satisfaction_threshold == project.__dict__["satisfaction_threshold"] == "9/10"
    assert state.completion["filing"] is not None and len(state.members) == len(world.residents) - 1
    calendar = ChineseCalendar()
    day = project.modified_on.date()
    assert project_deadlines(state, calendar, day) == project_deadlines(project, calendar, day)


def test_a_state_survives_its_json_and_an_unknown_form_is_refused(world: World) -> None:
    story(world)
    state = None
    for event in project_events(world):
        state = fold(state, event)
    assert state is not None
    stored = json.dumps(to_plain(state), ensure_ascii=False)
    assert from_plain(json.loads(stored)) == state
    assert "_id" not in json.loads(stored)  # named fields, not the library's
    with pytest.raises(ValueError, match="form"):
        from_plain({**json.loads(stored), "form": 0})


def test_replayed_and_gapped_events_change_nothing(world: World) -> None:
    story(world)
    events = project_events(world)
    state: ProjectState | None = None
    for event in events:
        state = fold(state, event)
    assert state is not None
    before = json.dumps(to_plain(state))
    for event in events[1:]:  # every event again (the registration would start over: drivers never replay it)
        assert fold(state, event) is state
    assert json.dumps(to_plain(state)) == before
    half = None
    for event in events[:3] + events[4:]:  # a gap: what follows it is not applied
        half = fold(half, event)
    assert half is not None and half.version == events[2].originator_version

