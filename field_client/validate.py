"""The template's rules, checked on the tablet so an obvious mistake is caught in the trench, not hours later.

The templates come from `GET /api/v1/works-kinds` (cached by `pull`); these checks mirror what the server's
domain enforces for an inspection (it stays the judge: the client must not import it). Errors are what the
template alone decides and so cannot be stale; warnings depend on the item's cached state (stop-work, hold
points passed), which may have changed since the last pull, so they inform but do not refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from field_client.errors import FieldError

RESULTS = ("pass", "fail", "conditional")
PASSING = ("pass", "conditional")
SEVERITIES = ("minor", "major", "critical")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _real_day(text: str) -> bool:
    """A due date the server will take: the shape and a day that exists (2026-02-31 does not)."""
    try:
        return bool(DATE.match(text)) and 2000 <= date.fromisoformat(text).year <= 2100
    except ValueError:
        return False


def _label(spec: Mapping[str, Any]) -> str:
    return f"{spec.get('name_zh') or spec.get('text_zh') or spec['code']}（{spec['code']}）"


def _labels(specs: Iterable[Mapping[str, Any]]) -> str:
    return "、".join(_label(s) for s in specs)


def hold_point(kind: Mapping[str, Any], code: str) -> dict[str, Any]:
    found = next((hp for hp in kind["hold_points"] if hp["code"] == code), None)
    if found is None:
        known = ", ".join(hp["code"] for hp in kind["hold_points"])
        raise FieldError("hold_point_not_in_template",
                         f"“{kind['name_zh']}”没有检查点 {code}；可选：{known}",
                         f"{kind['name_en']} has no hold point {code}; choose one of: {known}")
    return dict(found)


def _number(spec: Mapping[str, Any], raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise FieldError("invalid_measurement", f"测量值 {_label(spec)} 应为数值，收到：{raw}",
                         f"Measurement {spec['code']} must be a number, got: {raw}")
    minimum = spec.get("minimum")
    if minimum is not None and value < Decimal(str(minimum)):
        raise FieldError("invalid_measurement", f"测量值 {_label(spec)} 不能小于 {minimum}",
                         f"Measurement {spec['code']} may not be below {minimum}")
    if spec.get("integer") and value != value.to_integral_value():
        raise FieldError("invalid_measurement", f"测量值 {_label(spec)} 应为整数（人数、个数按整数记录）",
                         f"Measurement {spec['code']} must be a whole number")
    return value


def _required(spec: Mapping[str, Any], values: Mapping[str, str]) -> bool:
    """As the server's `MeasurementSpec.is_required`: `required_when` makes a measurement required per medium."""
    when = spec.get("required_when") or {}
    if not when:
        return bool(spec.get("required", True))
    return all(values.get(k) in allowed for k, allowed in when.items())


def measurements(hp: Mapping[str, Any], raw: Mapping[str, str]) -> dict[str, str]:
    """Known codes only, numbers that parse and respect their minimum, choices from the list."""
    specs = {m["code"]: m for m in hp.get("measurements", [])}
    unknown = sorted(set(raw) - set(specs))
    if unknown:
        raise FieldError("invalid_measurement",
                         f"检查点 {_label(hp)} 没有测量项：{'、'.join(unknown)}；可填：{'、'.join(specs) or '无'}",
                         f"Hold point {hp['code']} has no measurement {', '.join(unknown)}; "
                         f"it has: {', '.join(specs) or 'none'}")
    clean: dict[str, str] = {}
    for code, value in raw.items():
        spec, value = specs[code], str(value).strip()
        if spec.get("type", "number") == "number":
            _number(spec, value)
        elif not value:
            raise FieldError("invalid_measurement", f"测量值 {_label(spec)} 不能为空",
                             f"Measurement {code} may not be empty")
        elif spec.get("type") == "choice" and value not in spec.get("choices", []):
            choices = "、".join(spec["choices"])
            raise FieldError("invalid_measurement", f"测量值 {_label(spec)} 应为以下之一：{choices}",
                             f"Measurement {code} must be one of: {', '.join(spec['choices'])}")
        clean[code] = value
    return clean


