"""``messenger-server``: run the server, or administer its users.

messenger-server [--host H] [--port P] [--data-dir D] [--config F]
                 [--tls-cert C --tls-key K] [--registration open|closed]
                 [--log-level L]
messenger-server users list
messenger-server users disable ID
messenger-server users enable ID
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from messenger_server import __version__
from messenger_server.config import ConfigError, Settings, load_settings
from messenger_server.repository import SQLiteRepository
from messenger_server.server import MessengerServer

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
        "--registration", choices=("open", "closed"), help="whether new clients may register"
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
    return parser


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


async def serve(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT, then shut down gracefully. Returns the exit code."""
    storage = SQLiteRepository(settings.database_path)
    await storage.open()
    server = MessengerServer(settings, storage)
    try:
        await server.start()
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc)
        await storage.close()
        return 1
    stop = asyncio.Event()
    _on_shutdown_signals(stop.set)
    await stop.wait()
    await server.stop()
    await storage.close()
    log.info("stopped")
    return 0


async def administer(settings: Settings, action: str, client_id: str | None) -> int:
    storage = SQLiteRepository(settings.database_path)
    await storage.open()
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


def main(argv: Sequence[str] | None = None) -> int:
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
