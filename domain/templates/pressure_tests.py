"""Pressure and closed-water tests of pipelines as template data, each limit citing the standard it comes from.

A limit is data, not code: a city that adopts a stricter value edits the template, and an item keeps the copy
it was registered under. Each check carries `source` (standard and clause) and, where the value could not be
confirmed against the project's sources (the seeds and DOMAIN.md quote none of them), a `source_note` saying
so: those values are as the standards are commonly cited and must be checked against the text before a city
relies on them.

- Water supply (给水): GB 50242-2002 §4.2.1, the values DOMAIN.md quotes: 1.5x working pressure and at least
  0.6 MPa; metal pipe 10 min with a drop <= 0.02 MPa, plastic pipe 1 h with a drop <= 0.05 MPa.
- Heating (供热, outdoor network): GB 50242-2002 §11.3.1: 1.5x working pressure and at least 0.6 MPa, 10 min
  with a drop <= 0.05 MPa.
- Drainage (排水, closed-water test 闭水试验): GB 50268-2008 §9.3: seepage observed at least 30 min; measured
  seepage within the allowance of table 9.3.5 for reinforced-concrete pipe, by nominal diameter, and within
  q = 0.0046 Di for plastic (化学建材) pipe, in m³/(24 h·km).
- Gas (燃气) has its own works kind, because its order differs: the strength test before the trench is
  covered, the tightness test only after backfill (CJJ 33-2005 §12.4.1). Strength test: 1.5x design pressure
  and at least 0.3 MPa for steel / 0.1 MPa for polyethylene (as issue 18 states them, GB 55009-2021), held
  1 h with no pressure drop (CJJ 33-2005 §12.3). Tightness test (CJJ 33-2005 §12.4): 20 kPa below 5 kPa
  design pressure, else 1.15x design pressure and at least 0.1 MPa; 24 h; corrected drop <= 133 Pa.
"""

from __future__ import annotations

from typing import Any

UNCONFIRMED = "未能以项目资料（seeds、DOMAIN.md）核实，按该标准通常引用的数值设定；使用前须对照标准原文确认"
DOMAIN_MD = "DOMAIN.md 引用的二手资料"
WATER = {"source": "GB 50242-2002 第 4.2.1 条", "source_note": DOMAIN_MD}
HEATING = {"source": "GB 50242-2002 第 11.3.1 条", "source_note": UNCONFIRMED}
DRAINAGE = {"source": "GB 50268-2008 第 9.3 节"}
GAS_STRENGTH = {"source": "GB 55009-2021；CJJ 33-2005 第 12.3 节", "source_note": UNCONFIRMED}
GAS_TIGHTNESS = {"source": "CJJ 33-2005 第 12.4 节", "source_note": UNCONFIRMED}

PRESSURED = ("water_supply", "heating")  # media tested by pressure in the generic test (gas has its own kind)

# GB 50268-2008 table 9.3.5, reinforced-concrete pipe: allowed seepage, m³/(24 h·km), by nominal diameter (mm).
# DN 300-1500 agree with a third-party copy of the table; DN 200 is as commonly cited, not confirmed.
CONCRETE_SEEPAGE = {
    "200": "17.60", "300": "21.62", "400": "25.00", "500": "27.95", "600": "30.60", "700": "33.00",
    "800": "35.35", "900": "37.50", "1000": "39.52", "1100": "41.45", "1200": "43.30", "1300": "45.00",
    "1400": "46.70", "1500": "48.40",
}


def _num(code: str, zh: str, en: str, unit: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "unit": unit, "minimum": "0", **extra}


def _check(code: str, zh: str, measurement: str, op: str, cited: dict[str, str], when: dict[str, str],
           value: str | None = None, ratio: str | None = None, of: str | None = None,
           validity: bool = False) -> dict[str, Any]:
    right = {"value": value} if of is None else {"ratio": ratio or "1", "of": of}
    return {"code": code, "name_zh": zh, "measurement": measurement, "op": op, **right, "when": when,
            "validity": validity, **cited}


