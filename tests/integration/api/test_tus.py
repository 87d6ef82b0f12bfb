"""Photo uploads over tus 1.0 against the real app and a real S3 (SeaweedFS): pieces, resume, checksums,
scope, the photo pipeline at the end, a standard client (tuspy), a dropped connection, and expiry."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from services.bootstrap import Container
from tests import images
from tests.http_support import ApiWorld, live_server
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration
TUS = "/api/v1/tus/photos"


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def tus(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", **extra}


def create(api: ApiWorld, data: bytes, token: str | None = None, **meta: str) -> httpx.Response:
    meta = {"project_id": api.project_id, "sha256": hashlib.sha256(data).hexdigest(), "filename": "t.jpg", **meta}
    return api.client.post(TUS, headers=tus(token or api.supervisor, **{
        "Upload-Length": str(len(data)), "Upload-Metadata": metadata(**meta)}))


def patch(api: ApiWorld, url: str, offset: int, body: bytes, token: str | None = None,
          **extra: str) -> httpx.Response:
    return api.client.patch(url, content=body, headers=tus(token or api.supervisor, **{
        "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream", **extra}))


def raw(token: str, **extra: bytes) -> dict[bytes, bytes]:
    """Headers as bytes on the wire: a value need not be ASCII (Starlette reads it as latin-1)."""
    return {b"Authorization": f"Bearer {token}".encode(), b"Tus-Resumable": b"1.0.0",
            **{k.encode(): v for k, v in extra.items()}}


def head(api: ApiWorld, url: str, token: str | None = None) -> httpx.Response:
    return api.client.head(url, headers=tus(token or api.supervisor))


def chunk_objects(container: Container, upload_id: str) -> list[str]:
    store = container.photos.store
    found = store.client.list_objects(store.bucket, prefix=f"uploads/{upload_id}/", recursive=True)
    return [o.object_name for o in found if not o.object_name.endswith("/")]


def test_a_photo_sent_in_pieces_resumes_from_the_servers_offset_and_goes_through_the_pipeline(
        api: ApiWorld) -> None:
    data = images.jpeg("tus-pieces", size=(1200, 900), quality=95)
    sha = hashlib.sha256(data).hexdigest()
    options = api.client.options(TUS)
    assert options.status_code == 204 and options.headers["tus-version"] == "1.0.0"
    assert set(options.headers["tus-extension"].split(",")) >= {"creation", "expiration", "checksum"}
    assert "sha256" in options.headers["tus-checksum-algorithm"]

    created = create(api, data)
    assert created.status_code == 201, created.text
    assert created.headers["tus-resumable"] == "1.0.0"
    expires = parsedate_to_datetime(created.headers["upload-expires"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)
    url = created.headers["location"]
    assert url.startswith(f"{TUS}/")

    third = len(data) // 3
    first = patch(api, url, 0, data[:third])
    assert first.status_code == 204 and first.headers["upload-offset"] == str(third)
    state = head(api, url)
    assert state.status_code == 200 and state.headers["upload-offset"] == str(third)
    assert state.headers["upload-length"] == str(len(data)) and state.headers["cache-control"] == "no-store"
    assert base64.b64encode(sha.encode()).decode() in state.headers["upload-metadata"]
    stale = patch(api, url, 0, data[:third])
    assert problem(stale, 409, "upload_offset_mismatch")["offset"] == third

    rest = data[third:]
    digest = base64.b64encode(hashlib.sha256(rest).digest()).decode()
    done = patch(api, url, third, rest, **{"Upload-Checksum": f"sha256 {digest}"})
    assert done.status_code == 204, done.text
    assert done.headers["upload-offset"] == str(len(data)) and done.headers["x-photo-id"] == sha
    original = api.client.get(f"/api/v1/photos/{sha}?size=original",
                              headers={"Authorization": f"Bearer {api.supervisor}"})
    assert original.content == data
    # its answer could have been lost on a weak link: HEAD says it is whole rather than "start again"
    after = head(api, url)
    assert after.status_code == 200 and after.headers["upload-offset"] == str(len(data))
    assert chunk_objects(api.container, url.rsplit("/", 1)[1]) == []


def test_protocol_refusals_have_their_tus_status_and_a_problem(api: ApiWorld) -> None:
    data = images.jpeg("tus-refusals")
    no_version = api.client.post(TUS, headers={"Authorization": f"Bearer {api.supervisor}",
                                               "Upload-Length": str(len(data))})
    assert problem(no_version, 412, "tus_version_unsupported") and no_version.headers["tus-version"] == "1.0.0"
    problem(api.client.post(TUS, headers=tus(api.supervisor)), 400, "tus_invalid_header")
    problem(api.client.post(TUS, headers=tus(api.supervisor, **{"Upload-Length": "5",
                                                                "Upload-Metadata": "filename ***"})),
            400, "tus_invalid_metadata")
    too_big = api.client.post(TUS, headers=tus(api.supervisor, **{"Upload-Length": str(10**10)}))
    problem(too_big, 413, "photo_too_large")

    url = create(api, data).headers["location"]
    wrong_type = api.client.patch(url, content=data, headers=tus(api.supervisor, **{"Upload-Offset": "0"}))
    problem(wrong_type, 415, "tus_content_type")
    bad_sum = patch(api, url, 0, data[:10], **{"Upload-Checksum": "sha256 " + base64.b64encode(b"x" * 32).decode()})
    problem(bad_sum, 460, "tus_checksum_mismatch")
    problem(patch(api, url, 0, data[:10], **{"Upload-Checksum": "crc32 AAAA"}), 400, "tus_checksum_unsupported")
    problem(patch(api, url, 0, data + b"extra"), 413, "upload_beyond_length")
    assert head(api, url).headers["upload-offset"] == "0", "nothing refused was kept"
    unauthenticated = api.client.head(url, headers={"Tus-Resumable": "1.0.0"})
    assert unauthenticated.status_code == 401


def test_a_foreign_project_is_refused_at_creation_and_another_users_upload_does_not_exist(api: ApiWorld) -> None:
    data = images.jpeg("tus-scope")
    foreign = api.ok("POST", "/api/v1/projects", api.admin, json={
        "name": "别的小区", "district": "静安区", "street_office": "某街道", "address": "某路",
        "year_built": 1990, "buildings": 3, "households": 90, "categories": ["basic"]})["id"]
    refused = create(api, data, project_id=foreign)
    problem(refused, 403, "out_of_scope")

    url = create(api, data).headers["location"]
    other = api.user("supervisor", project_ids=[api.project_id])
    assert head(api, url, other).status_code == 404
    problem(patch(api, url, 0, data, other), 404, "upload_not_found")
    assert api.client.delete(url, headers=tus(other)).status_code == 404
    assert head(api, url).headers["upload-offset"] == "0"
    assert api.client.delete(url, headers=tus(api.supervisor)).status_code == 204
    assert head(api, url).status_code == 404


def test_what_the_pipeline_refuses_at_the_last_byte_is_a_problem_and_the_upload_is_gone(api: ApiWorld) -> None:
    data = b"not an image at all " * 50
    url = create(api, data, filename="x.jpg").headers["location"]
    assert patch(api, url, 0, data[:100]).status_code == 204
    refused = patch(api, url, 100, data[100:])
    assert refused.status_code in (415, 422) and refused.json()["code"].startswith("photo_"), refused.text
    assert head(api, url).status_code == 404
    assert chunk_objects(api.container, url.rsplit("/", 1)[1]) == []


def test_a_wrong_sha256_in_the_metadata_refuses_the_photo(api: ApiWorld) -> None:
    data = images.jpeg("tus-hash")
    url = create(api, data, sha256="0" * 64).headers["location"]
    problem(patch(api, url, 0, data), 422, "photo_hash_mismatch")


def test_abandoned_uploads_expire_rows_and_pieces_removed(api: ApiWorld, container: Container) -> None:
    data = images.jpeg("tus-abandoned", size=(800, 600))
    abandoned = create(api, data).headers["location"]
    touched = create(api, data).headers["location"]
    for url in (abandoned, touched):
        assert patch(api, url, 0, data[:500]).status_code == 204
    abandoned_id, touched_id = abandoned.rsplit("/", 1)[1], touched.rsplit("/", 1)[1]
    assert chunk_objects(container, abandoned_id)
    assert container.uploads.expire() == 0, "nothing is due yet"

    real = container.uploads.clock
    container.uploads.clock = lambda: real() + timedelta(hours=24, minutes=1)
    try:
        gone = patch(api, touched, 500, data[500:])
        assert problem(gone, 410, "upload_expired")  # on access: 410, and removed there and then
        assert chunk_objects(container, touched_id) == []
        assert container.uploads.expire() == 1  # the sweep finds the one nobody came back for
    finally:
        container.uploads.clock = real
    assert chunk_objects(container, abandoned_id) == []
    assert not container.db.query("SELECT 1 FROM photo_uploads WHERE upload_id IN (?, ?)",
                                  (abandoned_id, touched_id))
    assert head(api, abandoned).status_code == 404


@pytest.fixture
def live(container: Container, api: ApiWorld) -> Iterator[str]:
    with live_server(container) as base:
        yield base


def test_a_standard_tus_client_uploads_a_photo(live: str, api: ApiWorld, tmp_path: Path) -> None:
    client_module = pytest.importorskip("tusclient.client")
    data = images.noise_jpeg((600, 400), seed=11)
    path = tmp_path / "site.jpg"
    path.write_bytes(data)
    client = client_module.TusClient(f"{live}{TUS}", headers={"Authorization": f"Bearer {api.supervisor}"})
    uploader = client.uploader(str(path), chunk_size=16 * 1024, metadata={
        "filename": "site.jpg", "project_id": api.project_id, "sha256": hashlib.sha256(data).hexdigest()})
    uploader.upload()
    assert uploader.offset == len(data)
    stored = httpx.get(f"{live}/api/v1/photos/{hashlib.sha256(data).hexdigest()}?size=original",
                       headers={"Authorization": f"Bearer {api.supervisor}"})
    assert stored.content == data


def test_what_arrived_before_the_connection_dropped_is_kept(live: str, api: ApiWorld) -> None:
    data = images.noise_jpeg((600, 400), seed=12)
    url = create(api, data).headers["location"]
    address = urlsplit(live)
    sent = len(data) // 2
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall((f"PATCH {url} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {api.supervisor}\r\n"
                      f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:sent])
    # the server stores the piece once it sees the drop; HEAD waits for that (the upload's lock)
    deadline, offset = time.monotonic() + 10, 0
    while not offset and time.monotonic() < deadline:
        offset = int(head(api, url).headers["upload-offset"])
        time.sleep(0.05)
    assert offset == sent, "resume after the bytes that did arrive, not from 0"
    done = patch(api, url, offset, data[offset:])
    assert done.status_code == 204 and done.headers["x-photo-id"] == hashlib.sha256(data).hexdigest()


def conforms(schema: dict[str, Any], response: httpx.Response, path: str) -> httpx.Response:
    """The answer keeps to the contract: a documented status, no body where none is promised, and every
    documented header present when required and of its documented form."""
    operation = schema["paths"][path][response.request.method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, (response.request.method, path, response.status_code, sorted(operation["responses"]))
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        return response
    assert "content" not in documented and not response.content
    for name, header in documented["headers"].items():
        value = response.headers.get(name)
        assert value is not None or not header["required"], (path, response.status_code, name)
        if value is not None and "pattern" in header["schema"]:
            assert re.search(header["schema"]["pattern"], value), (name, value)
        if value is not None and "enum" in header["schema"]:
            assert value in header["schema"]["enum"], (name, value)
    return response


def test_every_answer_carries_the_headers_its_contract_documents(api: ApiWorld) -> None:
    schema = api.client.get("/openapi.json").json()
    one = f"{TUS}/{{upload_id}}"
    data = images.jpeg("tus-contract")
    conforms(schema, api.client.options(TUS), TUS)
    url = conforms(schema, create(api, data), TUS).headers["location"]
    conforms(schema, api.client.options(url), one)
    conforms(schema, head(api, url), one)
    conforms(schema, patch(api, url, 0, data[:100]), one)
    conforms(schema, patch(api, url, 0, data[:100]), one)  # 409
    whole = conforms(schema, patch(api, url, 100, data[100:]), one)
    assert whole.headers["x-photo-id"] == hashlib.sha256(data).hexdigest() and "upload-expires" not in whole.headers
    conforms(schema, head(api, url), one)
    gone = create(api, data).headers["location"]
    conforms(schema, api.client.delete(gone, headers=tus(api.supervisor)), one)
    refused = conforms(schema, head(api, gone), one)  # a refused HEAD is the problem a GET would be, bodiless
    assert refused.status_code == 404 and refused.headers["tus-resumable"] == "1.0.0"


def test_a_number_header_that_python_calls_digits_is_a_bad_header_not_a_crash(live: str, api: ApiWorld) -> None:
    url = create(api, images.jpeg("tus-digits")).headers["location"]
    # over a real socket ('²' is byte B2 in latin-1): '²'.isdigit() is true and int('²') fails
    with httpx.Client(base_url=live, timeout=30) as client:
        for digits in (b"\xb2", b"1\xb2", b"9" * 4301):
            problem(client.post(TUS, headers=raw(api.supervisor, **{"Upload-Length": digits})),
                    400, "tus_invalid_header")
            problem(client.patch(url, content=b"x", headers=raw(api.supervisor, **{
                "Upload-Offset": digits, "Content-Type": b"application/offset+octet-stream"})),
                400, "tus_invalid_header")


def test_metadata_and_checksums_that_are_not_base64_or_give_a_key_twice_are_refused(api: ApiWorld) -> None:
    for metadata in (b"filename \xe9t\xe9", b"filename YQ==,filename Yg==", b"filename\x80 YQ=="):
        problem(api.client.post(TUS, headers=raw(api.supervisor, **{"Upload-Length": b"10",
                                                                     "Upload-Metadata": metadata})),
                400, "tus_invalid_metadata")
    url = create(api, images.jpeg("tus-sums")).headers["location"]
    problem(api.client.patch(url, content=b"x", headers=raw(api.supervisor, **{
        "Upload-Offset": b"0", "Content-Type": b"application/offset+octet-stream",
        "Upload-Checksum": b"sha256 \xe9\xe9"})), 400, "tus_invalid_header")


@pytest.mark.parametrize("name", ["\u202egpj.exe", "a\x00.jpg", "\x1b[31m.jpg", "a\u200b.jpg", "x" * 201])
def test_a_file_name_that_hides_something_is_refused_at_either_door(api: ApiWorld, name: str) -> None:
    data = images.jpeg("tus-names")
    body = problem(create(api, data, filename=name), 400, "tus_invalid_metadata")
    assert "filename" in body["detail"]
    refused = api.call("POST", "/api/v1/photo-uploads", api.supervisor,
                       json={"size": len(data), "filename": name, "project_id": api.project_id})
    assert problem(refused, 422, "validation_error")["errors"][0]["loc"] == ["body", "filename"]
    kept = create(api, data, filename="  现场 1.jpg ")  # trimmed, like every name
    assert base64.b64encode("现场 1.jpg".encode()).decode() in head(api, kept.headers["location"]).headers[
        "upload-metadata"]


def test_the_object_store_is_reached_only_from_the_photo_threads(api: ApiWorld, container: Container,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung store blocks whatever thread calls it: tus must call it from the photo service's own bounded
    threads (`photo-…`), never anyio's pool that every other request shares."""
    store, callers = container.photos.store, []

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def called(*args: Any) -> Any:
            callers.append((name, threading.current_thread().name))
            return real(*args)

        return called

    for name in ("put_chunk", "assemble", "discard_upload", "meta"):
        monkeypatch.setattr(store, name, spy(name, getattr(store, name)))
    data = images.jpeg("tus-threads")
    url = create(api, data).headers["location"]
    assert patch(api, url, 0, data[:100]).status_code == 204
    assert patch(api, url, 100, data[100:]).status_code == 204  # the pipeline
    gone = create(api, data).headers["location"]
    assert api.client.delete(gone, headers=tus(api.supervisor)).status_code == 204
    expired = create(api, data).headers["location"]
    # the older door shares the mechanism and keeps to the same threads
    started = api.ok("POST", "/api/v1/photo-uploads", api.supervisor,
                     json={"size": len(data), "project_id": api.project_id, "filename": "old.jpg"})
    chunk = api.call("PATCH", f"/api/v1/photo-uploads/{started['upload_id']}", api.supervisor, content=data[:100],
                     headers={"Upload-Offset": "0", "Content-Type": "application/octet-stream"})
    assert chunk.status_code == 200, chunk.text
    old_expired = api.ok("POST", "/api/v1/photo-uploads", api.supervisor, json={"size": len(data)})["upload_id"]
    real = container.uploads.clock
    monkeypatch.setattr(container.uploads, "clock", lambda: real() + timedelta(hours=25))
    assert head(api, expired).status_code == 410  # its pieces removed on the way
    assert api.call("GET", f"/api/v1/photo-uploads/{old_expired}", api.supervisor).status_code == 410
    assert {name for name, _ in callers} == {"put_chunk", "assemble", "discard_upload", "meta"}
    assert all(thread.startswith("photo") for _, thread in callers), callers
