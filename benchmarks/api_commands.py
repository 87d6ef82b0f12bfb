"""Command requests per second and p50/p99 latency through the running HTTP server, beside a bare FastAPI
endpoint served the same way in the same run; the ratio siteledger / bare is the figure. Prints JSON.

Each server runs under uvicorn in its own process (one worker, log level warning) on a free loopback port;
a few client threads (httpx, keep-alive) send the requests. The measured command records an inspection:
POST /api/v1/works-items/{id}/inspections with a fresh Idempotency-Key per request, expecting 201.

Both servers run at once and are measured in turns, `--rounds` times; the round with the median ratio is
reported, with every round's figures (on a shared machine the bare endpoint's rate alone swings twofold).
Each load also reports the server process's CPU per request (`server_cpu_ms`, from /proc; None where there is
none): steadier than a rate when other work shares the cores, and where a saving shows first. `cpu_ratio` is
bare CPU per request / SiteLedger's: on a two-core machine the client threads (one Python process) bound the
bare endpoint's rate before its server does, so the rate ratio flatters SiteLedger and this one does not.

    python -m benchmarks.api_commands [--requests 1000] [--rounds 3] [--concurrency 4] [--warmup 50]
                                      [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from multiprocessing.process import BaseProcess
from typing import Any
from uuid import uuid4

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from benchmarks.common import settings_for
from domain.actors import Role
from services.settings import Settings
from tests.support import DISTRICT, VALID

HOLD_POINT = "survey_and_marking"
INSPECTION: dict[str, Any] = {"hold_point": HOLD_POINT, "result": "pass", **VALID[HOLD_POINT]}


# --- the servers ---------------------------------------------------------------------------------


class EchoBody(BaseModel):
    hold_point: str
    result: str
    measurements: dict[str, str] = {}
    checklist: dict[str, bool] = {}


def bare_app() -> FastAPI:
    """One POST endpoint that parses a small pydantic body and returns a small JSON: the floor to compare to."""
    app = FastAPI(title="bare")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/echo", status_code=201)
    def echo(body: EchoBody) -> dict[str, Any]:  # sync, like SiteLedger's routes: both run in the threadpool
        return {"id": str(uuid4()), "version": 1, "hold_point": body.hold_point, "result": body.result}

    return app


def serve(target: str, settings: Settings | None, sock: socket.socket) -> None:
    """The server process: build the app, then serve it with uvicorn on the socket the parent bound."""
    limits: dict[str, Any] = {}
    if target == "siteledger":
        from services.api.app import create_app
        from services.api.connection_limits import uvicorn_limits

        app = create_app(settings=settings)
        # as `siteledger serve` runs it: its h11 protocol with the request-head deadline, its keep-alive and limits
        limits = uvicorn_limits(app.state.container.settings)
    else:
        app = bare_app()
    config = uvicorn.Config(app, log_level="warning", workers=1, access_log=False, **limits)
    uvicorn.Server(config).run(sockets=[sock])


@contextmanager
def running(target: str, settings: Settings | None = None) -> Iterator[tuple[str, int | None]]:
    """Start `target` in a separate process on a free loopback port; yield its base URL and process id; always
    stop it."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on accepted sockets whose proto is TCP, and
    # without it Nagle + delayed ACK add ~40 ms to every response (uvicorn binding host/port gets this right).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # bound here, listened on by uvicorn: no race for the port
    sock.set_inheritable(True)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    process: BaseProcess = multiprocessing.get_context("spawn").Process(
        target=serve, args=(target, settings, sock), name=f"bench-{target}", daemon=True)
    process.start()
    try:
        wait_ready(base, process)
        print(f"{target} serving at {base} (pid {process.pid})", file=sys.stderr, flush=True)
        yield base, process.pid
    finally:
        sock.close()
        stop(process)


def wait_ready(base: str, process: BaseProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise RuntimeError(f"server process exited with code {process.exitcode} before it was ready")
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server at {base} not ready after {timeout}s")


def stop(process: BaseProcess) -> None:
    if process.is_alive():
        process.terminate()  # SIGTERM: uvicorn shuts down gracefully and the app closes its container
        process.join(10)
    if process.is_alive():
        process.kill()
        process.join(5)


# --- the stores and the setup --------------------------------------------------------------------


IN_PROCESS = {"value": True}  # read models in a thread of the server (embedded default) or elsewhere


def store(kind: str) -> AbstractContextManager[Settings]:
    return settings_for(kind, projections_in_process=IN_PROCESS["value"])


def admin_token(settings: Settings) -> str:
    """Create the first admin directly in the store, before any server process opens it."""
    from services.bootstrap import build

    container = build(settings)
    try:
        admin = container.users.create(Role.ADMIN, "业主管理员")
        return container.users.issue_token(admin.user_id)
    finally:
        container.close()


def setup_item(base: str, token: str) -> tuple[str, str]:
    """Over HTTP as the admin: a project, a supervisor assigned to it, and a works item. Returns (item, token)."""
    with httpx.Client(base_url=base + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                      timeout=30.0) as client:
        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, json=body, headers={"Idempotency-Key": str(uuid4())})
            if response.status_code != 201:
                raise RuntimeError(f"setup POST {path} answered {response.status_code}: {response.text}")
            return response.json()

        project_id = post("/projects", {"name": "金牛花苑", "district": DISTRICT})["id"]
        supervisor = post("/users", {"name": "监理", "role": "supervisor", "project_ids": [project_id]})
        item_id = post(f"/projects/{project_id}/works-items", {"kind": "pipe_relocation", "location": "3号楼"})["id"]
    return item_id, supervisor["token"]


