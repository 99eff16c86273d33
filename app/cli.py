"""``saleor-ops``: serve, migrate, manifest."""

from __future__ import annotations

import argparse
import json
import sys

from app.config import Settings
from app.db.engine import is_sqlite
from app.db.migrate import upgrade_to_head


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.main import create_app

    if is_sqlite(settings.database_url):
        # The embedded database migrates itself; PostgreSQL is migrated once per
        # release with `saleor-ops migrate`, never by several replicas at once.
        upgrade_to_head(settings.database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, proxy_headers=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saleor-ops", description="Saleor Ops, the operations app for Saleor.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the app (migrates the embedded SQLite first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("manifest", help="print the app manifest Saleor installs from")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "serve":
        _serve(settings, args.host, args.port)
    elif args.command == "migrate":
        upgrade_to_head(settings.database_url)
        print("database is at the latest migration", file=sys.stderr)
    elif args.command == "manifest":
        from app.saleor.manifest import build_manifest

        print(json.dumps(build_manifest(settings.public_url), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