def _water_and_heating_checks() -> list[dict[str, Any]]:
    water, metal, plastic = {"medium": "water_supply"}, {"pipe_material": "metal"}, {"pipe_material": "plastic"}
    heating = {"medium": "heating"}
    return [  # the water-supply codes are those items registered before issue 18 carry
        _check("test_at_1_5x_working", "试验压力≥1.5倍工作压力", "test_pressure_mpa", ">=", WATER, water,
               ratio="3/2", of="working_pressure_mpa"),
        _check("test_at_least_0_6", "试验压力≥0.6 MPa", "test_pressure_mpa", ">=", WATER, water, "0.6"),
        _check("metal_hold_10_min", "金属管稳压≥10 min", "hold_time_min", ">=", WATER, water | metal, "10"),
        _check("metal_drop_0_02", "金属管压力降≤0.02 MPa", "pressure_drop_mpa", "<=", WATER, water | metal, "0.02"),
        _check("plastic_hold_60_min", "塑料管稳压≥1 h", "hold_time_min", ">=", WATER, water | plastic, "60"),
        _check("plastic_drop_0_05", "塑料管压力降≤0.05 MPa", "pressure_drop_mpa", "<=", WATER, water | plastic,
               "0.05"),
        _check("heating_test_at_1_5x_working", "供热管道试验压力≥1.5倍工作压力", "test_pressure_mpa", ">=", HEATING,
               heating, ratio="3/2", of="working_pressure_mpa"),
        _check("heating_test_at_least_0_6", "供热管道试验压力≥0.6 MPa", "test_pressure_mpa", ">=", HEATING, heating,
               "0.6"),
        _check("heating_hold_10_min", "供热管道稳压≥10 min", "hold_time_min", ">=", HEATING, heating, "10"),
        _check("heating_drop_0_05", "供热管道压力降≤0.05 MPa", "pressure_drop_mpa", "<=", HEATING, heating, "0.05"),
    ]


def _drainage_checks() -> list[dict[str, Any]]:
    drainage = {"medium": "drainage"}
    concrete, plastic = drainage | {"pipe_material": "concrete"}, drainage | {"pipe_material": "plastic"}
    checks = [
        _check("drainage_observed_30_min", "闭水试验渗水量观测时间≥30 min", "hold_time_min", ">=", DRAINAGE, drainage,
               "30"),
        _check("plastic_seepage_allowance", "塑料管（化学建材管）实测渗水量≤0.0046×管内径 m³/(24h·km)",
               "seepage_m3_per_day_km", "<=", DRAINAGE, plastic, ratio="0.0046", of="inner_diameter_mm"),
    ]
    for dn, allowed in CONCRETE_SEEPAGE.items():
        cited = DRAINAGE | ({"source_note": UNCONFIRMED} if dn == "200" else {"source_note": "表 9.3.5"})
        checks.append(_check(f"concrete_seepage_dn{dn}", f"钢筋混凝土管 DN{dn} 实测渗水量≤{allowed} m³/(24h·km)",
                             "seepage_m3_per_day_km", "<=", cited, concrete | {"nominal_diameter": dn}, allowed))
    return checks


PRESSURE_TEST: dict[str, Any] = {
    "code": "pressure_test",
    "name_zh": "压力试验 / 闭水试验",
    "name_en": "Pressure test / closed-water test",
    "after": ["pipe_laying"],
    "min_photos": 1,
    "measurements": [
        {"code": "medium", "name_zh": "介质", "name_en": "Medium", "type": "choice",
         "choices": ["water_supply", "drainage", "heating"],
         "choice_names_zh": {"water_supply": "给水", "drainage": "排水", "heating": "供热"}},
        {"code": "pipe_material", "name_zh": "管材", "name_en": "Pipe material",
         "type": "choice", "choices": ["metal", "plastic", "concrete"],
         "choice_names_zh": {"metal": "金属管", "plastic": "塑料管", "concrete": "钢筋混凝土管"}},
        _num("working_pressure_mpa", "工作压力", "Working pressure", "MPa", required=False,
             required_when={"medium": PRESSURED}),
        _num("test_pressure_mpa", "试验压力", "Test pressure", "MPa", required=False,
             required_when={"medium": PRESSURED}),
        _num("hold_time_min", "稳压时间", "Hold time", "min"),  # for a closed-water test: the observation time
        _num("pressure_drop_mpa", "压力降", "Pressure drop", "MPa", required=False,
             required_when={"medium": PRESSURED}),
        {"code": "nominal_diameter", "name_zh": "公称管径", "name_en": "Nominal diameter (concrete)",
         "type": "choice", "choices": list(CONCRETE_SEEPAGE),
         "choice_names_zh": {dn: f"DN{dn}" for dn in CONCRETE_SEEPAGE}, "required": False,
         "required_when": {"medium": ["drainage"], "pipe_material": ["concrete"]}},
        _num("inner_diameter_mm", "管内径", "Inner diameter (plastic)", "mm", required=False,
             required_when={"medium": ["drainage"], "pipe_material": ["plastic"]}),
        _num("test_head_m", "试验水头", "Test head", "m", required=False,
             required_when={"medium": ["drainage"]}),
        _num("seepage_m3_per_day_km", "实测渗水量", "Measured seepage", "m³/(24h·km)", required=False,
             required_when={"medium": ["drainage"]}),
        {"code": "gauge_id", "name_zh": "压力表编号", "name_en": "Gauge id", "type": "text", "required": False,
         "required_when": {"medium": PRESSURED}},
    ],
    "checks": [*_water_and_heating_checks(), *_drainage_checks()],
}

