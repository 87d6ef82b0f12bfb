"""The built-in works kinds, as plain data (the same shape a new kind is registered with).

Pressure-test and closed-water-test limits, each citing its standard, are in `pressure_tests.py`; gas
lines are their own kind because their tests come in a different order (strength test before the
trench is covered, tightness test after backfill). Owner consent is Civil Code art. 278: 2/3 take
part by area and headcount, 3/4 of those agree by both.
"""

from __future__ import annotations

from typing import Any

from domain.templates.pressure_tests import GAS_STRENGTH_TEST, GAS_TIGHTNESS_TEST, PRESSURE_TEST

YES_NO = ("yes", "no")


def _num(code: str, zh: str, en: str, unit: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "unit": unit, "minimum": "0", **extra}


def _text(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "type": "text", **extra}


def _item(code: str, zh: str, en: str) -> dict[str, str]:
    return {"code": code, "text_zh": zh, "text_en": en}


CIVIL_CODE_278 = {"source": "《民法典》第二百七十八条"}


def _consistent_vote(suffix: str, by_zh: str, total: str, least: str, least_zh: str) -> list[dict[str, Any]]:
    """A vote's figures by area or by headcount can be true at all: an electorate, and agreeing ≤ taking
    part ≤ total. Refused whatever the inspection's result (a failed vote is still a real vote)."""
    taking_part, agreeing = f"participating_{suffix}", f"agreeing_{suffix}"
    return [
        {"code": f"electorate_{suffix}", "name_zh": least_zh, "validity": True,
         "measurement": total, "op": ">=", "value": least},
        {"code": f"participating_within_total_{suffix}", "name_zh": f"参与表决{by_zh}不大于总{by_zh}",
         "validity": True, "measurement": taking_part, "op": "<=", "ratio": "1", "of": total},
        {"code": f"agreeing_within_participating_{suffix}", "name_zh": f"同意{by_zh}不大于参与表决{by_zh}",
         "validity": True, "measurement": agreeing, "op": "<=", "ratio": "1", "of": taking_part},
    ]


PIPE_RELOCATION: dict[str, Any] = {
    "code": "pipe_relocation",
    "name_zh": "管线迁移",
    "name_en": "Pipe relocation",
    "hold_points": [
        {
            "code": "survey_and_marking",
            "name_zh": "现状管线探测与放线",
            "name_en": "Survey and marking of existing utilities",
            "construction": False,
            "checklist": [
                _item("utilities_located", "现状管线已探明并标识", "Existing utilities located"),
                _item("owner_notified", "已通知管线专营单位", "Utility owner notified"),
            ],
            "measurements": [_text("utility_owner", "专营单位", "Utility owner")],
        },
        {
            "code": "excavation",
            "name_zh": "沟槽开挖",
            "name_en": "Trench excavation",
            "after": ["survey_and_marking"],
            "min_photos": 1,
            "measurements": [
                _num("depth_m", "开挖深度", "Depth", "m"),
                _num("width_m", "开挖宽度", "Width", "m"),
            ],
            "checklist": [
                _item("shoring_in_place", "沟槽支护到位", "Shoring in place"),
                _item("fencing_in_place", "围挡与警示到位", "Fencing and warning signs in place"),
            ],
        },
        {
            "code": "pipe_laying",
            "name_zh": "管道敷设",
            "name_en": "Pipe laying",
            "after": ["excavation"],
            "measurements": [
                _num("length_laid_m", "敷设长度", "Length laid", "m", quantity="pipe_laid_m"),
                _num("slope_permille", "坡度", "Slope", "‰", required=False),
                _text("material_certificate", "材料合格证编号", "Material certificate no."),
            ],
            "checklist": [_item("bedding_ok", "管基垫层符合要求", "Bedding as specified")],
        },
        PRESSURE_TEST,
        {
            "code": "concealed_works",
            "name_zh": "隐蔽工程验收",
            "name_en": "Concealed works acceptance",
            "after": ["pressure_test"],
            "min_photos": 1,
            "concealed": True,
        },
        {
            "code": "backfill_restoration",
            "name_zh": "回填与路面恢复",
            "name_en": "Backfill and surface restoration",
            "after": ["concealed_works"],
        },
        {
            "code": "utility_handover",
            "name_zh": "专营单位接收",
            "name_en": "Hand-over to the utility company",
            "after": ["backfill_restoration"],
            "construction": False,
            "measurements": [
                _text("utility_company", "接收单位", "Receiving utility"),
                _text("handover_document_no", "接收文件编号", "Hand-over document no."),
            ],
        },
    ],
}

