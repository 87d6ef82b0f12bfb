"""What an attacker or a careless tablet sends: never a server error, and nothing of it stored.

Each case was found from outside (a 500, or a bad value accepted and kept in the log); each is now a 4xx
problem with a stable code and a Chinese detail naming the field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import Container, build
from services.seaweed import SeaweedS3
from tests.http_support import ApiWorld, auth, inspection_body
from tests.integration.api.conftest import settings_for

pytestmark = pytest.mark.integration


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["title"] and body["detail"], body
    return body


def project_count(api: ApiWorld) -> int:
    return int(api.ok("GET", "/api/v1/projects", api.admin)["total"])


def project(**overrides: Any) -> dict[str, Any]:
    return {"name": "金牛花苑", "district": "徐汇区", **overrides}


# --- server errors -------------------------------------------------------------------------------------------

def test_a_batch_with_a_superscript_round_or_version_refuses_that_entry_not_the_batch(api: ApiWorld) -> None:
    item_id = api.item()
    base = f"/api/v1/works-items/{item_id}"
    commands = [
        {"path": f"{base}/acceptance-rounds/²/signatures", "idempotency_key": str(uuid.uuid4()),
         "body": {"decision": "accept", "subject_hash": "a" * 64}},
        {"path": f"{base}/defects", "idempotency_key": str(uuid.uuid4()), "if_match": "²",
         "body": {"severity": "minor", "description": "围挡缺口"}},
        {"path": f"{base}/defects", "idempotency_key": str(uuid.uuid4()),
         "body": {"severity": "minor", "description": "围挡缺口"}},
    ]
    results = api.ok("POST", "/api/v1/batch", api.supervisor, json={"commands": commands})["results"]
    assert [r["status"] for r in results] == [422, 400, 201]
    assert results[0]["body"]["code"] == "validation_error" and "round_no" in results[0]["body"]["detail"]
    assert results[1]["body"]["code"] == "invalid_if_match"


def test_an_if_match_beyond_any_integer_is_a_bad_header_not_a_crash(api: ApiWorld) -> None:
    item_id = api.item()
    for value in ("9" * 4301, "²", "١٢"):  # Python's int-from-string limit; a superscript; Arabic-Indic digits
        response = api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
                            headers={"If-Match": value.encode()}, json={"severity": "minor", "description": "围挡缺口"})
        problem(response, 400, "invalid_if_match")
    assert api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"] == 1


def test_a_device_or_request_id_past_128_characters_is_refused_by_name(api: ApiWorld) -> None:
    """Read from the request rather than declared (FastAPI's per-parameter cost), the headers keep their limit."""
    item_id = api.item()
    defects = f"/api/v1/works-items/{item_id}/defects"
    for header in ("X-Device-Id", "X-Request-Id"):
        response = api.call("POST", defects, api.supervisor, headers={header: "d" * 129},
                            json={"severity": "minor", "description": "围挡缺口"})
        body = problem(response, 422, "validation_error")
        assert header in body["detail"] and "128" in body["detail"], body
    assert api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"] == 1
    response = api.call("POST", defects, api.supervisor, headers={"X-Device-Id": "d" * 128},
                        json={"severity": "minor", "description": "围挡缺口"})
    assert response.status_code == 201, response.text
    event = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.admin)["items"][-1]
    assert event["device_id"] == "d" * 128, event


def test_positions_and_offsets_beyond_64_bits_are_refused(api: ApiWorld) -> None:
    item_id = api.item()
    for path in (f"/api/v1/works-items/{item_id}/events?after=9223372036854775808",
                 f"/api/v1/works-items/{item_id}/timeline?offset={2**63}",
                 f"/api/v1/projects/{api.project_id}/timeline?offset={2**63}",
                 f"/api/v1/dashboards/projects/{api.project_id}?after={2**63}"):
        problem(api.call("GET", path, api.admin), 422, "validation_error")


def test_a_position_the_log_has_not_reached_is_refused_at_once(api: ApiWorld, container: Container) -> None:
    head = int(container.ledger.recorder.max_notification_id() or 0)
    body = problem(api.call("GET", f"/api/v1/dashboards/projects/{api.project_id}?after={head + 1}", api.admin),
                   422, "position_beyond_log")
    assert body["head"] == head and str(head) in body["detail"]
    assert api.call("GET", f"/api/v1/dashboards/projects/{api.project_id}?after={head}",
                    api.admin).status_code == 200


