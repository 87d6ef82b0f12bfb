"""Schemathesis against the live app (uvicorn on a loopback port): every operation, as an admin and a resident.

Requests are generated both valid and invalid (wrong types, missing fields, out-of-range values); each is
sent once per role; a response must not be a server error, its status must be
documented, its media type and body must match what `/openapi.json` promises. Path ids are either generated
or swapped for real ones (a project, an item, a user, a tus upload), so the 200 bodies (and the tus answers'
headers) are checked, not only the 404s.
Bounded: `MAX_EXAMPLES` per operation, no shrinking, no example database.
"""

from __future__ import annotations

from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.bootstrap import Container
from tests.http_support import ApiWorld, live_server

MAX_EXAMPLES = 16
# A tus PATCH body is raw bytes under the protocol's own media type: send it as schemathesis sends octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _known_ids(api: ApiWorld) -> dict[str, Any]:
    """Real ids to put in paths; the user is not one whose token the test uses (an admin may erase them)."""
    item_id = api.item()
    api.pass_all(item_id, until="pipe_laying")
    project = api.ok("GET", f"/api/v1/projects/{api.project_id}", api.admin)
    upload = api.client.post("/api/v1/tus/photos", headers={  # the resident's: the admin's calls find none
        "Authorization": f"Bearer {api.residents[0]}", "Tus-Resumable": "1.0.0", "Upload-Length": "100000"})
    assert upload.status_code == 201, upload.text
    return {"project_id": api.project_id, "item_id": item_id, "user_id": api.me(api.residents[1])["id"],
            "member_id": project["residents_group"][0]["member_id"], "code": "pipe_relocation",
            "district": project["district"], "round_no": 1, "upload_id": upload.headers["location"].rsplit("/", 1)[1]}


def test_every_operation_keeps_its_contract_for_an_admin_and_a_resident(api: ApiWorld, container: Container) -> None:
    known = _known_ids(api)
    tokens = {"admin": api.admin, "resident": api.residents[0]}
    failures: dict[tuple[str, ...], str] = {}  # one message per operation, role and kind of failure
    calls = 0
    answered: dict[str, set[int]] = {}  # the statuses each operation answered and had validated
    with live_server(container) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")

        @schema.hook
        def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
            if not path_parameters:
                return st.just(path_parameters)
            real = {k: known.get(k, v) for k, v in path_parameters.items()}
            return st.sampled_from([path_parameters, real])

        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()  # a schema schemathesis cannot read fails here
            operation = result.ok()

            @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                                  operation.as_strategy(GenerationMode.NEGATIVE)))
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case) -> None:
                nonlocal calls
                for role, token in tokens.items():
                    calls += 1
                    try:
                        response = case.call_and_validate(base_url=base, checks=CHECKS, timeout=30,
                                                          headers={"Authorization": f"Bearer {token}"})
                        answered.setdefault(case.operation.label, set()).add(response.status_code)
                    except requests.ConnectionError as error:  # the server hung up: as bad as a 500
                        key = (case.operation.label, role, "ConnectionError", "", "")
                        failures.setdefault(key, f"{error}; headers {case.headers!r}; body {case.body!r}"[:3000])
                    except (FailureGroup, AssertionError) as error:  # collect them all, then report each kind
                        for failure in getattr(error, "exceptions", [error]):
                            key = (case.operation.label, role, type(failure).__name__,
                                   str(getattr(failure, "status_code", "")), str(getattr(failure, "title", "")))
                            failures.setdefault(key, str(failure)[:1200])

            run()
    assert calls >= 2 * len(list(schema.get_all_operations()))
    typed = [f"GET /api/v1/{path}" for path in ("projects/{project_id}", "works-items/{item_id}", "works-kinds",
                                               "works-items/{item_id}/events", "works-items/{item_id}/timeline",
                                               "projects/{project_id}/works-items", "dashboards/projects/{project_id}")]
    assert all(200 in answered.get(label, set()) for label in typed), {label: answered.get(label) for label in typed}
    tus = {"OPTIONS /api/v1/tus/photos": 204, "POST /api/v1/tus/photos": 201,  # bodiless: their headers are checked
           "HEAD /api/v1/tus/photos/{upload_id}": 200, "DELETE /api/v1/tus/photos/{upload_id}": 204}
    assert all(status in answered.get(label, set()) for label, status in tus.items()), {
        label: answered.get(label) for label in tus}
    report = [f"{' / '.join(key)}:\n{message}" for key, message in sorted(failures.items())]
    assert not failures, f"{len(failures)} kinds of contract failure:\n" + "\n\n".join(report)
