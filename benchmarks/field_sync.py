"""How long a tablet back in signal takes to hand over its queue: 1,000 commands and 100 photos synced over
loopback, batched (`POST /api/v1/batch`) vs one request per command, measured in the same run. Prints JSON.

The server is the real app under uvicorn in this process (as in the tests) on SQLite, with SeaweedFS started
for the photos. Each mode gets its own works items and its own photos (distinct bytes, so no upload is
skipped by the HEAD check) and its own tablet home; one-by-one runs first, so the batched run meets the
larger event store. Recording the commands (offline, local validation, photos copied in) is timed apart.
Both modes then check the server holds every command exactly once.

The day's work, round-robin over the items (10 commands each by default): the survey passed, the excavation
passed with the item's photo, then the pipe laid section by section, each section inspected (a pass with
its length). So each photo is cited once: 100 of the 1,000 commands cite one. `--mix photo-heavy` instead
passes every hold point and raises defects with photos, citing the item's photo in 6 of its 10 commands:
the server checks each cited photo in the object store, which no batching removes.

A second part sends a tablet's photo over a weak link (`tests/weak_link.py`: a TCP proxy throttled to
`--rate` bytes/s each way that cuts every connection every `--reset-every` seconds, as the issue measured in
the field): the photo must arrive, crossing the link at most 1.1× its size (resumable tus uploads resume from
the server's offset; a whole-file POST restarted from byte 0 on every cut and never arrived). At 20 KB/s a
3 MB photo needs 150 s of link, so this part takes a few minutes; `--weak-link-mb 0` skips it.

    python -m benchmarks.field_sync [--commands 1000] [--photos 100] [--items 100] [--chunk 100] [--mix field]
                                    [--weak-link-mb 3] [--rate 20000] [--reset-every 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from field_client.api import Api, RetryPolicy
from field_client.progress import ProgressBar
from field_client.queue import Queue
from field_client.record import Recorder
from field_client.store import Store
from field_client.sync import Syncer, pull
from field_client.upload import Photo, PhotoUploader
from services.bootstrap import build
from services.seaweed import SeaweedS3
from services.settings import Settings
from tests import images
from tests.http_support import ApiWorld, live_server
from tests.support import VALID
from tests.weak_link import WeakLink

PIPE = ["survey_and_marking", "excavation", "pipe_laying", "pressure_test", "concealed_works",
        "backfill_restoration", "utility_handover"]
WITH_PHOTO = {"excavation", "pressure_test", "concealed_works"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def record(store: Store, items: list[str], commands: int, photos: list[Path], mix: str) -> float:
    """The day's work, made offline, round-robin over the items (see the module's docstring)."""
    recorder = Recorder(store)
    started = time.perf_counter()
    for n in range(commands):
        index, step = n % len(items), n // len(items)
        item, photo = items[index], [photos[index % len(photos)]]
        if mix == "field" and step >= 2:
            body = VALID["pipe_laying"]
            recorder.inspect(item, "pipe_laying", "pass", {**body["measurements"], "length_laid_m": f"{6 + step}"},
                             body["checklist"], notes=f"第 {step - 1} 段 / section {step - 1}")
        elif step < len(PIPE):
            hold_point = PIPE[step]
            body = VALID.get(hold_point, {})
            recorder.inspect(item, hold_point, "pass", body.get("measurements", {}), body.get("checklist", {}),
                             photos=photo if hold_point in WITH_PHOTO else [])
        else:
            recorder.defect(item, "minor", f"第 {step} 项整改：围挡缺口", photos=photo)
    return time.perf_counter() - started


def upload_photos_first(store: Store, api: Api) -> float:
    """The photos over tus, four at a time, as a sync sends them; timed apart from the commands (a sync sends
    both at once, so timing it whole would measure photo uploads, which no batching changes)."""
    rows = store.pending_photos()
    uploader = PhotoUploader(api, lambda photo, url: None, lambda sha, done: None)
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda r: uploader.send(Photo(
            r["sha256"], store.photo_path(r["sha256"]), int(r["bytes"]), r["content_type"], r["project_id"],
            None)), rows))
    assert all(outcome == "uploaded" for outcome, _ in outcomes), outcomes
    for row in rows:
        store.mark_photo(row["sha256"], row["project_id"], "uploaded")
    return time.perf_counter() - started


def run_mode(world: ApiWorld, base: str, home: Path, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"[{mode}] registering {args.items} works items and writing {args.photos} photos")
    items = [world.item("pipe_relocation", title=f"{mode}-{n}") for n in range(args.items)]
    home.parent.mkdir(parents=True, exist_ok=True)
    photos = []
    for n in range(args.photos):
        path = home.parent / f"{mode}-{n}.jpg"
        path.write_bytes(images.noise_jpeg((800, 600), seed=n + (100_000 if mode == "batched" else 0)))
        photos.append(path)
    with Store(home) as store, Api(base, world.supervisor, store.device_id) as api:
        store.put(server=base, token=world.supervisor)
        pull(api, store)
        log(f"[{mode}] recording {args.commands} commands offline")
        record_s = record(store, items, args.commands, photos, args.mix)
        api.requests = 0
        photos_s = upload_photos_first(store, api)  # so that the sync below times the commands alone
        syncer = Syncer(store, api, one_by_one=mode == "one_by_one", chunk=args.chunk,
                        progress=ProgressBar(label=f"[{mode}] sync"))
        started = time.perf_counter()
        report = syncer.run(refresh=False)
        seconds = time.perf_counter() - started + photos_s
        local = Queue(store).all()
    assert report.sent == args.commands and not report.refused, report.as_dict()

    on_server: Counter[str] = Counter()
    for item in items:
        events = world.ok("GET", f"/api/v1/works-items/{item}/events?limit=1000", world.admin)["items"]
        on_server.update(e["command_id"] for e in events if e["type"] != "Registered")
    assert on_server == Counter({c.id: 1 for c in local}), "every command exactly once"
    phases = report.seconds
    return {"seconds": round(seconds, 3), "photos_s": round(photos_s, 3),
            "commands_s": round(phases["commands"], 3), "requests": report.requests,
            "commands_per_s": round(args.commands / phases["commands"], 1),
            "ms_per_command": round(1000 * phases["commands"] / args.commands, 2),
            "record_offline_s": round(record_s, 3), "exactly_once": True,
            "citing": sum(1 for c in local if c.body.get("photos") or c.body.get("defects"))}


def run_weak_link(world: ApiWorld, base: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One inspection citing a big photo and one command without photos, synced over the weak link."""
    side = int((args.weak_link_mb * 1024 * 1024 / 0.97) ** 0.5 * 1.15)  # noise JPEGs: ~0.97 byte per pixel
    photo = root / "weak-link.jpg"
    photo.write_bytes(images.noise_jpeg((side, side * 3 // 4), seed=424242))
    size = photo.stat().st_size
    items = [world.item("pipe_relocation", title=f"weak-link-{n}") for n in range(2)]
    log(f"[weak link] a {size / 1e6:.2f} MB photo over {args.rate / 1000:g} KB/s, cut every {args.reset_every:g} s")
    with Store(root / "weak-link" / "home") as store, Api(base, world.supervisor, store.device_id) as api:
        store.put(server=base, token=world.supervisor)
        pull(api, store)
        recorder = Recorder(store)
        body = VALID["survey_and_marking"]
        for item in items:
            recorder.inspect(item, "survey_and_marking", "pass", body["measurements"], body["checklist"])
        excavation = VALID["excavation"]
        recorder.inspect(items[0], "excavation", "pass", excavation["measurements"], excavation["checklist"],
                         photos=[photo])
    link = WeakLink(base, rate_bps=args.rate, reset_every_s=args.reset_every)
    try:
        with Store(root / "weak-link" / "home") as store, \
                Api(link.url, world.supervisor, store.device_id, RetryPolicy(attempts=20, base_s=0.2)) as api:
            syncer = Syncer(store, api, progress=ProgressBar(label="[weak link] sync"))
            started = time.perf_counter()
            report = syncer.run(refresh=False)
            seconds = time.perf_counter() - started
        crossed, down, resets, connections = link.up_bytes, link.down_bytes, link.resets, link.connections
    finally:
        link.close()
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    stored = world.client.get(f"/api/v1/photos/{sha}?size=original",
                              headers={"Authorization": f"Bearer {world.supervisor}"})
    arrived = stored.status_code == 200 and stored.content == photo.read_bytes()
    return {"photo_bytes": size, "rate_bytes_per_s": args.rate, "reset_every_s": args.reset_every,
            "arrived": arrived, "commands_sent": report.sent, "link_bytes_up": crossed, "link_bytes_down": down,
            "link_up_per_photo_byte": round(crossed / size, 4), "goal_at_most": 1.1,
            "photo_body_bytes_handed_to_socket": report.photo_bytes, "resets": resets,
            "connections": connections, "requests": report.requests, "seconds": round(seconds, 1),
            "seconds_at_line_rate": round(size / args.rate, 1)}


def citing(results: dict[str, dict[str, Any]]) -> int:
    counts = {mode: result.pop("citing") for mode, result in results.items()}
    assert len(set(counts.values())) == 1, counts
    return int(counts["batched"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--mix", choices=["field", "photo-heavy"], default="field")
    parser.add_argument("--weak-link-mb", type=float, default=3.0, help="photo size over the weak link; 0 skips it")
    parser.add_argument("--rate", type=float, default=20_000, help="weak link bytes/s, each way")
    parser.add_argument("--reset-every", type=float, default=10.0, help="seconds between the link's cuts")
    parser.add_argument("--only-weak-link", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="field-sync-") as tmp:
        root = Path(tmp)
        log("starting SeaweedFS and the API on loopback")
        s3 = SeaweedS3(root / "s3").start()
        try:
            container = build(Settings(data_dir=root / "data", s3_endpoint=s3.endpoint, s3_bucket="bench-field"))
            with live_server(container) as base, httpx.Client(base_url=base, timeout=120) as client:
                world = ApiWorld(client, container)
                results = {} if args.only_weak_link else {
                    mode: run_mode(world, base, root / mode / "home", mode, args) for mode in ("one_by_one", "batched")}
                weak = run_weak_link(world, base, root, args) if args.weak_link_mb > 0 else None
            container.close()
        finally:
            s3.stop(grace_s=0.5)
    out: dict[str, Any] = {"benchmark": "field_sync"}
    if results:
        one, batched = results["one_by_one"], results["batched"]
        out |= {"commands": args.commands, "photos": args.photos, "items": args.items,
                "chunk": args.chunk, "mix": args.mix, "photo_bytes": len(images.noise_jpeg((800, 600))),
                "commands_citing_a_photo": citing(results), **results,
                "speedup_commands": round(one["commands_s"] / batched["commands_s"], 2),
                "speedup_total": round(one["seconds"] / batched["seconds"], 2), "speedup_goal_at_least": 3.0}
    if weak is not None:
        out["weak_link"] = weak
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
