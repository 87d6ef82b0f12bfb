"""The residents' acceptance rule and its tally, decided as soon as the outcome can no longer change."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain.rules import AcceptanceRuleBelowFloor, InvalidAcceptanceRule

DEFAULT_MIN_SIGNED = "2/3"
DEFAULT_MIN_ACCEPT = "4/5"
CITY_FLOOR_MIN_SIGNED = "1/2"  # the city's floor unless a deployment sets its own (issue 18)
CITY_FLOOR_MIN_ACCEPT = "2/3"


@dataclass(frozen=True)
class AcceptanceRule:
    """At least `min_signed` of the round's members sign, and at least `min_accept` of signatures accept."""

    min_signed: Fraction = Fraction(DEFAULT_MIN_SIGNED)
    min_accept: Fraction = Fraction(DEFAULT_MIN_ACCEPT)

    @classmethod
    def parse(cls, min_signed: str | float, min_accept: str | float) -> AcceptanceRule:
        try:
            signed, accept = Fraction(str(min_signed)), Fraction(str(min_accept))
        except (ValueError, ZeroDivisionError):
            raise InvalidAcceptanceRule() from None
        if not (0 < signed <= 1 and 0 < accept <= 1):
            raise InvalidAcceptanceRule()
        return cls(signed, accept)

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> AcceptanceRule:
        return cls.parse(data["min_signed"], data["min_accept"])

    def as_dict(self) -> dict[str, str]:
        return {"min_signed": str(self.min_signed), "min_accept": str(self.min_accept)}

    def refuse_below(self, floor: AcceptanceRule) -> None:
        """An owner may ask more of residents than the city does, never less (1e-9 of members is no vote)."""
        if self.min_signed < floor.min_signed or self.min_accept < floor.min_accept:
            raise AcceptanceRuleBelowFloor(floor_signed=str(floor.min_signed), floor_accept=str(floor.min_accept))

    def at_least(self, floor: AcceptanceRule) -> AcceptanceRule:
        """The rule a round runs under: a project's rule set before the floor existed is raised to it."""
        return AcceptanceRule(max(self.min_signed, floor.min_signed), max(self.min_accept, floor.min_accept))

    def met(self, electorate: int, accepts: int, signed: int) -> bool:
        """Exact arithmetic: 2 of 3 is exactly 2/3 and 4 of 5 is exactly 80%."""
        return (
            signed > 0
            and Fraction(signed) >= self.min_signed * electorate
            and Fraction(accepts) >= self.min_accept * signed
        )


CITY_FLOOR = AcceptanceRule(Fraction(CITY_FLOOR_MIN_SIGNED), Fraction(CITY_FLOOR_MIN_ACCEPT))


@dataclass(frozen=True)
class Tally:
    electorate: int
    accepts: int
    rejects: int

    @property
    def signed(self) -> int:
        return self.accepts + self.rejects

    def as_dict(self) -> dict[str, int]:
        return {"electorate": self.electorate, "accepts": self.accepts,
                "rejects": self.rejects, "signed": self.signed}


def decide(rule: AcceptanceRule, tally: Tally, can_still_sign: int, closing: bool = False) -> str | None:
    """'granted' or 'rejected' once certain (or when the round is closed), else None.

    Granted is certain when the rule holds even if everyone who can still sign rejects;
    rejected is certain when it fails even if everyone who can still sign accepts.
    """
    if closing:
        met = rule.met(tally.electorate, tally.accepts, tally.signed)
        return "granted" if met else "rejected"
    if rule.met(tally.electorate, tally.accepts, tally.signed + can_still_sign):
        return "granted" if rule.met(tally.electorate, tally.accepts, tally.signed) else None
    best = tally.accepts + can_still_sign
    if not rule.met(tally.electorate, best, tally.signed + can_still_sign):
        return "rejected"
    return None
