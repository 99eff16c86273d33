"""``saleor-ops``: serve, migrate, manifest."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import date
from pathlib import Path

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
    demo = commands.add_parser(
        "demo", help="install the app into a built-in Saleor stand-in, play a day of orders, keep serving"
    )
    demo.add_argument("--orders", type=int, default=60, help="orders in the day (default 60)")
    demo.add_argument("--seed", type=int, default=7, help="same seed, same day (default 7)")
    demo.add_argument("--day", type=date.fromisoformat, help="the day to play, YYYY-MM-DD (default yesterday)")
    demo.add_argument("--no-serve", action="store_true", help="stop after the summary")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="the app's port (default 8000)")
    demo.add_argument("--standin-port", type=int, default=8001, help="the stand-in's port (default 8001)")
    demo.add_argument("--data-dir", type=Path, help="an empty folder for the demo's data (default var/demo-<time>)")
    receipts = commands.add_parser(
        "import-receipts", help="book a CSV file of goods received into a store's cost ledger (all or nothing)"
    )
    receipts.add_argument("--saleor-api-url", required=True, help="the store, e.g. https://shop.example.com/graphql/")
    receipts.add_argument(
        "file", type=Path, help="CSV: sku,warehouse,quantity,unit_cost,currency,received_at,reference"
    )
    opening = commands.add_parser(
        "opening-balance", help="book Saleor's stock as receipts at each variant's cost price in one channel"
    )
    opening.add_argument("--saleor-api-url", required=True, help="the store, e.g. https://shop.example.com/graphql/")
    opening.add_argument("--channel", help="the channel whose cost prices to use (default: the first found)")
    opening.add_argument("--at", help="the date or time to book it at, in the store's time zone (default: now)")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from app.demo import DemoOptions
        from app.demo import main as run_demo

        options = DemoOptions(
            orders=args.orders,
            seed=args.seed,
            serve=not args.no_serve,
            host=args.host,
            port=args.port,
            standin_port=args.standin_port,
            data_dir=args.data_dir,
        )
        return run_demo(options if args.day is None else dataclasses.replace(options, day=args.day))

    settings = Settings()
    if args.command == "serve":
        _serve(settings, args.host, args.port)
    elif args.command == "migrate":
        upgrade_to_head(settings.database_url)
        print("database is at the latest migration", file=sys.stderr)
    elif args.command in ("import-receipts", "opening-balance"):
        from app.receipts_cli import run

        return run(settings, args)
    elif args.command == "manifest":
        from app.saleor.manifest import build_manifest

        print(json.dumps(build_manifest(settings.public_url), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
