"""``messenger-server``: run the server, or administer its users.

messenger-server [--host H] [--port P] [--data-dir D] [--config F]
                 [--tls-cert C --tls-key K] [--registration open|closed]
                 [--log-level L]
messenger-server users list
messenger-server users disable ID
messenger-server users enable ID
messenger-server invite create [--uses N] [--expires 7d]
messenger-server invite list
messenger-server invite revoke CODE
messenger-server migrate
messenger-server export FILE
messenger-server import FILE

``export`` writes the whole store to a file and ``import`` fills an empty store from one
(:mod:`messenger_server.repository.dump`): how one moves from SQLite to PostgreSQL.

Which database: ``storage`` and ``database_url`` in the configuration (SQLite in
``data_dir`` by default, or a PostgreSQL database that several server processes share).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from messenger_server import __version__
from messenger_server.config import ConfigError, Settings, load_settings
from messenger_server.repository import Repository, SQLiteRepository, StorageError, dump
from messenger_server.server import MessengerServer
from messenger_server.service.bus import RedisBus
from messenger_server.service.core import generate_unique_id, now_ms

log = logging.getLogger("messenger_server")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="messenger-server",
        description="Messenger server: registers clients and routes their messages.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default 7850; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, help="folder holding the database")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain: enables TLS")
    parser.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    parser.add_argument(
        "--registration",
        choices=("open", "invite", "closed"),
        help="who may register: anyone, holders of an invite code, nobody",
    )
    parser.add_argument(
        "--log-level", type=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    users = commands.add_parser("users", help="list, disable or enable users")
    user_commands = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    user_commands.add_parser("list", help="list every registered user")
    for action in ("disable", "enable"):
        sub = user_commands.add_parser(action, help=f"{action} a user by ID")
        sub.add_argument("client_id", metavar="ID")
    invites = commands.add_parser("invite", help="invite codes for registration = invite")
    invite_commands = invites.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = invite_commands.add_parser("create", help="make an invite code and print it")
    create.add_argument("--uses", type=int, default=1, help="registrations it allows (1)")
    create.add_argument(
        "--expires", type=_duration, default=_duration("7d"), help="valid for, e.g. 12h, 7d"
    )
    invite_commands.add_parser("list", help="list the invite codes")
    revoke = invite_commands.add_parser("revoke", help="delete an invite code")
    revoke.add_argument("code", metavar="CODE")
    commands.add_parser(
        "migrate",
        help="create or update the database schema (needed with PostgreSQL after an"
        " upgrade; SQLite does it at start)",
    )
    export = commands.add_parser("export", help="write the whole store to FILE")
    export.add_argument("file", metavar="FILE", type=Path)
    load = commands.add_parser(
        "import", help="fill an empty store from FILE (made by export; e.g. SQLite to PostgreSQL)"
    )
    load.add_argument("file", metavar="FILE", type=Path)
    return parser


def _duration(text: str) -> int:
    """Milliseconds of ``30m``, ``12h``, ``7d`` (or bare seconds)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (like 12h or 7d)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the duration must be positive")
    return int(value * units[unit] * 1000)


def _on_shutdown_signals(callback: Callable[[], None]) -> None:
    """Call ``callback`` on the running loop at SIGTERM or SIGINT (and, on Windows, at
    Ctrl+Break, which is what a service manager sends), wherever the platform allows."""
    loop = asyncio.get_running_loop()
    signals = [signal.SIGTERM, signal.SIGINT]
    if hasattr(signal, "SIGBREAK"):  # Windows
        signals.append(signal.SIGBREAK)
    for signum in signals:
        try:
            loop.add_signal_handler(signum, callback)
        except NotImplementedError:  # Windows event loops have no add_signal_handler
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(callback))


def repository_for(settings: Settings) -> Repository:
    """The store the settings name, not opened yet.

    Raises:
        StorageError: PostgreSQL is chosen but its driver is not installed.
    """
    if settings.storage == "postgresql":
        assert settings.database_url is not None  # load_settings checks it
        try:
            from messenger_server.repository.postgresql import PostgreSQLRepository
        except ImportError as exc:
            raise StorageError(
                f"storage = 'postgresql' needs the asyncpg package ({exc}):"
                " pip install 'messenger[postgresql]'"
            ) from None
        return PostgreSQLRepository(settings.database_url)
    return SQLiteRepository(settings.database_path)


async def open_repository(settings: Settings, *, command: bool = False) -> Repository | None:
    """The store, opened; None when it cannot be (unreachable, or its schema is not this
    server's: ``messenger-server migrate``), the reason logged, or for a ``command`` printed."""
    try:
        storage = repository_for(settings)
        await storage.open()
    except (StorageError, RuntimeError) as exc:
        if command:
            print(f"messenger-server: cannot open the database: {exc}", file=sys.stderr)
        else:
            log.error("cannot open the database: %s", exc)
        return None
    return storage


async def migrate_storage(settings: Settings) -> int:
    """``messenger-server migrate``: bring the schema up to this server's version."""
    try:
        if settings.storage == "postgresql":
            assert settings.database_url is not None
            repository_for(settings)  # says when asyncpg is missing
            from messenger_server.repository import postgresql

            found = await postgresql.migrate(settings.database_url)
            current = postgresql.SCHEMA_VERSION
        else:
            from messenger_server.repository import sqlite

            settings.database_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite.connect(settings.database_path)
            try:
                found = sqlite.migrate(conn)
            finally:
                conn.close()
            current = sqlite.SCHEMA_VERSION
    except (StorageError, RuntimeError, OSError) as exc:
        print(f"messenger-server: migrating the database failed: {exc}", file=sys.stderr)
        return 1
    if found == current:
        print(f"database schema {current}: up to date")
    else:
        print(f"database schema {current} (was {found})")
    return 0


