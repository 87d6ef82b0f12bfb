"""The contract a client generates its types from: /openapi.json, and the answers that keep to it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.api.deps import KEY
from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration
PROBLEM_REF = "#/components/schemas/Problem"
PUBLIC = {"OPTIONS /api/v1/tus/photos", "OPTIONS /api/v1/tus/photos/{upload_id}"}  # tus discovery needs no token


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in schema["paths"].items() for method, op in item.items()]


def _problem_codes(operation: dict[str, Any], status: int) -> set[str]:
    content = operation["responses"][str(status)]["content"]
    assert list(content) == ["application/problem+json"], content
    ref, codes = content["application/problem+json"]["schema"]["allOf"]
    assert ref == {"$ref": PROBLEM_REF}
    return set(codes["properties"]["code"]["enum"])


def _head(api: ApiWorld) -> int:
    """The log's head: a read with `?after=` this waits until the read models have everything written so far."""
    return max(p["head"] for p in api.ok("GET", "/api/v1/projections/status", api.admin)["projections"])


def test_every_operation_documents_its_answers_problems_and_headers(api: ApiWorld) -> None:
    schema = api.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": schema["components"]["securitySchemes"]["bearer"][
            "description"]}
    assert {"type", "status", "code", "title", "detail"} <= set(schema["components"]["schemas"]["Problem"]["required"])
    commands = 0
    for method, path, operation in _operations(schema):
        label = f"{method} {path}"
        assert not any(p["name"].lower() == "authorization" for p in operation.get("parameters", [])), label
        success = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert success, label
        for status, response in success.items():
            for media, body in response.get("content", {}).items():
                if media == "application/json":  # a named model, never the `{}` a client cannot type
                    assert body["schema"].get("$ref") or body["schema"].get("anyOf"), (label, status, body)
        if not path.startswith("/api/v1/") or path.endswith(("/healthz", "/readyz")) or label in PUBLIC:
            assert "security" not in operation, label
            continue
        assert operation["security"] == [{"bearer": []}], label
        assert {"unauthenticated", "invalid_token", "token_expired"} <= _problem_codes(operation, 401), label
        assert _problem_codes(operation, 429) == {"too_many_attempts"}, label
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        if "Idempotency-Key" in headers:
            commands += 1
            assert headers["Idempotency-Key"]["schema"]["pattern"] == KEY.pattern, label
            assert headers["If-Match"]["schema"]["pattern"].startswith("^"), label
            assert headers["X-Device-Id"]["schema"]["maxLength"] == 128, label
            assert {"invalid_if_match", "invalid_idempotency_key"} <= _problem_codes(operation, 400), label
            assert "validation_error" in _problem_codes(operation, 422), label
            assert "body_too_large" in _problem_codes(operation, 413), label
    assert commands >= 19  # every project and item command, and user creation
    inspection = schema["paths"]["/api/v1/works-items/{item_id}/inspections"]["post"]
    assert inspection["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InspectionRecorded"}
    assert {"version_conflict", "stop_work_in_force", "hold_point_out_of_order"} <= _problem_codes(inspection, 409)
    assert {"missing_measurements", "inspection_limits_not_met"} <= _problem_codes(inspection, 422)
    outcome = schema["components"]["schemas"]["AcceptanceRequested"]
    assert {"round_no", "subject_hash", "subject_version", "id", "version"} <= set(outcome["required"])
    assert schema["components"]["schemas"]["DefectRaised"]["required"][-1] == "defect_id"
    timeline = schema["paths"]["/api/v1/works-items/{item_id}/timeline"]["get"]
    assert _problem_codes(timeline, 503) == {"projection_behind"}
    assert _problem_codes(timeline, 404) == {"works_item_not_found", "project_not_found"}


def test_lists_share_one_envelope_and_events_name_their_hash_event_hash(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id, until="excavation")
    envelope = {"items", "total", "total_exact", "offset", "limit"}
    for path in ("/api/v1/projects?limit=5", f"/api/v1/projects/{api.project_id}/works-items",
                 f"/api/v1/works-items/{item_id}/events?limit=1", f"/api/v1/works-items/{item_id}/timeline",
                 f"/api/v1/projects/{api.project_id}/timeline", "/api/v1/works-kinds", "/api/v1/me/tokens"):
        page = api.ok("GET", path, api.admin)
        assert set(page) - {"user_id"} == envelope, (path, sorted(page))
    events = api.ok("GET", f"/api/v1/works-items/{item_id}/events?after=1&limit=5", api.admin)
    assert (events["total"], events["offset"], events["limit"]) == (2, 1, 5)
    first, second = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.admin)["items"]
    assert "hash" not in second and second["prev_hash"] == first["event_hash"]
    assert api.ok("GET", f"/api/v1/works-items/{item_id}/verify", api.admin)["head"] == second["event_hash"]


