"""Local validation: what the template alone decides, caught on the tablet with the server's own codes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.inspection import validate_inspection
from domain.templates import builtin_catalog
from field_client import validate
from field_client.errors import FieldError
from tests.support import VALID
from tests.unit.field_client.conftest import item_view, kinds

KINDS = {k["code"]: k for k in kinds()}
PIPE = KINDS["pipe_relocation"]
DEFECT = [{"severity": "major", "description": "沟槽未支护"}]


def refusal(**overrides: Any) -> FieldError:
    args: dict[str, Any] = {"kind": PIPE, "code": "excavation", "result": "pass",
                            "raw": VALID["excavation"]["measurements"], "checklist": VALID["excavation"]["checklist"],
                            "photos": 1, "defects": []}
    args.update(overrides)
    with pytest.raises(FieldError) as caught:
        validate.inspection(**args)
    return caught.value


def test_a_complete_inspection_passes_and_comes_back_as_sent() -> None:
    values = validate.inspection(PIPE, "excavation", "pass", {"depth_m": " 1.2", "width_m": "0.8"},
                                 VALID["excavation"]["checklist"], 1, [])
    assert values == {"depth_m": "1.2", "width_m": "0.8"}


@pytest.mark.parametrize(("overrides", "code", "zh"), [
    ({"code": "excavaton"}, "hold_point_not_in_template", "没有检查点"),
    ({"photos": 0}, "missing_required_photos", "至少需要 1 张照片"),
    ({"raw": {"depth_m": "1.2"}}, "missing_measurements", "开挖宽度（width_m）"),
    ({"raw": {"depth_m": "深", "width_m": "0.8"}}, "invalid_measurement", "应为数值"),
    ({"raw": {"depth_m": "-1", "width_m": "0.8"}}, "invalid_measurement", "不能小于 0"),
    ({"raw": {"depth_m": "1", "width_m": "1", "colour": "red"}}, "invalid_measurement", "没有测量项"),
    ({"checklist": {"shoring_in_place": True}}, "incomplete_checklist", "须确认全部检查项"),
    ({"result": "fail"}, "failed_inspection_needs_defect", "必须同时开具"),
    ({"result": "conditional"}, "failed_inspection_needs_defect", "必须同时开具"),
    ({"result": "fail", "defects": [{"severity": "huge", "description": "x"}]}, "invalid_severity", "严重程度"),
    ({"result": "maybe"}, "invalid_result", "检查结论"),
])
def test_obvious_mistakes_are_refused_in_chinese_and_english(overrides: dict[str, Any], code: str, zh: str) -> None:
    error = refusal(**overrides)
    assert error.code == code and zh in error.zh and error.en.split(":")[0].isascii()


def test_a_failed_inspection_needs_no_measurements_but_a_defect() -> None:
    assert validate.inspection(PIPE, "excavation", "fail", {}, {}, 1, DEFECT) == {}


def test_pressure_limits_are_the_templates() -> None:
    body = dict(VALID["pressure_test"]["measurements"], pressure_drop_mpa="0.03")
    error = refusal(code="pressure_test", raw=body, checklist={})
    assert error.code == "inspection_limits_not_met" and "金属管压力降≤0.02 MPa" in error.zh


def test_warnings_come_from_the_cached_state_and_the_queue() -> None:
    item = item_view(stop_work={"order_id": "x", "reason": "围挡缺失"})
    warnings = validate.inspection_warnings(item, "excavation", "pass", queued_passes=set())
    assert any("停工" in w for w in warnings) and any("survey_and_marking" in w for w in warnings)
    assert validate.inspection_warnings(item_view(), "excavation", "pass", {"survey_and_marking"}) == []
    assert validate.inspection_warnings(item, "excavation", "fail", set()) == []


# --- the client agrees with the server's domain on every built-in hold point ---------------------------------

SPECS = [(k.code, hp) for k in builtin_catalog() for hp in k.hold_points]
VALUES = st.sampled_from(["0", "0.02", "0.4", "0.6", "1.5", "10", "60", "-1", "abc", "", " 7 ", "water_supply",
                          "metal", "plastic", "gas", "1e2", "NaN"])


@st.composite
def attempts(draw: st.DrawFn) -> tuple[str, Any, str, dict[str, str], dict[str, bool], int]:
    kind, spec = draw(st.sampled_from(SPECS))
    codes = [m.code for m in spec.measurements] + ["unknown_code"]
    valid = VALID.get(spec.code, {}).get("measurements", {})
    raw = {c: draw(st.sampled_from([valid[c]]) | VALUES) if c in valid else draw(VALUES)
           for c in draw(st.lists(st.sampled_from(codes), unique=True))}
    if draw(st.booleans()):
        raw = {**valid, **{k: v for k, v in raw.items() if k != "unknown_code"}}
    items = [c.code for c in spec.checklist] + ["unknown_item"]
    checklist = {c: draw(st.booleans()) for c in draw(st.lists(st.sampled_from(items), unique=True))}
    return kind, spec, draw(st.sampled_from(["pass", "conditional", "fail"])), raw, checklist, draw(st.integers(0, 2))


@settings(max_examples=400, deadline=None)
@given(attempts())
def test_local_validation_agrees_with_the_domain(attempt: tuple[str, Any, str, dict[str, str],
                                                                 dict[str, bool], int]) -> None:
    kind, spec, result, raw, checklist, photos = attempt
    try:
        validate_inspection(spec, result, raw, checklist, ["a" * 64] * photos)
        server = None
    except DomainError as error:
        server = error.code
    try:
        validate.inspection(KINDS[kind], spec.code, result, raw, checklist, photos, DEFECT)
        local = None
    except FieldError as error:
        local = error.code
    assert local == server, (spec.code, result, raw, checklist, photos)


def test_a_queued_fail_or_defect_un_passes_its_hold_point_for_the_passes_queued_after_it() -> None:
    item = item_view()
    for hp in item["hold_points"][:2]:  # survey_and_marking and excavation passed at the last pull
        hp["status"] = "passed"
    passed, unpassed = validate.standing(item, [])
    assert validate.inspection_warnings(item, "pipe_laying", "pass", passed, unpassed) == []
    queued = [("inspect", {"hold_point": "excavation", "result": "fail",
                           "defects": [{"defect_id": "d" * 32, "severity": "major"}]})]
    passed, unpassed = validate.standing(item, queued)
    assert "excavation" not in passed and "excavation" in unpassed
    warnings = validate.inspection_warnings(item, "pipe_laying", "pass", passed, unpassed)
    assert any("不再通过" in w and "excavation" in w for w in warnings), warnings
    # the defect closed and excavation passed again, both queued: the pass stands once more
    queued += [("close_defect", {"defect_id": "d" * 32}), ("inspect", {"hold_point": "excavation", "result": "pass"})]
    passed, unpassed = validate.standing(item, queued)
    assert validate.inspection_warnings(item, "pipe_laying", "pass", passed, unpassed) == []
    # a defect raised directly at a hold point un-passes it too
    passed, unpassed = validate.standing(item, [("defect", {"hold_point": "excavation", "defect_id": "e" * 32})])
    assert "excavation" in unpassed


def test_a_fail_warns_at_once_about_queued_passes_that_stand_on_it() -> None:
    item = item_view()
    later = [("c1" * 16, "pipe_laying"), ("c2" * 16, "survey_and_marking")]
    [warning] = validate.unpass_warnings(item, "excavation", later)
    assert "pipe_laying" in warning and "c1c1c1c1" in warning and "survey_and_marking" not in warning
    assert validate.unpass_warnings(item, "utility_handover", later) == []


@pytest.mark.parametrize("due", ["2026-02-31", "2026-13-01", "0000-00-00", "9999-12-31"])
def test_a_due_date_that_is_no_real_day_is_refused_on_the_tablet(due: str) -> None:
    with pytest.raises(FieldError) as refused:
        validate.defect({"severity": "minor", "description": "井盖松动", "due_date": due})
    assert refused.value.code == "invalid_due_date"


def test_a_real_due_date_is_taken() -> None:
    validate.defect({"severity": "minor", "description": "井盖松动", "due_date": "2028-02-29"})
