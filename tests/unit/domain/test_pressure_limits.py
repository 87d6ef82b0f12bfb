"""Issue 18 §1: pressure and closed-water limits for every medium, as template data citing their standards."""

from __future__ import annotations

from typing import Any

import pytest

from domain import commands as c
from domain.inspection import validate_inspection
from domain.rules import (
    HoldPointOutOfOrder,
    InconsistentMeasurements,
    InspectionLimitsNotMet,
    InvalidMeasurement,
    MissingMeasurements,
)
from domain.templates import builtin_catalog
from domain.templates.model import HoldPointSpec
from tests.support import World, inspection, photo

PHOTOS = ["c" * 64]


def spec(kind: str, code: str) -> HoldPointSpec:
    found = builtin_catalog().get(kind).hold_point(code)
    assert found is not None
    return found


PRESSURE = spec("pipe_relocation", "pressure_test")
STRENGTH = spec("gas_pipe_relocation", "strength_test")
TIGHTNESS = spec("gas_pipe_relocation", "tightness_test")

HEATING = {"medium": "heating", "pipe_material": "metal", "working_pressure_mpa": "0.4", "test_pressure_mpa": "0.6",
           "hold_time_min": "10", "pressure_drop_mpa": "0.05", "gauge_id": "G-2"}
CONCRETE_DRAIN = {"medium": "drainage", "pipe_material": "concrete", "nominal_diameter": "300",
                  "hold_time_min": "30", "test_head_m": "2", "seepage_m3_per_day_km": "21.62"}
PLASTIC_DRAIN = {"medium": "drainage", "pipe_material": "plastic", "inner_diameter_mm": "300",
                 "hold_time_min": "30", "test_head_m": "2", "seepage_m3_per_day_km": "1.38"}
GAS_STRENGTH = {"pipe_material": "steel", "design_pressure_mpa": "0.2", "test_pressure_mpa": "0.3",
                "hold_time_min": "60", "pressure_drop_mpa": "0", "gauge_id": "G-3"}
GAS_TIGHT = {"pressure_class": "5_kpa_and_above", "design_pressure_mpa": "0.2", "test_pressure_mpa": "0.23",
             "hold_time_min": "1440", "corrected_drop_pa": "133", "gauge_id": "G-4"}


def passes(hold_point: HoldPointSpec, values: dict[str, Any]) -> bool:
    try:
        validate_inspection(hold_point, "pass", values, {}, PHOTOS)
    except InspectionLimitsNotMet:
        return False
    return True


@pytest.mark.parametrize(("changes", "ok"), [
    ({}, True),  # exactly 1.5x, 0.6 MPa, 10 min, 0.05 MPa
    ({"test_pressure_mpa": "0.59"}, False),
    ({"working_pressure_mpa": "0.5", "test_pressure_mpa": "0.74"}, False),
    ({"hold_time_min": "9"}, False),
    ({"pressure_drop_mpa": "0.051"}, False),
    ({"test_pressure_mpa": "0", "hold_time_min": "0", "pressure_drop_mpa": "5"}, False),  # the audit's figures
])
def test_heating_is_tested_at_1_5x_and_0_6_mpa_for_10_min(changes: dict[str, str], ok: bool) -> None:
    assert passes(PRESSURE, {**HEATING, **changes}) is ok


@pytest.mark.parametrize(("changes", "ok"), [
    ({}, True),  # DN300 concrete: exactly table 9.3.5's 21.62
    ({"seepage_m3_per_day_km": "21.63"}, False),
    ({"nominal_diameter": "1000", "seepage_m3_per_day_km": "39.52"}, True),
    ({"nominal_diameter": "1000", "seepage_m3_per_day_km": "39.53"}, False),
    ({"hold_time_min": "29"}, False),  # seepage observed at least 30 min
])
def test_a_concrete_drain_meets_table_9_3_5(changes: dict[str, str], ok: bool) -> None:
    assert passes(PRESSURE, {**CONCRETE_DRAIN, **changes}) is ok


@pytest.mark.parametrize(("seepage", "ok"), [("1.38", True), ("1.381", False), ("0", True)])
def test_a_plastic_drain_meets_0_0046_di(seepage: str, ok: bool) -> None:
    assert passes(PRESSURE, {**PLASTIC_DRAIN, "seepage_m3_per_day_km": seepage}) is ok  # 0.0046 x 300 = 1.38


def test_a_closed_water_test_records_seepage_not_pressures() -> None:
    validate_inspection(PRESSURE, "pass", CONCRETE_DRAIN, {}, PHOTOS)  # no pressure, no gauge
    without = {k: v for k, v in CONCRETE_DRAIN.items() if k != "seepage_m3_per_day_km"}
    with pytest.raises(MissingMeasurements, match="seepage_m3_per_day_km"):
        validate_inspection(PRESSURE, "pass", without, {}, PHOTOS)
    with pytest.raises(MissingMeasurements, match="nominal_diameter"):
        validate_inspection(PRESSURE, "pass", {**PLASTIC_DRAIN, "pipe_material": "concrete"}, {}, PHOTOS)
    with pytest.raises(MissingMeasurements, match="test_pressure_mpa"):
        validate_inspection(PRESSURE, "pass", {k: v for k, v in HEATING.items() if k != "test_pressure_mpa"}, {},
                            PHOTOS)


