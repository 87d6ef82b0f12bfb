"""Every answer carries the browser hardening headers; HSTS only over TLS; the server names no software."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import Container
from services.seaweed import SeaweedS3
from tests.http_support import free_port

pytestmark = pytest.mark.integration

HARDENING = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


def assert_hardened(response: httpx.Response) -> None:
    for name, value in HARDENING.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_success_refusal_unknown_path_metrics_and_a_crash_are_all_hardened(container: Container) -> None:
    app = create_app(container)

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("an unexpected error")

    with TestClient(app, raise_server_exceptions=False) as client:
        for response in (client.get("/healthz"), client.get("/api/v1/users/me"), client.get("/nowhere"),
                         client.get("/metrics"), client.request("BREW", "/healthz"), client.get("/boom")):
            assert_hardened(response)
            assert "strict-transport-security" not in response.headers  # plain HTTP: HSTS would be a lie
        assert client.get("/boom").status_code == 500


def test_hsts_only_over_tls(container: Container) -> None:
    with TestClient(create_app(container), base_url="https://testserver") as client:
        response = client.get("/healthz")
    assert_hardened(response)
    assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.fixture
def served(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[str]:
    """`siteledger serve` itself, as an operator starts it, so uvicorn's own configuration is what is tested."""
    port = free_port()
    env = {**os.environ, "SITELEDGER_DATA_DIR": str(tmp_path / "data"), "SITELEDGER_S3_ENDPOINT": s3_server.endpoint,
           "SITELEDGER_S3_BUCKET": "siteledger-test", "SITELEDGER_PORT": str(port),
           "SITELEDGER_PROJECTIONS_IN_PROCESS": "false"}
    log = tmp_path / "serve.log"
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"siteledger serve did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_serve_names_no_server_software_and_trusts_the_local_proxy_for_https(served: str) -> None:
    plain = httpx.get(f"{served}/healthz", timeout=10)
    assert "server" not in plain.headers, plain.headers["server"]
    assert_hardened(plain)
    assert "strict-transport-security" not in plain.headers
    proxied = httpx.get(f"{served}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert proxied.headers["strict-transport-security"].startswith("max-age=")  # 127.0.0.1 is a trusted proxy