GAS_STRENGTH_TEST: dict[str, Any] = {
    "code": "strength_test",
    "name_zh": "燃气管道强度试验",
    "name_en": "Gas pipeline strength test",
    "after": ["pipe_laying"],
    "min_photos": 1,
    "measurements": [
        {"code": "pipe_material", "name_zh": "管材", "name_en": "Pipe material", "type": "choice",
         "choices": ["steel", "polyethylene"], "choice_names_zh": {"steel": "钢管", "polyethylene": "聚乙烯管"}},
        _num("design_pressure_mpa", "设计压力", "Design pressure", "MPa"),
        _num("test_pressure_mpa", "试验压力", "Test pressure", "MPa"),
        _num("hold_time_min", "稳压时间", "Hold time", "min"),
        _num("pressure_drop_mpa", "压力降", "Pressure drop", "MPa"),
        {"code": "gauge_id", "name_zh": "压力表编号", "name_en": "Gauge id", "type": "text"},
    ],
    "checks": [
        _check("gas_strength_at_1_5x_design", "强度试验压力≥1.5倍设计压力", "test_pressure_mpa", ">=", GAS_STRENGTH, {},
               ratio="3/2", of="design_pressure_mpa"),
        _check("gas_steel_strength_at_least_0_3", "钢管强度试验压力≥0.3 MPa", "test_pressure_mpa", ">=", GAS_STRENGTH,
               {"pipe_material": "steel"}, "0.3"),
        _check("gas_pe_strength_at_least_0_1", "聚乙烯管强度试验压力≥0.1 MPa", "test_pressure_mpa", ">=",
               GAS_STRENGTH, {"pipe_material": "polyethylene"}, "0.1"),
        _check("gas_strength_hold_1_h", "强度试验稳压≥1 h", "hold_time_min", ">=", GAS_STRENGTH, {}, "60"),
        _check("gas_strength_no_drop", "强度试验无压力降", "pressure_drop_mpa", "<=", GAS_STRENGTH, {}, "0"),
    ],
}

GAS_TIGHTNESS_TEST: dict[str, Any] = {
    "code": "tightness_test",
    "name_zh": "燃气管道严密性试验（回填后）",
    "name_en": "Gas pipeline tightness test (after backfill)",
    "after": ["backfill_restoration"],
    "min_photos": 1,
    "measurements": [
        {"code": "pressure_class", "name_zh": "设计压力范围", "name_en": "Design pressure range", "type": "choice",
         "choices": ["below_5_kpa", "5_kpa_and_above"],
         "choice_names_zh": {"below_5_kpa": "低于 5 kPa", "5_kpa_and_above": "5 kPa 及以上"}},
        _num("design_pressure_mpa", "设计压力", "Design pressure", "MPa"),
        _num("test_pressure_mpa", "试验压力", "Test pressure", "MPa"),
        _num("hold_time_min", "稳压时间", "Hold time", "min"),
        _num("corrected_drop_pa", "修正压力降", "Corrected pressure drop", "Pa"),
        {"code": "gauge_id", "name_zh": "压力表编号", "name_en": "Gauge id", "type": "text"},
    ],
    "checks": [
        _check("design_below_5_kpa", "所选设计压力范围与设计压力一致（低于 5 kPa）", "design_pressure_mpa", "<=",
               GAS_TIGHTNESS, {"pressure_class": "below_5_kpa"}, "0.005", validity=True),
        _check("design_5_kpa_and_above", "所选设计压力范围与设计压力一致（5 kPa 及以上）", "design_pressure_mpa", ">=",
               GAS_TIGHTNESS, {"pressure_class": "5_kpa_and_above"}, "0.005", validity=True),
        _check("low_tightness_at_20_kpa", "设计压力低于 5 kPa 时试验压力≥20 kPa", "test_pressure_mpa", ">=",
               GAS_TIGHTNESS, {"pressure_class": "below_5_kpa"}, "0.02"),
        _check("tightness_at_1_15x_design", "严密性试验压力≥1.15倍设计压力", "test_pressure_mpa", ">=", GAS_TIGHTNESS,
               {"pressure_class": "5_kpa_and_above"}, ratio="23/20", of="design_pressure_mpa"),
        _check("tightness_at_least_0_1", "严密性试验压力≥0.1 MPa", "test_pressure_mpa", ">=", GAS_TIGHTNESS,
               {"pressure_class": "5_kpa_and_above"}, "0.1"),
        _check("tightness_hold_24_h", "严密性试验稳压≥24 h", "hold_time_min", ">=", GAS_TIGHTNESS, {}, "1440"),
        _check("tightness_drop_133_pa", "修正压力降≤133 Pa", "corrected_drop_pa", "<=", GAS_TIGHTNESS, {}, "133"),
    ],
}