def _applies(check: Mapping[str, Any], values: Mapping[str, str]) -> bool:
    named = [check["measurement"], *([check["of"]] if check.get("of") else [])]
    when = check.get("when") or {}
    return all(n in values for n in named) and all(values.get(k) == v for k, v in when.items())


def _holds(check: Mapping[str, Any], values: Mapping[str, str]) -> bool:
    left = Fraction(Decimal(values[check["measurement"]]))
    if check.get("value") is not None:
        right = Fraction(Decimal(str(check["value"])))
    else:
        right = Fraction(check.get("ratio") or "1") * Fraction(Decimal(values[check["of"]]))
    return {">=": left >= right, "<=": left <= right, "==": left == right}[check["op"]]


def defect(draft: Mapping[str, Any]) -> None:
    if draft.get("severity") not in SEVERITIES:
        raise FieldError("invalid_severity",
                         f"整改严重程度应为 minor、major 或 critical，收到：{draft.get('severity')}",
                         f"Severity must be minor, major or critical, got: {draft.get('severity')}")
    if not str(draft.get("description", "")).strip() or len(draft["description"]) > 2000:
        raise FieldError("invalid_defect", "整改内容描述不能为空（不超过 2000 字）",
                         "A defect needs a description (at most 2000 characters)")
    if draft.get("due_date") and not _real_day(draft["due_date"]):
        raise FieldError("invalid_due_date", f"整改期限格式应为 YYYY-MM-DD，收到：{draft['due_date']}",
                         f"The due date must be YYYY-MM-DD, got: {draft['due_date']}")


def inspection(kind: Mapping[str, Any], code: str, result: str, raw: Mapping[str, str],
               checklist: Mapping[str, bool], photos: int, defects: list[dict[str, Any]]) -> dict[str, str]:
    """Refuse what the template refuses; return the measurements cleaned, as the server will receive them."""
    hp = hold_point(kind, code)
    if result not in RESULTS:
        raise FieldError("invalid_result", f"检查结论应为 pass、fail 或 conditional，收到：{result}",
                         f"The result must be pass, fail or conditional, got: {result}")
    if photos < hp.get("min_photos", 0):
        raise FieldError("missing_required_photos",
                         f"检查点 {_label(hp)} 至少需要 {hp['min_photos']} 张照片，现有 {photos} 张",
                         f"Hold point {code} needs at least {hp['min_photos']} photo(s), {photos} given")
    values = measurements(hp, raw)
    items = {c["code"]: c for c in hp.get("checklist", [])}
    unknown = sorted(set(checklist) - set(items))
    if unknown:
        raise FieldError("incomplete_checklist",
                         f"检查项不属于该检查点：{'、'.join(unknown)}；可选：{'、'.join(items)}",
                         f"Not on this hold point's checklist: {', '.join(unknown)}; it has: {', '.join(items)}")
    inconsistent = [c for c in hp.get("checks", []) if c.get("validity") and _applies(c, values)
                    and not _holds(c, values)]
    if inconsistent:  # figures that cannot be true are refused whatever the result, as on the server
        raise FieldError("inconsistent_measurements",
                         f"测量值相互矛盾或不成立：{'；'.join(c['name_zh'] for c in inconsistent)}",
                         f"The measurements cannot all be true: {', '.join(c['code'] for c in inconsistent)}")
    if result in PASSING:
        missing = [m for m in hp.get("measurements", []) if _required(m, values) and m["code"] not in values]
        if missing:
            raise FieldError("missing_measurements", f"缺少必填测量值：{_labels(missing)}",
                             f"Missing required measurements: {', '.join(m['code'] for m in missing)}")
        unconfirmed = [c for c in items.values() if checklist.get(c["code"]) is not True] if result == "pass" else []
        if unconfirmed:
            raise FieldError("incomplete_checklist", f"通过前须确认全部检查项：{_labels(unconfirmed)}",
                             f"To pass, confirm every checklist item: {', '.join(c['code'] for c in unconfirmed)}")
        failures = [c for c in hp.get("checks", []) if _applies(c, values) and not _holds(c, values)]
        if failures:
            raise FieldError("inspection_limits_not_met",
                             f"不满足限值：{'；'.join(c['name_zh'] for c in failures)}（应判定为不合格并开具整改）",
                             f"Limits not met: {', '.join(c['code'] for c in failures)} (record a fail with a defect)")
    if result != "pass" and not defects:
        raise FieldError("failed_inspection_needs_defect", "不合格或有条件通过的检查必须同时开具至少一项整改",
                         "A failed or conditional inspection must raise at least one defect")
    for draft in defects:
        defect(draft)
    return values


