"""`siteledger`: run the service, and the operator's commands."""

from __future__ import annotations

import argparse
import sys

from domain.actors import Role
from services.settings import Settings


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from services.api.app import create_app

    host, port = args.host or settings.host, args.port or settings.port
    print(f"SiteLedger on http://{host}:{port} (event store: {settings.event_store}, "
          f"data: {settings.data_dir if settings.event_store == 'sqlite' else settings.postgres_db}); "
          f"API docs at /docs", file=sys.stderr)
    uvicorn.run(create_app(settings=settings), host=host, port=port, log_level="info")
    return 0


def create_user(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build

    container = build(settings)
    try:
        user = container.users.create(Role(args.role), args.name, args.phone, args.district)
        token = container.users.issue_token(user.user_id)
    finally:
        container.close()
    print(f"created {user.role} {user.user_id} ({user.name}); the token is shown once:", file=sys.stderr)
    print(token)
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
    args = parser.parse_args(argv)
    return int(args.func(args, Settings()))


if __name__ == "__main__":
    sys.exit(main())