async def serve(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT, then shut down gracefully. Returns the exit code."""
    storage = await open_repository(settings)
    if storage is None:
        return 1
    bus = RedisBus(settings.bus_url) if settings.bus == "redis" else None
    server = MessengerServer(settings, storage, bus)
    try:
        await server.start()
    except OSError as exc:
        log.error("cannot start: %s", exc)
        await server.bus.close()
        await storage.close()
        return 1
    stop = asyncio.Event()
    _on_shutdown_signals(stop.set)
    await stop.wait()
    await server.stop()
    await storage.close()
    log.info("stopped")
    return 0


async def manage_invites(settings: Settings, args: argparse.Namespace) -> int:
    storage = await open_repository(settings, command=True)
    if storage is None:
        return 1
    try:
        if args.action == "create":
            if args.uses < 1:
                print("messenger-server: --uses must be at least 1", file=sys.stderr)
                return 2
            now = now_ms()
            while True:  # 60 random bits: a clash is next to impossible, but cheap to retry
                code = generate_unique_id() + "-" + generate_unique_id()[:4]
                if await storage.create_invite(code, args.uses, now + args.expires, now):
                    break
            print(code)
            if settings.registration != "invite":
                print(
                    "messenger-server: note: registration is not 'invite' in this"
                    f" configuration ({settings.registration})",
                    file=sys.stderr,
                )
            return 0
        if args.action == "list":
            print(f"{'CODE':<15} {'USES LEFT':>9}  EXPIRES")
            for invite in await storage.list_invites():
                expires = datetime.datetime.fromtimestamp(invite.expires_at / 1000)
                print(f"{invite.code:<15} {invite.uses_left:>9}  {expires:%Y-%m-%d %H:%M}")
            return 0
        if not await storage.revoke_invite(args.code.upper()):
            print(f"messenger-server: no invite {args.code}", file=sys.stderr)
            return 1
        print(f"{args.code.upper()} revoked")
        return 0
    finally:
        await storage.close()


async def administer(settings: Settings, action: str, client_id: str | None) -> int:
    storage = await open_repository(settings, command=True)
    if storage is None:
        return 1
    try:
        if action == "list":
            clients = await storage.list_clients()
            print(f"{'ID':<10} {'STATUS':<9} {'REGISTERED':<17} DISPLAY NAME")
            for client in clients:
                created = datetime.datetime.fromtimestamp(client.created_at / 1000)
                status = "disabled" if client.disabled else "active"
                print(
                    f"{client.client_id:<10} {status:<9} {created:%Y-%m-%d %H:%M} "
                    f"{client.display_name}"
                )
            return 0
        assert client_id is not None
        if not await storage.set_client_disabled(client_id.upper(), action == "disable"):
            print(f"messenger-server: no user {client_id}", file=sys.stderr)
            return 1
        print(f"{client_id.upper()} {action}d")
        return 0
    finally:
        await storage.close()


async def export_store(settings: Settings, path: Path) -> int:
    """``messenger-server export FILE``: the whole store, in one snapshot."""
    storage = await open_repository(settings, command=True)
    if storage is None:
        return 1
    try:
        assert isinstance(storage, dump.Transferable)
        counts = await dump.export(storage, path)
    except (StorageError, OSError) as exc:
        print(f"messenger-server: export failed: {exc}", file=sys.stderr)
        return 1
    finally:
        await storage.close()
    print(f"exported to {path}: {_counted(counts)}")
    return 0


async def import_store(settings: Settings, path: Path) -> int:
    """``messenger-server import FILE``: fill the configured store, which must be empty
    (its schema is created first), from an export; nothing is imported on failure."""
    try:
        header = dump.read_header(path)
    except StorageError as exc:
        print(f"messenger-server: {exc}", file=sys.stderr)
        return 1
    if settings.storage == "postgresql" and await migrate_storage(settings) != 0:
        return 1
    storage = await open_repository(settings, command=True)
    if storage is None:
        return 1
    try:
        assert isinstance(storage, dump.Transferable)
        counts = await dump.import_(storage, path)
    except (StorageError, OSError) as exc:
        print(f"messenger-server: import failed, nothing imported: {exc}", file=sys.stderr)
        return 1
    finally:
        await storage.close()
    print(f"imported {path} (from {header['store']}): {_counted(counts)}")
    return 0


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items() if table != "counters")


def main(argv: Sequence[str] | None = None) -> int:
    # Whatever the service manager's umask: the database holds everyone's waiting
    # messages, and only the server's user may read it.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(
            config_file=args.config,
            overrides={
                "host": args.host,
                "port": args.port,
                "data_dir": args.data_dir,
                "tls_cert": args.tls_cert,
                "tls_key": args.tls_key,
                "registration": args.registration,
                "log_level": args.log_level,
            },
        )
    except ConfigError as exc:
        print(f"messenger-server: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "users":
        return asyncio.run(administer(settings, args.action, getattr(args, "client_id", None)))
    if args.command == "invite":
        return asyncio.run(manage_invites(settings, args))
    if args.command == "migrate":
        return asyncio.run(migrate_storage(settings))
    if args.command == "export":
        return asyncio.run(export_store(settings, args.file))
    if args.command == "import":
        return asyncio.run(import_store(settings, args.file))
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(serve(settings))


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (a dependency on Linux and macOS), else
    asyncio's own: the server behaves the same on both, uvloop is faster."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


if __name__ == "__main__":
    sys.exit(main())
