"""A hold point's record in words a person reads: "试验压力 1.0 MPa ≥ 0.6 MPa 合格".

One reading for every place that shows a record (the station's console, the residents' pages, the tablet's
form, the printed record), so the sentence a resident signs under is the one the station reviews. The words
come from the template's data (names, units, choice names, checks), never from code per works kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from domain.templates.model import Check, HoldPointSpec, MeasurementSpec

OPS_ZH = {">=": "≥", "<=": "≤", "==": "="}
OPS_PLAIN_ZH = {">=": "要求不低于", "<=": "要求不超过", "==": "要求等于"}


@dataclass(frozen=True)
class MeasurementReading:
    code: str
    name_zh: str
    text: str  # the value with its unit, or the choice's Chinese name


@dataclass(frozen=True)
class CheckReading:
    """One limit applied to one record: what was measured, what the template requires, whether it held."""

    code: str
    name_zh: str
    measured: str
    op: str
    bound: str
    holds: bool

    @property
    def zh(self) -> str:
        """The console's line: "试验压力 1.0 MPa ≥ 0.6 MPa 合格"."""
        return f"{self.name_zh} {self.measured} {OPS_ZH[self.op]} {self.bound} {self.verdict_zh}"

    @property
    def plain_zh(self) -> str:
        """The residents' sentence: "试验压力 1.0 MPa，要求不低于 0.6 MPa，合格"."""
        return f"{self.name_zh} {self.measured}，{OPS_PLAIN_ZH[self.op]} {self.bound}，{self.verdict_zh}"

    @property
    def verdict_zh(self) -> str:
        return "合格" if self.holds else "不合格"


def number_text(value: Decimal | Fraction | str, unit: str | None) -> str:
    """A figure as a person writes it: no exponent, no trailing zeros beyond one decimal place."""
    figure = _decimal(value)
    if figure is not None and figure.as_tuple().exponent < -4:  # type: ignore[operator]
        figure = figure.quantize(Decimal("0.0001"))  # a bound of 1/3 × a value: four places are plenty
    text = format(figure.normalize(), "f") if figure is not None else str(value)
    if figure is not None and "." not in text and abs(figure) < 100 and unit in ("MPa",):
        text += ".0"  # pressures read "1.0 MPa" in the standards and on the gauge
    return f"{text} {unit}" if unit else text


def measurement_text(spec: MeasurementSpec, value: Any) -> str:
    if spec.type == "choice":
        return spec.choice_zh(str(value))
    if spec.type == "number":
        return number_text(value, spec.unit)
    return str(value)


def measurements(spec: HoldPointSpec, values: Mapping[str, Any]) -> list[MeasurementReading]:
    """Every recorded value in the template's order (unknown codes, e.g. from an older template, last)."""
    known = [MeasurementReading(m.code, m.name_zh, measurement_text(m, values[m.code]))
             for m in spec.measurements if values.get(m.code) is not None]
    named = {m.code for m in spec.measurements}
    return known + [MeasurementReading(code, code, str(v)) for code, v in values.items() if code not in named]


def checks(spec: HoldPointSpec, values: Mapping[str, Any]) -> list[CheckReading]:
    """The template's limits that apply to these values (those whose conditions hold), each judged."""
    parsed = {k: _value(v) for k, v in values.items() if v is not None}
    readings = []
    for check in spec.checks:
        if not check.applies(parsed):
            continue
        readings.append(_reading(spec, check, parsed))
    return readings


def limits(spec: HoldPointSpec) -> list[str]:
    """A hold point's limits before anything is measured, for a form or the template page:
    "试验压力 ≥ 1.5 × 工作压力（介质为给水时）"."""
    lines = []
    for check in spec.checks:
        measured = spec.measurement(check.measurement)
        left = measured.name_zh if measured else check.measurement
        if check.value is not None:
            right = number_text(check.value, measured.unit if measured else None)
        else:
            other = spec.measurement(check.of or "")
            right = f"{_ratio_text(check.ratio)} × {other.name_zh if other else check.of}"
        lines.append(f"{left} {OPS_ZH[check.op]} {right}{_when_text(spec, check)}")
    return lines


def _reading(spec: HoldPointSpec, check: Check, values: dict[str, Decimal | str]) -> CheckReading:
    measured_spec = spec.measurement(check.measurement)
    unit = measured_spec.unit if measured_spec else None
    name = measured_spec.name_zh if measured_spec else check.measurement
    return CheckReading(code=check.code, name_zh=name, measured=number_text(values[check.measurement], unit),
                        op=check.op, bound=number_text(check.bound(values), unit), holds=check.holds(values))


def _when_text(spec: HoldPointSpec, check: Check) -> str:
    if not check.when:
        return ""
    parts = []
    for code, wanted in check.when.items():
        condition = spec.measurement(code)
        parts.append(f"{condition.name_zh}为{condition.choice_zh(wanted)}" if condition else f"{code}={wanted}")
    return f"（{'、'.join(parts)}时）"


def _ratio_text(ratio: str | None) -> str:
    fraction = Fraction(ratio or "1")
    return number_text(Decimal(fraction.numerator) / Decimal(fraction.denominator), None)


def _value(raw: Any) -> Decimal | str:
    figure = _decimal(raw)  # a number as the checks compare it; a choice or a text stays itself
    return figure if figure is not None else str(raw)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    try:
        figure = Decimal(str(value))
    except InvalidOperation:
        return None
    return figure if figure.is_finite() else None
