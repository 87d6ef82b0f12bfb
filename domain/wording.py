"""The Chinese words for the domain's codes, in one place for every page, printed record and message.

The API keeps the English codes (stable, machine-readable); people read these. A code missing here is shown
as itself rather than failing: an event type added later must not stop a page from rendering.
"""

from __future__ import annotations

from domain.works_item_events import STATE_NAMES_ZH

EVENT_NAMES_ZH = {
    "Registered": "登记工程事项", "InspectionRecorded": "检查记录", "DefectRaised": "开具整改通知",
    "RectificationReported": "报告整改完成", "DefectClosed": "整改复查合格，关闭", "RectificationRejected": "驳回整改",
    "StopWorkOrdered": "下达停工令", "StopWorkLifted": "解除停工令", "WorksCompleted": "报告竣工",
    "AcceptanceRequested": "发起居民验收", "ResidentSigned": "居民验收签字", "AcceptanceGranted": "居民验收通过",
    "AcceptanceRejected": "居民验收未通过", "AcceptanceRoundCancelled": "验收轮次取消", "ClosedOut": "销号",
    "Reopened": "重新开启",
    "ProjectRegistered": "登记改造项目", "UserAssigned": "分配人员", "UserUnassigned": "取消分配",
    "MemberAdded": "添加居民监督小组成员", "MemberRemoved": "移除居民监督小组成员",
    "AcceptanceRuleSet": "设置验收规则",
    "WorksItemAdded": "项目新增工程事项", "SatisfactionThresholdSet": "设置满意度要求",
    "StationNotified": "书面告知安质监站", "SatisfactionSurveyRecorded": "记录居民满意度调查",
    "CompletionAcceptanceHeld": "组织竣工验收", "JointAcceptanceHeld": "联合验收", "Filed": "竣工验收备案",
    "FundingSet": "登记改造类别和资金来源", "PlanSet": "下达年度改造计划",
}
SEVERITY_ZH = {"minor": "一般", "major": "较重", "critical": "严重"}
DEFECT_STATUS_ZH = {"open": "待整改", "rectification_reported": "已报整改，待复查", "closed": "已关闭"}
ROUND_STATUS_ZH = {"open": "签字中", "granted": "验收通过", "rejected": "验收未通过", "cancelled": "已取消"}
CANCEL_REASONS_ZH = {"defect_raised": "开具了新的整改通知", "stop_work_ordered": "下达了停工令"}
DECISION_ZH = {"accept": "同意", "reject": "不同意"}
RESULT_ZH = {"pass": "合格", "fail": "不合格", "conditional": "有条件通过"}
CATEGORY_ZH = {"basic": "基础类", "improvement": "完善类", "upgrade": "提升类"}
FUNDING_SOURCE_ZH = {
    "central_budget": "中央预算内投资", "ultra_long_special_bonds": "超长期特别国债",
    "local_special_bonds": "地方专项债", "policy_bank_loans": "政策性银行贷款",
    "resident_contributions": "居民出资", "social_capital": "社会资本", "other": "其他",
}
HOLD_POINT_STATUS_ZH = {"pending": "未检查", "passed": "已通过", "conditional": "有条件通过",
                        "blocked": "待整改后通过", "failed": "不合格"}


def word(table: dict[str, str], code: str | None) -> str:
    """The Chinese word for a code, or the code itself (never an error on a page)."""
    if code is None:
        return ""
    return table.get(code, code)


__all__ = ["CANCEL_REASONS_ZH", "CATEGORY_ZH", "DECISION_ZH", "DEFECT_STATUS_ZH", "EVENT_NAMES_ZH",
           "FUNDING_SOURCE_ZH", "HOLD_POINT_STATUS_ZH",
           "RESULT_ZH", "ROUND_STATUS_ZH", "SEVERITY_ZH", "STATE_NAMES_ZH", "word"]
