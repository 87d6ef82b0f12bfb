"""`siteledger`: run the service, and the operator's commands."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Callable

from domain.actors import Role
from services.embedded_store import EmbeddedStore, EmbeddedStoreError
from services.observability import configure_logging
from services.settings import Settings


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from services.api.app import create_app
    from services.api.connection_limits import uvicorn_limits
    from services.transparency.checkpointer import Checkpointer

    host, port = args.host or settings.host, args.port or settings.port
    configure_logging()
    try:
        embedded = start_embedded_s3(settings)
    except EmbeddedStoreError as error:
        print(f"siteledger serve: {error}", file=sys.stderr)
        return 2
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down; as exceptions here, the `finally` below runs
    # and the embedded store stops before this process ends (not ~25 s later, on a port a new serve wants)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: sys.exit(128 + number))
    try:
        print(f"SiteLedger on http://{host}:{port} (event store: {settings.event_store}, "
              f"data: {settings.data_dir if settings.event_store == 'sqlite' else settings.postgres_db}, "
              f"photos: S3 at {settings.s3_address()}); API docs at /docs", file=sys.stderr)
        app = create_app(settings=settings)
        checkpointer = Checkpointer(app.state.container).start()  # a signed checkpoint every interval, if grown
        uvicorn.run(app, host=host, port=port, log_level="info", log_config=None,
                    server_header=False, forwarded_allow_ips=settings.trusted_proxies, **uvicorn_limits(settings))
        checkpointer.stop()
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def start_embedded_s3(settings: Settings) -> EmbeddedStore | None:
    """With no S3 endpoint configured, photos go to a SeaweedFS of the data directory's own."""
    if settings.s3_endpoint:
        return None
    print(f"starting the embedded S3 server (SeaweedFS) on {settings.s3_address()}, data in "
          f"{settings.data_dir / 's3'} …", file=sys.stderr)
    return EmbeddedStore(settings.data_dir, settings.embedded_s3_port).start()


def create_user(args: argparse.Namespace, settings: Settings) -> int:
    from services.api.authentication import credentials
    from services.bootstrap import build

    with build(settings) as container:
        user = container.users.create(Role(args.role), args.name, args.phone, args.district)
        token = container.users.issue_token(user.user_id)
        link = credentials(container).issue_link(user.user_id) if args.phone else None
    print(f"created {user.role} {user.user_id} ({user.name})", file=sys.stderr)
    if link is not None:  # a person signs in with phone and password; nobody else ever sees the password
        print(f"set a password within {settings.password_link_hours:g} h (once): "
              f"http://{settings.host}:{settings.port}/set-password?token={link.token}", file=sys.stderr)
    print("the API token (for scripts and the field client) is shown once:", file=sys.stderr)
    print(token)
    return 0


def progress_bar(label: str) -> Callable[[int, int], None]:
    started = time.monotonic()

    def show(position: int, head: int) -> None:
        width, done = 30, position / head if head else 1.0
        bar = "█" * int(width * done) + "░" * (width - int(width * done))
        rate = position / max(time.monotonic() - started, 1e-9)
        print(f"\r{label:<18} {bar} {position}/{head} ({rate:,.0f} events/s)", end="", file=sys.stderr, flush=True)

    return show


