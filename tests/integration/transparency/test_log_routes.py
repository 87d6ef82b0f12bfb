"""The log over HTTP: a signed checkpoint, the key, proofs that verify with the outsider's code, and refusals."""

from __future__ import annotations

import base64
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from services.bootstrap import Container
from services.transparency.service import service_for
from siteledger_verify import merkle
from siteledger_verify.events import event_leaf_hash
from siteledger_verify.note import Checkpoint, Note, VerifierKey, open_checkpoint
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


def _text(api: ApiWorld, path: str, token: str | None = None) -> str:
    response = api.call("GET", path, token or api.station)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def _hashes(proof: list[str]) -> list[bytes]:
    return [base64.b64decode(h) for h in proof]


def test_checkpoint_key_and_proofs_verify_from_outside(api: ApiWorld, client: TestClient) -> None:
    item_id = api.item()
    api.pass_all(item_id, until="pipe_laying")
    key = VerifierKey.parse(_text(api, "/api/v1/transparency/key"))
    first = open_checkpoint(_text(api, "/api/v1/transparency/checkpoint"), key)
    assert first.origin == "siteledger.example/dev" and first.size > 0

    events = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.supervisor)["items"]
    api.pass_all(item_id, until="concealed_works")  # the tree grows
    second = open_checkpoint(_text(api, "/api/v1/transparency/checkpoint?fresh=true"), key)
    assert second.size > first.size

    for event in events:
        proof = api.ok("GET", "/api/v1/transparency/proof/inclusion", api.residents[0],
                       params={"aggregate_id": item_id, "version": event["version"], "tree_size": second.size})
        assert proof["included"] and proof["event_hash"] == event["event_hash"]
        merkle.verify_inclusion(event_leaf_hash(UUID(item_id), event["version"], event["event_hash"]),
                                proof["leaf_index"], second.size, _hashes(proof["proof"]), second.root)

    consistency = api.ok("GET", "/api/v1/transparency/proof/consistency", api.contractor,
                         params={"from": first.size, "to": second.size})
    merkle.verify_consistency(first.size, second.size, first.root, second.root, _hashes(consistency["proof"]))


def test_reading_needs_a_sign_in_and_cosigning_needs_the_station(api: ApiWorld, client: TestClient) -> None:
    assert client.get("/api/v1/transparency/checkpoint").status_code == 401
    assert client.get("/api/v1/transparency/proof/consistency?from=0&to=1").status_code == 401
    note = _text(api, "/api/v1/transparency/checkpoint")
    refused = api.call("POST", "/api/v1/transparency/cosignatures", api.supervisor, json={"note": note, "key": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_permitted"
    forged = api.call("POST", "/api/v1/transparency/cosignatures", api.station,
                      json={"note": note, "key": _text(api, "/api/v1/transparency/key").strip()})
    assert forged.status_code == 422 and forged.json()["code"] == "invalid_cosignature"
    for token in (api.residents[0], api.supervisor, api.contractor):  # the city's item ids are for the stations
        listed = api.call("GET", "/api/v1/transparency/leaves", token, params={"start": 0, "end": 1})
        assert listed.status_code == 403 and listed.json()["code"] == "role_not_permitted"
    assert len(api.ok("GET", "/api/v1/transparency/leaves", api.station, params={"start": 0, "end": 1})["items"]) == 1
    alarm = {"reason": "不一致", "held_checkpoint": note}
    assert api.call("POST", "/api/v1/transparency/alarms", api.residents[0], json=alarm).status_code == 403
    assert client.post("/api/v1/transparency/alarms", json=alarm).status_code == 401
    assert client.get("/api/v1/transparency/status").status_code == 401
    assert api.ok("GET", "/api/v1/transparency/status", api.residents[0])["state"] == "ok"
    assert api.call("POST", "/api/v1/transparency/alarms", api.station, json=alarm).status_code == 201
    assert api.ok("GET", "/api/v1/transparency/status", api.residents[0])["state"] == "alarm"
    missing = api.call("GET", "/api/v1/transparency/proof/inclusion", api.station,
                       params={"aggregate_id": "00000000-0000-0000-0000-000000000000", "version": 1})
    assert missing.status_code == 404 and missing.json()["code"] == "event_not_in_log"
    too_big = api.call("GET", "/api/v1/transparency/proof/consistency", api.station, params={"from": 1, "to": 10**9})
    assert too_big.status_code == 422 and "日志树" in too_big.json()["detail"]


def test_the_rebuilt_tree_equals_the_live_one(api: ApiWorld, container: Container) -> None:
    for _ in range(3):
        api.pass_all(api.item(), until="pressure_test")
    service = service_for(container)
    size = service.catch_up()
    live = container.db.query("SELECT level, idx, hash FROM tlog_nodes ORDER BY level, idx")
    live_root = service.tree.root(size)
    assert service.rebuild() == size
    assert container.db.query("SELECT level, idx, hash FROM tlog_nodes ORDER BY level, idx") == live
    assert service.tree.root(size) == live_root
    leaves = [bytes.fromhex(h) for (h,) in container.db.query(
        "SELECT hash FROM tlog_nodes WHERE level = 0 ORDER BY idx")]
    assert merkle.root_of(leaves) == live_root  # stored nodes agree with a from-scratch computation


def test_a_checkpoint_is_a_c2sp_signed_note(api: ApiWorld) -> None:
    api.item()
    text = _text(api, "/api/v1/transparency/checkpoint")
    note = Note.parse(text)
    lines = text.split("\n")
    assert lines[0] == "siteledger.example/dev" and lines[1].isdigit() and len(base64.b64decode(lines[2])) == 32
    assert lines[3] == "" and lines[4].startswith("— siteledger.example/dev ")
    assert Checkpoint.parse(note.text).size == int(lines[1])
