"""A resident's signature gets a receipt (存证) that verifies offline once a checkpoint holds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siteledger_verify.cli import main as verify_main
from siteledger_verify.note import VerifierKey
from siteledger_verify.receipt import verify_receipt
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


def test_a_residents_signature_receipt_verifies_offline(api: ApiWorld, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    item_id = api.item()
    api.pass_all(item_id)
    api.ok("POST", f"/api/v1/works-items/{item_id}/completion", api.supervisor)
    opened = api.ok("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds", api.supervisor)
    signed = api.call("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds/1/signatures", api.residents[0],
                      json={"decision": "accept", "subject_hash": opened["subject_hash"]})
    assert signed.status_code == 201, signed.text
    version = signed.json()["version"]
    key = VerifierKey.parse(api.client.get("/api/v1/transparency/key",
                                           headers={"Authorization": f"Bearer {api.residents[0]}"}).text)

    def fetch() -> dict[str, object]:
        return api.ok("GET", "/api/v1/transparency/receipt", api.residents[0],
                      params={"aggregate_id": item_id, "version": version})

    api.ok("GET", "/api/v1/transparency/status", api.residents[0])  # the tree catches up; no new checkpoint yet
    before = fetch()
    assert before["log_position"] == int(signed.headers["X-Log-Position"]) and before["checkpoint"] is None
    assert not verify_receipt(before, key)[0]
    api.client.get("/api/v1/transparency/checkpoint?fresh=true", headers={"Authorization": f"Bearer {api.station}"})
    receipt = fetch()
    holds, why = verify_receipt(receipt, key, event_hash=str(receipt["event_hash"]))
    assert holds, why
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    assert verify_main(["receipt", str(path), "--key", key.text()]) == 0
    assert "存证有效" in capsys.readouterr().out
    forged = {**receipt, "event_hash": "ab" * 32}  # another event passed off under this receipt
    path.write_text(json.dumps(forged))
    assert verify_main(["receipt", str(path), "--key", key.text()]) == 1
    assert "存证无效" in capsys.readouterr().out
