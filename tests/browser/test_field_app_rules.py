"""The tablet checks an inspection as the server's domain will (the rules are the template's data, read by
field_client/web/js/validate.js, not re-coded per kind): for every built-in kind's hold points, a few hundred
seeded random records each — numbers at and around the limits, counts with halves, figures out of range,
choices and blanks, every result — are judged by the page's JavaScript in Chromium and by
`domain.inspection.validate_inspection`; they must agree on whether the record is refused, and the tablet must
name the server's reason among its own."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from domain.errors import DomainError
from domain.inspection import RESULTS, validate_inspection
from domain.templates import builtin_catalog
from domain.templates.model import HoldPointSpec
from services.api.views import template_view
from services.bootstrap import Container
from tests.browser.field_world import FieldWorld, field_world, open_app, tablet

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration
NUMBERS = ["", "0", "0.005", "0.02", "0.05", "0.1", "0.3", "0.4", "0.6", "0.9", "1", "1.5", "2", "3", "6", "8", "8.5",
           "10", "12", "60", "100", "800", "1200", "-1", "abc", "1000000001", "0.0000000001", "1.000000000"]
CASES_PER_HOLD_POINT = 300
JUDGE = """
async ({ hp, cases }) => {
  const rules = await import('/field/js/validate.js');
  const defect = { defect_id: 'd'.repeat(32), severity: 'minor', description: '整改', photos: [] };
  return cases.map((c) => rules.inspectionErrors(hp, { result: c.result, measurements: c.measurements,
    checklist: c.checklist, photos: c.photos, defects: c.result === 'pass' ? [] : [defect] }).codes);
}
"""


@pytest.fixture
def world(container: Container) -> Iterator[FieldWorld]:
    with field_world(container) as built:
        yield built


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with tablet(browser) as context:
        yield context.new_page()


def _case(spec: HoldPointSpec, rng: random.Random) -> dict[str, Any]:
    measurements = {}
    for m in spec.measurements:
        pool = NUMBERS if m.type == "number" else ["", *m.choices] if m.type == "choice" else ["", "甲-01"]
        value = rng.choice(pool)
        if value:
            measurements[m.code] = value
    checklist = {c.code: rng.random() > 0.1 for c in spec.checklist}
    return {"result": rng.choice(RESULTS), "measurements": measurements, "checklist": checklist,
            "photos": spec.min_photos if rng.random() > 0.1 else max(0, spec.min_photos - 1)}


def _server(spec: HoldPointSpec, case: dict[str, Any]) -> str | None:
    photos = ["a" * 64] * case["photos"]
    try:
        validate_inspection(spec, case["result"], case["measurements"], case["checklist"], photos)
    except DomainError as refused:
        return refused.code
    return None


def test_the_tablet_refuses_exactly_what_the_server_refuses(page: Page, world: FieldWorld) -> None:
    open_app(page, world)  # the app's modules, served as a tablet loads them (no sign-in needed to load code)
    rng = random.Random(16)
    compared = disagreements = 0
    found: list[str] = []
    for kind in builtin_catalog():
        sent = template_view(kind)  # the template as the snapshot sends it (limits as JSON numbers)
        for spec, hp in zip(kind.hold_points, sent["hold_points"], strict=True):
            if not spec.measurements:
                continue
            cases = [_case(spec, rng) for _ in range(CASES_PER_HOLD_POINT)]
            tablet_codes = page.evaluate(JUDGE, {"hp": hp, "cases": cases})
            for case, codes in zip(cases, tablet_codes, strict=True):
                server = _server(spec, case)
                compared += 1
                if (server is None) != (not codes) or (server is not None and server not in codes):
                    disagreements += 1
                    if len(found) < 5:
                        found.append(f"{kind.code}/{spec.code} {case}: server {server}, tablet {codes}")
    assert compared > 3000 and disagreements == 0, found
