"""The city's districts and streets (区、街道), kept as data an admin loads and changes.

A district is the unit of a station's scope: a project registered in "徐汇" instead of "徐汇区" would be
invisible to the 徐汇区 station and start a district of its own. Once a registry is loaded, a project
names a district in it, and a street office of that district when the district lists its streets.
Codes are the national administrative division codes (GB/T 2260: 6 digits for a district, 9 or 12 for
a street); a street may be listed without its code when the code is not known.

With no registry loaded, district names stay free text, as before the registry existed: a deployment
loads its city's list (`LoadDivisions`) when it is set up.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.actors import CommandContext
from domain.chain import ChainedAggregate, ChainedEvent, command_metadata
from domain.rules import DivisionCodeTaken, UnknownDistrict, UnknownStreet

REGISTRY_ID = uuid5(NAMESPACE_URL, "urn:siteledger:division-registry")  # one registry per deployment (a city)


class DivisionEvent(ChainedEvent):
    TOPIC_PREFIX: ClassVar[str] = "siteledger.divisions"
    TOPIC = "siteledger.divisions:Event"


register_topic(DivisionEvent.TOPIC, DivisionEvent)


class RegistryOpened(DivisionEvent, Aggregate.Created):
    def apply(self, registry: Any) -> None:
        registry.districts = {}


class DistrictListed(DivisionEvent):
    """A district added, or its code corrected (its name is what projects and users name it by)."""

    name_zh: str
    code: str

    def apply(self, registry: Any) -> None:
        registry.districts.setdefault(self.name_zh, {"code": self.code, "streets": {}})["code"] = self.code


class StreetListed(DivisionEvent):
    district_zh: str
    name_zh: str
    code: str | None

    def apply(self, registry: Any) -> None:
        registry.districts[self.district_zh]["streets"][self.name_zh] = self.code


class DistrictDelisted(DivisionEvent):
    name_zh: str
    reason: str

    def apply(self, registry: Any) -> None:
        registry.districts.pop(self.name_zh, None)


class StreetDelisted(DivisionEvent):
    district_zh: str
    name_zh: str
    reason: str

    def apply(self, registry: Any) -> None:
        registry.districts[self.district_zh]["streets"].pop(self.name_zh, None)


class DivisionRegistry(ChainedAggregate):
    """Districts by Chinese name, each with its code and its streets (name → code or None)."""

    TOPIC = "siteledger:DivisionRegistry"
    Event = DivisionEvent
    Created = RegistryOpened

    if TYPE_CHECKING:
        districts: dict[str, dict[str, Any]]

    @classmethod
    def open(cls, ctx: CommandContext) -> DivisionRegistry:
        return cls._create(RegistryOpened, id=REGISTRY_ID, **command_metadata(ctx))

    def load(self, ctx: CommandContext, districts: list[dict[str, Any]]) -> dict[str, int]:
        """Merge a list (a district with its streets): what is new or changed is recorded, the rest is left."""
        codes = {d["code"]: name for name, d in self.districts.items()}
        listed = {"districts": 0, "streets": 0}
        for district in districts:
            name, code = district["name_zh"], district["code"]
            if codes.get(code, name) != name:
                raise DivisionCodeTaken(code=code, name=codes[code])
            if self.districts.get(name, {}).get("code") != code:
                self.record(DistrictListed, ctx, name_zh=name, code=code)
                codes[code] = name
                listed["districts"] += 1
            streets = self.districts[name]["streets"]
            for street in district.get("streets", []):
                if street["name_zh"] not in streets or streets[street["name_zh"]] != street.get("code"):
                    self.record(StreetListed, ctx, district_zh=name, name_zh=street["name_zh"],
                                code=street.get("code"))
                    listed["streets"] += 1
        return listed

    def delist(self, ctx: CommandContext, district_zh: str, street_zh: str | None, reason: str) -> None:
        """Projects already registered keep their district: the log is never rewritten."""
        self._district(district_zh)
        if street_zh is None:
            self.record(DistrictDelisted, ctx, name_zh=district_zh, reason=reason)
        elif street_zh in self.districts[district_zh]["streets"]:
            self.record(StreetDelisted, ctx, district_zh=district_zh, name_zh=street_zh, reason=reason)
        else:
            raise UnknownStreet(street=street_zh, district=district_zh,
                                hint=_hint(street_zh, self._streets(district_zh)))

    def check(self, district_zh: str, street_zh: str) -> None:
        """Refuse a district (or a listed district's street) the registry does not know, suggesting the near one."""
        self._district(district_zh)
        streets = self._streets(district_zh)
        if street_zh and streets and street_zh not in streets:
            raise UnknownStreet(street=street_zh, district=district_zh, hint=_hint(street_zh, streets))

    def _district(self, district_zh: str) -> dict[str, Any]:
        if district_zh not in self.districts:
            raise UnknownDistrict(district=district_zh, hint=_hint(district_zh, list(self.districts)))
        return self.districts[district_zh]

    def _streets(self, district_zh: str) -> list[str]:
        return list(self.districts[district_zh]["streets"])


def _hint(given: str, known: list[str]) -> str:
    """'您是否要找“徐汇区”？' for '徐汇': a name that starts with what was typed, else the closest one."""
    near = [name for name in known if name.startswith(given) or given.startswith(name)]
    near = near or difflib.get_close_matches(given, known, n=1, cutoff=0.5)
    return f"；您是否要找“{near[0]}”？" if near else ""
