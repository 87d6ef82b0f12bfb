"""Working days on the Chinese calendar, with its adjusted days (调休): a Saturday worked, a weekday off.

Regulatory clocks count working days ("tell the station in writing 7 working days before completion
acceptance"). The calendar is the State Council's yearly notice, kept by the maintained `chinese-calendar`
package (PyPI `chinesecalendar`; version 1.11.0 covers 2004 to 2026). A year the package does not know yet is
refused with a named error rather than guessed: a new year's notice comes out each November or December.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from domain.rules import WorkingCalendarUnavailable


class WorkingCalendar(Protocol):
    def is_workday(self, day: date) -> bool: ...


class ChineseCalendar:
    """`chinese_calendar.is_workday`, its unknown years turned into `WorkingCalendarUnavailable`."""

    def is_workday(self, day: date) -> bool:
        import chinese_calendar  # type: ignore[import-untyped, import-not-found, unused-ignore]  # where used

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise WorkingCalendarUnavailable(year=day.year) from None


def add_working_days(calendar: WorkingCalendar, start: date, days: int) -> date:
    """The `days`-th working day after `start` (not counting `start` itself)."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return day
