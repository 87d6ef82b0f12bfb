"""The tablet app (PWA under /field/) measured in Debian's Chromium against the real server on loopback. Prints JSON.

Three figures the issue sets goals for:

- `shell`: bytes the app shell costs on a first visit (what the browser fetched under /field/ and /static/,
  bodies as transferred, headers included; the service worker's own install fetches included when Chromium
  reports them), beside the plain size of the files the worker caches. Goal: ≤ 500 KB.
- `form_offline_ms`: opening a hold point's form with the network off, from the item's page (the hash changes,
  the form is built from the frozen template read from IndexedDB), median and worst of `--opens`, plus the cold
  case: the app reloaded offline straight onto the form (from navigation start). Goal: < 200 ms.
- `sync`: `--commands` commands citing `--photos` photos of `--photo-mb` MB, queued in the app (through its own
  modules: the photos as Blobs with their SHA-256 taken in the page), then one press of 同步, against the
  command-line client (`field_client`) syncing the same workload with its own photos; both checked exactly
  once on the server. The app's time is its own (`phases_s.total`: from the press to the refreshed picture, as
  the page measures it), the client's its `Syncer.run` with the refresh. Goal: the app ≤ 1.5× the client's.

The defaults run in well under a minute; the issue's sizes are `--commands 200 --photos 30 --photo-mb 3`.

    python -m benchmarks.field_app [--commands 40] [--photos 4] [--photo-mb 0.5] [--opens 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from field_client.api import Api
from field_client.queue import Queue
from field_client.record import Recorder
from field_client.store import Store
from field_client.sync import Syncer, pull
from services.bootstrap import build
from services.seaweed import SeaweedS3
from services.settings import Settings
from tests import images
from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.field_world import TABLET, FieldWorld, enrol, field_world, open_app, sync_once
from tests.support import VALID

SHELL_FILES = Path(__file__).parents[1] / "field_client" / "web"
# The day's work per item, as benchmarks/field_sync.py does it: survey, excavation with the item's photo,
# then the pipe laid section by section, each section inspected.
QUEUE_SCRIPT = """
async ({ items, perItem, inputId, valid }) => {
  const queue = await import('/field/js/queue.js');
  const { capture } = await import('/field/js/form.js');
  const store = await import('/field/js/db.js');
  const user = await store.getMeta('user');
  const files = [...document.getElementById(inputId).files];
  let made = 0;
  for (let step = 0; step < perItem; step += 1) {
    for (let n = 0; n < items.length; n += 1) {
      const item = await store.item(items[n]);
      const code = step === 0 ? 'survey_and_marking' : step === 1 ? 'excavation' : 'pipe_laying';
      const k = (step - 1) * items.length + n;  // photo k goes to the k-th command from the excavations on
      const photos = step >= 1 && k < files.length ? [await capture(files[k], item.project_id)] : [];
      const spec = valid[code];
      const measurements = code === 'pipe_laying'
        ? { ...spec.measurements, length_laid_m: String(6 + step) } : spec.measurements;
      const body = { hold_point: code, result: 'pass', measurements, checklist: spec.checklist,
        notes: step >= 2 ? `第 ${step - 1} 段` : '', photos: photos.map((p) => p.sha256), defects: [] };
      await queue.add('inspect', item, user.id, '/inspections', body, `检查 · ${code}`, photos);
      made += 1;
    }
  }
  return made;
}
"""
FORM_SCRIPT = """
async ([item, code]) => {
  location.hash = `#/item/${item}`;
  while (!document.querySelector('.hold-points')) await new Promise((r) => setTimeout(r, 5));
  const started = performance.now();
  location.hash = `#/item/${item}/hp/${code}`;
  while (!document.querySelector('form.hold-point-form')) await new Promise((r) => requestAnimationFrame(r));
  return performance.now() - started;
}
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def photo_files(directory: Path, count: int, megabytes: float, seed: int) -> list[Path]:
    side = int((megabytes * 1024 * 1024 / 0.97) ** 0.5 * 1.15)  # noise JPEGs: ~0.97 byte per pixel
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = directory / f"photo-{seed}-{n}.jpg"
        path.write_bytes(images.noise_jpeg((side, side * 3 // 4), seed=seed + n))
        paths.append(path)
    return paths


def workload(world: FieldWorld, label: str, commands: int) -> tuple[list[str], int]:
    per_item = 10 if commands >= 10 else commands
    count = max(1, commands // per_item)
    items = [world.api.item("pipe_relocation", location=f"{label}-{n}号楼") for n in range(count)]
    return items, per_item


def exactly_once(world: FieldWorld, items: list[str], expected: set[str]) -> bool:
    seen: Counter[str] = Counter(e["command_id"] for item in items for e in world.events(item))
    return seen == Counter({command_id: 1 for command_id in expected})


def measure_shell(page: Any, world: FieldWorld) -> dict[str, Any]:
    fetched: dict[str, int] = {}

    def count(request: Any) -> None:
        path = request.url.split(world.url, 1)[-1]
        if (path.startswith("/field/") or path.startswith("/static/")) and not path.startswith("/field/session"):
            sizes = request.sizes()
            fetched[f"{path} #{len(fetched)}"] = sizes["responseBodySize"] + sizes["responseHeadersSize"]

    page.context.on("requestfinished", count)
    enrol(page, world)
    page.context.remove_listener("requestfinished", count)
    cached = [p for p in SHELL_FILES.rglob("*") if p.is_file() and p.name != "icon-512.png"]
    idb = Path(__file__).parents[1] / "node_modules" / "idb" / "build" / "index.js"
    return {"first_visit_bytes": sum(fetched.values()), "requests": len(fetched),
            "shell_files_bytes": sum(p.stat().st_size for p in cached) + (idb.stat().st_size if idb.exists() else 0),
            "goal_at_most_bytes": 500 * 1024}


def measure_form(page: Any, world: FieldWorld, item: str, opens: int) -> dict[str, Any]:
    page.context.set_offline(True)
    open_app(page, world)
    times = [float(page.evaluate(FORM_SCRIPT, [item, "pressure_test"])) for _ in range(opens)]
    page.goto(f"{world.url}/field/?cold#/item/{item}/hp/pressure_test")  # a new document, not a hash change
    page.locator("form.hold-point-form").wait_for()
    cold = float(page.evaluate("performance.now()"))
    page.context.set_offline(False)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
            "cold_reload_ms": round(cold, 1), "opens": opens, "goal_below_ms": 200}


def app_sync(page: Any, world: FieldWorld, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    items, per_item = workload(world, "app", args.commands)
    files = photo_files(root / "app-photos", args.photos, args.photo_mb, seed=1000)
    page.goto(f"{world.url}/field/")
    said = sync_once(page)
    assert "同步完成" in said, f"the first sync said: {said}"  # the new items in the tablet's picture
    page.evaluate("() => { const i = document.createElement('input'); i.type = 'file'; i.multiple = true;"
                  " i.id = 'bench-files'; i.hidden = true; document.body.append(i); }")
    page.set_input_files("#bench-files", [str(f) for f in files])
    made = int(page.evaluate(QUEUE_SCRIPT, {"items": items, "perItem": per_item, "inputId": "bench-files",
                                            "valid": {k: VALID[k] for k in ("survey_and_marking", "excavation",
                                                                            "pipe_laying")}}))
    started = time.perf_counter()
    said = sync_once(page)
    seconds = time.perf_counter() - started
    local = page.evaluate("async () => (await import('/field/js/db.js')).commands()"
                          ".then(list => list.map(c => [c.id, c.state, c.item_id]))")
    mine = {cid for cid, state, item in local if item in items and state == "sent"}
    phases = page.evaluate("async () => (await import('/field/js/db.js')).getMeta('last_sync')")["seconds"]
    return {"seconds_with_the_button": round(seconds, 3), "commands": made, "said": said,
            "phases_s": {k: round(v, 3) for k, v in phases.items()},
            "exactly_once": len(mine) == made and exactly_once(world, items, mine)}


def cli_sync(world: FieldWorld, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    items, per_item = workload(world, "cli", args.commands)
    files = photo_files(root / "cli-photos", args.photos, args.photo_mb, seed=5000)
    base = str(world.api.client.base_url)
    with Store(root / "cli-home") as store, Api(base, world.api.supervisor, store.device_id) as api:
        store.put(server=base, token=world.api.supervisor)
        pull(api, store)
        recorder = Recorder(store)
        for step in range(per_item):
            for n, item in enumerate(items):
                code = "survey_and_marking" if step == 0 else "excavation" if step == 1 else "pipe_laying"
                body = VALID[code]
                measurements = {**body["measurements"], "length_laid_m": str(6 + step)} \
                    if code == "pipe_laying" else body["measurements"]
                k = (step - 1) * len(items) + n  # as in QUEUE_SCRIPT
                recorder.inspect(item, code, "pass", measurements, body["checklist"],
                                 photos=[files[k]] if step >= 1 and k < len(files) else [])
        started = time.perf_counter()
        report = Syncer(store, api).run(refresh=True)
        seconds = time.perf_counter() - started
        sent = {c.id for c in Queue(store).all("sent")}
    return {"seconds": round(seconds, 3), "commands": report.sent, "photos": report.photos_uploaded,
            "phases_s": {k: round(v, 3) for k, v in report.seconds.items()},
            "exactly_once": exactly_once(world, items, sent)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=40)
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--photo-mb", type=float, default=0.5)
    parser.add_argument("--opens", type=int, default=20)
    args = parser.parse_args(argv)
    assert args.photos <= args.commands * 9 // 10, "photos go to the excavations and the sections laid"
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"benchmark": "field_app", "commands": args.commands, "photos": args.photos,
                           "photo_mb": args.photo_mb}
    with tempfile.TemporaryDirectory(prefix="field-app-") as tmp, sync_playwright() as playwright:
        root = Path(tmp)
        log("starting SeaweedFS, the API and Chromium")
        s3 = SeaweedS3(root / "s3").start()
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            container = build(Settings(data_dir=root / "data", s3_endpoint=s3.endpoint, s3_bucket="bench-field-app"))
            with field_world(container) as world:
                world.direct = True
                form_item = world.api.item("pipe_relocation", location="表单")
                context = browser.new_context(viewport=TABLET, locale="zh-CN", service_workers="allow")
                context.set_default_timeout(600_000)
                page = context.new_page()
                log("first visit: the shell")
                out["shell"] = measure_shell(page, world)
                log("opening a hold point's form offline")
                out["form_offline_ms"] = measure_form(page, world, form_item, args.opens)
                log(f"the app syncs {args.commands} commands and {args.photos} photos of {args.photo_mb} MB")
                app = app_sync(page, world, root, args)
                log("the command-line client does the same")
                cli = cli_sync(world, root, args)
                context.close()
                out["sync"] = {"app": app, "cli": cli, "goal_at_most": 1.5,
                               "app_over_cli": round(app["phases_s"]["total"] / cli["seconds"], 2)}
            container.close()
        finally:
            browser.close()
            s3.stop(grace_s=0.5)
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