def standing(item: Mapping[str, Any], queued: Iterable[tuple[str, Mapping[str, Any]]]
             ) -> tuple[set[str], dict[str, str]]:
    """The item's passed hold points once its queued commands (action, body, in order) are applied, as the
    server's domain judges: passed while the latest inspection passes and no open defect is raised at it.
    Also which hold points a queued fail or defect un-passes (code -> what did it)."""
    results = {hp["code"]: hp["status"] == "passed" for hp in item.get("hold_points", [])}
    defects = {d["defect_id"]: d.get("hold_point") for d in item.get("defects", [])
               if d.get("status") != "closed" and d.get("hold_point")}
    unpassed: dict[str, str] = {}
    for action, body in queued:
        code = body.get("hold_point")
        if action == "inspect" and code:
            results[code] = body.get("result") in PASSING
            defects.update({d["defect_id"]: code for d in body.get("defects", [])})
            if body.get("result") not in PASSING or body.get("defects"):
                unpassed[code] = f"{code} {body.get('result')}"
            else:
                unpassed.pop(code, None)
        elif action == "defect" and code:
            defects[body["defect_id"]] = code
            unpassed[code] = f"整改 defect {body['defect_id'][:8]}"
        elif action == "close_defect":
            defects.pop(body.get("defect_id", ""), None)
    blocked = set(defects.values())
    passed = {code for code, ok in results.items() if ok and code not in blocked}
    return passed, {code: why for code, why in unpassed.items() if code not in passed}


def inspection_warnings(item: Mapping[str, Any], code: str, result: str, queued_passes: set[str],
                        unpassed: Mapping[str, str] | None = None) -> list[str]:
    """What the cached item suggests the server may refuse (the cache may be stale, so only a warning).
    `queued_passes` were passed by commands still queued; `unpassed` un-passed by a queued fail or defect."""
    if result not in PASSING:
        return []
    unpassed = unpassed or {}
    view = next((hp for hp in item.get("hold_points", []) if hp["code"] == code), None)
    warnings = []
    if view and item.get("stop_work") and view.get("construction", True):
        warnings.append("据本机缓存，该事项处于停工状态，施工检查点可能被拒绝 / "
                        "Stop-work was in force at the last pull: the server may refuse this pass")
    passed = ({hp["code"] for hp in item.get("hold_points", []) if hp["status"] == "passed"} | queued_passes) \
        - set(unpassed)
    before = [p for p in (view or {}).get("after", []) if p not in passed]
    if before:
        warnings.append(f"前序检查点尚未通过：{'、'.join(before)} / "
                        f"Earlier hold points not yet passed: {', '.join(before)}")
    undone = [f"{p}（{unpassed[p]}）" for p in before if p in unpassed]
    if undone:
        warnings.append(f"队列中的不合格或整改使前序检查点不再通过，此通过记录将被服务器拒绝：{'、'.join(undone)} / "
                        f"A queued fail or defect un-passes {', '.join(p for p in before if p in unpassed)}: "
                        "the server will refuse this pass")
    return warnings


def unpass_warnings(item: Mapping[str, Any], code: str, later_passes: Iterable[tuple[str, str]]) -> list[str]:
    """A fail or defect at `code` un-passes it: say at once which queued passes of the same item stand on it
    (`later_passes`: command id, hold point). They are still on the tablet: the user can drop them."""
    dependent = {hp["code"] for hp in item.get("hold_points", []) if code in hp.get("after", [])}
    hits = [(cmd_id, hp) for cmd_id, hp in later_passes if hp in dependent]
    if not hits:
        return []
    listed = "、".join(f"{hp}（{cmd_id[:8]}）" for cmd_id, hp in hits)
    return [f"{code} 将不再通过；队列中依赖它的通过记录：{listed}，如已不成立请 queue --drop / "
            f"{code} will no longer be passed; queued passes that rely on it: "
            f"{', '.join(f'{hp} ({cmd_id[:8]})' for cmd_id, hp in hits)}: drop them if they no longer hold"]
