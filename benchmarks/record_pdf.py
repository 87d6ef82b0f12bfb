"""Seconds to print an item's signed record (gather from the log and S3, render, sign), as issue 17 measures it:
an item with 100 events citing 30 photos, against a real SeaweedFS started here. Prints JSON.

    python -m benchmarks.record_pdf [--events 100] [--photos 30] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

from domain.actors import Role
from services.api.routers.records import identity
from services.bootstrap import build
from services.records import item_record, pdf, signing
from services.seaweed import SeaweedS3
from services.settings import Settings
from tests import images
from tests.support import World, inspection

HOLD_POINT = "survey_and_marking"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = SeaweedS3(Path(tmp) / "s3")
        server.start()
        try:
            print(json.dumps(measure(Path(tmp), server, args.events, args.photos, args.runs), indent=2))
        finally:
            server.stop()


def measure(tmp: Path, server: SeaweedS3, events: int, photos: int, runs: int) -> dict[str, object]:
    container = build(Settings(data_dir=tmp / "data", s3_endpoint=server.endpoint, s3_bucket="bench"))
    try:
        world = World(container.ledger)
        uploader = container.users.create(Role.ADMIN, "基准测试")
        shas = [container.photos.upload(uploader, images.jpeg(f"photo-{n}"), f"{n}.jpg",
                                        project_id=str(world.project_id))[0]["id"] for n in range(photos)]
        item_id = world.new_item()
        while container.ledger.get_item(item_id).version < events:
            n = container.ledger.get_item(item_id).version
            world.run(world.supervisor, inspection(item_id, HOLD_POINT, photos=[shas[n % len(shas)]]))
        item = container.ledger.get_item(UUID(str(item_id)))
        project = container.ledger.get_project(item.project_id)
        signer = identity(container)
        assert signer is not None
        timings, size = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            record = item_record.gather(container, item, project)
            rendered = pdf.render([record], container.settings.cjk_font_path, "基准")
            size = len(signing.sign(rendered, signer))
            timings.append(time.perf_counter() - started)
            print(f"  {timings[-1]:.2f} s", file=sys.stderr, flush=True)
        return {"benchmark": "record_pdf", "events": item.version, "photos": photos, "runs": runs,
                "seconds_p50": round(statistics.median(timings), 3), "seconds_max": round(max(timings), 3),
                "bytes": size, "target_seconds": 3.0}
    finally:
        container.close()


if __name__ == "__main__":
    main()
