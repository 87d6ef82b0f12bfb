"""Photos per second for 12-megapixel JPEGs through the photo pipeline, beside plain Pillow on the same bytes
in the same run; the figure is pipeline seconds per photo / plain seconds per photo (aims: in process at most
1.0, with the store at most 1.5). Prints JSON.

- plain_pillow (the aims' baseline): Image.open(BytesIO) -> .load() (full decode) -> .thumbnail((256, 256)),
  one thumbnail in memory, not encoded.
- pipeline_in_process: what the server computes per photo, no I/O: SHA-256, inspect_image, make_derivatives
  (a 1600 px preview and a 256 px thumb, upright, JPEG, no metadata).
- pipeline_with_store: the whole PhotoService.upload (project_id=None, scoped to the uploader) storing the
  original, preview, thumb, meta and grant into a real SeaweedFS started here in a temporary directory.

Two references frame the baseline (context, not aims; --no-references leaves them out):

- pillow_thumb_drafted: Image.open -> .thumbnail((256, 256)) with nothing before it, as Pillow's docs write
  it: thumbnail asks the decoder for a 1/4 scale itself. Faster than the baseline, but only because a 256 px
  thumb alone needs no more; the pipeline's 1600 px preview needs the 1/2 scale, whose decode alone costs
  about what this whole path does.
- pillow_same_outputs: plain Pillow making the pipeline's two outputs, written well: a draft with the
  photo's own proportions (1/2 scale), exif_transpose, thumbnail to 1600 and save, thumbnail to 256 and save
  (Pillow's defaults: bicubic, quality 85 as the pipeline), on one thread.

Each path's CPU seconds (all threads of this process; SeaweedFS is another process) are given beside its
wall-clock seconds: the pipeline resizes on a second thread, so on a loaded machine its wall clock moves
towards its CPU time. The load average at start and end is in the JSON, and plain_wall_vs_cpu (above 1.0
when the one-thread baseline waited for a core): the machine may be shared.

The photos (default 4000x3000, smooth colour fields plus sensor-like noise, JPEG quality 90, about 4 MB each
with EXIF as a phone writes it) are made up front and not timed. Every photo is distinct bytes, and each
round uploads into a fresh bucket, so deduplication never skips the work. The paths are interleaved per photo
in a rotating order, so drift in the machine's speed falls on all three alike.

    python -m benchmarks.photo_pipeline [--photos 12] [--rounds 2] [--size 4000x3000] [--quality 90]
        [--orientation 1] [--no-store] [--no-references] [--profile 0]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

from PIL import ExifTags, Image, ImageChops, ImageOps

from domain.actors import Role
from domain.application import SiteLedger
from services import migrations
from services.db import Database
from services.photos.checks import inspect_image
from services.photos.derivatives import make_derivatives
from services.photos.service import PhotoService
from services.photos.store import PhotoStore
from services.seaweed import SeaweedS3
from services.users import User

MAX_BYTES = 30 * 1024 * 1024
MAX_PIXELS = 80_000_000
ACCESS_KEY, SECRET_KEY = "siteledger", "siteledger-bench-secret"
PATHS = ("plain_pillow", "pipeline_in_process", "pipeline_with_store", "pillow_thumb_drafted", "pillow_same_outputs")


def progress(label: str, done: int, total: int) -> None:
    if done % max(1, total // 20) == 0 or done == total:
        print(f"\r{label}: {done}/{total} ({100 * done // total}%)", end="\n" if done == total else "",
              file=sys.stderr, flush=True)


# --- the photos ----------------------------------------------------------------------------------


def site_photo(seed: int, size: tuple[int, int] = (4000, 3000), quality: int = 90, noise: float = 10.0,
               orientation: int = 1) -> bytes:
    """A photo-like JPEG: a coarse random colour field upscaled smoothly (gradients), plus Gaussian noise per
    channel (grain and texture), with the EXIF a phone writes (model, time taken, orientation, GPS); a phone
    held upright writes orientation 6 over a landscape sensor image."""
    rng = random.Random(seed)
    cells = (max(2, size[0] // 125), max(2, size[1] // 125))
    field = Image.frombytes("RGB", cells, rng.randbytes(cells[0] * cells[1] * 3))
    base = field.resize(size, Image.Resampling.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise(size, noise) for _ in range(3)])  # centred on 128
    image = ImageChops.add(base, grain, scale=1.0, offset=-128)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "BenchPhone"
    exif[ExifTags.Base.Model] = f"BenchPhone {seed % 7}"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.DateTime] = f"2024:05:{1 + seed % 28:02d} 10:{seed % 60:02d}:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = exif[ExifTags.Base.DateTime]
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 13.0, 50.5),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (121.0, 28.0, 12.25),
    })
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def make_photos(count: int, size: tuple[int, int], quality: int, orientation: int = 1) -> list[bytes]:
    photos: list[bytes] = []
    for n in range(count):
        photos.append(site_photo(1000 + n, size, quality, orientation=orientation))
        progress("generating photos", n + 1, count)
    if len({hashlib.sha256(p).digest() for p in photos}) != len(photos):
        raise RuntimeError("generated photos are not distinct")
    return photos


# --- the three paths -----------------------------------------------------------------------------


def plain_pillow(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image.thumbnail((256, 256))
        if max(image.size) != 256:
            raise RuntimeError(f"plain thumbnail is {image.size}")


def pillow_thumb_drafted(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((256, 256))  # drafts itself: no load() before it
        if max(image.size) != 256:
            raise RuntimeError(f"drafted thumbnail is {image.size}")


def _save_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def pillow_same_outputs(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        scale = 1600 / max(image.size)
        image.draft("RGB", (int(image.width * scale), int(image.height * scale)))
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((1600, 1600))
        preview = _save_jpeg(upright)
        upright.thumbnail((256, 256))
        thumb = _save_jpeg(upright)
    if max(upright.size) != 256 or not preview or not thumb:
        raise RuntimeError(f"same-outputs thumbnail is {upright.size}")


def pipeline_in_process(data: bytes) -> None:
    hashlib.sha256(data).hexdigest()
    _facts, image = inspect_image(data, "bench.jpg", MAX_BYTES, MAX_PIXELS)
    with image:
        derivatives = make_derivatives(image)
    if set(derivatives) != {"preview", "thumb"} or not all(derivatives.values()):
        raise RuntimeError(f"unexpected derivatives {sorted(derivatives)}")


@contextmanager
def seaweed(enabled: bool = True) -> Iterator[SeaweedS3 | None]:
    """A real S3 server in a temporary directory, stopped on the way out whatever happens."""
    if not enabled:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-seaweed-") as tmp:
        server = SeaweedS3(Path(tmp) / "s3")
        try:
            print("starting SeaweedFS ...", file=sys.stderr, flush=True)
            server.start()
            yield server
        finally:
            server.stop()
            print("SeaweedFS stopped", file=sys.stderr, flush=True)


class Uploader:
    """PhotoService.upload into a fresh bucket per round, the bucket made before any timing starts."""

    def __init__(self, server: SeaweedS3, ledger: SiteLedger) -> None:
        self.server, self.ledger = server, ledger
        self.user = User(uuid4(), Role.SUPERVISOR, None, "bench", None)
        self.service: PhotoService | None = None
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-photos-')}/readmodels.db"
        migrations.upgrade(url)
        self.db = Database(url)

    def fresh_bucket(self, label: str) -> None:
        store = PhotoStore(self.server.endpoint, ACCESS_KEY, SECRET_KEY, f"bench-{label}-{uuid4().hex[:8]}")
        store.ping()  # creates the bucket
        self.service = PhotoService(store, self.ledger, self.db, MAX_BYTES, MAX_PIXELS)

    def __call__(self, data: bytes) -> None:
        assert self.service is not None
        meta, created = self.service.upload(self.user, data, "bench.jpg", project_id=None)
        if not created or meta["width"] * meta["height"] <= 0:
            raise RuntimeError("upload was deduplicated or lacks facts: the photos must be distinct")


# --- measuring -----------------------------------------------------------------------------------


def figures(timings: list[float], cpu: list[float]) -> dict[str, Any]:
    seconds = sum(timings)
    return {"photos": len(timings), "seconds": round(seconds, 3),
            "photos_per_s": round(len(timings) / seconds, 3),
            "ms_per_photo": round(1000 * seconds / len(timings), 1),
            "median_ms": round(1000 * statistics.median(timings), 1),
            "cpu_ms_per_photo": round(1000 * sum(cpu) / len(cpu), 1)}


def measure(photos: list[bytes], rounds: int, runs: dict[str, Callable[[bytes], None]],
            uploader: Uploader | None) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and CPU seconds of each path, photo by photo."""
    timings: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    total, done = rounds * len(photos), 0
    for round_no in range(rounds):
        if uploader is not None:
            uploader.fresh_bucket(f"r{round_no}")
        for index, data in enumerate(photos):
            shift = (round_no * len(photos) + index) % len(names)
            for name in names[shift:] + names[:shift]:  # rotate which path goes first
                started, cpu_started = time.perf_counter(), time.process_time()
                runs[name](data)
                timings[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - cpu_started)
            done += 1
            progress("measuring (" + ", ".join(names) + ")", done, total)
    return timings, cpu


