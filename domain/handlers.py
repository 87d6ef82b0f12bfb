"""One handler per command: load what it needs, call the aggregate, hand back what to save.

Handlers load through the `Aggregates` port below, not through the application class, so the
application imports nothing of them (no import circle) and whoever runs a command (the services'
unit of work) decides when and how the change is saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain import commands as c
from domain.acceptance import AcceptanceRule
from domain.actors import Actor, CommandContext
from domain.divisions import DivisionRegistry
from domain.permissions import ACTION_NAMES_ZH, PERMITTED
from domain.plan import AnnualPlan, plan_id
from domain.project import Project
from domain.rules import (
    CityAdminOnly,
    ConcurrencyConflict,
    MissingLinkedItem,
    NoResidentsGroup,
    NotEligibleSigner,
    OutOfScope,
    RoleNotPermitted,
    StopWorkInForce,
    SurveyFiguresInvalid,
    UnknownHoldPoint,
    WorksItemNotFound,
)
from domain.templates.catalog import TemplateCatalog
from domain.working_days import WorkingCalendar
from domain.works_item import WorksItem


class Aggregates(Protocol):
    """What a handler may load: private copies, scoped to the actor (`SiteLedger` is one)."""

    @property
    def catalog(self) -> TemplateCatalog: ...

    @property
    def acceptance_floor(self) -> AcceptanceRule: ...

    @property
    def calendar(self) -> WorkingCalendar: ...

    def get_item(self, item_id: UUID | str, for_update: bool = False) -> WorksItem: ...

    def division_registry(self) -> DivisionRegistry | None: ...

    def annual_plan(self, plan_id: UUID) -> AnnualPlan | None: ...

    def project_in_scope(self, actor: Actor, project_id: UUID, for_update: bool = False) -> Project: ...

    def item_in_scope(self, actor: Actor, item_id: UUID, for_update: bool = False) -> tuple[WorksItem, Project]: ...


@dataclass
class Change:
    """What a handler decided: the aggregates to save together, the one addressed, and a result."""

    target: Aggregate
    also: list[Aggregate] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


def _expect(ctx: CommandContext, aggregate: Aggregate) -> None:
    if ctx.expected_version is not None and ctx.expected_version != aggregate.version:
        raise ConcurrencyConflict(current=aggregate.version, expected=ctx.expected_version)


def _project(app: Aggregates, ctx: CommandContext, project_id: UUID, for_update: bool = False) -> Project:
    return app.project_in_scope(ctx.actor, project_id, for_update)


def _item(app: Aggregates, ctx: CommandContext, item_id: UUID) -> tuple[WorksItem, Project]:
    item, project = app.item_in_scope(ctx.actor, item_id, for_update=True)
    _expect(ctx, item)
    return item, project


def register_project(app: Aggregates, ctx: CommandContext, cmd: c.RegisterProject) -> Change:
    if ctx.actor.district is not None and ctx.actor.district != cmd.district:
        raise OutOfScope()
    registry = app.division_registry()
    if registry is not None:
        registry.check(cmd.district, cmd.street_office)
    details = cmd.model_dump(exclude={"project_id"})
    project = Project.register(ctx, cmd.project_id or uuid4(), **details)
    return Change(project)


def _registry(app: Aggregates, ctx: CommandContext) -> DivisionRegistry:
    if ctx.actor.district is not None:  # a district's admin would be deciding what the other districts are
        raise CityAdminOnly()
    registry = app.division_registry() or DivisionRegistry.open(ctx)
    _expect(ctx, registry)
    return registry


def load_divisions(app: Aggregates, ctx: CommandContext, cmd: c.LoadDivisions) -> Change:
    registry = _registry(app, ctx)
    listed = registry.load(ctx, [d.model_dump() for d in cmd.districts])
    return Change(registry, result=listed)


def delist_division(app: Aggregates, ctx: CommandContext, cmd: c.DelistDivision) -> Change:
    registry = _registry(app, ctx)
    registry.delist(ctx, cmd.district_zh, cmd.street_zh, cmd.reason)
    return Change(registry)


def _project_change(
    action: Callable[[Project, CommandContext, Any], dict[str, Any] | None],
) -> Callable[[Aggregates, CommandContext, Any], Change]:
    def handle(app: Aggregates, ctx: CommandContext, cmd: Any) -> Change:
        project = _project(app, ctx, cmd.project_id, for_update=True)
        _expect(ctx, project)
        return Change(project, result=action(project, ctx, cmd) or {})

    return handle


def set_funding(app: Aggregates, ctx: CommandContext, cmd: c.SetFunding) -> Change:
    project = _project(app, ctx, cmd.project_id, for_update=True)
    _expect(ctx, project)
    changed = project.set_funding(ctx, cmd.item_id, cmd.category, list(cmd.funding_sources))
    return Change(project, result={"changed": changed})


def set_annual_plan(app: Aggregates, ctx: CommandContext, cmd: c.SetAnnualPlan) -> Change:
    if ctx.actor.district is not None and ctx.actor.district != cmd.district:
        raise OutOfScope()
    registry = app.division_registry()
    if registry is not None:
        registry.check(cmd.district, "")
    plan = app.annual_plan(plan_id(cmd.year, cmd.district)) or AnnualPlan.open(ctx, cmd.year, cmd.district)
    _expect(ctx, plan)
    targets = {"communities": Decimal(cmd.communities), "households": Decimal(cmd.households),
               "pipe_m": cmd.pipe_m, "cable_buried_m": cmd.cable_buried_m, "cable_removed_m": cmd.cable_removed_m,
               "lifts": Decimal(cmd.lifts)}
    changed = plan.set(ctx, targets, dict(cmd.items_by_kind))
    return Change(plan, result={"changed": changed})


def _add_member(project: Project, ctx: CommandContext, cmd: c.AddGroupMember) -> dict[str, Any]:
    member_id = cmd.member_id or str(uuid4())
    project.add_member(ctx, member_id, cmd.user_id, cmd.building, cmd.unit)
    return {"member_id": member_id}


def set_acceptance_rule(app: Aggregates, ctx: CommandContext, cmd: c.SetAcceptanceRule) -> Change:
    rule = AcceptanceRule.parse(cmd.min_signed, cmd.min_accept)
    rule.refuse_below(app.acceptance_floor)
    project = _project(app, ctx, cmd.project_id, for_update=True)
    _expect(ctx, project)
    project.set_acceptance_rule(ctx, rule)
    return Change(project)


def register_works_item(app: Aggregates, ctx: CommandContext, cmd: c.RegisterWorksItem) -> Change:
    project = _project(app, ctx, cmd.project_id)
    template = app.catalog.get(cmd.kind)
    for hold_point, linked_id in cmd.links.items():
        spec = template.hold_point(hold_point)
        if spec is None or spec.linked is None:
            raise UnknownHoldPoint(hold_point=hold_point, kind=template.code)
        linked = app.get_item(linked_id)
        if linked.project_id != project.id or not spec.linked.accepts(linked.kind):
            raise MissingLinkedItem(hold_point=hold_point, kind=spec.linked.kind)
    item = WorksItem.register(
        ctx, cmd.item_id or uuid4(), project.id, template, cmd.title, cmd.location,
        cmd.contractor_id, cmd.planned_start, cmd.planned_end,
        {k: str(v) for k, v in cmd.links.items()},
    )
    project.add_works_item(ctx, item.id, template.code)  # saved together: completion asks after every item
    return Change(item, also=[project])


def attach_works_items(app: Aggregates, ctx: CommandContext, cmd: c.AttachWorksItems) -> Change:
    project = _project(app, ctx, cmd.project_id, for_update=True)
    _expect(ctx, project)
    attached = 0
    for item_id in dict.fromkeys(cmd.item_ids):
        item = app.get_item(item_id)
        if item.project_id != project.id:
            raise WorksItemNotFound(detail_zh=f"工程事项 {item_id} 不属于该项目", item_id=item_id)
        if str(item_id) not in project.works_items:
            project.add_works_item(ctx, item.id, item.kind)
            attached += 1
    return Change(project, result={"attached": attached})


def _record_survey(project: Project, ctx: CommandContext, cmd: c.RecordSatisfactionSurvey) -> None:
    if cmd.satisfied > cmd.sample:
        raise SurveyFiguresInvalid(satisfied=cmd.satisfied, sample=cmd.sample)
    project.record_survey(ctx, cmd.surveyed_on, cmd.sample, cmd.satisfied, list(cmd.photos))


def hold_completion_acceptance(app: Aggregates, ctx: CommandContext, cmd: c.HoldCompletionAcceptance) -> Change:
    project = _project(app, ctx, cmd.project_id, for_update=True)
    _expect(ctx, project)
    items = {item_id: app.get_item(item_id) for item_id in project.works_items}
    stopped = [i for i in items.values() if i.stop_work is not None]
    if stopped:
        raise StopWorkInForce(detail_zh=f"尚有 {len(stopped)} 项工程事项的停工令未解除，不能组织竣工验收",
                              action="组织竣工验收")
    project.hold_completion_acceptance(
        ctx, app.calendar, cmd.held_on, list(cmd.parties), list(cmd.resident_representatives),
        list(cmd.photos), {item_id: item.state for item_id, item in items.items()},
    )
    return Change(project)


def _file_record(project: Project, ctx: CommandContext, cmd: c.FileRecord) -> dict[str, Any]:
    return {"late": project.file_record(ctx, cmd.filing_no, cmd.filed_on, list(cmd.photos))}


def _defect_payload(draft: c.DefectDraft) -> dict[str, Any]:
    return {
        "defect_id": draft.defect_id or str(uuid4()), "severity": draft.severity,
        "description": draft.description, "photos": list(draft.photos),
        "due_date": draft.due_date,
    }


def record_inspection(app: Aggregates, ctx: CommandContext, cmd: c.RecordInspection) -> Change:
    item, _ = _item(app, ctx, cmd.item_id)
    spec = item.spec(cmd.hold_point)
    linked_passed = None
    if spec.linked is not None and cmd.hold_point in item.links:
        linked = app.get_item(UUID(item.links[cmd.hold_point]))
        linked_passed = linked.is_passed(spec.linked.hold_point)
    inspection_id = str(uuid4())
    defects = [_defect_payload(d) for d in cmd.defects]
    item.record_inspection(
        ctx, inspection_id, cmd.hold_point, cmd.result, dict(cmd.measurements),
        dict(cmd.checklist), cmd.notes, list(cmd.photos), cmd.gps, defects, linked_passed,
    )
    return Change(item, result={"inspection_id": inspection_id,
                                "defect_ids": [d["defect_id"] for d in defects]})


def raise_defect(app: Aggregates, ctx: CommandContext, cmd: c.RaiseDefect) -> Change:
    item, _ = _item(app, ctx, cmd.item_id)
    payload = _defect_payload(cmd)
    item.raise_defect(ctx, hold_point=cmd.hold_point, **payload)
    return Change(item, result={"defect_id": payload["defect_id"]})


def _item_change(
    action: Callable[[WorksItem, CommandContext, Any], dict[str, Any] | None],
) -> Callable[[Aggregates, CommandContext, Any], Change]:
    def handle(app: Aggregates, ctx: CommandContext, cmd: Any) -> Change:
        item, _ = _item(app, ctx, cmd.item_id)
        return Change(item, result=action(item, ctx, cmd) or {})

    return handle


def _order_stop_work(item: WorksItem, ctx: CommandContext, cmd: c.OrderStopWork) -> dict[str, str]:
    order_id = str(uuid4())
    item.order_stop_work(ctx, order_id, cmd.reason)
    return {"order_id": order_id}


def request_acceptance(app: Aggregates, ctx: CommandContext, cmd: c.RequestAcceptance) -> Change:
    item, project = _item(app, ctx, cmd.item_id)
    if not project.members:
        raise NoResidentsGroup()
    round_no = item.request_acceptance(ctx, list(project.members), project.rule.at_least(app.acceptance_floor))
    rnd = item.rounds[round_no - 1]
    return Change(item, result={"round_no": round_no, "subject_hash": rnd["subject_hash"],
                                "subject_version": rnd["subject_version"]})


def sign_acceptance(app: Aggregates, ctx: CommandContext, cmd: c.SignAcceptance) -> Change:
    item, project = _item(app, ctx, cmd.item_id)
    member_id = project.member_of(ctx.actor.user_id)
    if member_id is None:
        raise NotEligibleSigner()
    item.sign(ctx, cmd.round_no, member_id, cmd.decision, cmd.reason, cmd.comment,
              list(cmd.photos), cmd.subject_hash, set(project.members))
    return Change(item, result={"member_id": member_id,
                                "round_status": item.rounds[cmd.round_no - 1]["status"]})


def close_acceptance_round(
    app: Aggregates, ctx: CommandContext, cmd: c.CloseAcceptanceRound
) -> Change:
    item, project = _item(app, ctx, cmd.item_id)
    item.close_round(ctx, cmd.round_no, set(project.members))
    return Change(item, result={"round_status": item.rounds[cmd.round_no - 1]["status"]})


HANDLERS: dict[type[c.Command], Callable[[Aggregates, CommandContext, Any], Change]] = {
    c.RegisterProject: register_project,
    c.AssignUser: _project_change(lambda p, ctx, cmd: p.assign(ctx, cmd.user_id, cmd.role)),
    c.UnassignUser: _project_change(lambda p, ctx, cmd: p.unassign(ctx, cmd.user_id)),
    c.AddGroupMember: _project_change(_add_member),
    c.RemoveGroupMember: _project_change(
        lambda p, ctx, cmd: p.remove_member(ctx, cmd.member_id, cmd.reason)
    ),
    c.SetAcceptanceRule: set_acceptance_rule,
    c.AttachWorksItems: attach_works_items,
    c.SetSatisfactionThreshold: _project_change(
        lambda p, ctx, cmd: p.set_satisfaction_threshold(ctx, cmd.threshold)
    ),
    c.NotifyStation: _project_change(lambda p, ctx, cmd: p.notify_station(ctx, cmd.notice_date, list(cmd.photos))),
    c.RecordSatisfactionSurvey: _project_change(_record_survey),
    c.HoldCompletionAcceptance: hold_completion_acceptance,
    c.HoldJointAcceptance: _project_change(
        lambda p, ctx, cmd: p.hold_joint_acceptance(ctx, cmd.held_on, list(cmd.photos))
    ),
    c.FileRecord: _project_change(_file_record),
    c.RegisterWorksItem: register_works_item,
    c.RecordInspection: record_inspection,
    c.RaiseDefect: raise_defect,
    c.ReportRectification: _item_change(
        lambda i, ctx, cmd: i.report_rectification(ctx, cmd.defect_id, cmd.description,
                                                   list(cmd.photos))
    ),
    c.CloseDefect: _item_change(lambda i, ctx, cmd: i.close_defect(ctx, cmd.defect_id, cmd.notes)),
    c.RejectRectification: _item_change(
        lambda i, ctx, cmd: i.reject_rectification(ctx, cmd.defect_id, cmd.reason,
                                                   list(cmd.photos))
    ),
    c.OrderStopWork: _item_change(_order_stop_work),
    c.LiftStopWork: _item_change(lambda i, ctx, cmd: i.lift_stop_work(ctx, cmd.notes)),
    c.CompleteWorks: _item_change(lambda i, ctx, cmd: i.complete(ctx)),
    c.RequestAcceptance: request_acceptance,
    c.SignAcceptance: sign_acceptance,
    c.CloseAcceptanceRound: close_acceptance_round,
    c.CloseOut: _item_change(lambda i, ctx, cmd: i.close_out(ctx, cmd.notes)),
    c.Reopen: _item_change(lambda i, ctx, cmd: i.reopen(ctx, cmd.reason)),
    c.LoadDivisions: load_divisions,
    c.DelistDivision: delist_division,
    c.SetFunding: set_funding,
    c.SetAnnualPlan: set_annual_plan,
}


def authorize(actor: Actor, command: c.Command) -> None:
    """The role table, checked before anything is loaded (and before a cited photo is looked at)."""
    kind = type(command)
    if actor.role not in PERMITTED[kind]:
        raise RoleNotPermitted(role=str(actor.role), action=ACTION_NAMES_ZH[kind])


def decide(app: Aggregates, ctx: CommandContext, command: c.Command) -> Change:
    """Get and mutate, nothing saved: the change a command makes, or the rule it breaks."""
    return HANDLERS[type(command)](app, ctx, command)
