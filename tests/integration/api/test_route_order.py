"""The works items' router is matched first (most commands go there): no other route may be one of its paths,
or that route would never be reached."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from starlette.routing import compile_path

from services.api.app import create_app
from services.api.routers import works_items
from services.bootstrap import Container


def test_no_route_of_another_router_is_shadowed_by_a_works_item_route(container: Container) -> None:
    ours = {(method, "/api/v1" + route.path) for route in works_items.router.routes
            if isinstance(route, APIRoute) for method in route.methods or ()}
    matchers = [(method, compile_path(path)[0]) for method, path in ours]
    shadowed = []
    for path, operations in create_app(container).openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x1", path)  # any value a path parameter could take
        for method in operations:
            if (method.upper(), path) in ours:
                continue
            shadowed += [f"{method.upper()} {path}" for theirs, matcher in matchers
                         if theirs == method.upper() and matcher.match(concrete)]
    assert shadowed == []
    assert len(ours) > 10 and any(path.endswith("/inspections") for _, path in ours)
