"""The FastAPI application: v1 routers under /api/v1, problem details for every error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api import auth_limits, docs, errors, responses, security_headers
from services.api.body_guard import BodyGuard
from services.api.routers import (
    batch,
    completion,
    dashboards,
    deadlines,
    divisions,
    health,
    kinds,
    lists,
    metrics,
    photos,
    projects,
    records,
    tus,
    users,
    works_items,
)
from services.api.routers.imports import router as imports_router
from services.api.routers.sign_in import include_sign_in_routes
from services.api.routers.statistics import router as statistics_router
from services.api.routers.transparency import router as transparency_router
from services.api.unexpected_errors import UnexpectedErrors
from services.bootstrap import Container, build
from services.observability import RequestContext
from services.settings import Settings
from services.web import console, field_app, pages, residents


def create_app(container: Container | None = None, settings: Settings | None = None) -> FastAPI:
    owned = container is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built: Container = app.state.container
        if built.settings.projections_in_process:
            built.projections.start()
        yield
        built.projections.stop()
        if owned:
            built.close()

    app = FastAPI(title="SiteLedger", version="1.0",
                  description="老旧小区改造工程监管记录系统 — the system of record for renovation works",
                  lifespan=lifespan, docs_url=None, redoc_url=None)  # docs served offline by docs.install
    app.state.container = container or build(settings)
    errors.install(app)
    auth_limits.install(app, app.state.container.settings.auth_failures_per_minute)
    responses.install(app)
    app.add_middleware(BodyGuard, settings=app.state.container.settings)  # inside UnexpectedErrors, RequestContext
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(RequestContext)
    security_headers.install(app)
    app.include_router(metrics.router)
    docs.install(app, app.state.container.settings.node_modules_dir or docs.NODE_MODULES)
    # Routes are matched in order, each at a cost in FastAPI (~15-30 us a router even when nothing in it matches):
    # the works items' router, where most commands go, comes first. No path of another router is one of its.
    for router in (works_items.router, users.router, projects.router, kinds.router, photos.router, photos.uploads,
                   dashboards.router, batch.router, records.router, completion.router, deadlines.router,
                   divisions.router, lists.router):
        app.include_router(router, prefix="/api/v1")
    app.include_router(tus.router, prefix="/api/v1")
    app.include_router(transparency_router, prefix="/api/v1")
    app.include_router(statistics_router, prefix="/api/v1")
    app.include_router(imports_router, prefix="/api/v1")
    app.include_router(users.mine, prefix="/api/v1")
    include_sign_in_routes(app)
    app.include_router(health.router, prefix="/api/v1")
    app.include_router(health.router)
    pages.install(app)
    console.install(app)
    residents.install(app)
    field_app.install(app)
    return app
