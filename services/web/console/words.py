"""The console's Chinese: names of kinds, states, severities and events, times at the site, and each timeline
entry told as a line a station inspector reads ("压力试验：试验压力 1.0 MPa ≥ 0.6 MPa 合格")."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from domain.actors import ROLE_NAMES_ZH, Role
from domain.templates import reading
from domain.templates.catalog import TemplateCatalog
from domain.templates.model import WorksKindTemplate
from domain.wording import (
    CANCEL_REASONS_ZH,
    DECISION_ZH,
    EVENT_NAMES_ZH,
    RESULT_ZH,
    SEVERITY_ZH,
    STATE_NAMES_ZH,
)
from projections.timeline import FLAGS_ZH
from services.users import ERASED_NAME, UserDirectory

EVENTS_ZH = EVENT_NAMES_ZH
STATES_ZH = STATE_NAMES_ZH
# The device ids the console's own forms and the spreadsheet import record
DEVICE_NAMES_ZH = {"web-console": "监管台网页", "spreadsheet-import": "表格导入"}
FLAG_NAMES_ZH = FLAGS_ZH


class Clock:
    """Times as the site reads them (the settings' UTC offset): stored times are ISO with a zone."""

    def __init__(self, utc_offset_hours: float) -> None:
        self.zone = timezone(timedelta(hours=utc_offset_hours))

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()

    def show(self, moment: str | None) -> str:
        if not moment:
            return "—"
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def day(self, moment: str | None) -> str:
        return self.show(moment)[:10] if moment else "—"


def role_zh(role: str) -> str:
    try:
        return ROLE_NAMES_ZH[Role(role)]
    except ValueError:
        return role


class Names:
    """People's names for one page, each looked up once (an erased person reads 已删除)."""

    def __init__(self, users: UserDirectory) -> None:
        self.users, self.known = users, dict[str, str]()

    def __call__(self, user_id: str | None) -> str:
        if not user_id:
            return "—"
        if user_id not in self.known:
            person = self.users.get(user_id)
            self.known[user_id] = str(person.public()["name"]) if person else ERASED_NAME
        return self.known[user_id]


def kind_names(catalog: TemplateCatalog) -> dict[str, str]:
    return {template.code: template.name_zh for template in catalog}


def hold_point_zh(template: WorksKindTemplate, code: str | None) -> str:
    if not code:
        return ""
    spec = template.hold_point(code)
    return spec.name_zh if spec else code


def entry_lines(template: WorksKindTemplate, entry: dict[str, Any], names: Names) -> list[str]:
    """What the entry says, in words: results against the template's limits, reasons, decisions."""
    data, kind = entry["data"], entry["type"]
    if kind == "InspectionRecorded":
        spec = template.hold_point(data["hold_point"])
        result = RESULT_ZH.get(data["result"], data["result"])
        lines = [f"{hold_point_zh(template, data['hold_point'])}：{result}"]
        if spec is not None:
            checked = reading.checks(spec, data.get("measurements") or {})
            lines += [c.zh for c in checked]
            judged = {c.name_zh for c in checked}
            lines += [f"{m.name_zh}：{m.text}" for m in reading.measurements(spec, data.get("measurements") or {})
                      if m.name_zh not in judged]
        if data.get("notes"):
            lines.append(f"备注：{data['notes']}")
        return lines
    if kind == "DefectRaised":
        due = f"，限期 {data['due_date']}" if data.get("due_date") else ""
        where = f"（{hold_point_zh(template, data.get('hold_point'))}）" if data.get("hold_point") else ""
        return [f"{SEVERITY_ZH.get(data['severity'], data['severity'])}{where}：{data['description']}{due}"]
    if kind in ("RectificationReported",):
        return [data.get("description", "")]
    if kind == "RectificationRejected":
        return [f"理由：{data.get('reason', '')}"]
    if kind == "DefectClosed":
        return [f"复查意见：{data['notes']}"] if data.get("notes") else []
    if kind == "StopWorkOrdered":
        return [f"原因：{data.get('reason', '')}"]
    if kind in ("StopWorkLifted", "ClosedOut"):
        return [f"说明：{data['notes']}"] if data.get("notes") else []
    if kind == "Reopened":
        return [f"原因：{data.get('reason', '')}"]
    if kind == "Registered":
        return [f"{data.get('title') or ''} {data.get('location', '')}".strip()]
    if kind == "AcceptanceRequested":
        return [f"第 {data['round_no']} 轮，可签字成员 {len(data.get('electorate', []))} 人"]
    if kind == "ResidentSigned":
        decision = DECISION_ZH.get(data["decision"], data["decision"])
        reason = f"，理由：{data['reason']}" if data.get("reason") else ""
        return [f"第 {data['round_no']} 轮：{decision}{reason}"]
    if kind in ("AcceptanceGranted", "AcceptanceRejected"):
        tally = data.get("tally", {})
        return [f"第 {data['round_no']} 轮：同意 {tally.get('accepts', 0)}、不同意 {tally.get('rejects', 0)}，"
                f"共 {tally.get('electorate', 0)} 人"]
    if kind == "AcceptanceRoundCancelled":
        return [f"第 {data['round_no']} 轮：{CANCEL_REASONS_ZH.get(data.get('reason', ''), data.get('reason', ''))}"]
    return []
