"""``make demo``: a local server and two app windows, Alice and Bob, who know each other.

On the first run it registers both profiles, makes each the other's contact and plays a
short exchange (Alice says hello and asks, then edits her question; Bob answers quoting it
and reacts; Alice reacts back), so a newcomer sees a reply, an edit and reactions and can
chat with themselves at once. Later runs reuse the profiles
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
from collections.abc import Callable, Sequence
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
QUESTION: Final = ("Shall we try replies at 9?", "Shall we try replies at 10?")
"""Alice's question, then as she edits it (the demo shows "edited")."""
ANSWER: Final = "10 works for me! Right-click a message to reply, edit, react or forward."
"""Bob's answer, quoting Alice's question."""
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
        await _play_intro(data, identities[0], identities[1])
    return identities


async def _play_intro(data: Path, alice: ClientData, bob: ClientData) -> None:
    """Alice says hello and asks a question, then edits it; Bob answers quoting it and
    reacts to the hello; Alice reacts to his answer: the demo opens on a reply, an edit
    and reactions. Each step waits until the server has it (5 s at most)."""
    with (
        ClientStore(data / f"demo-{PEOPLE[0][0]}") as alice_store,
        ClientStore(data / f"demo-{PEOPLE[1][0]}") as bob_store,
    ):
        alice_client = MessengerClient(alice_store, alice)
        bob_client = MessengerClient(bob_store, bob)
        alice_client.start()
        bob_client.start()
        try:
            hello = await alice_client.send_message(bob.client_id, False, GREETING)
            question = await alice_client.send_message(bob.client_id, False, QUESTION[0])
            if not await _until(lambda: _stored(alice_store, question.local_id)):
                return
            await alice_client.edit_message(question.local_id, QUESTION[1])
            seqs = [_seq(alice_store, hello.local_id), _seq(alice_store, question.local_id)]
            if not await _until(lambda: all(_at(bob_store, alice.client_id, s) for s in seqs)):
                return
            theirs_hello, theirs_question = (_at(bob_store, alice.client_id, s) for s in seqs)
            assert theirs_hello is not None and theirs_question is not None
            answer = await bob_client.send_message(
                alice.client_id, False, ANSWER, reply_to=theirs_question
            )
            await bob_client.react(theirs_hello, "👍")
            if not await _until(lambda: _stored(bob_store, answer.local_id)):
                return
            answer_seq = _seq(bob_store, answer.local_id)
            if not await _until(lambda: _at(alice_store, bob.client_id, answer_seq) is not None):
                return
            mine = _at(alice_store, bob.client_id, answer_seq)
            assert mine is not None
            await alice_client.react(mine, "❤️")
            await _until(
                lambda: not alice_store.outbox_entries() and not bob_store.outbox_entries()
            )
        finally:
            await alice_client.stop()
            await bob_client.stop()


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Wait until ``condition()`` holds; False after ``timeout`` seconds (the demo goes on:
    what is not sent yet stays in the outbox and is sent when the windows open)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def _stored(store: ClientStore, local_id: int) -> bool:
    message = store.message(local_id)
    return message is not None and message.status != "queued"


def _seq(store: ClientStore, local_id: int) -> int:
    message = store.message(local_id)
    assert message is not None and message.seq is not None
    return message.seq


def _at(store: ClientStore, conversation: str, seq: int) -> int | None:
    """The local id of the message at ``seq`` of ``conversation``, if it is here."""
    page = store.messages_page(conversation, None, 20)
    return next((m.local_id for m in page if m.seq == seq), None)


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
