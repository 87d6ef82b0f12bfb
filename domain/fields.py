"""The shapes of a command's fields, declared once: the API schema, the batch route and the tablet all meet them.

A system of record keeps what a person typed as evidence, so text is trimmed and refused when it hides
something (a right-to-left override, NUL, a terminal escape, a zero-width character); numbers are finite and
in range; dates are real calendar dates; a device time says its zone. Each refusal is a pydantic error with a
stable `type`, which the API turns into a problem naming the field. No I/O and no settings here: how far a
device clock may run ahead of the server is the API's to check (it knows the server's clock and settings).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

# Control (Cc), format (Cf: bidi overrides, zero-width, BOM), private use, surrogates, line/paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})
LINE_BREAKS = frozenset("\n\r\t")
EARLIEST_DEVICE_TIME = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)
MEASUREMENT_LIMIT = 10**9  # larger than any length, pressure, depth or count a hold point records
MEASUREMENT_TEXT_MAX = 500


def hidden_character(text: str, multiline: bool = False) -> str | None:
    """The first character a reader cannot see or that changes how the rest displays, by code point (`U+202E`)."""
    if text.isprintable():  # fast path: no Cc/Cf/Z* except the plain space
        return None
    for char in text:
        if multiline and char in LINE_BREAKS:
            continue
        if unicodedata.category(char) in HIDDEN_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def refuse_hidden(value: str, multiline: bool = False) -> str:
    found = hidden_character(value, multiline)
    if found is not None:
        raise PydanticCustomError("hidden_character",
                                  "Text may not contain control or invisible format characters ({character})",
                                  {"character": found})
    return value


def _visible(multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        return refuse_hidden(value, multiline)

    return AfterValidator(check)


ONE_LINE, LINES = _visible(multiline=False), _visible(multiline=True)


def _bounded(max_length: int, min_length: int = 1) -> StringConstraints:
    """Trimmed first, so a field of only spaces is empty (and refused where a value is required)."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Name = Annotated[str, _bounded(100), ONE_LINE]  # a person's or a district's name
ShortText = Annotated[str, _bounded(200), ONE_LINE]  # one line: a title, a location
Label = Annotated[str, _bounded(50), ONE_LINE]  # a building, a unit
OptionalLabel = Annotated[str, _bounded(50, 0), ONE_LINE]
OptionalShortText = Annotated[str, _bounded(200, 0), ONE_LINE]
Address = Annotated[str, _bounded(300, 0), ONE_LINE]
Text = Annotated[str, _bounded(2000), LINES]  # a description, a reason
OptionalText = Annotated[str, _bounded(2000, 0), LINES]
LongText = Annotated[str, _bounded(4000, 0), LINES]  # an inspector's notes

# Machine codes and ids chosen by clients (kinds, hold points, measurements, defect and member ids).
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
PhotoId = Annotated[str, StringConstraints(max_length=64)]  # the domain checks it is a SHA-256
Photos = Annotated[list[PhotoId], Field(max_length=50)]
Ratio = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16,
                                         pattern=r"^(\d{1,6}/\d{1,6}|\d(\.\d{1,6})?)$")]

Count = Annotated[int, Field(ge=0, le=1_000_000)]
BuildingCount = Annotated[int, Field(ge=0, le=10_000)]
RoundNo = Annotated[int, Field(ge=1, le=10_000)]

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
GPS_KEYS = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}


def _gps_fix(value: dict[str, float]) -> dict[str, float]:
    if set(value) != set(GPS_KEYS):
        raise PydanticCustomError("gps_shape", "GPS is an object with exactly `lat` and `lon`")
    for key, (low, high) in GPS_KEYS.items():
        if not low <= value[key] <= high:
            raise PydanticCustomError("gps_out_of_range", "GPS {key} must lie between {low} and {high}",
                                      {"key": key, "low": low, "high": high})
    return value


GPS_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["lat", "lon"],
              "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                             "lon": {"type": "number", "minimum": -180, "maximum": 180}}}
# A plain dict (what the event stores), its keys and ranges checked; the schema says so to clients.
GpsFix = Annotated[dict[str, Annotated[float, Field(allow_inf_nan=False)]], AfterValidator(_gps_fix),
                   WithJsonSchema(GPS_SCHEMA)]

DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _calendar_date(value: Any) -> Any:
    """`YYYY-MM-DD` that names a real day between 2000 and 2100; kept as that string, as events store it."""
    if not isinstance(value, str):
        return value  # the str schema refuses it with its own error
    try:
        day = date.fromisoformat(value) if DATE_SHAPE.match(value) else None
    except ValueError:
        day = None
    if day is None:
        raise PydanticCustomError("date_invalid", "Not a real calendar date (YYYY-MM-DD): {value}",
                                  {"value": value[:20]})
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise PydanticCustomError("date_out_of_range", "The date must lie between {earliest} and {latest}",
                                  {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()})
    return value


CalendarDate = Annotated[str, BeforeValidator(_calendar_date), WithJsonSchema({"type": "string", "format": "date"})]


def _plausible_device_time(value: datetime) -> datetime:
    if value < EARLIEST_DEVICE_TIME:
        raise PydanticCustomError("device_time_too_early",
                                  "A device time before {earliest} means the device clock is wrong",
                                  {"earliest": EARLIEST_DEVICE_TIME.date().isoformat()})
    return value


# With a zone (a naive time cannot be placed on the timeline) and not before 2000 (an unset clock).
DeviceTime = Annotated[AwareDatetime, AfterValidator(_plausible_device_time)]

MEASUREMENT_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": -MEASUREMENT_LIMIT, "maximum": MEASUREMENT_LIMIT},
    {"type": "string", "maxLength": MEASUREMENT_TEXT_MAX}, {"type": "null"}]}


def _measurement(value: Any) -> int | float | str | None:
    """A finite number within ±10⁹, or one line of text; whether the hold point wants which is the template's."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > MEASUREMENT_TEXT_MAX:
            raise PydanticCustomError("string_too_long", "String should have at most {max_length} characters",
                                      {"max_length": MEASUREMENT_TEXT_MAX})
        return refuse_hidden(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("measurement_type", "A measurement is a number or text")
    if not math.isfinite(value):
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    if abs(value) > MEASUREMENT_LIMIT:
        raise PydanticCustomError("measurement_out_of_range", "A measurement lies within ±{limit}",
                                  {"limit": MEASUREMENT_LIMIT})
    return value


# A number, or text (a choice, a utility's name, or a number typed on a tablet); the template decides which.
MeasurementValue = Annotated[int | float | str | None, PlainValidator(_measurement),
                             WithJsonSchema(MEASUREMENT_SCHEMA)]
Measurements = Annotated[dict[Code, MeasurementValue], Field(max_length=50)]
Checklist = Annotated[dict[Code, bool], Field(max_length=100)]
