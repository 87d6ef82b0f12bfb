"""Every rule of the domain as a named error type with a stable code (RFC 9457 `code`)."""

from __future__ import annotations

from domain.errors import DomainError, ErrorKind


class UnknownWorksKind(DomainError):
    code = "unknown_works_kind"
    kind = ErrorKind.INVALID
    title = "Unknown works kind"
    message_zh = "未知的工程类型：{kind}"


class UnknownHoldPoint(DomainError):
    code = "hold_point_not_in_template"
    kind = ErrorKind.INVALID
    title = "Hold point is not in the works kind's template"
    message_zh = "检查点“{hold_point}”不属于工程类型“{kind}”的模板"


class HoldPointOutOfOrder(DomainError):
    code = "hold_point_out_of_order"
    title = "Hold point cannot pass before its predecessors"
    message_zh = "检查点“{hold_point}”须在前置检查点（{missing}）通过后方可通过"


class MissingRequiredPhotos(DomainError):
    code = "missing_required_photos"
    kind = ErrorKind.INVALID
    title = "Hold point requires photos"
    message_zh = "检查点“{hold_point}”至少需要 {required} 张照片，实际 {given} 张"


class InvalidPhotoReference(DomainError):
    code = "invalid_photo_reference"
    kind = ErrorKind.INVALID
    title = "Photo reference is not a SHA-256 photo id"
    message_zh = "照片编号无效（应为 64 位十六进制 SHA-256）：{photo}"


class MissingMeasurements(DomainError):
    code = "missing_measurements"
    kind = ErrorKind.INVALID
    title = "Hold point requires measurements"
    message_zh = "检查点“{hold_point}”缺少必填测量值：{missing}"


class InvalidMeasurement(DomainError):
    code = "invalid_measurement"
    kind = ErrorKind.INVALID
    title = "Measurement is not valid"
    message_zh = "测量值“{measurement}”无效：{reason}"


class InconsistentMeasurements(DomainError):
    code = "inconsistent_measurements"
    kind = ErrorKind.INVALID
    title = "The measurements cannot all be true; the record is refused whatever its result"
    message_zh = "测量值相互矛盾或不成立，不能记录：{failures}"


class IncompleteChecklist(DomainError):
    code = "incomplete_checklist"
    kind = ErrorKind.INVALID
    title = "A passing inspection needs every checklist item confirmed"
    message_zh = "检查点“{hold_point}”的检查项未全部确认：{missing}"


class InspectionLimitsNotMet(DomainError):
    code = "inspection_limits_not_met"
    kind = ErrorKind.INVALID
    title = "Measurements are outside the template's limits; the inspection cannot pass"
    message_zh = "测量值不符合模板限值，不能判定通过：{failures}"


class FailedInspectionNeedsDefect(DomainError):
    code = "failed_inspection_needs_defect"
    kind = ErrorKind.INVALID
    title = "A failed or conditional inspection must raise at least one defect"
    message_zh = "检查不合格或有条件通过时，必须至少开具一条整改通知"


class LinkedWorkNotHandedOver(DomainError):
    code = "linked_work_not_handed_over"
    title = "The linked works item has not passed its hand-over"
    message_zh = "关联工程事项尚未通过“{required}”，不能通过检查点“{hold_point}”"


class MissingLinkedItem(DomainError):
    code = "missing_linked_item"
    kind = ErrorKind.INVALID
    title = "This works kind needs a linked works item"
    message_zh = "检查点“{hold_point}”需要关联一个“{kind}”工程事项"


class StopWorkInForce(DomainError):
    code = "stop_work_in_force"
    title = "A stop-work order is in force"
    message_zh = "停工令生效期间，不能通过施工检查点或竣工"


class StopWorkNotInForce(DomainError):
    code = "stop_work_not_in_force"
    title = "No stop-work order is in force"
    message_zh = "当前没有生效的停工令"


class StopWorkAlreadyInForce(DomainError):
    code = "stop_work_already_in_force"
    title = "A stop-work order is already in force"
    message_zh = "停工令已生效，不能重复下达"


class DefectNotFound(DomainError):
    code = "defect_not_found"
    kind = ErrorKind.NOT_FOUND
    title = "No such defect on this works item"
    message_zh = "该工程事项没有编号为 {defect_id} 的整改通知"


class DefectNotOpen(DomainError):
    code = "defect_not_open"
    title = "The defect is not open"
    message_zh = "整改通知当前状态为“{status}”，不能进行此操作"


