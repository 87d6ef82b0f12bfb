"""Who may do what (the role table of DOMAIN.md), and which projects each user reaches."""

from __future__ import annotations

from domain import commands as c
from domain.actors import Actor, Role
from domain.project import Project

S, K, T, R, A = Role.SUPERVISOR, Role.CONTRACTOR, Role.STATION, Role.RESIDENT, Role.ADMIN

PERMITTED: dict[type[c.Command], frozenset[Role]] = {
    c.RegisterProject: frozenset({A}),
    c.AssignUser: frozenset({A}),
    c.UnassignUser: frozenset({A}),
    c.AddGroupMember: frozenset({A}),
    c.RemoveGroupMember: frozenset({A}),
    c.SetAcceptanceRule: frozenset({A}),
    c.RegisterWorksItem: frozenset({A}),
    c.RecordInspection: frozenset({S, T}),
    c.RaiseDefect: frozenset({S, T}),
    c.ReportRectification: frozenset({K}),
    c.CloseDefect: frozenset({S, T}),
    c.RejectRectification: frozenset({S, T}),
    c.OrderStopWork: frozenset({T}),
    c.LiftStopWork: frozenset({T}),
    c.CompleteWorks: frozenset({S}),
    c.RequestAcceptance: frozenset({S}),
    c.SignAcceptance: frozenset({R}),
    c.CloseAcceptanceRound: frozenset({A}),  # deciding before the outcome is certain is the owner's call
    c.CloseOut: frozenset({A}),
    c.Reopen: frozenset({T}),
    c.AttachWorksItems: frozenset({A}),
    c.SetSatisfactionThreshold: frozenset({A}),
    c.NotifyStation: frozenset({A}),
    c.RecordSatisfactionSurvey: frozenset({A}),
    c.HoldCompletionAcceptance: frozenset({A}),
    c.HoldJointAcceptance: frozenset({A, T}),  # the district holds it; the station may record it
    c.FileRecord: frozenset({A, T}),  # the owner files, the station receives
    c.LoadDivisions: frozenset({A}),  # a city-level admin (no district): checked by the handler
    c.DelistDivision: frozenset({A}),
    c.SetFunding: frozenset({A}),
    c.SetAnnualPlan: frozenset({A}),  # a district's admin for the district, a city admin for any
}

ACTION_NAMES_ZH: dict[type[c.Command], str] = {
    c.RegisterProject: "登记改造项目", c.AssignUser: "分配人员", c.UnassignUser: "取消分配",
    c.AddGroupMember: "添加居民监督小组成员", c.RemoveGroupMember: "移除居民监督小组成员",
    c.SetAcceptanceRule: "设置验收规则", c.RegisterWorksItem: "登记工程事项",
    c.RecordInspection: "记录检查", c.RaiseDefect: "开具整改通知",
    c.ReportRectification: "报告整改", c.CloseDefect: "关闭整改通知",
    c.RejectRectification: "驳回整改", c.OrderStopWork: "下达停工令",
    c.LiftStopWork: "解除停工令", c.CompleteWorks: "竣工", c.RequestAcceptance: "发起居民验收",
    c.SignAcceptance: "验收签字", c.CloseAcceptanceRound: "结束验收轮次",
    c.CloseOut: "销号", c.Reopen: "重新开启",
    c.AttachWorksItems: "补登项目的工程事项",
    c.SetSatisfactionThreshold: "设置满意度要求", c.NotifyStation: "书面告知安质监站",
    c.RecordSatisfactionSurvey: "记录居民满意度调查", c.HoldCompletionAcceptance: "组织竣工验收",
    c.HoldJointAcceptance: "记录联合验收", c.FileRecord: "竣工验收备案",
    c.LoadDivisions: "维护区和街道名录", c.DelistDivision: "移出区或街道名录",
    c.SetFunding: "登记改造类别和资金来源", c.SetAnnualPlan: "下达年度改造计划",
}


def may_see(actor: Actor, project: Project) -> bool:
    """A supervisor or contractor reaches assigned projects, the station its district, a resident their community."""
    if actor.role == Role.ADMIN:
        return actor.district is None or actor.district == project.district
    if actor.role == Role.STATION:
        return actor.district == project.district
    if actor.role == Role.RESIDENT:
        return project.member_of(actor.user_id) is not None
    return project.is_assigned(actor.user_id, actor.role)