def test_an_unexpected_fault_answers_a_problem_with_the_request_id_and_no_trace(container: Container) -> None:
    app = create_app(container)

    def fails() -> None:
        raise RuntimeError("secret internals: /srv/siteledger/data")

    app.add_api_route("/api/v1/fails", fails)  # the real app with one route that breaks as code can
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/fails", headers={"X-Request-Id": "req-42"})
    body = problem(response, 500, "internal_error")
    assert body["request_id"] == "req-42" and "req-42" in body["detail"]
    assert response.headers["x-request-id"] == "req-42"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_a_405_says_which_methods_the_path_allows(api: ApiWorld) -> None:
    response = api.call("DELETE", "/api/v1/projects", api.admin)
    problem(response, 405, "method_not_allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST"}


# --- bad input that was stored ---------------------------------------------------------------------------------

def test_a_body_over_the_limit_is_refused_before_it_is_parsed(api: ApiWorld) -> None:
    before = project_count(api)
    response = api.call("POST", "/api/v1/projects", api.admin, json=project(address="路" * (2 * 1024 * 1024)))
    body = problem(response, 413, "body_too_large")
    assert body["max_bytes"] == 1024 * 1024
    assert project_count(api) == before


@pytest.mark.parametrize(("field", "value", "code"), [
    ("address", "龙川北路" * 100, "string_too_long"),
    ("street_office", "街" * 201, "string_too_long"),
    ("name", "王\u202e芳", "hidden_character"),  # right-to-left override
    ("name", "王\x00芳", "hidden_character"),
    ("name", "\x1b[31m红色\x1b[0m", "hidden_character"),  # a terminal escape
    ("name", "王\u200b芳", "hidden_character"),  # zero-width space
    ("name", " \u3000 ", "string_too_short"),  # only spaces (one ideographic)
    ("district", "徐汇\u2028区", "hidden_character"),
    ("buildings", 10**30, "less_than_equal"),
    ("households", 2**63, "less_than_equal"),
])
def test_project_fields_are_bounded_and_visible(api: ApiWorld, field: str, value: Any, code: str) -> None:
    before = project_count(api)
    body = problem(api.call("POST", "/api/v1/projects", api.admin, json=project(**{field: value})),
                   422, "validation_error")
    assert [e["type"] for e in body["errors"]] == [code]
    assert field in body["detail"]
    assert project_count(api) == before


def test_names_are_trimmed(api: ApiWorld) -> None:
    created = api.ok("POST", "/api/v1/projects", api.admin, json=project(name="  金牛花苑\u3000", address=" 龙川北路 "))
    shown = api.ok("GET", f"/api/v1/projects/{created['id']}", api.admin)
    assert shown["name"] == "金牛花苑" and shown["address"] == "龙川北路"


@pytest.mark.parametrize("day", ["9999-99-99", "2026-02-31", "0000-00-00", "1900-01-01", "2026-1-5"])
def test_planned_dates_are_real_days(api: ApiWorld, day: str) -> None:
    response = api.call("POST", f"/api/v1/projects/{api.project_id}/works-items", api.admin,
                        json={"kind": "pipe_relocation", "location": "3号楼北侧", "planned_start": day})
    body = problem(response, 422, "validation_error")
    assert "planned_start" in body["detail"]


@pytest.mark.parametrize(("gps", "code"), [
    ('{"lat": NaN, "lon": 121.4}', "finite_number"),
    ('{"lat": Infinity, "lon": 121.4}', "finite_number"),
    ('{"lat": 1e309, "lon": 121.4}', "finite_number"),
    ('{"lat": 999, "lon": 121.4}', "gps_out_of_range"),
    ('{"lat": 31.2, "lon": -181}', "gps_out_of_range"),
    ('{"lat": 31.2}', "gps_shape"),
])
def test_gps_is_finite_and_on_the_earth(api: ApiWorld, gps: str, code: str) -> None:
    item_id = api.item()
    body = json.dumps(inspection_body("survey_and_marking"))[:-1] + f', "gps": {gps}}}'
    response = api.call("POST", f"/api/v1/works-items/{item_id}/inspections", api.supervisor, content=body,
                        headers={"Content-Type": "application/json"})
    assert code in [e["type"] for e in problem(response, 422, "validation_error")["errors"]]
    assert api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"] == 1


def test_a_place_on_the_earth_is_kept(api: ApiWorld) -> None:
    item_id = api.item()
    api.ok("POST", f"/api/v1/works-items/{item_id}/inspections", api.supervisor,
           json=inspection_body("survey_and_marking", gps={"lat": 31.17, "lon": 121.43}))


@pytest.mark.parametrize(("depth", "status", "code"), [
    ("1e309", 422, "invalid_measurement"),  # a string the template reads as a number
    ("1e-400", 422, "invalid_measurement"),
    (1e300, 422, "validation_error"),
    ("深" * 501, 422, "validation_error"),
])
def test_measurements_are_finite_and_in_range(api: ApiWorld, depth: Any, status: int, code: str) -> None:
    item_id = api.item()
    api.pass_all(item_id, until="excavation")
    version = api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"]
    measurements = {"depth_m": depth, "width_m": "0.8"}
    problem(api.inspect(item_id, "excavation", measurements=measurements), status, code)
    assert api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["version"] == version


