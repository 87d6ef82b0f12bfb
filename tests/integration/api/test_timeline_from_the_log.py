"""The read models are a function of the log: a photo's facts reach the timeline as an event, not a side table."""

from __future__ import annotations

from typing import Any

import pytest

from domain.photo import Photo
from tests import images
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


def upload_taken(api: ApiWorld, label: str, taken: str) -> str:
    response = api.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {api.supervisor}"},
                               files={"file": (f"{label}.jpg", images.jpeg(label, taken=taken), "image/jpeg")},
                               data={"project_id": api.project_id})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def every_read_model(api: ApiWorld) -> dict[str, list[tuple[Any, ...]]]:
    db, runner = api.container.db, api.container.projections
    return {table: sorted((tuple(row) for row in db.query(f"SELECT * FROM {table}")), key=repr)
            for driver in runner.drivers.values() for table in driver.model.tables}


def test_the_timeline_equals_a_rebuild_from_the_log_alone(api: ApiWorld) -> None:
    later = upload_taken(api, "taken-after", "2031:05:01 09:30:00")  # taken after the record that cites it
    again = upload_taken(api, "taken-after", "2031:05:01 09:30:00")  # the same bytes: the same photo, no new fact
    assert again == later
    item_id = api.item()
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
           json={"severity": "minor", "description": "围挡缺口", "photos": [later]})
    ledger = api.container.ledger
    assert ledger.has_photo(later)
    photo: Photo = ledger.repository.get(Photo.id_for(later))
    assert (photo.version, photo.taken_at) == (1, "2031-05-01T09:30:00")
    api.container.projections.run_once()
    before = every_read_model(api)
    flagged = [row for row in api.container.db.query("SELECT type, flags FROM timeline_events WHERE item_id = ?",
                                                     (item_id,)) if row[0] == "DefectRaised"]
    assert flagged and "photo_after_event" in flagged[0][1]

    with api.container.db.transaction() as tx:  # nothing outside the log may be needed to rebuild
        tx.execute("DELETE FROM photo_facts")
    for driver in api.container.projections.drivers.values():
        driver.rebuild()
    assert every_read_model(api) == before
