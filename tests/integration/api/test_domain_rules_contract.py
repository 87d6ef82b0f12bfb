"""Issue 18's routes keep their OpenAPI contract under schemathesis, as every other route does
(tests/integration/api/test_schemathesis.py), mounted on the app as the app will mount them."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from services.bootstrap import Container
from tests.http_support import ApiWorld, live_server
from tests.integration.api.test_schemathesis import CHECKS

pytestmark = pytest.mark.integration
OURS = ("/api/v1/divisions", "/api/v1/projects/{project_id}/completion", "/api/v1/deadlines",
        "/api/v1/districts/{district}/attention")


def test_issue_18_routes_keep_their_contract(api: ApiWorld, container: Container) -> None:
    known = {"project_id": api.project_id, "district": "徐汇区"}
    tokens = {"admin": api.admin, "station": api.station, "resident": api.residents[0]}
    failures: dict[tuple[str, ...], str] = {}
    operations = 0
    with live_server(container) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")

        @schema.hook
        def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
            if not path_parameters:
                return st.just(path_parameters)
            return st.sampled_from([path_parameters, {k: known.get(k, v) for k, v in path_parameters.items()}])

        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operation = result.ok()
            if not operation.path.startswith(OURS):
                continue
            operations += 1

            @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                                  operation.as_strategy(GenerationMode.NEGATIVE)))
            @settings(max_examples=12, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case) -> None:
                for role, token in tokens.items():
                    try:
                        case.call_and_validate(base_url=base, checks=CHECKS, timeout=30,
                                               headers={"Authorization": f"Bearer {token}"})
                    except requests.ConnectionError as error:
                        failures.setdefault((case.operation.label, role, "ConnectionError"), str(error)[:1000])
                    except (FailureGroup, AssertionError) as error:
                        for failure in getattr(error, "exceptions", [error]):
                            key = (case.operation.label, role, type(failure).__name__,
                                   str(getattr(failure, "title", "")))
                            failures.setdefault(key, str(failure)[:1200])

            run()
    assert operations == 13, operations  # divisions 3, completion 8, deadlines, attention
    report = [f"{' / '.join(key)}:\n{message}" for key, message in sorted(failures.items())]
    assert not failures, f"{len(failures)} kinds of contract failure:\n" + "\n\n".join(report)