class NoRectificationReported(DomainError):
    code = "no_rectification_reported"
    title = "No rectification has been reported for this defect"
    message_zh = "施工单位尚未报告整改，不能关闭或驳回"


class SeparationOfDuties(DomainError):
    code = "separation_of_duties"
    kind = ErrorKind.FORBIDDEN
    title = "Whoever reported the rectification cannot close the defect"
    message_zh = "报告整改的人员不能关闭同一整改通知"


class MissingRectificationPhotos(DomainError):
    code = "missing_rectification_photos"
    kind = ErrorKind.INVALID
    title = "A rectification needs the after-photos the template requires"
    message_zh = "报告整改至少需要 {required} 张整改后照片，实际 {given} 张"


class DefectClosedByStationOnly(DomainError):
    code = "defect_closed_by_station_only"
    kind = ErrorKind.FORBIDDEN
    title = "A defect raised by the station is closed only by the station"
    message_zh = "该整改通知由安全质量监督站开具，只能由安质监站复查关闭"


class OpenDefectsBlockCompletion(DomainError):
    code = "open_defects_block_completion"
    title = "Works cannot be completed while defects are open"
    message_zh = "尚有 {count} 条整改通知未关闭，不能竣工"


class HoldPointsNotPassed(DomainError):
    code = "hold_points_not_passed"
    title = "Works cannot be completed before every hold point has passed"
    message_zh = "以下检查点尚未通过，不能竣工：{missing}"


class InvalidItemState(DomainError):
    code = "invalid_item_state"
    title = "The works item's state does not allow this"
    message_zh = "工程事项当前状态为“{state}”，不能{action}"


class ItemClosedOut(DomainError):
    code = "item_closed_out"
    title = "The works item is closed out; only the station can reopen it"
    message_zh = "工程事项已销号，只有安质监站可以重新开启"


class RoundNotOpen(DomainError):
    code = "acceptance_round_not_open"
    title = "The acceptance round is not open"
    message_zh = "第 {round_no} 轮验收未开启或已结束"


class NoResidentsGroup(DomainError):
    code = "no_residents_group"
    title = "The project has no residents' supervision group"
    message_zh = "项目尚未组建居民监督小组，不能发起验收"


class NotEligibleSigner(DomainError):
    code = "not_eligible_signer"
    kind = ErrorKind.FORBIDDEN
    title = "Only members of the residents' group at the round's opening may sign"
    message_zh = "您不是本轮验收的居民监督小组成员，不能签字"


class AlreadySigned(DomainError):
    code = "already_signed"
    title = "A member signs once per round"
    message_zh = "您已在第 {round_no} 轮验收中签字"


class RejectNeedsReason(DomainError):
    code = "reject_needs_reason"
    kind = ErrorKind.INVALID
    title = "A rejection needs a reason"
    message_zh = "不同意验收时必须填写理由"


class SignedContentMismatch(DomainError):
    code = "signed_content_mismatch"
    title = "What was signed is not what the round asks to be signed"
    message_zh = "签字内容与本轮验收的内容摘要不一致，请刷新后重新签字"


class ConcurrencyConflict(DomainError):
    code = "version_conflict"
    title = "The works item changed since you loaded it"
    message_zh = "数据已被他人修改（当前版本 {current}，您的版本 {expected}），请刷新后重试"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    kind = ErrorKind.INVALID
    title = "This command id was already used for a different command"
    message_zh = "该命令编号已用于另一条不同的命令"


class RoleNotPermitted(DomainError):
    code = "role_not_permitted"
    kind = ErrorKind.FORBIDDEN
    title = "Your role may not do this"
    message_zh = "“{role}”角色无权执行此操作：{action}"


class OutOfScope(DomainError):
    code = "out_of_scope"
    kind = ErrorKind.FORBIDDEN
    title = "This project is outside your scope"
    message_zh = "该项目不在您的管辖或授权范围内"


class ProjectNotFound(DomainError):
    code = "project_not_found"
    kind = ErrorKind.NOT_FOUND
    title = "No such project"
    message_zh = "项目不存在：{project_id}"


class WorksItemNotFound(DomainError):
    code = "works_item_not_found"
    kind = ErrorKind.NOT_FOUND
    title = "No such works item"
    message_zh = "工程事项不存在：{item_id}"


class MemberNotFound(DomainError):
    code = "member_not_found"
    kind = ErrorKind.NOT_FOUND
    title = "No such member of the residents' group"
    message_zh = "居民监督小组中没有该成员：{member_id}"