def test_an_item_carries_its_frozen_template_and_quantities_are_numbers(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id, until="pressure_test")
    view = api.ok("GET", f"/api/v1/works-items/{item_id}", api.residents[0])
    template = view["template"]
    assert template == api.ok("GET", "/api/v1/works-kinds/pipe_relocation", api.admin)
    assert [h["code"] for h in template["hold_points"]] == [h["code"] for h in view["hold_points"]]
    excavation = next(h for h in template["hold_points"] if h["code"] == "excavation")
    depth = next(m for m in excavation["measurements"] if m["code"] == "depth_m")
    assert depth["unit"] == "m" and depth["type"] == "number"
    limits = [c["value"] for h in template["hold_points"] for c in h["checks"] if c["value"] is not None]
    minimums = [m["minimum"] for h in template["hold_points"] for m in h["measurements"] if m["minimum"] is not None]
    assert limits and minimums
    assert all(isinstance(v, int | float) for v in limits + minimums)  # numbers, not "0.6"
    assert view["quantities"] == {"pipe_laid_m": 42.5}
    listed = api.ok("GET", f"/api/v1/projects/{api.project_id}/works-items", api.admin)["items"][0]
    assert "template" not in listed and listed["template_digest"] == view["template_digest"]  # lists stay light
    board = api.ok("GET", f"/api/v1/dashboards/projects/{api.project_id}?after={_head(api)}", api.admin)
    assert board["quantities"] == {"pipe_laid_m": 42.5}


def test_timeline_entries_name_their_hold_point_in_chinese(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id, until="excavation")
    entries = api.ok("GET", f"/api/v1/works-items/{item_id}/timeline?after={_head(api)}", api.admin)["items"]
    inspected = [e for e in entries if e["type"] == "InspectionRecorded"]
    assert [(e["hold_point"], e["hold_point_zh"]) for e in inspected] == [("survey_and_marking", "现状管线探测与放线")]
    assert next(e for e in entries if e["type"] == "Registered")["hold_point_zh"] is None


def test_server_made_ids_are_dashed_uuids_and_old_hex_member_ids_still_work(api: ApiWorld) -> None:
    def dashed(value: str) -> bool:
        return str(uuid.UUID(value)) == value

    group = api.ok("GET", f"/api/v1/projects/{api.project_id}", api.admin)["residents_group"]
    assert group and all(dashed(m["member_id"]) for m in group)
    item_id = api.item()
    defect = api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
                    json={"severity": "minor", "description": "护栏缺失"})
    assert dashed(defect["defect_id"]) and dashed(defect["id"])
    order = api.ok("POST", f"/api/v1/works-items/{item_id}/stop-work", api.station, json={"reason": "未设围挡"})
    assert dashed(order["order_id"])
    legacy = uuid.uuid4().hex  # the format members had before: events that carry one stay readable
    resident = api.me(api.user("resident"))["id"]
    added = api.ok("POST", f"/api/v1/projects/{api.project_id}/residents-group/members", api.admin,
                   json={"user_id": resident, "building": "9号楼", "member_id": legacy})
    assert added["member_id"] == legacy
    assert legacy in {m["member_id"] for m in api.ok("GET", f"/api/v1/projects/{api.project_id}", api.admin)[
        "residents_group"]}
    api.ok("DELETE", f"/api/v1/projects/{api.project_id}/residents-group/members/{legacy}", api.admin)


def test_a_refusal_is_a_problem_with_a_code_its_route_documents(api: ApiWorld) -> None:
    schema = api.client.get("/openapi.json").json()
    route = schema["paths"]["/api/v1/works-items/{item_id}"]["get"]
    body = problem(api.call("GET", f"/api/v1/works-items/{uuid.uuid4()}", api.admin), 404, "works_item_not_found")
    assert body["code"] in _problem_codes(route, 404)
    project = schema["paths"]["/api/v1/projects/{project_id}/acceptance-rule"]["put"]
    body = problem(api.call("PUT", f"/api/v1/projects/{api.project_id}/acceptance-rule", api.admin,
                            json={"min_signed": "3/2", "min_accept": "1/2"}), 422, "invalid_acceptance_rule")
    assert body["code"] in _problem_codes(project, 422)


def _chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@pytest.mark.parametrize("body", [b'{"name": "\xff\xfe"}', b"[" * 100_000, b'{"name": ', b"name=a&district=b"],
                         ids=["not-utf8", "too-deep", "cut-short", "a-form"])
