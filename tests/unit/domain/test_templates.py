"""Templates are data: the built-in kinds, a new kind added without code, and their limits."""

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from domain.inspection import validate_inspection
from domain.rules import InspectionLimitsNotMet, UnknownWorksKind
from domain.templates import TemplateCatalog, builtin_catalog
from domain.templates.model import HoldPointSpec, WorksKindTemplate
from tests.support import VALID

ROOF: dict[str, Any] = {
    "code": "roof_waterproofing",
    "name_zh": "屋面防水",
    "name_en": "Roof waterproofing",
    "hold_points": [
        {"code": "base_prepared", "name_zh": "基层处理", "name_en": "Base prepared"},
        {"code": "flood_test", "name_zh": "蓄水试验", "name_en": "Flood test", "after": ["base_prepared"],
         "min_photos": 1,
         "measurements": [{"code": "hours", "name_zh": "蓄水时间", "name_en": "Hours", "unit": "h"}],
         "checks": [{"code": "at_least_24h", "name_zh": "蓄水≥24 h", "measurement": "hours",
                     "op": ">=", "value": "24"}]},
    ],
}


def hold_point(template: WorksKindTemplate, code: str) -> HoldPointSpec:
    spec = template.hold_point(code)
    assert spec is not None, code
    return spec


def test_builtin_kinds_have_chinese_and_english_names_and_ordered_hold_points() -> None:
    catalog = builtin_catalog()
    codes = {t.code: [hp.code for hp in t.hold_points] for t in catalog}
    assert codes["pipe_relocation"][3:5] == ["pressure_test", "concealed_works"]
    assert codes["elevator_installation"][-1] == "usage_registration"
    for template in catalog:
        assert template.name_zh and template.name_en
        for hp in template.hold_points:
            assert hp.name_zh and hp.name_en
    pipe = catalog.get("pipe_relocation")
    assert hold_point(pipe, "backfill_restoration").after == ("concealed_works",)
    assert hold_point(pipe, "concealed_works").min_photos == 1


def test_a_new_kind_is_added_as_data_and_its_checks_apply() -> None:
    catalog = builtin_catalog()
    template = catalog.register(ROOF)
    assert "roof_waterproofing" in catalog
    spec = hold_point(template, "flood_test")
    with pytest.raises(InspectionLimitsNotMet):
        validate_inspection(spec, "pass", {"hours": "12"}, {}, ["a" * 64])
    assert validate_inspection(spec, "pass", {"hours": "24"}, {}, ["a" * 64]) == {"hours": Decimal("24")}


def test_inconsistent_templates_are_refused() -> None:
    later = {**ROOF, "hold_points": list(reversed(ROOF["hold_points"]))}
    with pytest.raises(ValidationError, match="follows unknown or later"):
        TemplateCatalog([later])
    bad_check = {**ROOF, "hold_points": [{**ROOF["hold_points"][1], "after": [],
                                          "checks": [{"code": "x", "name_zh": "x", "measurement": "nope",
                                                      "op": ">=", "value": "1"}]}]}
    with pytest.raises(ValidationError, match="names"):
        TemplateCatalog([bad_check])


def test_unknown_kind_is_a_named_error() -> None:
    with pytest.raises(UnknownWorksKind) as error:
        builtin_catalog().get("spaceport")
    assert error.value.code == "unknown_works_kind"


def _pressure(**changes: str) -> dict[str, str]:
    return {**VALID["pressure_test"]["measurements"], **changes}


SPEC = hold_point(builtin_catalog().get("pipe_relocation"), "pressure_test")


@pytest.mark.parametrize(
    ("changes", "passes"),
    [
        ({}, True),  # metal: exactly 1.5x, exactly 0.6, exactly 10 min, exactly 0.02
        ({"test_pressure_mpa": "0.59"}, False),  # below the 0.6 MPa floor
        ({"working_pressure_mpa": "0.5", "test_pressure_mpa": "0.74"}, False),  # below 1.5x
        ({"working_pressure_mpa": "0.5", "test_pressure_mpa": "0.75"}, True),
        ({"hold_time_min": "9"}, False),
        ({"pressure_drop_mpa": "0.021"}, False),
        ({"pipe_material": "plastic"}, False),  # plastic must hold 60 min
        ({"pipe_material": "plastic", "hold_time_min": "60", "pressure_drop_mpa": "0.05"}, True),
        ({"pipe_material": "plastic", "hold_time_min": "60", "pressure_drop_mpa": "0.051"}, False),
        ({"medium": "heating", "pressure_drop_mpa": "0.05"}, True),  # heating's own limits, not water's 0.02
    ],
)
def test_pressure_test_limits_are_parameters_per_pipe_material(changes: dict[str, str], passes: bool) -> None:
    photos = ["b" * 64]
    if passes:
        validate_inspection(SPEC, "pass", _pressure(**changes), {}, photos)
    else:
        with pytest.raises(InspectionLimitsNotMet):
            validate_inspection(SPEC, "pass", _pressure(**changes), {}, photos)
    # a failed test is recorded whatever its figures
    validate_inspection(SPEC, "fail", _pressure(**changes), {}, photos)


CONSENT = hold_point(builtin_catalog().get("elevator_installation"), "owner_consent")


@pytest.mark.parametrize(
    ("figures", "passes"),
    [
        ({}, True),  # exactly 2/3 take part and exactly 3/4 of them agree, by area and headcount
        ({"participating_owners": "7"}, False),  # 7 of 12 < 2/3
        ({"participating_area_m2": "799.99"}, False),
        ({"agreeing_owners": "5"}, False),  # 5 of 8 < 3/4
        ({"agreeing_area_m2": "599.99"}, False),
        ({"participating_owners": "12", "agreeing_owners": "9"}, True),
    ],
)
def test_owner_consent_follows_civil_code_278(figures: dict[str, str], passes: bool) -> None:
    measurements = {**VALID["owner_consent"]["measurements"], **figures}
    checklist = VALID["owner_consent"]["checklist"]
    if passes:
        validate_inspection(CONSENT, "pass", measurements, checklist, [])
    else:
        with pytest.raises(InspectionLimitsNotMet) as error:
            validate_inspection(CONSENT, "pass", measurements, checklist, [])
        assert error.value.context["checks"]
