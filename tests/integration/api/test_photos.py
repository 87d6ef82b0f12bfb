"""Photo evidence against a real S3 server (SeaweedFS): checks, dedup, derivatives, EXIF, scope, outages."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from services.api.app import create_app
from services.bootstrap import build
from services.photos.store import PhotoStore
from services.seaweed import SeaweedS3, free_port
from tests import images
from tests.http_support import ApiWorld
from tests.integration.api.conftest import settings_for
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration


def upload(api: ApiWorld, data: bytes, name: str = "p.jpg", token: str | None = None, **form: str) -> httpx.Response:
    return api.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {token or api.supervisor}"},
                           files={"file": (name, data, "application/octet-stream")},
                           data={"project_id": api.project_id, **form})


def get(api: ApiWorld, photo_id: str, size: str, token: str | None = None) -> httpx.Response:
    return api.client.get(f"/api/v1/photos/{photo_id}?size={size}",
                          headers={"Authorization": f"Bearer {token or api.supervisor}"})


def test_round_trip_dedup_and_head(api: ApiWorld) -> None:
    data = images.jpeg("round-trip", size=(3000, 2000))
    first = upload(api, data, sha256=hashlib.sha256(data).hexdigest())
    assert first.status_code == 201, first.text
    meta = first.json()
    assert meta["id"] == hashlib.sha256(data).hexdigest() and meta["bytes"] == len(data)
    assert (meta["width"], meta["height"], meta["format"]) == (3000, 2000, "JPEG")
    again = upload(api, data)
    assert again.status_code == 200 and again.json()["id"] == meta["id"]
    assert get(api, meta["id"], "original").content == data
    preview = Image.open(io.BytesIO(get(api, meta["id"], "preview").content))
    thumb = Image.open(io.BytesIO(get(api, meta["id"], "thumb").content))
    assert preview.size == (1600, 1067) and thumb.size == (256, 171)
    head = api.client.head(f"/api/v1/photos/{meta['id']}", headers={"Authorization": f"Bearer {api.station}"})
    assert head.status_code == 200
    missing = api.client.head(f"/api/v1/photos/{'0' * 64}", headers={"Authorization": f"Bearer {api.station}"})
    assert missing.status_code == 404
    problem(upload(api, images.jpeg("other"), sha256="f" * 64), 422, "photo_hash_mismatch")
    assert api.ok("GET", f"/api/v1/photos/{meta['id']}/meta", api.residents[0])["width"] == 3000


def test_exif_is_read_and_derivatives_are_upright_without_location(api: ApiWorld) -> None:
    # A phone held upright writes a landscape sensor image with orientation 6 (rotate 90° clockwise).
    data = images.jpeg("exif", size=(400, 200), orientation=6, gps=(31.1667, 121.4333),
                       taken="2026:11:20 09:30:15", model="HUAWEI MatePad 11")
    meta = upload(api, data).json()
    assert meta["taken_at"] == "2026-11-20T09:30:15" and meta["device_model"] == "HUAWEI MatePad 11"
    assert meta["gps"]["lat"] == pytest.approx(31.1667, abs=1e-3) and meta["gps"]["lon"] == pytest.approx(
        121.4333, abs=1e-3)
    preview = Image.open(io.BytesIO(get(api, meta["id"], "preview").content))
    assert preview.size == (200, 400)  # turned upright
    top = preview.getpixel((100, 20))  # the label colour was on the left; after the turn it is on top
    assert top == pytest.approx(images.colour("exif"), abs=12)
    for size in ("preview", "thumb"):
        derived = Image.open(io.BytesIO(get(api, meta["id"], size).content))
        assert not derived.getexif() and "exif" not in derived.info
    original = Image.open(io.BytesIO(get(api, meta["id"], "original").content))
    assert original.getexif().get_ifd(0x8825)  # the original keeps its GPS, byte for byte


def test_png_and_webp_are_accepted(api: ApiWorld) -> None:
    assert upload(api, images.png(), "a.png").json()["content_type"] == "image/png"
    assert upload(api, images.webp(), "a.webp").json()["content_type"] == "image/webp"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (images.jpeg("cut", size=(300, 200))[:-400], 422, "photo_truncated"),
        (images.png_bomb(), 422, "photo_too_many_pixels"),
        ("工地照片，不是图片".encode() * 10, 415, "photo_not_an_image"),
        (images.jpeg("zip") + images.zip_bytes(), 422, "photo_trailing_data"),
        (b"", 422, "photo_empty"),
    ],
    ids=["truncated-jpeg", "png-bomb", "text-named-jpg", "zip-appended", "zero-bytes"],
)
def test_refusals_each_have_their_code(api: ApiWorld, data: bytes, status: int, code: str) -> None:
    body = problem(upload(api, data, "evidence.jpg"), status, code)
    assert body["detail"]


def test_gif_is_refused_as_unsupported(api: ApiWorld) -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    problem(upload(api, out.getvalue(), "x.gif"), 415, "photo_unsupported_type")


def test_size_limit_is_stated(tmp_path: Path, s3_server: SeaweedS3) -> None:
    container = build(settings_for(tmp_path, s3_server, photo_max_bytes=10_000))
    with TestClient(create_app(container)) as client:
        api = ApiWorld(client, container)
        body = problem(upload(api, images.noise_jpeg()), 413, "photo_too_large")
        assert body["max_bytes"] == 10_000
    container.close()


def test_scope_of_photos(api: ApiWorld) -> None:
    photo_id = upload(api, images.jpeg("scoped")).json()["id"]
    elsewhere = api.ok("POST", "/api/v1/projects", api.admin, json={"name": "南小区", "district": "平谷区"})["id"]
    outsider_station = api.user("station", district="平谷区")
    outsider_supervisor = api.user("supervisor", project_ids=[elsewhere])
    problem(get(api, photo_id, "thumb", outsider_station), 403, "photo_out_of_scope")
    problem(api.call("GET", f"/api/v1/photos/{photo_id}/meta", outsider_supervisor), 403, "photo_out_of_scope")
    assert get(api, photo_id, "thumb", api.residents[0]).status_code == 200
    problem(upload(api, images.jpeg("x"), token=outsider_supervisor), 403, "out_of_scope")
    # citing: a photo never uploaded, and one of another project
    item_id = api.item()
    foreign = upload(api, images.jpeg("foreign"), token=outsider_supervisor, project_id=elsewhere).json()["id"]
    body = problem(api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
                            json={"severity": "minor", "description": "x", "photos": ["1" * 64]}),
                   422, "photo_not_found")
    assert body["photo"] == "1" * 64
    problem(api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
                     json={"severity": "minor", "description": "x", "photos": [foreign]}), 403, "photo_out_of_scope")
    # a photo uploaded without a project is the uploader's until a command cites it
    private = api.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {api.station}"},
                              files={"file": ("p.jpg", images.jpeg("private"), "image/jpeg")}).json()["id"]
    problem(get(api, private, "thumb", api.supervisor), 403, "photo_out_of_scope")
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
           json={"severity": "minor", "description": "x", "photos": [private]})
    assert get(api, private, "thumb", api.supervisor).status_code == 200


def test_resumable_upload_survives_a_dropped_connection(api: ApiWorld) -> None:
    data = images.jpeg("chunked", size=(1200, 900), quality=95)
    headers = {"Authorization": f"Bearer {api.supervisor}"}
    started = api.client.post("/api/v1/photo-uploads", headers=headers,
                              json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                    "project_id": api.project_id, "filename": "c.jpg"}).json()
    assert started["offset"] == 0 and started["max_chunk_bytes"] > 0
    url = f"/api/v1/photo-uploads/{started['upload_id']}"
    third = len(data) // 3
    first = api.client.patch(url, headers={**headers, "Upload-Offset": "0"}, content=data[:third])
    assert first.status_code == 200 and first.json()["offset"] == third
    # the connection dropped: the tablet asks where to resume
    offset = int(api.client.head(url, headers=headers).headers["upload-offset"])
    assert offset == third
    stale = api.client.patch(url, headers={**headers, "Upload-Offset": "0"}, content=data[:third])
    assert stale.status_code == 409 and stale.json()["offset"] == third
    api.client.patch(url, headers={**headers, "Upload-Offset": str(offset)}, content=data[offset:2 * third])
    done = api.client.patch(url, headers={**headers, "Upload-Offset": str(2 * third)}, content=data[2 * third:])
    assert done.status_code == 201, done.text
    assert done.json()["id"] == hashlib.sha256(data).hexdigest()
    assert get(api, done.json()["id"], "original").content == data
    assert api.client.head(url, headers=headers).status_code == 404


def test_store_down_is_a_503_and_nothing_half_written_is_cited(api: ApiWorld, tmp_path: Path,
                                                               s3_server: SeaweedS3) -> None:
    dead = build(settings_for(tmp_path / "dead", s3_server))
    dead.photos.store = type(dead.photos.store)(f"127.0.0.1:{free_port()}", "k", "s", "siteledger-test",
                                                connect_timeout_s=1.0, read_timeout_s=1.0)
    with TestClient(create_app(dead)) as client:
        down = ApiWorld(client, dead)
        body = problem(upload(down, images.jpeg("down")), 503, "object_store_unavailable")
        assert "照片存储" in body["detail"]
    dead.close()
    # a photo whose meta was never written (a crash after the original) does not exist for commands:
    # the meta object and the SQL facts are written after the original and derivatives, so neither exists
    data = images.jpeg("half")
    photo_id = upload(api, data).json()["id"]
    store = api_store(api)
    store.client.remove_object(store.bucket, f"meta/{photo_id}.json")
    with api.container.db.transaction() as tx:
        tx.execute("DELETE FROM photo_facts WHERE photo_id = ?", (photo_id,))
        tx.execute("DELETE FROM photo_grants WHERE photo_id = ?", (photo_id,))
    item_id = api.item()
    problem(api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
                     json={"severity": "minor", "description": "x", "photos": [photo_id]}), 422, "photo_not_found")


def api_store(api: ApiWorld) -> PhotoStore:
    return api.container.photos.store


def test_the_same_bytes_in_another_project_reveal_nothing_of_the_first_upload(api: ApiWorld) -> None:
    data = images.jpeg("shared-bytes", gps=(31.2, 121.4))
    first = upload(api, data, "王家后院-漏水.jpg")
    assert first.status_code == 201
    first_uploader = api.me(api.supervisor)["id"]
    elsewhere = api.ok("POST", "/api/v1/projects", api.admin, json={"name": "南小区", "district": "平谷区"})["id"]
    stranger = api.user("supervisor", project_ids=[elsewhere])

    again = upload(api, data, "mine.jpg", token=stranger, project_id=elsewhere)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    for seen in (again.json(), api.ok("GET", f"/api/v1/photos/{first.json()['id']}/meta", stranger)):
        text = str(seen)
        assert api.project_id not in text and first_uploader not in text and "王家后院" not in text, seen
        assert seen["width"] == first.json()["width"]  # the facts of the bytes the caller holds anyway
    assert again.json()["project_id"] == elsewhere and again.json()["filename"] == "mine.jpg"
    # the first project still sees its own upload as it was
    own = api.ok("GET", f"/api/v1/photos/{first.json()['id']}/meta", api.supervisor)
    assert (own["project_id"], own["uploaded_by"], own["filename"]) == (api.project_id, first_uploader,
                                                                        "王家后院-漏水.jpg")
