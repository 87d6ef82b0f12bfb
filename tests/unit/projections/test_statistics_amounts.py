"""Quantities are added exactly: thousandths as whole numbers in SQL, a finer figure kept as text."""

from decimal import Decimal

from projections.statistics import milli


def test_thousandths_are_whole_numbers_and_a_finer_figure_is_left_to_exact_text() -> None:
    assert milli(Decimal("42.5")) == 42500
    assert milli(Decimal("1")) == 1000
    assert milli(Decimal("0.001")) == 1
    assert milli(Decimal("12.3456")) is None
    assert milli(Decimal("1E+20")) is None  # beyond what a 64-bit sum of many items could hold