FLYING_WIRE_BURIAL: dict[str, Any] = {
    "code": "flying_wire_burial",
    "name_zh": "飞线下地",
    "name_en": "Flying-wire burial",
    "hold_points": [
        {"code": "route_survey", "name_zh": "管道路由勘察", "name_en": "Duct route survey",
         "construction": False},
        {
            "code": "conduit_construction",
            "name_zh": "地下通信管道建设",
            "name_en": "Underground duct construction",
            "after": ["route_survey"],
            "min_photos": 1,
            "measurements": [
                _num("depth_m", "埋深", "Depth", "m"),
                _num("duct_count", "管孔数", "Number of ducts", integer=True),
                _num("length_m", "管道长度", "Length", "m", quantity="duct_built_m"),
            ],
        },
        {"code": "manhole_inspection", "name_zh": "人(手)井验收", "name_en": "Manhole inspection",
         "after": ["conduit_construction"],
         "measurements": [_num("manhole_count", "人(手)井数量", "Manholes", integer=True)]},
        {"code": "concealed_works", "name_zh": "隐蔽工程验收",
         "name_en": "Concealed works acceptance", "after": ["manhole_inspection"],
         "min_photos": 1, "concealed": True},
        {
            "code": "cable_cutover",
            "name_zh": "多网合一",
            "name_en": "Cut-over of every operator",
            "after": ["concealed_works"],
            "measurements": [
                _num("operators_total", "运营商总数", "Operators in the community", integer=True),
                _num("operators_cut_over", "已割接运营商数", "Operators cut over", integer=True),
            ],
            "checks": [
                {"code": "at_least_one_operator", "name_zh": "运营商总数至少 1 家", "validity": True,
                 "measurement": "operators_total", "op": ">=", "value": "1"},
                {"code": "cut_over_not_above_total", "name_zh": "已割接运营商数不大于运营商总数", "validity": True,
                 "measurement": "operators_cut_over", "op": "<=", "ratio": "1", "of": "operators_total"},
                {"code": "every_operator_cut_over", "name_zh": "全部运营商已割接",
                 "measurement": "operators_cut_over", "op": ">=", "ratio": "1",
                 "of": "operators_total"},
            ],
        },
        {"code": "stairwell_boxing", "name_zh": "楼道飞线进盒", "name_en": "Stairwell cable boxing",
         "after": ["route_survey"], "min_photos": 1,
         "measurements": [_num("boxes_installed", "安装线盒数", "Boxes installed", integer=True)]},
        {
            "code": "old_cable_removal",
            "name_zh": "废旧线缆拆除回收",
            "name_en": "Removal of old cables",
            "after": ["cable_cutover"],
            "min_photos": 1,
            "measurements": [
                _num("removed_m", "拆除长度", "Length removed", "m",
                     quantity="old_cable_removed_m"),
                _num("recovered_m", "回收长度", "Length recovered", "m"),
            ],
            "checks": [
                {"code": "recovered_not_above_removed", "name_zh": "回收长度不大于拆除长度",
                 "measurement": "recovered_m", "op": "<=", "ratio": "1", "of": "removed_m"},
            ],
        },
    ],
}

