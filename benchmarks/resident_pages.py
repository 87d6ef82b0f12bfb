"""What a resident's phone downloads, and how soon it shows the page, on a slow line: the 待我签字 page and an
item page, each a first load (empty cache), in Debian's Chromium at 375×812 with Chromium's own network
throttling (CDP `Network.emulateNetworkConditions`: 400 kbit/s down and up, 400 ms round trip — "slow 3G").
Prints JSON: bytes transferred (headers and bodies as they crossed the wire) and Largest Contentful Paint, the
median of `--runs`, against the issue's limits (≤ 300 KB, LCP < 2.5 s).

The server is the real app under uvicorn in this process on SQLite, with SeaweedFS for the photos. The item
is a pipe relocation as the tests make it — seven hold points, a defect raised and fixed, a stop-work order
lifted — with camera-sized photos of noise (the worst case for JPEG: their thumbnails are as heavy as
thumbnails get), five on the page. The phone signs in by its invitation link before the throttling starts.

    python -m benchmarks.resident_pages [--runs 3] [--kbit 400] [--rtt-ms 400] [--cpu 1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from domain import commands as c
from services.api.authentication import invitations
from services.bootstrap import build
from services.seaweed import SeaweedS3
from services.settings import Settings
from tests.http_support import live_server
from tests.integration.web.test_residents_pages import Community

CHROMIUM = os.environ.get("SITELEDGER_CHROMIUM", "/usr/bin/chromium")
LIMIT_BYTES = 300 * 1024
LIMIT_LCP_MS = 2500
LCP = """() => new Promise(resolve => {
    new PerformanceObserver(list => { const found = list.getEntries(); resolve(found[found.length - 1].startTime); })
        .observe({type: 'largest-contentful-paint', buffered: true});
    setTimeout(() => resolve(null), 3000); })"""

IN_VIEW_LOADED = """() => [...document.images].filter(i => i.getBoundingClientRect().top < 2 * innerHeight)
    .every(i => i.complete && i.naturalWidth > 0)"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def camera_photo() -> bytes:
    """A 2000×1500 photo of noise (new noise each call): JPEG's worst case, so the thumbnails measured are as
    heavy as thumbnails get."""
    image = Image.effect_noise((2000, 1500), 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


class NoisyCommunity(Community):
    """The tests' community, with camera-sized photos instead of tiny flat ones."""

    def photo(self, label: str, user: Any = None, size: tuple[int, int] = (0, 0)) -> str:
        meta, _ = self.container.photos.upload(user or self.supervisor, camera_photo(),
                                               f"{label}.jpg", str(self.project_id))
        return str(meta["id"])


def measure(page: Any, cdp: Any, url: str) -> dict[str, Any]:
    """One first load: the cache emptied, bytes counted from the network's own events until the network is idle."""
    finished: dict[str, float] = {}

    def loaded(event: dict[str, Any]) -> None:
        finished[event["requestId"]] = event["encodedDataLength"]

    cdp.on("Network.loadingFinished", loaded)
    cdp.send("Network.clearBrowserCache")
    page.goto(url, wait_until="load")
    page.wait_for_function(IN_VIEW_LOADED, timeout=60_000)  # lazy thumbnails are asked for after the load event
    page.wait_for_load_state("networkidle")
    lcp = page.evaluate(LCP)
    cdp.remove_listener("Network.loadingFinished", loaded)
    return {"bytes": int(sum(finished.values())), "requests": len(finished),
            "lcp_ms": round(lcp) if lcp is not None else None}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-residents-") as tmp:
        s3 = SeaweedS3(Path(tmp) / "s3").start()
        try:
            container = build(Settings(data_dir=Path(tmp) / "data", s3_endpoint=s3.endpoint,
                                       s3_bucket="bench-residents"))
            community = NoisyCommunity(container)
            item_id = community.completed()
            community.run(community.supervisor, c.RequestAcceptance(item_id=item_id))
            token = invitations(container).issue(community.residents[0].user_id, community.project_id).link_token
            with live_server(container) as server, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN",
                                              device_scale_factor=2, is_mobile=True, has_touch=True)
                page = context.new_page()
                page.goto(f"{server}/invite/{token}")
                page.get_by_role("button", name="用这部手机登录").click()
                page.wait_for_url(f"{server}/residents")
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                throughput = args.kbit * 1000 / 8
                cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": args.rtt_ms,
                                                              "downloadThroughput": throughput,
                                                              "uploadThroughput": throughput})
                if args.cpu > 1:
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.cpu})
                pages = {"awaiting": f"{server}/residents", "item": f"{server}/residents/items/{item_id}"}
                runs: dict[str, list[dict[str, Any]]] = {name: [] for name in pages}
                for n in range(args.runs):
                    for name, url in pages.items():
                        runs[name].append(measure(page, cdp, url))
                        log(f"run {n + 1} {name}: {runs[name][-1]}")
                browser.close()
            container.close()
        finally:
            s3.stop(grace_s=0.5)
    results = {name: {"bytes": int(statistics.median(r["bytes"] for r in found)),
                      "requests": int(statistics.median(r["requests"] for r in found)),
                      "lcp_ms": statistics.median(r["lcp_ms"] for r in found if r["lcp_ms"] is not None),
                      "runs": found} for name, found in runs.items()}
    return {"profile": {"down_up_kbit_s": args.kbit, "rtt_ms": args.rtt_ms, "cpu_slowdown": args.cpu,
                        "viewport": "375x812@2x", "cache": "empty (first load)"},
            "limits": {"bytes": LIMIT_BYTES, "lcp_ms": LIMIT_LCP_MS}, "pages": results,
            "within_limits": all(r["bytes"] <= LIMIT_BYTES and r["lcp_ms"] < LIMIT_LCP_MS for r in results.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kbit", type=float, default=400.0, help="down and up, kbit/s")
    parser.add_argument("--rtt-ms", type=float, default=400.0)
    parser.add_argument("--cpu", type=float, default=1.0, help="Chromium's CPU slowdown (4: a cheap phone)")
    print(json.dumps(run(parser.parse_args()), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