class DuplicateMember(DomainError):
    code = "duplicate_member"
    title = "This person is already a member of the residents' group"
    message_zh = "该居民已是居民监督小组成员"


class InvalidAcceptanceRule(DomainError):
    code = "invalid_acceptance_rule"
    kind = ErrorKind.INVALID
    title = "The acceptance rule's ratios must be between 0 and 1"
    message_zh = "验收规则的比例必须大于 0 且不大于 1"


class AcceptanceRuleBelowFloor(DomainError):
    code = "acceptance_rule_below_floor"
    kind = ErrorKind.INVALID
    title = "The acceptance rule is below the city's floor"
    message_zh = "验收规则不得低于本市规定的下限：至少 {floor_signed} 的小组成员签字，且至少 {floor_accept} 的签字同意"


class DuplicateDefectId(DomainError):
    code = "duplicate_defect_id"
    title = "A defect with this id already exists on the works item"
    message_zh = "该工程事项已有编号为 {defect_id} 的整改通知"


class UnknownDistrict(DomainError):
    code = "unknown_district"
    kind = ErrorKind.INVALID
    title = "The district is not in the city's registry of districts"
    message_zh = "未知的区：{district}（不在本市区县名录中）{hint}"


class UnknownStreet(DomainError):
    code = "unknown_street"
    kind = ErrorKind.INVALID
    title = "The street office is not listed for this district"
    message_zh = "“{district}”的街道名录中没有“{street}”{hint}"


class DivisionCodeTaken(DomainError):
    code = "division_code_taken"
    kind = ErrorKind.INVALID
    title = "This administrative division code already names another district"
    message_zh = "行政区划代码 {code} 已属于“{name}”"


class CityAdminOnly(DomainError):
    code = "city_admin_only"
    kind = ErrorKind.FORBIDDEN
    title = "Only a city-level admin keeps the registry of districts and streets"
    message_zh = "只有市级业主单位管理员可以维护区和街道名录"


class WorkingCalendarUnavailable(DomainError):
    code = "working_calendar_unavailable"
    title = "The Chinese working-day calendar does not cover this year yet"
    message_zh = "工作日历尚未收录 {year} 年的节假日安排（国务院办公厅通知发布后升级 chinese-calendar 即可）"


class ItemsNotAccepted(DomainError):
    code = "items_not_accepted"
    title = "Completion acceptance needs every works item accepted or closed out"
    message_zh = "尚有 {count} 项工程事项未通过居民验收或销号，不能组织竣工验收"


class NoStationNotice(DomainError):
    code = "no_station_notice"
    title = "The station has not been told in writing of the completion acceptance"
    message_zh = "尚未书面告知安全质量监督站，不能组织竣工验收（须提前 7 个工作日告知）"


class TooSoonAfterNotice(DomainError):
    code = "too_soon_after_notice"
    title = "Completion acceptance comes at least 7 working days after the station's notice"
    message_zh = "{notice} 告知安质监站后须满 7 个工作日，竣工验收最早可在 {earliest} 组织"


class NoSatisfactionSurvey(DomainError):
    code = "no_satisfaction_survey"
    title = "Residents' satisfaction has not been surveyed"
    message_zh = "尚未开展居民满意度调查，不能组织竣工验收"


class SatisfactionBelowThreshold(DomainError):
    code = "satisfaction_below_threshold"
    title = "Residents' satisfaction is below the project's threshold"
    message_zh = "居民满意度 {share} 低于本项目要求的 {threshold}，不能组织竣工验收"


class InvalidSatisfactionThreshold(DomainError):
    code = "invalid_satisfaction_threshold"
    kind = ErrorKind.INVALID
    title = "The satisfaction threshold must lie between 0 and 1"
    message_zh = "满意度要求须大于 0 且不大于 1（如 4/5）"


class CompletionAcceptanceAlreadyHeld(DomainError):
    code = "completion_acceptance_already_held"
    title = "Completion acceptance has already been held"
    message_zh = "项目已于 {date} 完成竣工验收"


class CompletionAcceptanceNotHeld(DomainError):
    code = "completion_acceptance_not_held"
    title = "Completion acceptance has not been held"
    message_zh = "项目尚未组织竣工验收，不能{action}"


class SurveyFiguresInvalid(DomainError):
    code = "survey_figures_invalid"
    kind = ErrorKind.INVALID
    title = "The satisfied residents cannot outnumber those surveyed"
    message_zh = "满意人数（{satisfied}）不能多于调查样本（{sample}）"
