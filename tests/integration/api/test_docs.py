"""/docs works on a site network without internet: every file it needs comes from the application itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.api import docs
from services.api.app import create_app
from services.bootstrap import build
from services.seaweed import SeaweedS3
from tests.integration.api.conftest import settings_for

pytestmark = pytest.mark.integration


def test_docs_page_and_its_assets_come_from_the_application(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200, page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "://" not in page.text and not re.search(r"""["']//""", page.text), "an external host in /docs"
    references = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(r"url: ?'([^']+)'", page.text)
    assert {"/openapi.json", f"{docs.ASSETS}/swagger-ui-bundle.js", f"{docs.ASSETS}/swagger-ui.css"} <= set(references)
    for reference in references:
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"{docs.ASSETS}/swagger-ui-bundle.js").headers["content-type"].startswith(
        ("application/javascript", "text/javascript"))
    assert client.get("/redoc").status_code == 404  # the other page would load from a CDN: not offered


def test_without_node_modules_docs_says_to_run_make(tmp_path: Path) -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    docs.install(app, node_modules=tmp_path / "node_modules")
    response = TestClient(app).get("/docs")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "docs_assets_missing" and "make" in body["detail"] and "未安装" in body["detail"]


def test_the_assets_may_live_elsewhere_as_in_the_image(tmp_path: Path, s3_server: SeaweedS3) -> None:
    """`pip install .` puts the code in site-packages: the image says where npm's files are."""
    elsewhere = tmp_path / "assets" / "node_modules"
    (elsewhere / "swagger-ui-dist").mkdir(parents=True)
    (elsewhere / "swagger-ui-dist" / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = 1;\n")
    with build(settings_for(tmp_path, s3_server, node_modules_dir=elsewhere)) as container, \
            TestClient(create_app(container)) as client:
        assert client.get("/docs").status_code == 200
        assert client.get(f"{docs.ASSETS}/swagger-ui-bundle.js").text == "window.SwaggerUIBundle = 1;\n"
