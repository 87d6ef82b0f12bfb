"""What an inspection at a hold point must contain, and whether its measurements allow it to pass."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.fields import MEASUREMENT_LIMIT
from domain.rules import (
    IncompleteChecklist,
    InconsistentMeasurements,
    InspectionLimitsNotMet,
    InvalidMeasurement,
    InvalidPhotoReference,
    MissingMeasurements,
    MissingRequiredPhotos,
)
from domain.templates.model import HoldPointSpec, MeasurementSpec

PHOTO_ID = re.compile(r"^[0-9a-f]{64}$")
RESULTS = ("pass", "fail", "conditional")
PASSING = ("pass", "conditional")
MEASUREMENT_DECIMALS = 9  # finer than any instrument; bounds the exact arithmetic of the template's checks
FINEST = Decimal(1).scaleb(-MEASUREMENT_DECIMALS)


def check_photo_ids(photos: Iterable[str]) -> list[str]:
    """Photos are content-addressed: an id is the SHA-256 of the original bytes."""
    checked = []
    for photo in photos:
        if not isinstance(photo, str) or not PHOTO_ID.match(photo):
            raise InvalidPhotoReference(photo=str(photo)[:80])
        checked.append(photo)
    return checked


def _normalise(spec: MeasurementSpec, raw: Any) -> Decimal | str:
    if spec.type == "number":
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
            raise InvalidMeasurement(measurement=spec.code, reason="应为数值")
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise InvalidMeasurement(measurement=spec.code, reason="应为数值") from None
        if not value.is_finite():
            raise InvalidMeasurement(measurement=spec.code, reason="应为有限数值")
        if abs(value) > MEASUREMENT_LIMIT or value != value.quantize(FINEST):
            raise InvalidMeasurement(measurement=spec.code, reason=f"超出合理范围（绝对值不超过 {MEASUREMENT_LIMIT}，"
                                                                   f"最多 {MEASUREMENT_DECIMALS} 位小数）")
        if spec.minimum is not None and value < spec.minimum:
            raise InvalidMeasurement(measurement=spec.code, reason=f"不能小于 {spec.minimum}")
        if spec.integer and value != value.to_integral_value():
            raise InvalidMeasurement(measurement=spec.code, reason="应为整数（人数、个数按整数记录）")
        return value
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidMeasurement(measurement=spec.code, reason="应为非空文字")
    if spec.type == "choice" and raw not in spec.choices:
        raise InvalidMeasurement(
            measurement=spec.code,
            reason=f"应为以下之一：{'、'.join(f'{spec.choice_zh(c)}（{c}）' for c in spec.choices)}",
        )
    return raw.strip()


def normalise_measurements(spec: HoldPointSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(raw) - {m.code for m in spec.measurements}
    if unknown:
        raise InvalidMeasurement(measurement="、".join(sorted(unknown)), reason="不属于该检查点")
    return {
        m.code: _normalise(m, raw[m.code])
        for m in spec.measurements
        if raw.get(m.code) is not None
    }


def validate_inspection(
    spec: HoldPointSpec,
    result: str,
    measurements: Mapping[str, Any],
    checklist: Mapping[str, bool],
    photos: list[str],
) -> dict[str, Any]:
    """Refuse an inspection the template does not allow; return its measurements normalised."""
    if len(photos) < spec.min_photos:
        raise MissingRequiredPhotos(hold_point=spec.code, required=spec.min_photos,
                                    given=len(photos))
    values = normalise_measurements(spec, measurements)
    unknown_items = set(checklist) - {c.code for c in spec.checklist}
    if unknown_items:
        raise IncompleteChecklist(
            detail_zh=f"检查项不属于该检查点：{'、'.join(sorted(unknown_items))}",
            hold_point=spec.code, missing=sorted(unknown_items),
        )
    inconsistent = [
        check.name_zh for check in spec.checks
        if check.validity and check.applies(values) and not check.holds(values)
    ]
    if inconsistent:
        raise InconsistentMeasurements(failures="；".join(inconsistent), checks=inconsistent)
    if result not in PASSING:
        return values
    missing = [m.code for m in spec.measurements if m.is_required(values) and m.code not in values]
    if missing:
        raise MissingMeasurements(hold_point=spec.code, missing="、".join(missing))
    if result == "pass":
        unconfirmed = [c.code for c in spec.checklist if checklist.get(c.code) is not True]
        if unconfirmed:
            raise IncompleteChecklist(hold_point=spec.code, missing="、".join(unconfirmed))
    failures = [
        check.name_zh
        for check in spec.checks
        if check.applies(values) and not check.holds(values)
    ]
    if failures:
        raise InspectionLimitsNotMet(failures="；".join(failures), checks=failures)
    return values
