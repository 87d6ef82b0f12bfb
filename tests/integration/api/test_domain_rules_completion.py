"""Issue 18 §2 over HTTP: a project's whole story, from its first works item to the filing (备案), with every
refusal on the way and who may do each step. The routes (services/api/routers/completion.py) are mounted here
as the app will mount them."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from domain.actors import Actor, CommandContext, Role
from domain.works_item import WorksItem
from services.api.app import create_app
from services.bootstrap import Container
from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container: Container) -> Iterator[ApiWorld]:
    app = create_app(container)
    with TestClient(app) as client:
        yield ApiWorld(client, container)


def accepted_item(api: ApiWorld) -> str:
    item_id = api.item()
    api.pass_all(item_id)
    base = f"/api/v1/works-items/{item_id}"
    api.ok("POST", f"{base}/completion", api.supervisor)
    opened = api.ok("POST", f"{base}/acceptance-rounds", api.supervisor)
    for resident in api.residents:
        api.ok("POST", f"{base}/acceptance-rounds/{opened['round_no']}/signatures", resident,
               json={"decision": "accept", "subject_hash": opened["subject_hash"]})
    return item_id


def test_a_project_from_its_first_works_item_to_filing(api: ApiWorld) -> None:
    base = f"/api/v1/projects/{api.project_id}/completion"
    minutes = api.photo("minutes", api.admin)
    members = [m["member_id"] for m in api.ok("GET", f"/api/v1/projects/{api.project_id}", api.admin)
               ["residents_group"]]
    acceptance = {"held_on": "2025-10-13", "parties": ["建设单位", "施工单位", "监理单位"],
                  "resident_representatives": members[:2], "photos": [minutes]}

    item_id = accepted_item(api)
    second = api.item("flying_wire_burial")
    body = problem(api.call("POST", f"{base}/acceptance", api.admin, json=acceptance), 409, "items_not_accepted")
    assert "未通过居民验收或销号" in body["detail"]
    api.pass_all(second)
    api.ok("POST", f"/api/v1/works-items/{second}/completion", api.supervisor)
    opened = api.ok("POST", f"/api/v1/works-items/{second}/acceptance-rounds", api.supervisor)
    for resident in api.residents:
        api.ok("POST", f"/api/v1/works-items/{second}/acceptance-rounds/1/signatures", resident,
               json={"decision": "accept", "subject_hash": opened["subject_hash"]})
    api.ok("POST", f"/api/v1/works-items/{second}/close-out", api.admin, json={"notes": "销号"})

    problem(api.call("POST", f"{base}/acceptance", api.admin, json=acceptance), 409, "no_station_notice")
    notice = api.photo("notice", api.admin)
    problem(api.call("POST", f"{base}/notice", api.supervisor, json={"notice_date": "2025-09-26", "photos": [notice]}),
            403, "role_not_permitted")
    problem(api.call("POST", f"{base}/notice", api.admin, json={"notice_date": "2025-09-26"}), 422, "validation_error")
    api.ok("POST", f"{base}/notice", api.admin, json={"notice_date": "2025-09-26", "photos": [notice]})
    problem(api.call("POST", f"{base}/acceptance", api.admin, json=acceptance), 409, "no_satisfaction_survey")
    survey = api.photo("survey", api.admin)
    problem(api.call("POST", f"{base}/surveys", api.admin, json={
        "surveyed_on": "2025-09-20", "sample": 50, "satisfied": 51, "photos": [survey]}), 422, "survey_figures_invalid")
    api.ok("POST", f"{base}/surveys", api.admin,
           json={"surveyed_on": "2025-09-20", "sample": 50, "satisfied": 39, "photos": [survey]})
    body = problem(api.call("POST", f"{base}/acceptance", api.admin, json=acceptance), 409,
                   "satisfaction_below_threshold")
    assert "78.0%" in body["detail"] and "80%" in body["detail"]
    api.ok("POST", f"{base}/surveys", api.admin,
           json={"surveyed_on": "2025-09-22", "sample": 50, "satisfied": 45, "photos": [survey]})
    body = problem(api.call("POST", f"{base}/acceptance", api.admin, json={**acceptance, "held_on": "2025-10-10"}),
                   409, "too_soon_after_notice")
    assert "2025-10-13" in body["detail"]

    api.ok("POST", f"{base}/acceptance", api.admin, json=acceptance)
    problem(api.call("POST", f"{base}/acceptance", api.admin, json=acceptance), 409,
            "completion_acceptance_already_held")
    joint = api.photo("joint", api.admin)
    api.ok("POST", f"{base}/joint-acceptance", api.station, json={"held_on": "2025-10-20", "photos": [joint]})
    filed = api.ok("POST", f"{base}/filing", api.admin,
                   json={"filing_no": "徐建竣备 2025-017", "filed_on": "2025-10-30"})
    assert filed["late"] is True  # 17 days after acceptance: recorded, and flagged

    view = api.ok("GET", base, api.residents[0])
    assert view["earliest_acceptance"] == "2025-10-13" and view["satisfaction_threshold"] == "4/5"
    assert view["works_items"] == {item_id: "accepted", second: "closed_out"}
    assert view["acceptance"]["resident_representatives"] == members[:2]
    assert view["joint"] == {"date": "2025-10-20", "district": "徐汇区"}
    assert view["filing"] == {"number": "徐建竣备 2025-017", "date": "2025-10-30", "late": True,
                              "days_after_acceptance": 17}
    outsider = api.user("station", district="黄浦区")
    problem(api.call("GET", base, outsider), 403, "out_of_scope")
    problem(api.call("POST", f"{base}/filing", outsider, json={"filing_no": "x", "filed_on": "2025-10-30"}), 403,
            "out_of_scope")


def test_a_stricter_satisfaction_threshold_is_the_projects(api: ApiWorld) -> None:
    base = f"/api/v1/projects/{api.project_id}/completion"
    problem(api.call("PUT", f"{base}/satisfaction-threshold", api.station, json={"threshold": "9/10"}), 403,
            "role_not_permitted")
    problem(api.call("PUT", f"{base}/satisfaction-threshold", api.admin, json={"threshold": "3/2"}), 422,
            "invalid_satisfaction_threshold")
    api.ok("PUT", f"{base}/satisfaction-threshold", api.admin, json={"threshold": "9/10"})
    assert api.ok("GET", base, api.admin)["satisfaction_threshold"] == "9/10"


def test_items_registered_before_projects_knew_them_are_attached_by_an_admin(api: ApiWorld) -> None:
    ledger = api.container.ledger
    legacy = WorksItem.register(CommandContext(actor=Actor(uuid4(), Role.ADMIN), command_id="legacy"), uuid4(),
                                UUID(api.project_id), ledger.catalog.get("pipe_relocation"), "", "2号楼", None, None,
                                None, {})
    ledger.save(legacy)  # saved as before WorksItemAdded existed
    base = f"/api/v1/projects/{api.project_id}/completion"
    problem(api.call("POST", f"{base}/items", api.supervisor, json={"item_ids": [str(legacy.id)]}), 403,
            "role_not_permitted")
    assert api.ok("POST", f"{base}/items", api.admin, json={"item_ids": [str(legacy.id)]})["attached"] == 1
    assert api.ok("GET", base, api.admin)["works_items"] == {str(legacy.id): "registered"}
    elsewhere = api.ok("POST", "/api/v1/projects", api.admin, json={"name": "南小区", "district": "徐汇区"})["id"]
    problem(api.call("POST", f"/api/v1/projects/{elsewhere}/completion/items", api.admin,
                     json={"item_ids": [str(legacy.id)]}), 404, "works_item_not_found")
