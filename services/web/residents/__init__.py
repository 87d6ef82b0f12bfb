"""The residents' phone pages (居民监督小组): what awaits my signature, the item in plain words, signing, my
signatures and the results. Server-rendered HTML that reads and signs with JavaScript off; a small script only
makes photos lighter to send and a double tap harmless."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from services.web.residents import signing, views

router = APIRouter(include_in_schema=False)
router.include_router(views.router)
router.include_router(signing.router)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static/residents", StaticFiles(directory=Path(__file__).parent / "static"), name="residents-static")