ELEVATOR_INSTALLATION: dict[str, Any] = {
    "code": "elevator_installation",
    "name_zh": "既有多层住宅加装电梯",
    "name_en": "Elevator installation in an existing multi-storey building",
    "hold_points": [
        {
            "code": "owner_consent",
            "name_zh": "业主意见征询",
            "name_en": "Owners' consent (Civil Code art. 278)",
            "construction": False,
            "measurements": [
                _num("total_area_m2", "专有部分总面积", "Total exclusive area", "m²"),
                _num("total_owners", "业主总人数", "Total owners", integer=True),
                _num("participating_area_m2", "参与表决面积", "Area taking part", "m²"),
                _num("participating_owners", "参与表决人数", "Owners taking part", integer=True),
                _num("agreeing_area_m2", "同意面积", "Area agreeing", "m²"),
                _num("agreeing_owners", "同意人数", "Owners agreeing", integer=True),
            ],
            "checklist": [_item("publicised", "表决结果已公示", "Result publicised")],
            "checks": [
                *_consistent_vote("area_m2", "面积", "total_area_m2", "0.01",
                                  "专有部分总面积大于 0（至少 0.01 m²）"),
                *_consistent_vote("owners", "人数", "total_owners", "1", "业主总人数至少 1 人"),
                {**CIVIL_CODE_278, "code": "participation_by_area", "name_zh": "参与表决面积≥2/3",
                 "measurement": "participating_area_m2", "op": ">=", "ratio": "2/3",
                 "of": "total_area_m2"},
                {**CIVIL_CODE_278, "code": "participation_by_headcount", "name_zh": "参与表决人数≥2/3",
                 "measurement": "participating_owners", "op": ">=", "ratio": "2/3",
                 "of": "total_owners"},
                {**CIVIL_CODE_278, "code": "agreement_by_area", "name_zh": "同意面积≥参与面积的3/4",
                 "measurement": "agreeing_area_m2", "op": ">=", "ratio": "3/4",
                 "of": "participating_area_m2"},
                {**CIVIL_CODE_278, "code": "agreement_by_headcount", "name_zh": "同意人数≥参与人数的3/4",
                 "measurement": "agreeing_owners", "op": ">=", "ratio": "3/4",
                 "of": "participating_owners"},
            ],
        },
        {"code": "start_notification", "name_zh": "开工告知", "name_en": "Start notification",
         "after": ["owner_consent"], "construction": False,
         "measurements": [_text("notification_no", "告知书编号", "Notification no."),
                          _text("permit_no", "许可证编号", "Permit no.", required=False)]},
        {"code": "pipe_relocation_cleared", "name_zh": "管线移位完成",
         "name_en": "Pipe relocation cleared", "after": ["start_notification"],
         "construction": False,
         "linked": {"kind": "pipe_relocation", "hold_point": "utility_handover",
                    "or_kinds": ["gas_pipe_relocation"]}},
        {"code": "foundation", "name_zh": "基础验收", "name_en": "Foundation acceptance",
         "after": ["pipe_relocation_cleared"], "min_photos": 1, "concealed": True,
         "checklist": [_item("pit_ok", "基坑尺寸与标高符合设计", "Pit as designed"),
                       _item("rebar_ok", "钢筋隐蔽验收合格", "Rebar as designed")]},
        {"code": "shaft_structure", "name_zh": "钢结构/井道验收",
         "name_en": "Steel structure and shaft", "after": ["foundation"], "min_photos": 1},
        {"code": "supervision_inspection", "name_zh": "安装监督检验",
         "name_en": "Installation supervision inspection", "after": ["shaft_structure"],
         "measurements": [_text("certificate_no", "监督检验证书编号", "Certificate no.")]},
        {"code": "trial_run", "name_zh": "试运行", "name_en": "Trial run",
         "after": ["supervision_inspection"]},
        {"code": "usage_registration", "name_zh": "使用登记", "name_en": "Usage registration",
         "after": ["trial_run"], "construction": False,
         "measurements": [_text("registration_no", "使用登记证编号", "Registration no.",
                                quantity="elevators_registered")]},
    ],
}


def _pipe_point(code: str, **changes: Any) -> dict[str, Any]:
    return {**next(hp for hp in PIPE_RELOCATION["hold_points"] if hp["code"] == code), **changes}


GAS_PIPE_RELOCATION: dict[str, Any] = {
    "code": "gas_pipe_relocation",
    "name_zh": "燃气管线迁移",
    "name_en": "Gas pipe relocation",
    "hold_points": [
        _pipe_point("survey_and_marking"),
        _pipe_point("excavation"),
        _pipe_point("pipe_laying"),
        GAS_STRENGTH_TEST,
        _pipe_point("concealed_works", after=["strength_test"]),
        _pipe_point("backfill_restoration"),
        GAS_TIGHTNESS_TEST,
        _pipe_point("utility_handover", after=["tightness_test"],
                    measurements=[_text("utility_company", "接收单位（燃气公司）", "Receiving gas company"),
                                  _text("handover_document_no", "接收文件编号", "Hand-over document no.")]),
    ],
}

BUILTIN_KINDS: tuple[dict[str, Any], ...] = (PIPE_RELOCATION, FLYING_WIRE_BURIAL, ELEVATOR_INSTALLATION,
                                             GAS_PIPE_RELOCATION)