def profile(photos: list[bytes], top: int) -> None:
    """cProfile of the in-process pipeline over every photo, top functions by cumulative and own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for data in photos:
        pipeline_in_process(data)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue(), file=sys.stderr, flush=True)


def parse_size(text: str) -> tuple[int, int]:
    width, height = (int(part) for part in text.lower().split("x"))
    return width, height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2, help="passes over all photos (fresh bucket each)")
    parser.add_argument("--size", type=parse_size, default=(4000, 3000))
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--orientation", type=int, default=1, choices=range(1, 9),
                        help="the photos' EXIF orientation (6: a phone held upright)")
    parser.add_argument("--no-store", action="store_true", help="skip SeaweedFS and pipeline_with_store")
    parser.add_argument("--no-references", action="store_true",
                        help="skip pillow_thumb_drafted and pillow_same_outputs")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also cProfile the in-process pipeline and print the top N functions to stderr")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop SeaweedFS

    load_at_start = os.getloadavg()
    photos = make_photos(args.photos, args.size, args.quality, args.orientation)
    runs: dict[str, Callable[[bytes], None]] = {"plain_pillow": plain_pillow,
                                                 "pipeline_in_process": pipeline_in_process}
    if not args.no_references:
        runs.update(pillow_thumb_drafted=pillow_thumb_drafted, pillow_same_outputs=pillow_same_outputs)
    ledger = SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        with seaweed(not args.no_store) as server:
            uploader = Uploader(server, ledger) if server is not None else None
            if uploader is not None:
                runs["pipeline_with_store"] = uploader
                uploader.fresh_bucket("warmup")
            for run in runs.values():  # warm up imports, plugins, connections
                run(photos[0])
            timings, cpu = measure(photos, args.rounds, runs, uploader)
    finally:
        ledger.close()

    sizes = [len(p) for p in photos]
    report: dict[str, Any] = {
        "benchmark": "photo_pipeline",
        "load_average": {"start": [round(v, 2) for v in load_at_start],
                         "end": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count()},
        "photo": {"width": args.size[0], "height": args.size[1], "quality": args.quality,
                  "orientation": args.orientation,
                  "mean_mb": round(statistics.mean(sizes) / 2**20, 2),
                  "min_mb": round(min(sizes) / 2**20, 2), "max_mb": round(max(sizes) / 2**20, 2)},
        "distinct_photos": len(photos),
        "rounds": args.rounds,  # each path below ran every photo once per round
    }
    for name in PATHS:
        if name in timings:
            report[name] = figures(timings[name], cpu[name])
    plain = sum(timings["plain_pillow"])
    in_process = sum(timings["pipeline_in_process"])
    report["in_process_vs_plain"] = round(in_process / plain, 3)
    if "pipeline_with_store" in timings:
        report["with_store_vs_plain"] = round(sum(timings["pipeline_with_store"]) / plain, 3)
    report["in_process_cpu_vs_plain"] = round(sum(cpu["pipeline_in_process"]) / sum(cpu["plain_pillow"]), 3)
    # plain Pillow runs on one thread: wall clock above its CPU time is time spent waiting for a core that
    # someone else had (1.0 on a free machine), the measure of how shared the machine was during this run
    report["plain_wall_vs_cpu"] = round(plain / sum(cpu["plain_pillow"]), 3)
    for name in ("pillow_thumb_drafted", "pillow_same_outputs"):  # context, not aims
        if name in timings:
            report[f"in_process_vs_{name}"] = round(in_process / sum(timings[name]), 3)
    if args.profile:
        profile(photos, args.profile)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
