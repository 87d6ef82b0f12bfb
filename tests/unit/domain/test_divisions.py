"""Issue 18 §1: a registry of the city's districts and streets; a project in an unknown one is refused."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.actors import Actor, Role
from domain.city_divisions import shanghai
from domain.divisions import DivisionRegistry
from domain.rules import CityAdminOnly, DivisionCodeTaken, RoleNotPermitted, UnknownDistrict, UnknownStreet
from tests.support import World


def load(world: World, districts: list[dict[str, Any]] | None = None) -> dict[str, int]:
    return world.run(world.admin, c.LoadDivisions(districts=districts or shanghai())).result


def register(world: World, district: str, street: str = "") -> None:
    world.run(world.admin, c.RegisterProject(name="金牛花苑", district=district, street_office=street))


def test_without_a_registry_district_names_stay_free_text(world: World) -> None:
    assert world.app.division_registry() is None
    register(world, "徐汇")


def test_a_loaded_registry_refuses_an_unknown_district_and_suggests_the_near_one(world: World) -> None:
    assert load(world) == {"districts": 16, "streets": 13}
    with pytest.raises(UnknownDistrict) as refused:
        register(world, "徐汇")
    assert refused.value.code == "unknown_district"
    assert refused.value.detail_zh == "未知的区：徐汇（不在本市区县名录中）；您是否要找“徐汇区”？"
    with pytest.raises(UnknownDistrict, match="平谷区"):
        register(world, "平谷区")
    register(world, "徐汇区", "长桥街道")
    register(world, "黄浦区", "外滩街道")  # 黄浦区 lists no streets yet: its street office is not checked


def test_a_listed_districts_streets_are_checked(world: World) -> None:
    load(world)
    with pytest.raises(UnknownStreet) as refused:
        register(world, "徐汇区", "长桥")
    assert "长桥街道" in refused.value.detail_zh and refused.value.code == "unknown_street"
    register(world, "徐汇区")  # no street office given


def test_loading_again_records_only_what_changed(world: World) -> None:
    load(world)
    version = world.app.division_registry().version  # type: ignore[union-attr]
    assert load(world) == {"districts": 0, "streets": 0}
    assert world.app.division_registry().version == version  # type: ignore[union-attr]
    more = [{"name_zh": "黄浦区", "code": "310101", "streets": [{"name_zh": "外滩街道", "code": "310101002"}]}]
    assert load(world, more) == {"districts": 0, "streets": 1}
    with pytest.raises(UnknownStreet):
        register(world, "黄浦区", "某街道")


def test_a_code_names_one_district(world: World) -> None:
    load(world)
    with pytest.raises(DivisionCodeTaken, match="徐汇区"):
        load(world, [{"name_zh": "徐汇", "code": "310104"}])


def test_a_delisted_district_takes_no_new_projects(world: World) -> None:
    load(world)
    world.run(world.admin, c.DelistDivision(district_zh="徐汇区", street_zh="长桥街道", reason="撤并"))
    with pytest.raises(UnknownStreet):
        register(world, "徐汇区", "长桥街道")
    world.run(world.admin, c.DelistDivision(district_zh="崇明区", reason="测试"))
    with pytest.raises(UnknownDistrict):
        register(world, "崇明区")
    assert world.app.get_project(world.project_id).district == "徐汇区"  # registered projects keep theirs


def test_only_a_city_admin_keeps_the_registry(world: World) -> None:
    with pytest.raises(CityAdminOnly):
        world.run(Actor(uuid4(), Role.ADMIN, district="徐汇区"), c.LoadDivisions(districts=shanghai()))
    with pytest.raises(RoleNotPermitted):
        world.run(world.station, c.LoadDivisions(districts=shanghai()))
    assert world.app.division_registry() is None


def test_the_registry_is_one_aggregate_with_a_verifiable_log(world: World) -> None:
    load(world)
    registry = world.app.division_registry()
    assert isinstance(registry, DivisionRegistry)
    assert world.app.verify(registry.id).valid and registry.districts["徐汇区"]["code"] == "310104"
