"""``make demo``: a local server and two app windows, Alice and Bob, who know each other.

On the first run it registers both profiles, makes each the other's contact and has Alice
say hello, so a newcomer can chat with themselves at once. Later runs reuse the profiles
and the server's data. Closing both windows stops the server.

``python -m messenger_gui.devtools.local_demo --wait-for HOST:PORT`` only waits until a
server listens there (``make run`` uses it before starting the app).

No Qt here: the windows are separate ``messenger`` processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from messenger_gui.client import MessengerClient, register_client
from messenger_gui.storage import (
    ClientData,
    ClientStore,
    load_client_data,
    save_client_data,
)

log = logging.getLogger("messenger_gui.devtools.local_demo")

DEMO_PORT: Final = 7851
PEOPLE: Final = (("alice", "Alice"), ("bob", "Bob"))
GREETING: Final = (
    "Hi Bob! 👋 This is the Messenger demo: type a reply below and press Enter. "
    "Close both windows to stop the demo."
)
WINDOW_GEOMETRY: Final = ("780x660+20+50", "780x660+810+50")
"""Side by side on a 1600-pixel-wide display; the app fits them onto smaller ones."""


def wait_until_listening(
    host: str, port: int, timeout: float = 15.0, pid: int | None = None
) -> bool:
    """Wait until something accepts TCP connections on ``host:port``.

    Returns False after ``timeout`` seconds, or as soon as process ``pid`` (the server
    being waited for) has exited.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        if pid is not None and not _alive(pid):
            return False
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the shell) still answers kill(0).
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def set_aside_stale_profiles(data: Path) -> None:
    """The demo server's data is new (deleted, or never made): profiles registered with
    the old one would be refused, so move them aside (``demo-alice.stale``) and start
    afresh."""
    for folder, _ in PEOPLE:
        directory = data / f"demo-{folder}"
        if directory.exists():
            stale = directory.with_name(directory.name + ".stale")
            shutil.rmtree(stale, ignore_errors=True)
            directory.rename(stale)
            print(f"The demo server is new: moved the old profile to {stale}")


async def prepare_profiles(host: str, port: int, data: Path) -> list[ClientData]:
    """Register the demo people (first run only), introduce them and have Alice say hi."""
    identities: list[ClientData] = []
    fresh = False
    for folder, name in PEOPLE:
        directory = data / f"demo-{folder}"
        identity = load_client_data(directory)
        if identity is None:
            identity = await register_client(host, port, name)
            save_client_data(directory, identity)
            print(f"Registered {name} as {identity.client_id} (profile {directory})")
            fresh = True
        identities.append(identity)
    for (folder, _), identity in zip(PEOPLE, identities, strict=True):
        with ClientStore(data / f"demo-{folder}") as store:
            for other in identities:
                if other is not identity and store.contact(other.client_id) is None:
                    store.add_contact(other.client_id, other.display_name)
    if fresh:
        await _say_hello(data / f"demo-{PEOPLE[0][0]}", identities[0], identities[1])
    return identities


async def _say_hello(directory: Path, sender: ClientData, to: ClientData) -> None:
    with ClientStore(directory) as store:
        client = MessengerClient(store, sender)
        client.start()
        try:
            message = await client.send_message(to.client_id, False, GREETING)
            for _ in range(100):  # up to 5 s; it stays in the outbox otherwise
                stored = store.message(message.local_id)
                if stored is not None and stored.status != "queued":
                    break
                await asyncio.sleep(0.05)
        finally:
            await client.stop()


def _parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m messenger_gui.devtools.local_demo",
        description="A local server and two app windows (Alice and Bob) to try Messenger.",
    )
    parser.add_argument("--data", type=Path, default=Path("data"), help="base data folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEMO_PORT)
    parser.add_argument("--lang", choices=["en", "pt_BR"], help="language of both windows")
    parser.add_argument(
        "--wait-for",
        metavar="HOST:PORT",
        type=_parse_address,
        help="only wait until a server listens at HOST:PORT (exit 1 after 15 s)",
    )
    parser.add_argument("--pid", type=int, help="with --wait-for: give up when PID exits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    if args.wait_for is not None:
        host, port = args.wait_for
        if wait_until_listening(host, port, pid=args.pid):
            return 0
        print(f"No server is listening on {host}:{port}.", file=sys.stderr)
        return 1
    return run_demo(args.data, args.host, args.port, args.lang)


def run_demo(data: Path, host: str, port: int, lang: str | None) -> int:
    """Start the server, prepare the profiles, run both windows until they are closed."""

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    server_dir = data / "demo-server"
    if not (server_dir / "messenger.db").exists():
        set_aside_stale_profiles(data)
    server_dir.mkdir(parents=True, exist_ok=True)
    print(f"Starting messenger-server on {host}:{port} (data in {server_dir})")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "messenger_server", "--host", host, "--port", str(port)),
            *("--data-dir", str(server_dir), "--log-level", "WARNING"),
        ]
    )
    apps: list[subprocess.Popen[bytes]] = []
    try:
        if not wait_until_listening(host, port, pid=server.pid):
            print(f"The server did not start on {host}:{port} (port in use?).", file=sys.stderr)
            return 1
        identities = asyncio.run(prepare_profiles(host, port, data))
        for (folder, _), identity, other, geometry in zip(
            PEOPLE, identities, reversed(identities), WINDOW_GEOMETRY, strict=True
        ):
            command = [sys.executable, "-m", "messenger_gui", "--server", f"{host}:{port}"]
            command += ["--data-dir", str(data / f"demo-{folder}"), "--geometry", geometry]
            command += ["--open-chat", other.client_id]  # ready to type, as the README says
            if lang is not None:
                command += ["--lang", lang]
            apps.append(subprocess.Popen(command))
            print(f"{identity.display_name}'s window: ID {identity.client_id}")
        print("Close both windows (or press Ctrl+C) to stop the demo.")
        while any(app.poll() is None for app in apps):
            time.sleep(0.2)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        for app in apps:
            if app.poll() is None:
                app.send_signal(signal.SIGTERM)
        for app in apps:
            with contextlib.suppress(subprocess.TimeoutExpired):
                app.wait(timeout=10)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        print("Demo stopped.")


if __name__ == "__main__":
    sys.exit(main())
