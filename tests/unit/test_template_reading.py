"""The one reading of a record that the console, the residents' pages and the tablet all show."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.templates import builtin_catalog
from domain.templates.model import HoldPointSpec, MeasurementSpec
from domain.templates.reading import checks, limits, measurements, number_text


def _pressure_test() -> HoldPointSpec:
    template = builtin_catalog().get("pipe_relocation")
    spec = template.hold_point("pressure_test")
    assert spec is not None
    return spec


def test_a_passing_water_test_reads_as_the_standard_writes_it() -> None:
    values = {"medium": "water_supply", "pipe_material": "metal", "working_pressure_mpa": Decimal("0.4"),
              "test_pressure_mpa": Decimal("1.0"), "hold_time_min": Decimal("10"), "pressure_drop_mpa": "0.01"}
    lines = [c.zh for c in checks(_pressure_test(), values)]
    assert "试验压力 1.0 MPa ≥ 0.6 MPa 合格" in lines
    assert lines.count("试验压力 1.0 MPa ≥ 0.6 MPa 合格") == 2  # 0.6 MPa floor and 1.5 × 0.4 MPa
    assert "压力降 0.01 MPa ≤ 0.02 MPa 合格" in lines
    assert len(lines) == 4  # the plastic-pipe limits do not apply to a metal pipe


def test_a_failed_limit_says_so_in_plain_words() -> None:
    values = {"medium": "water_supply", "pipe_material": "plastic", "working_pressure_mpa": "1",
              "test_pressure_mpa": "1.2", "hold_time_min": "30", "pressure_drop_mpa": "0.01"}
    plain = {c.code: c.plain_zh for c in checks(_pressure_test(), values)}
    assert plain["test_at_1_5x_working"] == "试验压力 1.2 MPa，要求不低于 1.5 MPa，不合格"
    assert plain["plastic_hold_60_min"] == "稳压时间 30 min，要求不低于 60 min，不合格"


def test_choices_read_in_chinese_and_limits_name_their_conditions() -> None:
    spec = _pressure_test()
    shown = {m.code: m.text for m in measurements(spec, {"medium": "water_supply", "pipe_material": "metal",
                                                          "gauge_id": "G-7"})}
    assert shown == {"medium": "给水", "pipe_material": "金属管", "gauge_id": "G-7"}
    assert "试验压力 ≥ 1.5 × 工作压力（介质为给水时）" in limits(spec)


def test_figures_have_no_exponent_and_a_bound_of_a_third_is_rounded() -> None:
    assert number_text(Decimal("1E+1"), "min") == "10 min"
    assert number_text(Decimal(1) / Decimal(3), "m") == "0.3333 m"


def test_names_for_choices_that_do_not_exist_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown choices"):
        MeasurementSpec(code="m", name_zh="介质", name_en="Medium", type="choice", choices=("gas",),
                        choice_names_zh={"water": "水"})