def projections_run(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build, build_kafka_worker

    if args.source == "kafka" and not settings.kafka_bootstrap:
        print("--source kafka needs SITELEDGER_KAFKA_BOOTSTRAP", file=sys.stderr)
        return 2
    if args.source == "kafka":  # the messages alone: no event store, no S3
        driver, db = build_kafka_worker(settings)
        print(f"consuming {settings.kafka_bootstrap} as group {settings.kafka_group}: "
              f"{', '.join(m.name for m in driver.models)}", file=sys.stderr)
        try:
            with contextlib.suppress(KeyboardInterrupt):
                driver.run_forever()
        finally:
            driver.close()
            db.close()
        return 0
    with build(settings) as container, contextlib.suppress(KeyboardInterrupt):
        print(f"following the event log: {', '.join(container.projections.drivers)} (Ctrl-C stops)",
              file=sys.stderr)
        container.projections.run_forever()
    return 0


def projections_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build

    with build(settings) as container:
        names = [args.name] if args.name else list(container.projections.drivers)
        unknown = set(names) - set(container.projections.drivers)
        if unknown:
            print(f"unknown projection {', '.join(unknown)}; known: {', '.join(container.projections.drivers)}",
                  file=sys.stderr)
            return 2
        started = time.monotonic()
        if args.name:
            reports = [container.projections.rebuild(args.name, progress_bar(args.name))]
        else:  # one pass over the log for all of them: each event read and decoded once
            reports = container.projections.rebuild_all(progress_bar("all read models"))
        seconds = time.monotonic() - started
        print(file=sys.stderr)
        failing = 0
        for report in reports:
            name, position = report["name"], report["position"]
            if report["state"] == "failing":  # the same words as GET /api/v1/projections/status
                failing += 1
                failure = report["failure"]
                print(f"{name}: failing at position {failure['position']} ({failure['event_type']}): "
                      f"{failure['error']}; rebuilt up to position {position} of {report['head']}", file=sys.stderr)
            else:
                print(f"{name}: rebuilt to position {position}", file=sys.stderr)
        print(f"{len(reports) - failing} of {len(reports)} rebuilt in {seconds:.1f} s "
              f"({max((r['head'] for r in reports), default=0) / max(seconds, 1e-9):,.0f} events/s)",
              file=sys.stderr)
    return 1 if failing else 0


def relay(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build, build_relay

    if not settings.kafka_bootstrap:
        print("the relay needs SITELEDGER_KAFKA_BOOTSTRAP (host:port of the Kafka brokers)", file=sys.stderr)
        return 2
    with build(settings) as container, contextlib.suppress(KeyboardInterrupt):
        publisher = build_relay(container)
        if args.from_position is not None:
            publisher.restart_from(args.from_position)
            print(f"republishing every event after position {args.from_position}", file=sys.stderr)
        print(f"relaying the event log to {settings.kafka_bootstrap} from position {publisher.position()}",
              file=sys.stderr)
        publisher.run_forever()
    return 0


def reminders(args: argparse.Namespace, settings: Settings) -> int:
    """Deadlines' changes (approaching, breached, met) as CloudEvents on Kafka, once each, until stopped."""
    import threading

    from services import reminders as sending
    from services.bootstrap import build
    from services.bus import kafka_clients

    if not settings.kafka_bootstrap:
        print("reminders are sent on Kafka: set SITELEDGER_KAFKA_BOOTSTRAP (host:port of the brokers)", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with build(settings) as container, contextlib.suppress(KeyboardInterrupt):
        admin = kafka_clients.admin(settings)
        try:
            sending.ensure_topic(admin, replication=settings.kafka_replication)
        finally:
            admin.close()
        producer = kafka_clients.producer(settings)
        print(f"sending reminders to {sending.TOPIC} every {args.interval:g} s", file=sys.stderr)
        try:
            sending.serve(container, producer, stop, args.interval)
        finally:
            producer.close()
    return 0


def check(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build
    from services.operations import check as probe

    with build(settings) as container:
        results = probe(container)
    for name, ok, detail in results:
        print(f"{'✓' if ok else '✗'} {name:<20} {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


def verify(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build
    from services.operations import verify_all

    with build(settings) as container:
        broken = verify_all(container, progress_bar("verifying"))
    print(file=sys.stderr)
    for report in broken:
        print(f"✗ {report['kind']} {report['id']}: breaks at version {report['broken_at_version']} "
              f"({report['reason']})")
    print(f"{'all hash chains verify' if not broken else f'{len(broken)} broken'}", file=sys.stderr)
    return 0 if not broken else 1


def export(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path
    from uuid import UUID

    from services.bootstrap import build
    from services.operations import export_item

    out = Path(args.out or f"works-item-{args.item_id}.zip")
    partial = out.with_name(out.name + ".partial")  # a failed export never leaves a plausible-looking zip
    with build(settings) as container, partial.open("wb") as file:
        size = export_item(container, UUID(args.item_id), file)
    partial.replace(out)
    print(f"wrote {out} ({size:,} bytes)", file=sys.stderr)
    return 0


def keygen(args: argparse.Namespace, settings: Settings) -> int:
    """A checkpoint signing key (or a station's cosigning key): the secret to keep, the verifier key to hand out."""
    import os

    from services.transparency.keys import SigningKey
    from siteledger_verify.note import COSIGNATURE_V1, ED25519

    if args.record_cert:
        from pathlib import Path

        from services.records.signing import make_self_signed

        made = make_self_signed(Path(args.record_cert), args.name or "SiteLedger 记录签名（自签名，仅供试用）")
        print(f"SITELEDGER_RECORD_SIGNING_KEY={made.key_path}\nSITELEDGER_RECORD_SIGNING_CERT={made.cert_path}")
        print("a self-signed certificate: readers show the record unaltered but its signer unknown; "
              "for real use put the city's certificate and key there", file=sys.stderr)
        return 0
    name = args.name or os.environ.get("SITELEDGER_TRANSPARENCY_ORIGIN") or settings.transparency_origin
    key = SigningKey.generate(name, COSIGNATURE_V1 if args.witness else ED25519)
    if args.out:
        descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(key.text() + "\n")
        print(f"the signing key is in {args.out} (keep it secret; SITELEDGER_TRANSPARENCY_SIGNING_KEY)",
              file=sys.stderr)
    else:
        print("the signing key (keep it secret; SITELEDGER_TRANSPARENCY_SIGNING_KEY):", file=sys.stderr)
        print(key.text())
    print("the verifier key (hand it to the stations and print it on the records):", file=sys.stderr)
    print(key.verifier.text())
    return 0


def witness(args: argparse.Namespace, settings: Settings) -> int:
    """The station's run: check the newest checkpoint extends the one held, mirror, cosign; 1 on an alarm."""
    import os
    from pathlib import Path

    import httpx

    from services.transparency.witness import Alarm, Witness
    from siteledger_verify.note import NoteError, VerifierKey

    token = args.token or os.environ.get("SITELEDGER_WITNESS_TOKEN", "")
    try:
        key = VerifierKey.parse(Path(args.key).read_text() if Path(args.key).is_file() else args.key)
        station = Witness(args.server, key, Path(args.state), token, args.name)
    except (NoteError, OSError) as error:
        print(f"siteledger witness: {error}", file=sys.stderr)
        return 2
    try:
        done = station.run()
    except Alarm as alarm:
        print(f"✗ 告警：日志与本站已见证的检查点不一致 / ALARM: the log is inconsistent with the checkpoint this "
              f"station witnessed: {alarm} (证据见 / evidence in {Path(args.state) / 'alarm.txt'})", file=sys.stderr)
        return 1
    except (httpx.HTTPError, NoteError) as error:
        print(f"siteledger witness: cannot reach or read the log: {error}", file=sys.stderr)
        return 2
    finally:
        station.close()
    grown = done.checkpoint.size - done.old_size
    print(f"✓ 已见证 {done.checkpoint.origin} 树大小 {done.checkpoint.size}（新增 {grown}），与上次一致"
          f"{'，见证签名已回传' if done.posted else '；见证签名未能回传'} / witnessed size {done.checkpoint.size} "
          f"(+{grown}), consistent with the last; cosignature {'posted' if done.posted else 'NOT posted'}")
    print(station.key.verifier.text(), file=sys.stderr)
    return 0


def transparency(args: argparse.Namespace, settings: Settings) -> int:
    """The log's status (exit 1 if it disagrees with what a station witnessed), a rebuild, or a checkpoint now."""
    import json

    from services.bootstrap import build
    from services.transparency.service import Inconsistent, service_for

    with build(settings) as container:
        service = service_for(container)
        try:
            if args.action == "rebuild":
                started = time.monotonic()
                size = service.rebuild()
                print(f"transparency log rebuilt: {size} leaves in {time.monotonic() - started:.1f} s", file=sys.stderr)
            if args.action == "checkpoint":
                print(service.checkpoint(fresh=True), end="")
                return 0
        except Inconsistent as error:
            print(f"✗ 日志与监督站已见证的检查点不一致 / inconsistent with what a station witnessed: {error}",
                  file=sys.stderr)
            return 1
        status = service.status()
    print(json.dumps(status, ensure_ascii=False, indent=2))
    return 1 if status["state"] == "inconsistent" else 0


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the users/tokens/photos/positions tables to this release's schema (production start-up refuses
    a database behind the code; development upgrades it itself)."""
    from services import migrations

    url = settings.database_url()
    before = migrations.current(url)
    migrations.upgrade(url, args.revision)
    print(f"schema {before or 'empty'} → {migrations.current(url)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="siteledger", description="SiteLedger — 老旧小区改造工程监管记录")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the HTTP API on the embedded default (SQLite under ./data)")
    p_serve.add_argument("--host")
    p_serve.add_argument("--port", type=int)
    p_serve.set_defaults(func=serve)
    p_admin = sub.add_parser("admin", help="operator commands")
    admin_sub = p_admin.add_subparsers(dest="admin_command", required=True)
    p_user = admin_sub.add_parser("create-user", help="create a user and print its token on the last line")
    p_user.add_argument("--name", required=True)
    p_user.add_argument("--role", required=True, choices=[r.value for r in Role])
    p_user.add_argument("--district")
    p_user.add_argument("--phone")
    p_user.set_defaults(func=create_user)
    p_proj = sub.add_parser("projections", help="read models")
    proj_sub = p_proj.add_subparsers(dest="projections_command", required=True)
    p_run = proj_sub.add_parser("run", help="keep the read models up to date in this process")
    p_run.add_argument("--source", choices=["store", "kafka"], default="store",
                       help="follow the event store's log (default) or consume Kafka as a consumer group")
    p_run.set_defaults(func=projections_run)
    p_relay = sub.add_parser("relay", help="publish the event log to Kafka")
    p_relay.add_argument("--from-position", type=int, default=None,
                         help="republish every event after this log position (0: all), e.g. after a broker loss")
    p_relay.set_defaults(func=relay)
    p_remind = sub.add_parser("reminders", help="send deadlines' reminders (approaching, breached, met) on Kafka")
    p_remind.add_argument("--interval", type=float, default=3600.0, help="seconds between runs (default: an hour)")
    p_remind.set_defaults(func=reminders)
    p_rebuild = proj_sub.add_parser("rebuild", help="drop read models and rebuild them from the log")
    p_rebuild.add_argument("name", nargs="?", help="one read model, e.g. dashboard or deadlines (default: all; "
                                                    "`siteledger projections rebuild nonsense` lists them)")
    p_rebuild.set_defaults(func=projections_rebuild)
    p_migrate = sub.add_parser("migrate", help="apply schema migrations to the read-model/user database")
    p_migrate.add_argument("revision", nargs="?", default="head")
    p_migrate.set_defaults(func=migrate)
    sub.add_parser("check", help="can we reach the event store, read models, S3 and Kafka?").set_defaults(func=check)
    p_verify = sub.add_parser("verify", help="check the hash chain of every project and works item")
    p_verify.add_argument("--all", action="store_true", required=True)
    p_verify.set_defaults(func=verify)
    p_export = sub.add_parser("export", help="an item's events and photos as a zip with a SHA-256 manifest")
    p_export.add_argument("what", choices=["works-item"])
    p_export.add_argument("item_id")
    p_export.add_argument("--out")
    p_export.set_defaults(func=export)
    p_tlog = sub.add_parser("transparency", help="the transparency log: status, rebuild, or sign a checkpoint now")
    p_tlog.add_argument("action", choices=["status", "rebuild", "checkpoint"], nargs="?", default="status")
    p_tlog.set_defaults(func=transparency)
    p_keygen = sub.add_parser("keygen", help="make a checkpoint signing key (or a station's cosigning key)")
    p_keygen.add_argument("--name", help="the log's origin, e.g. siteledger.example/上海 (default: the setting)")
    p_keygen.add_argument("--witness", action="store_true", help="a station's cosigning key (tlog-cosignature)")
    p_keygen.add_argument("--out", help="write the secret key to this file (0600) instead of printing it")
    p_keygen.add_argument("--record-cert", metavar="DIR",
                          help="instead: a self-signed key and certificate for signing the printed records, in DIR")
    p_keygen.set_defaults(func=keygen)
    p_witness = sub.add_parser("witness", help="the station's witness: check, mirror and cosign the log")
    p_witness.add_argument("--server", required=True, help="the SiteLedger address, e.g. https://siteledger.example")
    p_witness.add_argument("--key", required=True, help="the log's verifier key (text or file), pinned")
    p_witness.add_argument("--state", required=True, help="this station's state directory (keep it, back it up)")
    p_witness.add_argument("--token", help="a station inspector's API token (default: $SITELEDGER_WITNESS_TOKEN)")
    p_witness.add_argument("--name", default="station.siteledger.example/witness", help="this witness's key name")
    p_witness.set_defaults(func=witness)
    args = parser.parse_args(argv)
    if args.func in (keygen, witness):  # they need no server settings: a production shell has no key *before* keygen
        return int(args.func(args, Settings.model_construct()))
    return int(args.func(args, Settings()))


if __name__ == "__main__":
    sys.exit(main())
