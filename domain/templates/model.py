"""The shape of a works kind's template; validated so a new kind added as data cannot be inconsistent."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MeasurementSpec(_Frozen):
    """One value an inspector records; `quantity` names a figure the dashboards add up."""

    code: str
    name_zh: str
    name_en: str
    type: Literal["number", "text", "choice"] = "number"
    unit: str | None = None
    choices: tuple[str, ...] = ()
    choice_names_zh: dict[str, str] = Field(default_factory=dict)  # what a pick-list and a record show
    required: bool = True
    # Required only when each named measurement was recorded as one of the listed values (e.g. pressures for a
    # pressure test, seepage for a closed-water test): a measurement that is `required: false` everywhere else.
    required_when: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    integer: bool = False  # a headcount or a number of things: 8.5 owners is not a figure anyone counted
    minimum: Decimal | None = None
    quantity: str | None = None

    @model_validator(mode="after")
    def _names_only_for_choices(self) -> MeasurementSpec:
        unknown = set(self.choice_names_zh) - set(self.choices)
        if unknown:
            raise ValueError(f"measurement {self.code}: names for unknown choices {sorted(unknown)}")
        return self

    def choice_zh(self, value: str) -> str:
        return self.choice_names_zh.get(value, value)

    def is_required(self, values: dict[str, Decimal | str]) -> bool:
        if not self.required_when:
            return self.required
        return all(values.get(k) in allowed for k, allowed in self.required_when.items())


class ChecklistItem(_Frozen):
    code: str
    text_zh: str
    text_en: str


class Check(_Frozen):
    """A limit a passing inspection must meet: `measurement op value` or `measurement op ratio × of`.

    A `validity` check says the figures can be true at all (agreeing owners never outnumber those taking
    part): it refuses the record whatever its result, where a limit only refuses a pass. `source` names
    the standard and clause a limit comes from; `source_note` says how far that value was confirmed."""

    code: str
    name_zh: str
    measurement: str
    op: Literal[">=", "<=", "=="]
    value: Decimal | None = None
    ratio: str | None = None
    of: str | None = None
    when: dict[str, str] = Field(default_factory=dict)
    validity: bool = False
    source: str | None = None
    source_note: str | None = None

    @model_validator(mode="after")
    def _one_right_hand_side(self) -> Check:
        if (self.value is None) == (self.of is None):
            raise ValueError(f"check {self.code}: give either 'value' or 'of'")
        if self.of is not None:
            Fraction(self.ratio or "1")
        return self

    def bound(self, values: dict[str, Decimal | str]) -> Fraction:
        if self.value is not None:
            return Fraction(self.value)
        other = values[self.of or ""]
        return Fraction(self.ratio or "1") * Fraction(Decimal(other))

    def applies(self, values: dict[str, Decimal | str]) -> bool:
        """A check applies when its conditions hold and what it compares was recorded."""
        named = [self.measurement, *([self.of] if self.of else [])]
        return all(n in values for n in named) and all(
            values.get(k) == v for k, v in self.when.items()
        )

    def holds(self, values: dict[str, Decimal | str]) -> bool:
        left = Fraction(Decimal(values[self.measurement]))
        right = self.bound(values)
        if self.op == ">=":
            return left >= right
        if self.op == "<=":
            return left <= right
        return left == right


class LinkedRequirement(_Frozen):
    """This hold point passes only once a linked item of `kind` (or of one of `or_kinds`) has passed `hold_point`."""

    kind: str
    hold_point: str
    or_kinds: tuple[str, ...] = ()  # e.g. a lift's shaft cleared by a gas line's relocation, not a water line's

    def accepts(self, kind: str) -> bool:
        return kind == self.kind or kind in self.or_kinds


class HoldPointSpec(_Frozen):
    code: str
    name_zh: str
    name_en: str
    min_photos: int = 0
    measurements: tuple[MeasurementSpec, ...] = ()
    checklist: tuple[ChecklistItem, ...] = ()
    checks: tuple[Check, ...] = ()
    after: tuple[str, ...] = ()
    construction: bool = True
    concealed: bool = False
    linked: LinkedRequirement | None = None

    @model_validator(mode="after")
    def _checks_name_measurements(self) -> HoldPointSpec:
        known = {m.code for m in self.measurements}
        for check in self.checks:
            named = {check.measurement, *([check.of] if check.of else []), *check.when}
            if not named <= known:
                raise ValueError(f"{self.code}: check {check.code} names {named - known}")
        for m in self.measurements:
            if not set(m.required_when) <= known:
                raise ValueError(f"{self.code}: {m.code} is required when {set(m.required_when) - known}")
        return self

    def measurement(self, code: str) -> MeasurementSpec | None:
        return next((m for m in self.measurements if m.code == code), None)


class WorksKindTemplate(_Frozen):
    code: str
    name_zh: str
    name_en: str
    version: int = 1
    hold_points: tuple[HoldPointSpec, ...]
    # After-photos a rectification must carry, as `min_photos` does for an inspection: the closing
    # reviewer (often the station, off site) judges the repair from them.
    rectification_min_photos: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _order_is_a_dag_of_earlier_points(self) -> WorksKindTemplate:
        seen: set[str] = set()
        for hp in self.hold_points:
            if hp.code in seen:
                raise ValueError(f"{self.code}: hold point {hp.code} appears twice")
            unknown = set(hp.after) - seen
            if unknown:
                raise ValueError(f"{self.code}: {hp.code} follows unknown or later {unknown}")
            seen.add(hp.code)
        return self

    # Looked up for every event an item's state folds and every flag the timeline judges: by code, not by scanning
    # the points. Derived from `hold_points` on first use (never fields: not in the template's data, its digest or
    # its equality); a pydantic private attribute would be read through `__getattr__`, slower than the scan
    @cached_property
    def _by_code(self) -> dict[str, HoldPointSpec]:
        return {hp.code: hp for hp in self.hold_points}

    @cached_property
    def _followers(self) -> dict[str, tuple[HoldPointSpec, ...]]:
        return {hp.code: tuple(f for f in self.hold_points if hp.code in f.after) for hp in self.hold_points}

    def hold_point(self, code: str) -> HoldPointSpec | None:
        return self._by_code.get(code)

    def followers(self, code: str) -> tuple[HoldPointSpec, ...]:
        """The hold points that name `code` among those they come after: the work that covers up its work."""
        return self._followers.get(code, ())