@pytest.mark.parametrize("content_type", ["application/json", None])
def test_a_body_that_is_not_json_is_malformed_json_with_a_chinese_detail(
        api: ApiWorld, body: bytes, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    refused = problem(api.call("POST", "/api/v1/projects", api.admin, content=body, headers=headers),
                      400, "malformed_json")
    assert _chinese(refused["detail"]) and refused["title"] == "The request body is not valid JSON", refused
    route = api.client.get("/openapi.json").json()["paths"]["/api/v1/projects"]["post"]
    assert _problem_codes(route, 400) >= {"malformed_json"} and "http_error" not in _problem_codes(route, 400)


def test_a_body_without_a_content_type_is_read_as_json_and_so_says_each_key_once(api: ApiWorld) -> None:
    body = b'{"name": "a", "name": "b", "district": "x"}'  # FastAPI reads it as JSON: the last name would win
    problem(api.call("POST", "/api/v1/projects", api.admin, content=body), 422, "duplicate_json_key")


def test_a_broken_multipart_upload_is_malformed_multipart(api: ApiWorld) -> None:
    for content_type in ("multipart/form-data; boundary=x", "multipart/form-data"):
        refused = problem(api.call("POST", "/api/v1/photos", api.supervisor, content=b"garbage",
                                   headers={"Content-Type": content_type}), 400, "malformed_multipart")
        assert _chinese(refused["detail"])
    route = api.client.get("/openapi.json").json()["paths"]["/api/v1/photos"]["post"]
    assert {"malformed_multipart", "malformed_json"} <= _problem_codes(route, 400)


def test_an_unknown_works_kind_is_absent_not_an_invalid_request(api: ApiWorld) -> None:
    refused = problem(api.call("GET", "/api/v1/works-kinds/spaceport", api.admin), 404, "works_kind_not_found")
    assert "spaceport" in refused["detail"] and _chinese(refused["detail"])
    route = api.client.get("/openapi.json").json()["paths"]["/api/v1/works-kinds/{code}"]["get"]
    assert _problem_codes(route, 404) == {"works_kind_not_found"}
    assert "unknown_works_kind" not in _problem_codes(route, 422)


def test_the_tus_routes_document_bodiless_answers_their_headers_and_their_codes(api: ApiWorld) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    tus = {f"{method.upper()} {path}": operation for path, item in paths.items() if path.startswith("/api/v1/tus/")
           for method, operation in item.items()}
    one = "/api/v1/tus/photos/{upload_id}"
    assert set(tus) == {"OPTIONS /api/v1/tus/photos", "POST /api/v1/tus/photos", f"OPTIONS {one}", f"HEAD {one}",
                        f"PATCH {one}", f"DELETE {one}"}

    def answers(label: str, status: int) -> dict[str, Any]:
        response = tus[label]["responses"][str(status)]
        assert "content" not in response, label  # tus answers carry no body: their headers are the answer
        return {name: header for name, header in response["headers"].items() if header["required"]}

    def headers(label: str) -> dict[str, Any]:
        return {p["name"]: p for p in tus[label].get("parameters", []) if p["in"] == "header"}

    assert set(answers("OPTIONS /api/v1/tus/photos", 204)) == {
        "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm"}
    assert {"Location", "Upload-Offset", "Upload-Expires"} <= set(answers("POST /api/v1/tus/photos", 201))
    assert {"Upload-Offset", "Upload-Length"} <= set(answers(f"HEAD {one}", 200))
    assert "X-Photo-Id" in tus[f"PATCH {one}"]["responses"]["204"]["headers"]
    assert set(answers(f"DELETE {one}", 204)) == {"Tus-Resumable"}
    for label, operation in tus.items():
        if not label.startswith("OPTIONS"):
            assert headers(label)["Tus-Resumable"]["required"], label
            assert _problem_codes(operation, 412) == {"tus_version_unsupported"}, label
    create, patch = headers("POST /api/v1/tus/photos"), headers(f"PATCH {one}")
    digits = "^[0-9]{1,18}$"
    assert create["Upload-Length"]["schema"]["pattern"] == patch["Upload-Offset"]["schema"]["pattern"] == digits
    assert create["Upload-Metadata"]["schema"]["pattern"].startswith("^")
    assert patch["Upload-Checksum"]["schema"]["pattern"].startswith("^(sha1|sha256) ")
    assert list(tus[f"PATCH {one}"]["requestBody"]["content"]) == ["application/offset+octet-stream"]
    assert {"tus_invalid_header", "tus_invalid_metadata", "tus_defer_length_unsupported"} <= _problem_codes(
        tus["POST /api/v1/tus/photos"], 400)
    operation = tus[f"PATCH {one}"]
    assert "upload_not_found" in _problem_codes(operation, 404)  # and the item's or project's, at the last byte
    assert _problem_codes(operation, 409) == {"upload_offset_mismatch"}
    assert _problem_codes(operation, 410) == {"upload_expired"}
    assert _problem_codes(operation, 423) == {"upload_locked"}
    assert _problem_codes(operation, 460) == {"tus_checksum_mismatch"}
    assert {"upload_beyond_length", "upload_chunk_too_large"} <= _problem_codes(operation, 413)
    assert {"tus_content_type", "photo_not_an_image"} <= _problem_codes(operation, 415)
    assert {"tus_invalid_header", "tus_checksum_unsupported"} <= _problem_codes(operation, 400)
    assert {"photo_hash_mismatch", "photo_corrupt"} <= _problem_codes(operation, 422)
