"""`siteledger-field`: the supervisor's tablet. Only login, pull and sync need the network.

    siteledger-field login --server https://… --token slt_…     # once; checks the token
    siteledger-field pull                                        # projects, works items, templates
    siteledger-field inspect 3f2a excavation --result pass --measure depth_m=1.2 --measure width_m=0.8 \\
        --check shoring_in_place --check fencing_in_place --photo DCIM/0412.jpg
    siteledger-field queue                                       # waiting, refused (with why), blocked
    siteledger-field sync                                        # photos, then commands, then pull

Exit status: 0 done (refused commands are listed, see `queue`); 1 refused on the tablet (nothing queued);
2 usage; 3 offline (nothing lost, sync later); 4 token revoked (log in again); 5 the server refused a read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from field_client import show
from field_client.api import Api, RetryPolicy
from field_client.errors import FieldError, SyncStopped
from field_client.progress import ProgressBar
from field_client.queue import Command, Queue
from field_client.record import Recorder, defect_draft
from field_client.store import Store, home_dir
from field_client.sync import Syncer, pull

DEFECT = re.compile(r"^(?P<severity>\w+):(?P<description>.+?)(?::(?P<due>\d{4}-\d{2}-\d{2}))?$", re.S)
EXIT_CODES = {"offline": 3, "token_revoked": 4, "unexpected_answer": 5}


def _pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise FieldError("invalid_measurement", f"测量值格式应为 代码=数值，收到：{value}",
                             f"A measurement is written code=value, got: {value}")
        pairs[key.strip()] = rest.strip()
    return pairs


def _checks(values: list[str]) -> dict[str, bool]:
    checks = {}
    for value in values:
        key, _, answer = value.partition("=")
        checks[key.strip()] = answer.strip().lower() not in ("no", "n", "false", "0", "否")
    return checks


def _defects(values: list[str]) -> list[dict[str, Any]]:
    drafts = []
    for value in values:
        match = DEFECT.match(value)
        if not match:
            raise FieldError("invalid_defect", f"整改格式应为 严重程度:描述[:YYYY-MM-DD]，收到：{value}",
                             f"A defect is written severity:description[:YYYY-MM-DD], got: {value}")
        drafts.append(defect_draft(match["severity"], match["description"].strip(), match["due"]))
    return drafts


def _gps(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        lat, lon = (float(v) for v in value.split(","))
    except ValueError:
        raise FieldError("invalid_gps", f"GPS 格式应为 纬度,经度，收到：{value}",
                         f"GPS is written lat,lon, got: {value}") from None
    return lat, lon


def _queued(cmd: Command, recorder: Recorder) -> int:
    for warning in recorder.warnings:
        print(f"⚠ {warning}")
    print(f"已保存在本机，待同步 / Saved on this tablet, queued for sync: {cmd.id[:8]} · {cmd.summary}")
    print(f"  命令编号 command id {cmd.id} · 设备时间 device time {cmd.recorded_at}")
    return 0


def _retry_policy(args: argparse.Namespace) -> RetryPolicy:
    return RetryPolicy(attempts=args.retries, base_s=args.backoff)


def cmd_login(store: Store, args: argparse.Namespace) -> int:
    with Api(args.server, args.token, store.device_id, _retry_policy(args)) as api:
        me = api.get_json("/api/v1/users/me")
    others = [c for c in Queue(store).all("queued", "refused", "blocked") if c.user_id != me["id"]]
    if others:
        raise FieldError("queue_of_another_user",
                         f"本机还有其他用户的 {len(others)} 条未同步命令；请该用户先同步或放弃后再切换账号",
                         f"{len(others)} unsynced command(s) of another user are on this tablet: "
                         "sync or drop them before switching user")
    store.put(server=args.server.rstrip("/"), token=args.token, user=json.dumps(me, ensure_ascii=False))
    print(f"已登录 Logged in: {me.get('name')} · {me['role']} · 设备 device {store.device_id}")
    print("下一步：联网时执行 pull 下载项目与检查模板 / Next: run pull while online")
    return 0


def cmd_pull(store: Store, args: argparse.Namespace) -> int:
    server, token = store.session()
    with Api(server, token, store.device_id, _retry_policy(args)) as api:
        counts = pull(api, store)
    print(f"已下载 Pulled: 项目 projects {counts['projects']} · 工程事项 works items {counts['items']}"
          f" · 模板 templates {counts['kinds']}")
    return 0


def cmd_sync(store: Store, args: argparse.Namespace) -> int:
    server, token = store.session()
    with Api(server, token, store.device_id, _retry_policy(args)) as api:
        syncer = Syncer(store, api, one_by_one=args.one_by_one, chunk=args.chunk,
                        progress=ProgressBar(stream=sys.stderr))
        stopped: SyncStopped | None = None
        try:
            syncer.run(refresh=not args.no_pull)
        except SyncStopped as error:
            stopped = error
    report = syncer.report
    print(f"已发送 sent {report.sent}（服务器已有 already there {report.replayed}）· 被拒绝 refused "
          f"{len(report.refused)} · 暂缓 blocked {report.blocked} · 照片 photos 上传 uploaded "
          f"{report.photos_uploaded} / 跳过 skipped {report.photos_skipped} · 请求 requests {report.requests}")
    if report.photos_waiting or report.waiting_for_photos:
        print(f"照片未传完 photos not finished {report.photos_waiting}（下次同步从断点续传 resumed at the next sync）"
              f" · 等待照片的命令 commands waiting for them {report.waiting_for_photos}")
    for cmd in report.refused:
        refused = Queue(store).get(cmd.id)
        print(f"✗ {cmd.id[:8]} {cmd.summary}\n    {refused.problem and refused.problem['code']}: "
              f"{refused.problem and refused.problem['detail']}")
    if report.refused or report.blocked:
        print("请查看并处理 / Review: siteledger-field queue")
    if stopped is not None:
        print(str(stopped), file=sys.stderr)
        return EXIT_CODES.get(stopped.code, 3)
    return 0


def cmd_queue(store: Store, args: argparse.Namespace) -> int:
    queue = Queue(store)
    if args.drop or args.retry:
        moved = queue.drop(args.drop) if args.drop else queue.retry(args.retry)
        verb = "已放弃 dropped" if args.drop else "将重新发送 will be sent again"
        print(f"{verb}: {moved[0].id[:8]} {moved[0].summary}")
        for cmd in moved[1:]:
            print(f"  解除暂缓 released: {cmd.id[:8]} {cmd.summary}")
        return 0
    if store.get("user"):  # mark what a refusal holds back, so the list is true before the next sync
        queue.next_round(store.user["id"], store.links())
    print(show.queue_json(store) if args.json else show.queue_report(store, args.all))
    return 0


def cmd_items(store: Store, args: argparse.Namespace) -> int:
    print(show.items_report(store, args.project))
    return 0


def cmd_form(store: Store, args: argparse.Namespace) -> int:
    from field_client.validate import hold_point

    item = store.item(args.item)
    kind = store.kind(item["kind"]) or {"hold_points": [], "name_zh": item["kind"], "name_en": item["kind"]}
    codes = [args.hold_point] if args.hold_point else [hp["code"] for hp in kind["hold_points"]]
    for code in codes:
        hold_point(kind, code)
        print(show.form_report(kind, code))
    return 0


def cmd_record(store: Store, args: argparse.Namespace) -> int:
    recorder = Recorder(store)
    photos = [Path(p) for p in getattr(args, "photo", None) or []]
    if args.command == "inspect":
        cmd = recorder.inspect(args.item, args.hold_point, args.result, _pairs(args.measure or []),
                               _checks(args.check or []), args.notes, photos, _defects(args.defect or []),
                               [Path(p) for p in args.defect_photo or []], _gps(args.gps))
    elif args.command == "defect":
        cmd = recorder.defect(args.item, args.severity, args.description, args.hold_point, args.due, photos)
    elif args.command == "rectify":
        cmd = recorder.rectify(args.item, args.defect, args.description, photos)
    elif args.command == "close-defect":
        cmd = recorder.close_defect(args.item, args.defect, args.notes)
    elif args.command == "complete":
        cmd = recorder.complete(args.item)
    else:
        cmd = recorder.sign(args.item, args.decision, args.reason, args.comment, photos)
    return _queued(cmd, recorder)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="siteledger-field", description="SiteLedger 现场平板（离线优先）/ field client")
    top.add_argument("--home", help="local store (default $SITELEDGER_FIELD_HOME or ~/.siteledger-field)")
    sub = top.add_subparsers(dest="command", required=True)

    def network(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--retries", type=int, default=8, help="attempts per request (backoff with jitter)")
        p.add_argument("--backoff", type=float, default=0.5, help="first backoff step in seconds")
        return p

    login = network(sub.add_parser("login", help="store server and token (checks GET /users/me)"))
    login.add_argument("--server", required=True)
    login.add_argument("--token", required=True)
    network(sub.add_parser("pull", help="download projects, works items and templates"))
    sync = network(sub.add_parser("sync", help="upload photos, send queued commands, pull"))
    sync.add_argument("--one-by-one", action="store_true", help="one request per command instead of batches")
    sync.add_argument("--chunk", type=int, default=100, help="commands per batch request (≤ 500)")
    sync.add_argument("--no-pull", action="store_true", help="do not refresh the cache afterwards")
    queue = sub.add_parser("queue", help="what is waiting, refused, blocked")
    queue.add_argument("--drop", metavar="ID")
    queue.add_argument("--retry", metavar="ID")
    queue.add_argument("--all", action="store_true", help="also what was sent or dropped")
    queue.add_argument("--json", action="store_true")
    sub.add_parser("items", help="cached projects and works items").add_argument("--project")
    form = sub.add_parser("form", help="a hold point's inspection form (from the cached template)")
    form.add_argument("item")
    form.add_argument("hold_point", nargs="?")

    inspect = sub.add_parser("inspect", help="record an inspection at a hold point")
    inspect.add_argument("item")
    inspect.add_argument("hold_point")
    inspect.add_argument("--result", required=True, choices=["pass", "fail", "conditional"])
    inspect.add_argument("--measure", action="append", metavar="CODE=VALUE")
    inspect.add_argument("--check", action="append", metavar="CODE[=no]")
    inspect.add_argument("--notes", default="")
    inspect.add_argument("--photo", action="append", metavar="PATH")
    inspect.add_argument("--defect", action="append", metavar="SEVERITY:DESCRIPTION[:YYYY-MM-DD]")
    inspect.add_argument("--defect-photo", action="append", metavar="PATH")
    inspect.add_argument("--gps", metavar="LAT,LON")
    defect = sub.add_parser("defect", help="raise a defect (整改通知)")
    defect.add_argument("item")
    defect.add_argument("--severity", required=True, choices=["minor", "major", "critical"])
    defect.add_argument("--description", required=True)
    defect.add_argument("--hold-point")
    defect.add_argument("--due", metavar="YYYY-MM-DD")
    defect.add_argument("--photo", action="append", metavar="PATH")
    rectify = sub.add_parser("rectify", help="contractor: report a rectification")
    rectify.add_argument("item")
    rectify.add_argument("defect")
    rectify.add_argument("--description", required=True)
    rectify.add_argument("--photo", action="append", metavar="PATH")
    close = sub.add_parser("close-defect", help="verify a rectification and close the defect")
    close.add_argument("item")
    close.add_argument("defect")
    close.add_argument("--notes", default="")
    sub.add_parser("complete", help="declare the works complete").add_argument("item")
    sign = sub.add_parser("sign", help="resident: sign the open acceptance round")
    sign.add_argument("item")
    sign.add_argument("--decision", required=True, choices=["accept", "reject"])
    sign.add_argument("--reason", default="")
    sign.add_argument("--comment", default="")
    sign.add_argument("--photo", action="append", metavar="PATH")
    return top


HANDLERS = {"login": cmd_login, "pull": cmd_pull, "sync": cmd_sync, "queue": cmd_queue, "items": cmd_items,
            "form": cmd_form}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with Store(home_dir(args.home)) as store:
        try:
            return HANDLERS.get(args.command, cmd_record)(store, args)
        except FieldError as error:
            print(f"✗ {error}", file=sys.stderr)
            return 1
        except SyncStopped as error:
            print(str(error), file=sys.stderr)
            return EXIT_CODES.get(error.code, 3)


if __name__ == "__main__":
    sys.exit(main())
