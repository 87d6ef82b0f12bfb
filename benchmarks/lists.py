"""Lists and search at city scale, through HTTP (FastAPI's TestClient, real auth): first and last page p99 and
search p99 for each list and role. Prints JSON.

One SQLite store holds works items in `--projects` projects over three districts, a defect on one item in four
and a stop-work order on one in twenty. By default the listing's rows are written straight into its tables
(`--items 100000` in seconds; the lists read only these rows); `--through-commands` makes them by real commands
through the application instead (about 50 items/s on a busy machine) and prints the listing's catch-up rate.
Every other read model is caught up before measuring, so no runner competes with the requests, and SQLite's
statistics are gathered (`ANALYZE`, what `PRAGMA optimize` keeps current). Then for each list and caller:

* first page: `GET …?limit=50`;
* last page: by keyset, the cursor the server would hand out for the page before the end (the same index
  walk as any other page), and by `offset` for comparison (what old clients pay);
* search: `?q=` with three or more characters (FTS5 trigram; one that hits a handful of rows, others that hit
  an eighth of the city) and with two (below a trigram: the rows in scope are tested), city-wide for the admin
  and in a district for the station.

    python -m benchmarks.lists [--items 10000] [--projects 200] [--samples 100] [--stores sqlite,postgres]
                               [--through-commands] [--explain]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from benchmarks.common import percentiles, say, settings_for
from domain import commands as c
from domain.actors import Actor, Role
from projections.listing import short_grams
from projections.listing_queries import encode_cursor
from services.api.app import create_app
from services.bootstrap import Container, build
from tests.support import World

DISTRICTS = ("徐汇区", "黄浦区", "静安区")
STREETS = ("长桥街道", "田林街道", "枫林街道")
WORDS = ("雨污分流", "给水管线", "燃气管道", "架空线入地", "加装电梯", "外墙保温", "屋面防水", "消防通道")
PLACES = ("号楼北侧", "号楼东侧", "号楼南侧", "小区主路", "地下车库")
DEFECTS = ("沟槽未设警示标志", "回填土未分层夯实", "管道接口渗漏", "电缆保护管破损", "井盖高差超标")
PAGE = 50


def location(n: int) -> str:
    """Where item n is; one in 5,000 is by the old well (古井), for a rare two-character search."""
    return f"{n % 12 + 1}{PLACES[n % len(PLACES)]}{'古井旁' if n % 5000 == 7 else ''}"


def fill(container: Container, items: int, projects: int, supervisor: Actor) -> None:
    world = World(container.ledger)
    stations = {d: Actor(world.station.user_id, Role.STATION, district=d) for d in DISTRICTS}
    project_ids: list[tuple[UUID, str]] = []
    for n in range(projects):
        district = DISTRICTS[n % len(DISTRICTS)]
        out = world.run(world.admin, c.RegisterProject(
            name=f"{WORDS[n % len(WORDS)][:2]}花苑{n}号院", district=district, street_office=STREETS[n % 3],
            address=f"龙川北路{n}弄", year_built=1990, buildings=5, households=120, categories=["basic"]))
        project_ids.append((UUID(out.aggregate_id), district))
    world.run(world.admin, c.AssignUser(project_id=project_ids[0][0], user_id=supervisor.user_id,
                                        role=supervisor.role))
    started = time.perf_counter()
    for n in range(items):
        project_id, district = project_ids[n % projects]
        out = world.run(world.admin, c.RegisterWorksItem(
            project_id=project_id, kind="pipe_relocation", title=f"{WORDS[n % len(WORDS)]}第{n}段",
            location=location(n)))
        item_id = UUID(out.aggregate_id)
        if n % 4 == 0:
            world.run(stations[district], c.RaiseDefect(item_id=item_id, severity="minor",
                                                        description=DEFECTS[n % len(DEFECTS)]))
        if n % 20 == 0:
            world.run(stations[district], c.OrderStopWork(item_id=item_id, reason="未设围挡"))
        if n and n % 2000 == 0:
            say(f"filling: {n}/{items} items ({n / (time.perf_counter() - started):.0f} items/s)")


def fill_rows(container: Container, items: int, projects: int, supervisor: Actor) -> None:
    """The rows the listing would hold after the same commands, written in one transaction per table."""
    at = "2026-03-01T08:00:00.{:06d}+00:00".format
    pid, iid = (lambda n: str(UUID(int=(1 << 64) + n))), (lambda n: str(UUID(int=n + 1)))
    project_rows: list[tuple[Any, ...]] = []
    item_rows: list[tuple[Any, ...]] = []
    defect_rows: list[tuple[Any, ...]] = []
    stop_rows: list[tuple[Any, ...]] = []
    texts: list[tuple[int, str]] = []
    for n in range(projects):
        name, address = f"{WORDS[n % len(WORDS)][:2]}花苑{n}号院", f"龙川北路{n}弄"
        project_rows.append((pid(n), 1, name, DISTRICTS[n % 3], STREETS[n % 3], address, 1990, 5, 120,
                             ",basic,", at(n), f"{name} {address}", n + 1, ",central_budget,", None))
        texts.append((n + 1, f"{name} {address}"))
    for n in range(items):
        p = n % projects
        doc = projects + 1 + 2 * n
        title, place = f"{WORDS[n % len(WORDS)]}第{n}段", location(n)
        item_rows.append((iid(n), 1, pid(p), DISTRICTS[p % 3], STREETS[p % 3], "pipe_relocation", "管线迁移",
                          title, place, "registered", None, None, None, int(n % 4 == 0),
                          at(n) if n % 20 == 0 else None, "0" * 64, at(n), f"{title} {place}", doc, None,
                          None, "未设围挡" if n % 20 == 0 else None))
        texts.append((doc, f"{title} {place}"))
        if n % 4 == 0:
            description = DEFECTS[n % len(DEFECTS)]
            defect_rows.append((iid(n), "d1", pid(p), DISTRICTS[p % 3], STREETS[p % 3], "minor", "open",
                                description, None, None, at(n), None, description, doc + 1))
            texts.append((doc + 1, description))
        if n % 20 == 0:
            stop_rows.append((iid(n), "s1", pid(p), DISTRICTS[p % 3], STREETS[p % 3], "未设围挡", at(n),
                              None))
    container.projections.refresh("listing")  # the tables exist, and the log (empty) is caught up
    with container.db.transaction() as tx:
        if container.db.is_postgres:  # PostgreSQL's own last column: the text's letters and pairs of them
            project_rows = [(*row, short_grams(row[-4])) for row in project_rows]
            item_rows = [(*row, short_grams(row[-5])) for row in item_rows]
            defect_rows = [(*row, short_grams(row[-2])) for row in defect_rows]
        for table, rows in (("lst_projects", project_rows), ("lst_items", item_rows), ("lst_defects", defect_rows),
                            ("lst_stops", stop_rows), ("lst_text (rowid, body)", texts)):
            if container.db.is_postgres and table.startswith("lst_text"):
                continue  # PostgreSQL searches each table's search_text through its pg_trgm index
            tx.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in rows[0])})", rows)
        tx.execute("INSERT INTO lst_assignments VALUES (?, ?, 'supervisor')", (pid(0), str(supervisor.user_id)))
        if not container.db.is_postgres:  # (on PostgreSQL each row carries its own short_grams)
            tx.executemany("INSERT INTO lst_short (rowid, body) VALUES (?, ?)",
                           [(d, " ".join(short_grams(t))) for d, t in texts])


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
ROLES = ("station", "supervisor", "contractor", "resident", "resident", "resident")


def fill_people(container: Container, people: int) -> None:
    """`people` accounts written straight into the directory's table: residents, site staff and inspectors over
    the three districts (a resident or contractor of no district one time in two), each with a phone number."""
    at = "2026-01-01T08:00:00.{:06d}+00:00".format
    rows = []
    for n in range(people):
        role = ROLES[n % len(ROLES)]
        district = DISTRICTS[n % 3] if role == "station" or n % 2 else None
        rows.append((str(UUID(int=(2 << 64) + n)), role, district, f"{SURNAMES[n % 20]}{'伟芳娜敏静'[n % 5]}{n}",
                     f"139{n:08d}", at(n)))
    with container.db.transaction() as tx:
        tx.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)", rows)


def timed(client: TestClient, token: str, path: str, samples: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    total = 0
    client.get(path, headers=headers)  # warm: the first call of a path pays for its statement's preparation
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        total, exact = response.json().get("total", 0), response.json().get("total_exact", True)
    return {"path": path, "rows": total, "exact": exact, **percentiles(timings)}  # exact false: rows is "at least"


def plans(container: Container, client: TestClient, token: str, path: str) -> list[dict[str, Any]]:
    """How the store ran each list statement of one request (`EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL, `EXPLAIN
    QUERY PLAN` on SQLite): its scans and its time, so a figure comes with the plan that made it."""
    said: list[tuple[str, list[Any]]] = []
    db, query = container.db, container.db.query

    def recording(statement: str, params: Any = ()) -> list[Any]:
        if statement.startswith("SELECT") and ("lst_" in statement or "FROM users " in statement):
            said.append((statement, list(params)))
        return query(statement, params)

    db.query = recording  # type: ignore[method-assign]
    try:
        assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        del db.query  # the class's own again
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if db.is_postgres else "EXPLAIN QUERY PLAN "
    found = []
    for statement, params in said:
        lines = [str(row[0] if db.is_postgres else row[-1]) for row in db.query(explain + statement, params)]
        found.append({"statement": statement[:60] + " … " + statement[-100:],
                      "plan": [line.strip() for line in lines if "Scan" in line or "SCAN" in line or "SEARCH" in line
                               or "Time:" in line]})
    return found


def last_cursor(container: Container, name: str, table: str, order: tuple[str, ...], where: str,
                params: list[Any]) -> tuple[str, int]:
    """The cursor the server hands out for the page before the last one, and the offset of that page."""
    total = int(container.db.query(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)[0][0])
    offset = max(0, total - PAGE)
    row = container.db.query(f"SELECT {', '.join(order)} FROM {table} WHERE {where} ORDER BY {', '.join(order)} "
                             "LIMIT 1 OFFSET ?", [*params, max(0, offset - 1)])[0]
    return encode_cursor(name, list(row)), offset


def measure(container: Container, client: TestClient, tokens: dict[str, str], samples: int,
            explain: bool = False) -> list[dict[str, Any]]:
    lists: list[tuple[str, str, str, tuple[str, ...]]] = [
        ("/api/v1/projects", "projects", "lst_projects", ("registered_at", "project_id")),
        ("/api/v1/works-items", "works_items", "lst_items", ("registered_at", "item_id")),
        ("/api/v1/defects", "defects", "lst_defects", ("raised_at", "item_id", "defect_id")),
        ("/api/v1/stop-work-orders", "stop_work_orders", "lst_stops", ("ordered_at", "item_id", "order_id")),
    ]
    scopes: dict[str, tuple[str, list[Any]]] = {"admin": ("1 = 1", []), "station": ("district = ?", [DISTRICTS[0]])}
    results = []
    for path, name, table, order in lists:
        for who in ("admin", "station", "supervisor"):
            row: dict[str, Any] = {"list": path, "caller": who,
                                   "first_page": timed(client, tokens[who], f"{path}?limit={PAGE}", samples)}
            if who in scopes:
                cursor, offset = last_cursor(container, name, table, order, *scopes[who])
                row["last_page_cursor"] = timed(client, tokens[who], f"{path}?limit={PAGE}&cursor={cursor}", samples)
                row["last_page_offset"] = timed(client, tokens[who], f"{path}?limit={PAGE}&offset={offset}", samples)
            results.append(row)
    people = int(container.db.query("SELECT COUNT(*) FROM users")[0][0])
    for who in ("admin", "district_admin"):
        where, params = ("1 = 1", []) if who == "admin" else ("district = ?", [DISTRICTS[0]])
        cursor, offset = last_cursor(container, "people", "users", ("created_at", "user_id"), where, params)
        results.append({"list": "/api/v1/users", "caller": who, "people": people,
                        "first_page": timed(client, tokens[who], f"/api/v1/users?limit={PAGE}", samples),
                        "last_page_cursor": timed(client, tokens[who], f"/api/v1/users?limit={PAGE}&cursor={cursor}",
                                                  samples),
                        "last_page_offset": timed(client, tokens[who], f"/api/v1/users?limit={PAGE}&offset={offset}",
                                                  samples)})
        for path in ("/api/v1/users?q=王伟", "/api/v1/users?q=王伟12", "/api/v1/users?q=13900004242",
                     "/api/v1/users?q=4242", "/api/v1/users?role=station&q=陈"):
            results.append({"search": path, "caller": who,
                            "timing": timed(client, tokens[who], f"{path}&limit={PAGE}", samples)})
    for path in ("/api/v1/works-items?q=第4242段",  # what a person types most: a name that hits a few rows
                 "/api/v1/works-items?q=雨污分流", "/api/v1/works-items?q=号楼东侧", "/api/v1/works-items?q=管线",
                 "/api/v1/works-items?q=古井",  # two characters that hit a few rows: below a trigram, and rare
                 "/api/v1/defects?q=分层夯实", "/api/v1/projects?q=龙川北路1", "/api/v1/projects?q=花苑"):
        for who in ("admin", "station"):
            results.append({"search": path, "caller": who,
                            "timing": timed(client, tokens[who], f"{path}&limit={PAGE}", samples)})
            if explain:
                results[-1]["plans"] = plans(container, client, tokens[who], f"{path}&limit={PAGE}")
    return results


def run(store: str, args: argparse.Namespace) -> dict[str, Any]:
    with settings_for(store, projection_interval_s=3600) as settings:
        container = build(settings)
        try:
            supervisor_user = container.users.create(Role.SUPERVISOR, "监理")
            started = time.perf_counter()
            (fill if args.through_commands else fill_rows)(container, args.items, args.projects,
                                                           supervisor_user.actor)
            fill_s = time.perf_counter() - started
            head = container.ledger.recorder.max_notification_id() or 0
            started = time.perf_counter()
            container.projections.refresh("listing")
            catch_up_s = time.perf_counter() - started
            for name in container.projections.drivers:
                container.projections.refresh(name)
            # the planner needs statistics to prefer a rare search's matches over a district's rows (a rare
            # term in a district on SQLite: 32 → 0.1 ms at 100,000 items); a rebuild gathers them, and SQLite's
            # `PRAGMA optimize` keeps them current
            container.db.optimize(container.projections.drivers["listing"].model.tables)
            tokens = {"admin": container.users.issue_token(container.users.create(Role.ADMIN, "管理员").user_id),
                      "station": container.users.issue_token(
                          container.users.create(Role.STATION, "安质监站", district=DISTRICTS[0]).user_id),
                      "supervisor": container.users.issue_token(supervisor_user.user_id),
                      "district_admin": container.users.issue_token(
                          container.users.create(Role.ADMIN, "区管理员", district=DISTRICTS[0]).user_id)}
            fill_people(container, args.people)
            container.db.optimize(("users",))
            say(f"measuring on {store}")
            with TestClient(create_app(container)) as client:
                baseline = timed(client, tokens["station"], "/api/v1/users/me", args.samples)
                results = measure(container, client, tokens, args.samples, args.explain)
            p99: Callable[[str], float] = lambda key: max(  # noqa: E731
                r[key]["p99_ms"] for r in results if key in r)
            return {
                "store": store, "items": args.items, "projects": args.projects, "people": args.people,
                "notifications": head,
                "samples": args.samples, "fill_s": round(fill_s, 1),
                "filled": "commands" if args.through_commands else "rows",
                "listing_catch_up_events_per_s": round(head / catch_up_s) if args.through_commands else None,
                "worst_p99_ms": {"first_page": p99("first_page"), "last_page_cursor": p99("last_page_cursor"),
                                 "last_page_offset": p99("last_page_offset"), "search": p99("timing")},
                "baseline_users_me": baseline,  # the same auth and HTTP path with no list: the floor
                "results": results,
            }
        finally:
            container.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--people", type=int, default=10_000, help="accounts in the people list")
    parser.add_argument("--stores", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument("--through-commands", action="store_true", help="fill by real commands (slow)")
    parser.add_argument("--explain", action="store_true", help="each search's statements with their plans")
    args = parser.parse_args(argv)
    runs = [run(store.strip(), args) for store in args.stores.split(",") if store.strip()]
    print(json.dumps(runs[0] if len(runs) == 1 else {"stores": runs}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
