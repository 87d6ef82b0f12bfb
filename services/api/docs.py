"""`/docs` with Swagger UI served by the application itself: a site network without internet still shows it.

The files come from the npm package `swagger-ui-dist` (pinned in package.json, installed into node_modules by
make), never from a CDN and never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from services.api.errors import problem

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
ASSETS = "/static/vendor/swagger-ui"
# Everything same-origin; Swagger UI's page is one inline script and inline styles.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")


def install(app: FastAPI, node_modules: Path = NODE_MODULES) -> None:
    """Mount the package's files and serve the page; create the app with `docs_url=None, redoc_url=None`."""
    dist = node_modules / "swagger-ui-dist"
    if dist.is_dir():
        app.mount(ASSETS, StaticFiles(directory=dist), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        if not (dist / "swagger-ui-bundle.js").is_file():
            return problem(503, "docs_assets_missing", "Swagger UI's files are not installed",
                           "接口文档页面的前端文件未安装：请在项目目录运行 make（它会执行 npm ci）后重启服务",
                           instance="/docs")
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # else a badge image from an online validator
        )
        page.headers["Content-Security-Policy"] = CSP
        return page
