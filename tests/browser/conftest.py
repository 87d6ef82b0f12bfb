"""A real Chromium (Debian's, never Playwright's download) driving the real app under uvicorn.

Without Chromium or Playwright the browser tests skip and say why — unless SITELEDGER_REQUIRE_BROWSER=1
(CI), where a missing browser is a failure, as a missing PostgreSQL is.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from services.bootstrap import Container, build
from services.seaweed import SeaweedS3
from tests.http_support import live_server
from tests.integration.api.conftest import settings_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path(os.environ.get("SITELEDGER_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 800}


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install playwright; never `playwright install`)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    missing = _missing()
    if missing:
        if os.environ.get("SITELEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SITELEDGER_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=30_000)
        yield launched
        launched.close()


@pytest.fixture
def container(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[Container]:
    built = build(settings_for(tmp_path, s3_server))
    yield built
    built.close()


@pytest.fixture
def server(container: Container) -> Iterator[str]:
    with live_server(container) as base_url:
        yield base_url


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
