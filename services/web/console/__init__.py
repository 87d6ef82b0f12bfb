"""The station's console: server-rendered pages for the district's works (the station and the owner's staff).

Pages read the read models (the listing, the dashboard, the timeline); actions go through the one
command path. Its stylesheet and its one script (ECharts from JSON in the page, htmx) are served from here.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from services.web.console import (
    actions,
    import_page,
    item_routes,
    kinds,
    overview,
    project_page,
    statistics_page,
)
from services.web.console.access import HERE

router = APIRouter(include_in_schema=False)
for _part in (overview.router, project_page.router, item_routes.router, actions.router, kinds.router,
              statistics_page.router, import_page.router):
    router.include_router(_part)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static/console", StaticFiles(directory=HERE / "static"), name="console-static")