def test_gas_is_no_longer_a_medium_of_the_generic_test() -> None:
    """A gas line is its own kind: its tightness test comes after backfill."""
    with pytest.raises(InvalidMeasurement, match="给水"):
        validate_inspection(PRESSURE, "pass", {**HEATING, "medium": "gas"}, {}, PHOTOS)


@pytest.mark.parametrize(("changes", "ok"), [
    ({}, True),  # steel: exactly 1.5x design and 0.3 MPa, 1 h, no drop
    ({"test_pressure_mpa": "0.29", "design_pressure_mpa": "0.1"}, False),  # below the steel floor
    ({"pipe_material": "polyethylene", "design_pressure_mpa": "0.01", "test_pressure_mpa": "0.1"}, True),
    ({"pipe_material": "polyethylene", "design_pressure_mpa": "0.01", "test_pressure_mpa": "0.09"}, False),
    ({"test_pressure_mpa": "0.29"}, False),  # below 1.5x design
    ({"hold_time_min": "59"}, False),
    ({"pressure_drop_mpa": "0.001"}, False),
    ({"test_pressure_mpa": "0", "hold_time_min": "0", "pressure_drop_mpa": "5"}, False),  # the audit's figures
])
def test_a_gas_strength_test(changes: dict[str, str], ok: bool) -> None:
    assert passes(STRENGTH, {**GAS_STRENGTH, **changes}) is ok


@pytest.mark.parametrize(("changes", "ok"), [
    ({}, True),  # exactly 1.15x design, 24 h, 133 Pa
    ({"test_pressure_mpa": "0.229"}, False),
    ({"design_pressure_mpa": "0.05", "test_pressure_mpa": "0.099"}, False),  # 1.15x holds, the 0.1 floor does not
    ({"corrected_drop_pa": "134"}, False),
    ({"hold_time_min": "1439"}, False),
    ({"pressure_class": "below_5_kpa", "design_pressure_mpa": "0.003", "test_pressure_mpa": "0.02"}, True),
    ({"pressure_class": "below_5_kpa", "design_pressure_mpa": "0.003", "test_pressure_mpa": "0.019"}, False),
])
def test_a_gas_tightness_test(changes: dict[str, str], ok: bool) -> None:
    assert passes(TIGHTNESS, {**GAS_TIGHT, **changes}) is ok


def test_a_pressure_class_that_contradicts_the_design_pressure_is_refused() -> None:
    with pytest.raises(InconsistentMeasurements):
        validate_inspection(TIGHTNESS, "fail", {**GAS_TIGHT, "pressure_class": "below_5_kpa"}, {}, PHOTOS)


def test_every_limit_cites_its_standard_and_unconfirmed_values_say_so() -> None:
    tests = [PRESSURE, STRENGTH, TIGHTNESS]
    for hold_point in tests:
        for check in hold_point.checks:
            assert check.source, check.code
    cited = {check.source for hold_point in tests for check in hold_point.checks}
    assert {s.split(" 第")[0] for s in cited if s} >= {"GB 50242-2002", "GB 50268-2008", "CJJ 33-2005"}
    assert any("GB 55009" in (s or "") for s in cited)
    unconfirmed = [check.code for hold_point in (STRENGTH, TIGHTNESS) for check in hold_point.checks
                   if "未能" not in (check.source_note or "")]
    assert unconfirmed == []


def test_a_gas_line_is_tested_for_tightness_only_after_backfill(world: World) -> None:
    item_id = world.new_item("gas_pipe_relocation")
    for code in ("survey_and_marking", "excavation", "pipe_laying"):
        world.run(world.supervisor, inspection(item_id, code))
    tight = {"measurements": GAS_TIGHT, "photos": [photo("gauge")]}
    with pytest.raises(HoldPointOutOfOrder, match="backfill_restoration"):
        world.run(world.supervisor, c.RecordInspection(item_id=item_id, hold_point="tightness_test", result="pass",
                                                       **tight))
    world.run(world.supervisor, c.RecordInspection(item_id=item_id, hold_point="strength_test", result="pass",
                                                   measurements=GAS_STRENGTH, photos=[photo("strength")]))
    for code in ("concealed_works", "backfill_restoration"):
        world.run(world.supervisor, inspection(item_id, code))
    world.run(world.supervisor, c.RecordInspection(item_id=item_id, hold_point="tightness_test", result="pass",
                                                   **tight))
    world.run(world.supervisor, inspection(item_id, "utility_handover"))
    world.run(world.supervisor, c.CompleteWorks(item_id=item_id))


def test_a_lift_may_be_cleared_by_a_gas_line_relocation(world: World) -> None:
    gas = world.new_item("gas_pipe_relocation")
    lift = world.new_item("elevator_installation", links={"pipe_relocation_cleared": gas})
    assert world.app.get_item(lift).links == {"pipe_relocation_cleared": str(gas)}
