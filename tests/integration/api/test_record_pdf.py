"""The printed record: Chinese, every event and hash in it, the same bytes for the same version, and signed so a
changed byte shows. Checked with poppler's own tools (pdftotext, pdftoppm) and pyHanko's validator."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from services.api.routers.records import identity
from services.records import item_record, pdf, signing
from services.records.signing import SigningIdentity, in_own_loop
from services.settings import Settings
from siteledger_verify import merkle
from siteledger_verify.events import leaf_data
from siteledger_verify.note import VerifierKey
from siteledger_verify.pack import verify_pack
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).parents[2] / "artifacts"
POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")


def _story(api: ApiWorld) -> str:
    item_id = api.item(title="3号楼给水管线迁移")
    api.pass_all(item_id, until="backfill_restoration")
    before = api.photo("接口渗水")
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
           json={"severity": "major", "description": "管道接口渗水，需重新热熔", "photos": [before],
                 "due_date": "2026-12-01"})
    api.ok("POST", f"/api/v1/works-items/{item_id}/stop-work", api.station, json={"reason": "沟槽未设护栏"})
    api.ok("POST", f"/api/v1/works-items/{item_id}/stop-work/lift", api.station, json={"notes": "护栏已设置"})
    return item_id


def _signature_status(data: bytes, cert_path: Path) -> Any:
    reader = PdfFileReader(io.BytesIO(data))
    trust = ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_path))])
    return in_own_loop(lambda: async_validate_pdf_signature(reader.embedded_signatures[0], trust))


def test_the_record_is_signed_and_a_changed_byte_shows(api: ApiWorld) -> None:
    item_id = _story(api)
    answer = api.client.get(f"/api/v1/works-items/{item_id}/record.pdf",
                            headers={"Authorization": f"Bearer {api.station}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert "attachment" in answer.headers["content-disposition"]
    signed = answer.content
    signer = identity(api.container)
    assert signer is not None
    status = _signature_status(signed, signer.cert_path)
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"

    start = signed.index(b"stream\n") + 40  # inside the first (compressed) stream, which the signature covers
    altered = signed[:start] + bytes([signed[start] ^ 0x01]) + signed[start + 1:]
    assert not _signature_status(altered, signer.cert_path).intact


def test_same_version_same_bytes_and_the_signature_keeps_them(api: ApiWorld) -> None:
    item_id = _story(api)
    item, project = api.container.ledger.get_item(UUID(item_id)), None
    project = api.container.ledger.get_project(item.project_id)
    font = api.container.settings.cjk_font_path
    first = pdf.render([item_record.gather(api.container, item, project)], font, "记录")
    again = pdf.render([item_record.gather(api.container, item, project)], font, "记录")
    assert first == again  # the checkpoint printed is the first to hold the event: stable once given
    cp = item_record.gather(api.container, item, project).checkpoint
    assert cp is not None
    leaf = merkle.leaf_hash(leaf_data(item.id, item.version, item.chain_head))
    merkle.verify_inclusion(leaf, cp["leaf_index"], cp["size"], [base64.b64decode(h) for h in cp["proof"]],
                            base64.b64decode(cp["root"]))  # raises if the record's proof does not hold
    answer = api.client.get(f"/api/v1/works-items/{item_id}/record.pdf",
                            headers={"Authorization": f"Bearer {api.station}"})
    assert answer.status_code == 200
    # a later event changes the record
    api.ok("POST", f"/api/v1/works-items/{item_id}/stop-work", api.station, json={"reason": "再次检查"})
    later = api.container.ledger.get_item(UUID(item_id))
    assert pdf.render([item_record.gather(api.container, later, project)], font, "记录") != first


def test_every_event_and_hash_is_in_the_text_and_the_page_renders(api: ApiWorld, tmp_path: Path) -> None:
    if not POPPLER:  # CI installs poppler-utils and requires it, as it requires the browser
        if os.environ.get("SITELEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail("poppler-utils (pdftotext, pdftoppm) not installed")
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed: apt-get install poppler-utils")
    item_id = _story(api)
    answer = api.client.get(f"/api/v1/works-items/{item_id}/record.pdf",
                            headers={"Authorization": f"Bearer {api.station}"})
    (tmp_path / "record.pdf").write_bytes(answer.content)
    text = subprocess.run(["pdftotext", "-raw", str(tmp_path / "record.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    flat = "".join(text.split())  # a hash may wrap across lines in its table cell
    events = api.ok("GET", f"/api/v1/works-items/{item_id}/events?limit=1000", api.station)["items"]
    assert len(events) > 5
    for event in events:
        assert event["event_hash"] in flat, event["type"]
    for words in ("工程事项记录", "金牛花苑", "3号楼给水管线迁移", "试验压力", "合格", "管道接口渗水", "下达停工令",
                  "解除停工令", "沟槽未设护栏", "哈希链核验：完整", "透明日志：最新事件为第", "—siteledger.example"):
        assert words in flat, words
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(tmp_path / "record.pdf"),
                    str(ARTIFACTS / "record-pdf")], check=True)
    assert (ARTIFACTS / "record-pdf-1.png").stat().st_size > 10_000


def test_the_project_record_holds_every_item(api: ApiWorld) -> None:
    first, second = _story(api), api.item(title="5号楼电缆入地", kind="flying_wire_burial")
    answer = api.client.get(f"/api/v1/projects/{api.project_id}/record.pdf",
                            headers={"Authorization": f"Bearer {api.admin}"})
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert PdfFileReader(io.BytesIO(answer.content)).embedded_signatures
    assert first != second


def test_no_record_for_someone_outside_the_project(api: ApiWorld) -> None:
    item_id = _story(api)
    other_station = api.user("station", district="其他区")
    outsider = api.user("supervisor")
    for token in (other_station, outsider):
        refused = api.client.get(f"/api/v1/works-items/{item_id}/record.pdf",
                                 headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code in (403, 404) and refused.headers["content-type"].startswith(
            "application/problem+json")
    assert api.client.get(f"/api/v1/works-items/{item_id}/record.pdf").status_code == 401
    assert api.client.get(f"/api/v1/projects/{api.project_id}/record.pdf",
                          headers={"Authorization": f"Bearer {other_station}"}).status_code in (403, 404)


def test_keygen_makes_a_record_certificate_that_signs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from services.cli import main

    assert main(["keygen", "--record-cert", str(tmp_path / "keys")]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    made = SigningIdentity(Path(lines["SITELEDGER_RECORD_SIGNING_KEY"]), Path(lines["SITELEDGER_RECORD_SIGNING_CERT"]))
    assert made.key_path.stat().st_mode & 0o077 == 0  # the key is the owner's alone
    unsigned = _blank_pdf()
    status = _signature_status(signing.sign(unsigned, made), made.cert_path)
    assert status.intact and status.valid


def test_production_without_a_certificate_prints_no_record() -> None:
    production = SimpleNamespace(settings=Settings.model_construct(env="production", record_signing_key=None,
                                                                   record_signing_cert=None))
    assert identity(production) is None  # type: ignore[arg-type]  # the route answers 503 on None


def _blank_pdf() -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    return bytes(document.output())


def test_the_evidence_pack_over_http_checks_out_with_the_outsiders_verifier(api: ApiWorld, tmp_path: Path) -> None:
    item_id = _story(api)
    station = {"Authorization": f"Bearer {api.station}"}
    answer = api.client.get(f"/api/v1/works-items/{item_id}/export", headers=station)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert int(answer.headers["content-length"]) == len(answer.content)
    (tmp_path / "pack.zip").write_bytes(answer.content)
    key = VerifierKey.parse(api.client.get("/api/v1/transparency/key", headers=station).text.strip())
    report = verify_pack(tmp_path / "pack.zip", key)
    assert report.ok, report
    other = api.user("station", district="其他区")
    refused = api.client.get(f"/api/v1/works-items/{item_id}/export", headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code in (403, 404)
    assert api.client.get(f"/api/v1/works-items/{item_id}/export").status_code == 401


def test_signing_works_on_a_thread_whose_event_loop_is_running(tmp_path: Path) -> None:
    """pyHanko's sync calls use asyncio.run: from an async route (or under Playwright's sync API) that fails."""
    made = signing.make_self_signed(tmp_path / "keys")

    async def inside_a_loop() -> bytes:
        return signing.sign(_blank_pdf(), made)

    signed = in_own_loop(inside_a_loop)  # sign() is called on a thread whose loop is running
    assert _signature_status(signed, made.cert_path).intact
