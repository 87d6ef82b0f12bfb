"""The front-end libraries the pages use, served by the app from node_modules (installed by `npm ci` from the
lockfile): site offices and government networks are often offline, so never a CDN at run time.

Pages link them as `/static/vendor/<name>/<file>`, e.g. `/static/vendor/htmx/htmx.min.js`,
`/static/vendor/echarts/echarts.min.js`, `/static/vendor/idb/index.js` (an ES module).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
# URL name -> the package's directory of built files (only those directories are exposed, not the packages).
LIBRARIES = {
    "htmx": "htmx.org/dist",
    "echarts": "echarts/dist",
    "idb": "idb/build",
}


def url(name: str, file: str) -> str:
    return f"/static/vendor/{name}/{file}"


def install(app: FastAPI, node_modules: Path = NODE_MODULES) -> None:
    """Mount each library present; a missing one (npm ci not run) answers 404 rather than stopping the API."""
    for name, directory in LIBRARIES.items():
        built = node_modules / directory
        if built.is_dir():
            app.mount(f"/static/vendor/{name}", StaticFiles(directory=built), name=f"vendor-{name}")