# --- the load ------------------------------------------------------------------------------------


def progress(label: str, done: int, total: int) -> None:
    if done % max(1, total // 20) == 0 or done == total:
        print(f"\r{label}: {done}/{total} ({100 * done // total}%)", end="\n" if done == total else "",
              file=sys.stderr, flush=True)


def cpu_seconds(pid: int | None) -> float | None:
    """User and system CPU time a process has used so far (all its threads), or None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(label: str, url: str, token: str, total: int, concurrency: int,
         show: Callable[[str, int, int], None] = progress, server_pid: int | None = None) -> dict[str, Any]:
    """`total` POSTs from `concurrency` threads, each with its own keep-alive client; latency per request, and
    the server's CPU per request when its process id is given."""
    lock = threading.Lock()
    issued = 0
    timings: list[float] = []
    errors: list[str] = []
    body = json.dumps(INSPECTION, ensure_ascii=False).encode()

    def worker() -> None:
        nonlocal issued
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(timeout=60.0) as client:
            while True:
                with lock:
                    if issued >= total:
                        return
                    issued += 1
                started = time.perf_counter()
                try:
                    response = client.post(url, content=body, headers={**headers, "Idempotency-Key": str(uuid4())})
                    error = None if response.status_code == 201 else f"{response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as failure:
                    error = f"{type(failure).__name__}: {failure}"
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    timings.append(elapsed)
                    if error is not None:
                        errors.append(error)
                    show(label, len(timings), total)

    threads = [threading.Thread(target=worker, name=f"client-{n}") for n in range(concurrency)]
    cpu_before = cpu_seconds(server_pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cpu_after = cpu_seconds(server_pid)
    timings.sort()
    for error in sorted(set(errors))[:5]:
        print(f"{label} error: {error}", file=sys.stderr, flush=True)
    return {"requests": total, "requests_per_s": round(total / seconds, 1),
            "p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(timings[max(0, int(len(timings) * 0.99) - 1)], 3), "errors": len(errors),
            "server_cpu_ms": None if cpu_before is None or cpu_after is None
            else round((cpu_after - cpu_before) * 1000 / total, 3)}


def cpu_ratio(bare_ms: float | None, siteledger_ms: float | None) -> float | None:
    return None if not bare_ms or not siteledger_ms else round(bare_ms / siteledger_ms, 3)


def compare(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """SiteLedger on a fresh `kind` store and the bare endpoint, both serving; measured in turns, round after
    round (the machine is shared: a round's two figures meet the same load), the median round reported."""
    with store(kind) as settings:
        token = admin_token(settings)
        with running("siteledger", settings) as (base, pid), running("bare_fastapi") as (bare_base, bare_pid):
            item_id, supervisor_token = setup_item(base, token)
            command_url = f"{base}/api/v1/works-items/{item_id}/inspections"
            if args.warmup:
                load(f"{kind} siteledger warm-up", command_url, supervisor_token, args.warmup, args.concurrency)
                load(f"{kind} bare_fastapi warm-up", f"{bare_base}/echo", supervisor_token, args.warmup,
                     args.concurrency)
            rounds = []
            for n in range(1, args.rounds + 1):
                siteledger = load(f"{kind} siteledger {n}/{args.rounds}", command_url, supervisor_token,
                                  args.requests, args.concurrency, server_pid=pid)
                bare = load(f"{kind} bare_fastapi {n}/{args.rounds}", f"{bare_base}/echo", supervisor_token,
                            args.requests, args.concurrency, server_pid=bare_pid)
                rounds.append({"siteledger": siteledger, "bare_fastapi": bare,
                               "ratio": round(siteledger["requests_per_s"] / bare["requests_per_s"], 3),
                               "cpu_ratio": cpu_ratio(bare["server_cpu_ms"], siteledger["server_cpu_ms"])})
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    return {**median, "rounds": [{"siteledger_per_s": r["siteledger"]["requests_per_s"],
                                  "bare_fastapi_per_s": r["bare_fastapi"]["requests_per_s"], "ratio": r["ratio"],
                                  "cpu_ratio": r["cpu_ratio"],
                                  "siteledger_cpu_ms": r["siteledger"]["server_cpu_ms"],
                                  "bare_fastapi_cpu_ms": r["bare_fastapi"]["server_cpu_ms"]}
                                 for r in rounds], "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per target")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests per target first")
    parser.add_argument("--rounds", type=int, default=3, help="measured turns of both targets; the median is reported")
    parser.add_argument("--stores", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument("--projections", choices=["in-process", "separate"], default="in-process",
                        help="read models in the server's own thread (embedded default) or in another process")
    args = parser.parse_args()
    IN_PROCESS["value"] = args.projections == "in-process"
    report: dict[str, Any] = {"benchmark": "api_commands", "concurrency": args.concurrency,
                              "requests": args.requests, "rounds": args.rounds, "warmup": args.warmup,
                              "projections": args.projections}
    for kind in args.stores.split(","):
        report[kind] = compare(kind, args)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