@pytest.mark.parametrize(("recorded_at", "code"), [
    ("2026-05-01T09:30:00", "timezone_aware"),  # no zone: cannot be placed on the timeline
    ("0001-01-01T00:00:00+00:00", "device_time_too_early"),
    ("1970-01-01T00:00:00+00:00", "device_time_too_early"),
])
def test_a_device_time_has_a_zone_and_a_set_clock(api: ApiWorld, recorded_at: str, code: str) -> None:
    item_id = api.item()
    response = api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
                        json={"severity": "minor", "description": "围挡缺口", "recorded_at": recorded_at})
    body = problem(response, 422, "validation_error")
    assert [e["type"] for e in body["errors"]] == [code] and "recorded_at" in body["detail"]


def test_a_device_clock_far_ahead_of_the_server_is_refused(api: ApiWorld) -> None:
    item_id = api.item()
    base = f"/api/v1/works-items/{item_id}/defects"
    for ahead in (timedelta(hours=25), timedelta(days=365 * 7973)):
        when = (datetime.now(UTC) + ahead).isoformat()
        response = api.call("POST", base, api.supervisor,
                            json={"severity": "minor", "description": "围挡缺口", "recorded_at": when})
        problem(response, 422, "device_time_in_future")
    batch = {"commands": [{"path": base, "idempotency_key": str(uuid.uuid4()),
                           "body": {"severity": "minor", "description": "围挡缺口",
                                    "recorded_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}}]}
    result = api.ok("POST", "/api/v1/batch", api.supervisor, json=batch)["results"][0]
    assert result["status"] == 422 and result["body"]["code"] == "device_time_in_future"
    within = (datetime.now(UTC) + timedelta(hours=1)).isoformat()  # a clock a little fast is normal
    api.ok("POST", base, api.supervisor, json={"severity": "minor", "description": "围挡缺口", "recorded_at": within})


def test_a_key_given_twice_is_refused(api: ApiWorld) -> None:
    before = project_count(api)
    response = api.client.post("/api/v1/projects", content='{"name": "甲小区", "name": "乙小区", "district": "徐汇区"}',
                               headers={**auth(api.admin), "Content-Type": "application/json"})
    body = problem(response, 422, "duplicate_json_key")
    assert body["key"] == "name" and "name" in body["detail"]
    nested = ('{"commands": [{"path": "/api/v1/works-items/x/defects", "idempotency_key": "k-12345678",'
              ' "body": {"severity": "minor", "severity": "critical", "description": "x"}}]}')
    response = api.client.post("/api/v1/batch", content=nested,
                               headers={**auth(api.supervisor), "Content-Type": "application/json"})
    problem(response, 422, "duplicate_json_key")
    assert project_count(api) == before


def test_every_human_text_of_a_command_is_checked(api: ApiWorld) -> None:
    item_id = api.item()
    base = f"/api/v1/works-items/{item_id}"
    for path, body in ((f"{base}/defects", {"severity": "minor", "description": "裂缝\u202e"}),
                       (f"{base}/stop-work", {"reason": "   "}),
                       (f"{base}/inspections", inspection_body("survey_and_marking", notes="\x07")),
                       (f"{base}/reopen", {"reason": "x" * 2001})):
        problem(api.call("POST", path, api.station, json=body), 422, "validation_error")
    assert api.ok("GET", base, api.admin)["version"] == 1


def test_an_upload_streamed_past_its_limit_is_cut_off(tmp_path: Path, s3_server: SeaweedS3) -> None:
    """No Content-Length (chunked): the bytes are counted as they arrive, not trusted from a header."""
    container = build(settings_for(tmp_path, s3_server, photo_max_bytes=1000))
    with TestClient(create_app(container)) as client:
        api = ApiWorld(client, container)
        boundary = "siteledger-test"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n"
                f"Content-Type: image/jpeg\r\n\r\n").encode()

        def parts() -> Iterator[bytes]:
            yield head
            for _ in range(40):  # 2.5 MiB: past the photo limit plus a megabyte of multipart overhead
                yield b"\xff" * 65536
            yield f"\r\n--{boundary}--\r\n".encode()

        response = client.post("/api/v1/photos", content=parts(), headers={
            **auth(api.supervisor), "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert "content-length" not in {k.lower() for k in response.request.headers}
        body = problem(response, 413, "body_too_large")
        assert body["max_bytes"] == 1000 + 1024 * 1024
    container.close()
