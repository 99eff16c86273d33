"""``saleor-ops``: serve, worker, migrate, manifest, demo, the receipts commands, and a store's export and deletion.

A setting, a database or a port the command cannot use ends it with one line on stderr
naming what to change, and a non-zero exit: 2 for a bad setting, 1 for what is in the way.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import json
import logging
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import __version__, event_loop
from app.config import Settings, describe_invalid_settings, set_for_child_processes
from app.db.engine import create_engine, is_sqlite
from app.db.export import LEFT_OUT, LEFT_OUT_TABLES, export_store
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.domain.ids import InvalidSaleorApiUrl, SaleorApiUrl, saleor_api_url
from app.logs import configure_logging
from app.runtime import Runtime
from app.services.installations import forget_store
from app.web_processes import bind_sockets, serve

log = logging.getLogger(__name__)

DEFAULT_PORT = 8000
DEFAULT_STANDIN_PORT = 8001


class CannotRun(Exception):
    """What stops a command before it starts; its message is the one line the user sees."""

    exit_code = 1


class UnusableSettings(CannotRun):
    """Settings and flags that cannot work together, whatever the machine."""

    exit_code = 2


def _bind(host: str, port: int, flag: str, *, processes: int = 1) -> list[socket.socket]:
    """The listening sockets, bound before anything prints "running", or why they cannot be."""
    try:
        return bind_sockets(host, port, processes)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CannotRun(f"port {port} on {host} is already in use; choose another with {flag} PORT") from exc
        raise CannotRun(f"cannot listen on {host}:{port} ({exc.strerror}); change {flag} or --host") from exc


def free_port(host: str, preferred: int, flag: str, out: list[str]) -> int:
    """``preferred`` when it is free, else any free port, saying so."""
    try:
        _bind(host, preferred, flag)[0].close()
        return preferred
    except CannotRun:
        with _bind(host, 0, flag)[0] as listener:
            port = int(listener.getsockname()[1])
        out.append(f"port {preferred} is in use, so {flag} {port} is used instead")
        return port


def _shown(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def _check_database(database_url: str) -> None:
    """Connect once, so a database that is missing or unreachable stops the command here."""

    async def connect() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(connect())
    except Exception as exc:  # whatever the driver raises, the user needs its one-line reason
        shown = _shown(database_url)
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise CannotRun(f"cannot use the database in APP_DATABASE_URL ({shown}): {reason}") from exc


def _serve(settings: Settings, host: str, port: int, *, processes: int, no_worker: bool) -> None:
    import uvicorn

    from app.http_protocol import HttpProtocol

    worker = settings.worker_in_process and not no_worker
    if is_sqlite(settings.database_url):
        if processes > 1:
            raise UnusableSettings(
                f"--workers {processes} needs PostgreSQL: the embedded SQLite has one writer, so one process "
                "serves it (set APP_DATABASE_URL=postgresql+asyncpg://… for more)"
            )
        if not worker:
            raise UnusableSettings(
                "--no-worker (or APP_WORKER_IN_PROCESS=false) needs PostgreSQL: on the embedded SQLite the "
                "worker inside `serve` is the only one, and without it no delivery would be processed"
            )
    _check_database(settings.database_url)
    sockets = _bind(host, port, "--port", processes=processes)
    configure_logging(settings.log_level, as_json=settings.log_json)
    if is_sqlite(settings.database_url):
        # The embedded database migrates itself; PostgreSQL is migrated once per
        # release with `saleor-ops migrate`, never by several replicas at once.
        upgrade_to_head(settings.database_url)
    # Each web process builds its app from the environment; settle here what they must share.
    settings.resolve_secret_key()  # generated once, not by several processes at the same moment
    set_for_child_processes(worker_in_process=str(worker).lower())
    config = uvicorn.Config(
        "app.main:create_app",
        factory=True,
        workers=processes,
        http=HttpProtocol,  # uvicorn's own, sending each answer in one write
        log_config=None,
        proxy_headers=True,
        # A spawned web process imports the app (carriers' libraries included: seconds of CPU) before it
        # answers the supervisor's ping; on a busy machine uvicorn's 5 s default killed every one of them.
        timeout_worker_healthcheck=60,
    )
    # uvicorn names no address for a socket it is handed, so say it here.
    log.info(
        "listening on http://%s:%d",
        host,
        port,
        extra={"public_url": settings.public_url, "web_processes": processes, "worker_in_process": worker},
    )
    serve(config, sockets)


def _work(settings: Settings, concurrency: int | None) -> None:
    """Process stored deliveries and deliver their effects until SIGTERM or SIGINT, then exit 0."""
    if is_sqlite(settings.database_url):
        raise UnusableSettings(
            "`saleor-ops worker` needs PostgreSQL: on the embedded SQLite the worker runs inside "
            "`saleor-ops serve` (set APP_DATABASE_URL=postgresql+asyncpg://… to run workers apart)"
        )
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    _check_database(settings.database_url)
    configure_logging(settings.log_level, as_json=settings.log_json)

    async def work() -> None:
        from app.pipeline.build import build_worker

        runtime = Runtime.build(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            log.info(
                "worker started: processing stored deliveries and delivering their effects to Saleor, "
                "%d at a time, until SIGTERM or Ctrl-C",
                settings.worker_concurrency,
                extra={"database": _shown(settings.database_url)},
            )
            await build_worker(runtime).run(stop)
        finally:
            await runtime.close()
        log.info("worker stopped: the steps under way were finished")

    event_loop.run(work())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saleor-ops",
        description="Saleor Ops, the operations app for Saleor. Settings come from APP_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"saleor-ops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".")

    serve = command("serve", "run the app (migrates the embedded SQLite first)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port to listen on (default {DEFAULT_PORT})")
    serve.add_argument(
        "--workers",
        type=_count("--workers"),
        default=1,
        metavar="N",
        help="web processes sharing the port (default 1; more need PostgreSQL)",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="run no pipeline worker in the web processes: `saleor-ops worker` processes do the work (PostgreSQL)",
    )
    worker = command("worker", "process stored deliveries and deliver their effects, beside `serve` (PostgreSQL)")
    worker.add_argument(
        "--concurrency",
        type=_count("--concurrency"),
        metavar="N",
        help="deliveries processed at once (default APP_WORKER_CONCURRENCY, 8)",
    )
    command("migrate", "apply database migrations to APP_DATABASE_URL")
    command("manifest", "print the app manifest Saleor installs from")
    demo = command("demo", "install the app into a built-in Saleor stand-in, play a day of orders, keep serving")
    demo.add_argument("--orders", type=int, default=60, help="orders in the day (default 60)")
    demo.add_argument("--seed", type=int, default=7, help="same seed, same day (default 7)")
    demo.add_argument("--day", type=date.fromisoformat, help="the day to play, YYYY-MM-DD (default yesterday)")
    demo.add_argument("--no-serve", action="store_true", help="stop after the summary")
    demo.add_argument("--host", default="127.0.0.1", help="the address both servers listen on (default 127.0.0.1)")
    demo.add_argument(
        "--port", type=int, help=f"the app's port (default {DEFAULT_PORT}, or a free one if that is taken)"
    )
    demo.add_argument(
        "--standin-port",
        type=int,
        help=f"the stand-in's port (default {DEFAULT_STANDIN_PORT}, or a free one if that is taken)",
    )
    demo.add_argument("--data-dir", type=Path, help="an empty folder for the demo's data (default var/demo-<time>)")
    receipts = command(
        "import-receipts", "book a CSV file of goods received into a store's cost ledger (all or nothing)"
    )
    receipts.add_argument("--saleor-api-url", required=True, help="the store, e.g. https://shop.example.com/graphql/")
    receipts.add_argument(
        "file", type=Path, help="CSV: sku,warehouse,quantity,unit_cost,currency,received_at,reference"
    )
    opening = command("opening-balance", "book Saleor's stock as receipts at each variant's cost price in one channel")
    opening.add_argument("--saleor-api-url", required=True, help="the store, e.g. https://shop.example.com/graphql/")
    opening.add_argument("--channel", help="the channel whose cost prices to use (default: the first found)")
    opening.add_argument("--at", help="the date or time to book it at, in the store's time zone (default: now)")
    forget = command("forget-store", "delete a store's token and every record the app keeps of it, at once")
    forget.add_argument("--saleor-api-url", required=True, help="the store, e.g. https://shop.example.com/graphql/")
    export = command(
        "export-store", "write every record the app keeps of a store as JSON lines (also in its grace period)"
    )
    export.add_argument("--saleor-api-url", required=True, help="the store, e.g. https://shop.example.com/graphql/")
    export.add_argument("--output", type=Path, help="the file to write (default: standard output)")
    return parser


def _count(flag: str) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to 256."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = 0
        if not 1 <= number <= 256:
            raise argparse.ArgumentTypeError(f"{flag} takes a whole number from 1 to 256, not {value!r}")
        return number

    return parse


def _store_url(raw_url: str) -> SaleorApiUrl:
    try:
        return saleor_api_url(raw_url)
    except InvalidSaleorApiUrl as exc:
        raise CannotRun(str(exc)) from exc


def _forget_store(settings: Settings, raw_url: str) -> int:
    """Delete a store at once, without the grace period APP_DELETED gives: the merchant asked for it,
    or the store was removed from a Saleor (3.20–3.23) that never sends APP_DELETED."""
    url = _store_url(raw_url)
    _check_database(settings.database_url)

    async def forget() -> bool:
        runtime = Runtime.build(settings)
        try:
            async with runtime.sessions.begin() as session:
                return await forget_store(url, store=SqlInstallationStore(session, runtime.cipher))
        finally:
            await runtime.close()

    if not asyncio.run(forget()):
        raise CannotRun(f"no store {url} has installed the app here; nothing was deleted")
    print(f"deleted every record of {url}", file=sys.stderr)
    return 0


def _export_store(settings: Settings, raw_url: str, output: Path | None) -> int:
    """One JSON object per line: first what the export is, then {"table", "row"} for each record."""
    url = _store_url(raw_url)
    _check_database(settings.database_url)

    async def export(stream: TextIO) -> Counter[str] | None:
        runtime = Runtime.build(settings)
        try:
            async with runtime.sessions.begin() as session:
                installation = await SqlInstallationStore(session, runtime.cipher).get(url)
                if installation is None:
                    return None
                about = {
                    "saleor_ops_export": 1,
                    "app_version": __version__,
                    "saleor_api_url": url,
                    "exported_at": runtime.clock.now(),
                    "uninstalled_at": installation.uninstalled_at,
                    "left_out": {
                        **{table: sorted(columns) for table, columns in LEFT_OUT.items()},
                        **dict.fromkeys(sorted(LEFT_OUT_TABLES), "all"),
                    },
                }
                stream.write(_json_line(about))
                counts: Counter[str] = Counter()
                async for table, row in export_store(session, url):
                    stream.write(_json_line({"table": table, "row": row}))
                    counts[table] += 1
                return counts
        finally:
            await runtime.close()

    if output is None:
        counts = asyncio.run(export(sys.stdout))
    else:
        counts = _write_whole(output, lambda stream: asyncio.run(export(stream)))
    if counts is None:
        raise CannotRun(f"the app keeps no store {url}; nothing was exported")
    tables = ", ".join(f"{table} {count:,}" for table, count in counts.items()) or "no rows"
    where = f" to {output}" if output is not None else ""
    print(f"exported {counts.total():,} records of {url}{where}: {tables}", file=sys.stderr)
    return 0


def _json_line(value: object) -> str:
    return json.dumps(value, default=_json_value, ensure_ascii=False) + "\n"


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact, as stored
    raise TypeError(f"{type(value).__name__} is not exported")


def _write_whole(path: Path, write: Callable[[TextIO], Counter[str] | None]) -> Counter[str] | None:
    """Write beside ``path`` and rename once complete: no half-written export under its name.

    Readable by the owner only: an export holds customers' e-mail and IP addresses.
    """
    partial = path.with_name(path.name + ".partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise CannotRun(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with open(descriptor, "w", encoding="utf-8") as stream:
            counts = write(stream)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if counts is None:
        partial.unlink()
    else:
        partial.replace(path)
    return counts


def _demo(args: argparse.Namespace) -> int:
    from app.demo import DemoOptions
    from app.demo import main as run_demo

    notes: list[str] = []
    options = DemoOptions(
        orders=args.orders,
        seed=args.seed,
        serve=not args.no_serve,
        host=args.host,
        port=_demo_port(args.host, args.port, DEFAULT_PORT, "--port", notes),
        standin_port=_demo_port(args.host, args.standin_port, DEFAULT_STANDIN_PORT, "--standin-port", notes),
        data_dir=args.data_dir,
    )
    for note in notes:
        print(f"saleor-ops: {note}", file=sys.stderr)
    return run_demo(options if args.day is None else dataclasses.replace(options, day=args.day))


def _demo_port(host: str, asked: int | None, default: int, flag: str, notes: list[str]) -> int:
    """A port the user named must be free; the default gives way to a free one."""
    if asked is None:
        return free_port(host, default, flag, notes)
    _bind(host, asked, flag)[0].close()
    return asked


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return _demo(args)
    settings = Settings()
    if args.command == "serve":
        _serve(settings, args.host, args.port, processes=args.workers, no_worker=args.no_worker)
    elif args.command == "worker":
        _work(settings, args.concurrency)
    elif args.command == "migrate":
        _check_database(settings.database_url)
        upgrade_to_head(settings.database_url)
        print("database is at the latest migration", file=sys.stderr)
    elif args.command in ("import-receipts", "opening-balance"):
        from app.receipts_cli import run

        return run(settings, args)
    elif args.command == "forget-store":
        return _forget_store(settings, args.saleor_api_url)
    elif args.command == "export-store":
        return _export_store(settings, args.saleor_api_url, args.output)
    elif args.command == "manifest":
        from app.saleor.manifest import build_manifest

        print(json.dumps(build_manifest(settings.public_url), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ValidationError as exc:
        print(f"saleor-ops: {describe_invalid_settings(exc)}", file=sys.stderr)
        return 2
    except CannotRun as exc:
        print(f"saleor-ops: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
